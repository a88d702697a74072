"""Recurring appointments: RFC 5545 rules, their occurrences and instance ids. Pure (no I/O).

GoHighLevel (reference/seeds/003, ``rrule`` of AppointmentCreateSchema/AppointmentEditSchema):
"RRULE as per the iCalendar (RFC 5545) specification for recurring events. DTSTART is not
required, instance ids are calculated on the basis of startTime of the event." So the
appointment's start is the series' DTSTART and its length the length of every occurrence.

Decisions (where the reference is silent)
-----------------------------------------
* **Local wall clock.** A rule is expanded in the location's IANA zone from the start's *local*
  time (python-dateutil on naive local datetimes, each occurrence then localised): a weekly
  09:00 series stays at 09:00 local across DST (ARCHITECTURE.md invariant 3). An occurrence
  whose local time does not exist (spring-forward gap) is skipped; an ambiguous one takes its
  first occurrence (fold=0).
* **DTSTART** is always the first occurrence (RFC 5545 §3.8.5.3; dateutil's ``compatible``
  mode), even when it does not match the rule. A DTSTART line in the text is ignored: the
  appointment's start is authoritative.
* **Accepted text:** one ``RRULE`` (with or without the ``RRULE:`` prefix) and optional
  ``EXDATE`` lines (UTC ``...Z``, floating local, ``TZID=`` or ``VALUE=DATE``); ``FREQ`` must be
  DAILY, WEEKLY, MONTHLY or YEARLY (an appointment's time of day is its start, so BYHOUR,
  BYMINUTE and BYSECOND are refused too). ``UNTIL`` may be UTC (``Z``), floating local time, or a
  date (the whole local day included). Infinite rules (no COUNT, no UNTIL) are allowed.
* **Absurd rules are refused** (:func:`parse` raises ValidationFailed → 422): a rule without
  any occurrence in 400 years (e.g. 30 February, which dateutil would otherwise search for until
  the year 9999), ``COUNT`` outside 1..10000, ``INTERVAL`` outside 1..999, both COUNT and UNTIL,
  or occurrences that overlap each other (the rule repeats more often than the appointment
  lasts).
* **Bounded work:** an expansion visits at most :data:`MAX_SCAN` occurrences from the start, so
  a window more than that many occurrences after the series start (over 500 years for a daily
  rule) sees none.

Instance ids are ``<masterId>_<startMs>_<durationSeconds>`` where ``startMs`` is the
occurrence's *original* start in epoch milliseconds (the reference's example:
``ocQHyuzHvysMo5N5VsXc_1729821600000_1800``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from slotbook.errors import ValidationFailed
from slotbook.timeutil import is_zone, zone

MAX_SCAN = 200_000
"""Most occurrences one expansion walks through from the series start."""
PROBE_OCCURRENCES = 64
"""Occurrences inspected when validating a rule (overlap check)."""
MAX_RULE_LENGTH = 1000
"""Longest RRULE line accepted."""
MAX_TEXT_LENGTH = 30_000
"""Longest rrule text accepted: the RRULE line plus EXDATE lines, room enough for a series' every
excluded occurrence as :func:`with_exdates` renders them (so a client can send back what it read)."""
MAX_COUNT = 10_000
"""Largest COUNT accepted (a longer series is an infinite one in practice)."""
MAX_INTERVAL = 999
FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_KNOWN_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "WKST",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYSETPOS",
        "BYYEARDAY",
        "BYWEEKNO",
    }
)
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
_UTC_STAMP = re.compile(r"^\d{8}T\d{6}Z$")
_LOCAL_STAMP = re.compile(r"^\d{8}T\d{6}$")
_DATE = re.compile(r"^\d{8}$")
_GREGORIAN_CYCLE_YEARS = 400
"""The Gregorian calendar (weekdays and leap years) repeats exactly every 400 years."""


def parse(text: str, start: datetime, duration: int, tz: ZoneInfo) -> tuple[str, list[datetime]]:
    """Validate a client's rule for a series starting at ``start`` (aware) lasting ``duration``
    seconds per occurrence, expanded in ``tz``.

    Returns ``(rule, exdates)``: the canonical rule line (``RRULE:FREQ=...``, upper case, as the
    series stores it) and the EXDATE instants the text carried (aware UTC). Raises
    :class:`ValidationFailed` (422) for text that is not an RFC 5545 rule this service accepts,
    or an absurd rule (see the module doc).
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationFailed([f"rrule must be at most {MAX_TEXT_LENGTH} characters"])
    rule_values: list[str] = []
    exdates: list[datetime] = []
    for line in _unfold(text):
        name, _, value = line.partition(":") if ":" in line else ("RRULE", "", line)
        params = [p.strip() for p in name.split(";")]
        prop = params[0].strip().upper()
        if prop == "RRULE" and len(params) == 1:
            if len(value) > MAX_RULE_LENGTH:
                raise ValidationFailed([f"rrule: the RRULE must be at most {MAX_RULE_LENGTH} characters"])
            rule_values.append(value.strip().upper())
        elif prop == "EXDATE":
            exdates.extend(_exdates(params[1:], value, start, tz))
        elif prop == "DTSTART":
            continue  # the appointment's startTime is the series start
        else:
            raise ValidationFailed([f"rrule: unsupported property {prop[:30]!r} (only RRULE and EXDATE)"])
    if len(rule_values) != 1:
        raise ValidationFailed(["rrule must contain exactly one RRULE"])
    canonical = "RRULE:" + rule_values[0]
    rule = _build(canonical, start, tz)
    _probe(rule, start, duration, tz)
    return canonical, exdates


def occurrences(
    rule: str,
    start: datetime,
    tz: ZoneInfo | str,
    lo: datetime,
    hi: datetime,
    exdates: Iterable[datetime] = (),
) -> list[datetime]:
    """Starts (aware UTC, ascending) of the series' occurrences with ``lo <= start < hi``.

    ``rule`` is a canonical rule from :func:`parse`, ``start`` the series start (the first
    occurrence), ``exdates`` original starts excluded from the series.
    """
    tz = zone(tz) if isinstance(tz, str) else tz
    if hi <= lo:
        return []
    excluded = {int(d.timestamp()) for d in exdates}
    # Local bounds with a day of slack either side (offsets never exceed a day).
    lo_local = lo.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    hi_local = hi.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    out: list[datetime] = []
    for local in _walk(rule, start, tz):
        if local < lo_local:
            continue
        if local > hi_local:
            break
        instant = _localise(local, tz)
        if instant is None or int(instant.timestamp()) in excluded:
            continue
        if lo <= instant < hi:
            out.append(instant)
    return out


def first(rule: str, start: datetime, tz: ZoneInfo | str, count: int) -> list[datetime]:
    """The first ``count`` occurrences (aware UTC, ascending) of a series (fewer if it ends)."""
    tz = zone(tz) if isinstance(tz, str) else tz
    out: list[datetime] = []
    for local in _walk(rule, start, tz):
        instant = _localise(local, tz)
        if instant is not None:
            out.append(instant)
            if len(out) >= count:
                break
    return out


def is_occurrence(
    rule: str, start: datetime, tz: ZoneInfo | str, when: datetime, exdates: Iterable[datetime] = ()
) -> bool:
    """Whether ``when`` is the (original) start of a live occurrence of the series."""
    found = occurrences(rule, start, tz, when, when + timedelta(seconds=1), exdates)
    return bool(found) and found[0] == when


def last_end(rule: str, start: datetime, tz: ZoneInfo | str, duration: int) -> datetime | None:
    """No occurrence of the series ends after this instant; ``None`` for an infinite series (no
    COUNT or UNTIL). With UNTIL it is UNTIL (+ a day of slack) + ``duration``, without walking the
    occurrences; with COUNT the exact end of the last one (at most :data:`MAX_COUNT` walked)."""
    parts = _parts(rule)
    if "COUNT" not in parts and "UNTIL" not in parts:
        return None
    tz = zone(tz) if isinstance(tz, str) else tz
    if "UNTIL" in parts:
        local_until = datetime.strptime(_local_until(parts["UNTIL"], tz), "%Y%m%dT%H%M%S")
        try:
            until = local_until.replace(tzinfo=tz).astimezone(UTC) + timedelta(days=1)
            return max(until, start) + timedelta(seconds=duration)
        except OverflowError:  # UNTIL at the very end of the year 9999: no end in practice
            return None
    last: datetime | None = None
    for local in _walk(rule, start, tz):
        instant = _localise(local, tz)
        if instant is not None:
            last = instant
    return (last or start) + timedelta(seconds=duration)


def with_exdates(rule: str, exdates: Iterable[datetime]) -> str:
    """The rule as RFC 5545 text for clients: the RRULE line, plus an EXDATE line (UTC) listing
    excluded occurrences, as in the reference's example
    ``RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20210623T043000Z\\nEXDATE:20211105T040000Z``."""
    stamps = sorted({d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for d in exdates})
    return rule + ("\nEXDATE:" + ",".join(stamps) if stamps else "")


def simple_rule(freq: str, count: int) -> str:
    """The canonical rule of a calendar's ``recurring`` setting (``freq`` DAILY|WEEKLY|MONTHLY)."""
    return f"RRULE:FREQ={freq};INTERVAL=1;COUNT={count}"


# -- instance ids ---------------------------------------------------------------------------


def instance_id(master_id: str, start: datetime, duration: int) -> str:
    """``<masterId>_<startMs>_<durationSeconds>`` of the occurrence originally at ``start``."""
    return f"{master_id}_{int(start.timestamp()) * 1000}_{duration}"


def parse_instance_id(text: str) -> tuple[str, datetime, int] | None:
    """``(master_id, original start (aware UTC), duration s)`` of an instance id, or ``None``
    when ``text`` is not one (ids of stored events never contain ``_``)."""
    master, sep, rest = text.partition("_")
    if not sep or not master:
        return None
    start_ms, sep, duration = rest.partition("_")
    if not sep or not _is_number(start_ms) or not _is_number(duration) or len(start_ms) > 15:
        return None
    if int(start_ms) % 1000:
        return None
    try:
        start = datetime.fromtimestamp(int(start_ms) // 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return master, start, int(duration)


# -- internals --------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    """ASCII digits only, at most 15 of them."""
    return text.isascii() and text.isdigit() and len(text) <= 15


def _unfold(text: str) -> list[str]:
    """Lines of the text, with RFC 5545 folded lines (leading space) joined; blanks dropped."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw.strip())
    if not lines:
        raise ValidationFailed(["rrule must not be empty"])
    return lines


def _parts(rule: str) -> dict[str, str]:
    body = rule.split(":", 1)[1] if ":" in rule else rule
    parts: dict[str, str] = {}
    for chunk in body.split(";"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        if not sep or not value:
            raise ValidationFailed([f"rrule: {chunk[:30]!r} is not NAME=VALUE"])
        if key in parts:
            raise ValidationFailed([f"rrule: {key[:20]} is given twice"])
        parts[key] = value
    return parts


def _build(rule: str, start: datetime, tz: ZoneInfo) -> rrule:
    """The dateutil rule on naive local time from ``start``'s local wall clock; ValidationFailed
    for anything dateutil or this service would not take."""
    parts = _parts(rule)
    if "FREQ" not in parts:
        raise ValidationFailed(["rrule: FREQ is required"])
    if parts["FREQ"] not in FREQUENCIES:
        raise ValidationFailed(["rrule: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"])
    timed = _TIME_PARTS & parts.keys()
    if timed:
        raise ValidationFailed([f"rrule: {sorted(timed)[0]} is not supported (startTime sets the time)"])
    unknown = parts.keys() - _KNOWN_PARTS
    if unknown:
        raise ValidationFailed([f"rrule: unknown part {sorted(unknown)[0][:20]}"])
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationFailed(["rrule: COUNT and UNTIL must not both be given"])
    for name, limit in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        value = parts.get(name)
        if value is not None and (not _is_number(value) or not 1 <= int(value) <= limit):
            raise ValidationFailed([f"rrule: {name} must be a whole number from 1 to {limit}"])
    for name in ("BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS"):
        # RFC 5545 3.3.10: these count from 1 (or -1); 0 is not a value of any of them.
        if name in parts and any(v.strip().lstrip("+-") in ("0", "00") for v in parts[name].split(",")):
            raise ValidationFailed([f"rrule: {name} must not contain 0"])
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], tz)
    text = "RRULE:" + ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        built = rrulestr(text, dtstart=_local(start, tz))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValidationFailed([f"rrule is not a valid RFC 5545 RRULE: {str(exc)[:80]}"]) from exc
    assert isinstance(built, rrule)
    return built


def _local_until(value: str, tz: ZoneInfo) -> str:
    """UNTIL as floating local time (the rule runs on naive local datetimes)."""
    try:
        if _UTC_STAMP.match(value):
            utc = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return utc.astimezone(tz).strftime("%Y%m%dT%H%M%S")
        if _LOCAL_STAMP.match(value):
            datetime.strptime(value, "%Y%m%dT%H%M%S")
            return value
        if _DATE.match(value):
            day = datetime.strptime(value, "%Y%m%d").date()
            return datetime.combine(day, time(23, 59, 59)).strftime("%Y%m%dT%H%M%S")
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed([f"rrule: UNTIL {value[:20]!r} is not a valid date-time"]) from exc
    raise ValidationFailed([f"rrule: UNTIL {value[:20]!r} is not a valid date-time"])


def _exdates(params: list[str], value: str, start: datetime, tz: ZoneInfo) -> list[datetime]:
    """EXDATE values as aware UTC instants (floating ones in ``TZID`` or the series' zone; a
    date means that day's occurrence at the series' local start time)."""
    where = tz
    for param in params:
        key, _, val = param.partition("=")
        if key.upper() == "TZID":
            if not is_zone(val):
                raise ValidationFailed([f"rrule: unknown EXDATE TZID {val[:40]!r}"])
            where = zone(val)
        elif key.upper() != "VALUE" or val.upper() not in ("DATE", "DATE-TIME"):
            raise ValidationFailed([f"rrule: unsupported EXDATE parameter {param[:30]!r}"])
    out: list[datetime] = []
    for raw in value.split(","):
        stamp = raw.strip().upper()
        try:
            if _UTC_STAMP.match(stamp):
                out.append(datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
            elif _LOCAL_STAMP.match(stamp):
                local = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=where)
                out.append(local.astimezone(UTC))
            elif _DATE.match(stamp):
                day = datetime.strptime(stamp, "%Y%m%d").date()
                local_start = start.astimezone(tz)
                out.append(datetime.combine(day, local_start.time(), tz).astimezone(UTC))
            else:
                raise ValueError(stamp)
        except (ValueError, OverflowError) as exc:
            raise ValidationFailed([f"rrule: EXDATE {raw[:20]!r} is not a valid date-time"]) from exc
    return out


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _localise(local: datetime, tz: ZoneInfo) -> datetime | None:
    """Aware UTC instant of a naive local time (first of an ambiguous pair unless ``local`` says
    ``fold=1``, as the series start itself may; None in a gap)."""
    try:
        instant = local.replace(tzinfo=tz).astimezone(UTC)
        back = instant.astimezone(tz).replace(tzinfo=None)
    except OverflowError:  # the last hours of the year 9999 in a zone west of UTC
        return None
    return instant if back == local else None


def _walk(rule: str, start: datetime, tz: ZoneInfo) -> Iterator[datetime]:
    """Naive local occurrences from the series start (DTSTART first), ascending, at most
    :data:`MAX_SCAN` of them."""
    first_local = _local(start, tz)
    yield first_local
    seen = 1
    for local in _build(rule, start, tz):
        if local == first_local:
            continue
        yield local
        seen += 1
        if seen >= MAX_SCAN:
            return


def _probe(rule: rrule, start: datetime, duration: int, tz: ZoneInfo) -> None:
    """Refuse rules with no occurrence in 400 years and rules whose occurrences overlap.

    dateutil searches an impossible rule (30 February) until the year 9999, which takes
    seconds; the probe runs the same rule translated by whole 400-year Gregorian cycles to
    start between 9200 and 9599 (identical weekdays and leap years, so identical occurrences),
    where that search ends after at most 800 years.
    """
    local = _local(start, tz)
    shift = _GREGORIAN_CYCLE_YEARS * ((9599 - local.year) // _GREGORIAN_CYCLE_YEARS)
    until = rule._until  # dateutil keeps no public accessor
    moved_until = None
    if until is not None:
        try:
            moved_until = until.replace(year=until.year + shift)
        except ValueError:
            moved_until = None  # past 9999: beyond the probe's reach anyway
    probe = rule.replace(dtstart=local.replace(year=local.year + shift), until=moved_until)
    try:
        found = list(islice(probe, PROBE_OCCURRENCES))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:  # e.g. BYDAY=+99MO
        raise ValidationFailed([f"rrule is not a valid RFC 5545 RRULE: {str(exc)[:80]}"]) from exc
    if not found:
        raise ValidationFailed(["rrule has no occurrences"])
    first_local = local.replace(year=local.year + shift)
    series = sorted({first_local, *found})
    instants = [i for i in (_localise(x, tz) for x in series) if i is not None]
    # Wall-clock gaps shrink by up to an hour across a DST change the probe may not meet, so a
    # local gap must exceed the duration by that hour too.
    local_gaps = [(b - a).total_seconds() - 3600 for a, b in pairwise(series)]
    if any(gap < duration for gap in local_gaps):
        raise ValidationFailed(
            ["rrule: occurrences would overlap (it repeats more often than the appointment lasts)"]
        )
    for a, b in pairwise(instants):
        if (b - a).total_seconds() < duration:
            raise ValidationFailed(
                ["rrule: occurrences would overlap (it repeats more often than the appointment lasts)"]
            )
