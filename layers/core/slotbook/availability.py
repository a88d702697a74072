"""The free-slot engine: rules + busy intervals + ``now`` → offered slot starts. Pure.

Nothing here reads the clock, the environment or the database: every input is an argument, so
the same inputs always give the same slots (ARCHITECTURE.md, "The engine is pure").

Units and conventions
---------------------
* Instants are integer epoch **seconds, UTC**; intervals are half-open ``(start, end)`` tuples.
* Opening hours are **minutes after local midnight** (``0..1440``) in an IANA zone.
* Weekdays are ISO-like indexes ``0 = Monday … 6 = Sunday`` (the GoHighLevel ``daysOfTheWeek``
  convention, 0 = Sunday, is translated by the dialect adapter, not here).

The slot rule (GoHighLevel free-slots, with Cal.com's buffer stacking)
----------------------------------------------------------------------
A slot ``[s, s + duration)`` is offered iff

1. it lies wholly inside one open interval of a non-blocked local day (date overrides replace
   that weekday's intervals; an override with no intervals closes the day);
2. its local start is on the grid ``open + k * interval`` of that open interval, enumerated in
   **local wall-clock time**: a local start that does not exist (spring-forward gap) is skipped,
   an ambiguous one (fall-back overlap) takes its first occurrence (ARCHITECTURE.md invariant 3);
3. ``earliest <= s <= latest`` (minimum notice and booking horizon, see :func:`booking_window`)
   and ``window_start <= s <= window_end``;
4. for the host(s) the mode requires, ``[s - pre_buffer, s + duration + post_buffer)`` overlaps
   none of the host's busy intervals. Busy intervals arrive already padded with the buffers of
   the calendar that owns them (Cal.com's stacking); block slots and provider events arrive
   unpadded. The slot's own buffers may reach outside opening hours;
5. seats: a host's bookings *of this calendar* that start exactly at ``s`` take seats instead of
   blocking, and the host is free at ``s`` while fewer than ``seats`` are taken (GoHighLevel
   ``appoinmentPerSlot``; class bookings). With ``per_day_limit`` a host with that many bookings
   of this calendar on the slot's local day is not free that day (``appoinmentPerDay``);
6. resources (rooms, equipments) the calendar is mapped to: for every :class:`ResourcePool`,
   fewer than ``capacity`` of its bookings (padded like host busy time, from *every* calendar
   mapped to it) overlap any instant of ``[s - pre_buffer, s + duration + post_buffer)``; a
   pool of capacity 0 offers nothing. This rule is host-independent.

Modes: ``SINGLE`` (the one host), ``ANY`` (round robin: at least one host free), ``ALL``
(collective: every host free).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from slotbook.intervals import BusyIndex, Interval

MINUTES_PER_DAY = 1440

LocalSpan = tuple[int, int]
"""``(open_minute, close_minute)`` after local midnight, ``0 <= open < close <= 1440``."""


class Mode(StrEnum):
    """How the free time of several hosts combines into one slot list."""

    SINGLE = "single"
    ANY = "any"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class OpenHours:
    """Weekly opening hours with date overrides and blocked dates, in one IANA time zone.

    ``weekly[i]`` holds the open spans of weekday ``i`` (0 = Monday). ``overrides`` replaces the
    spans of specific local dates (an empty tuple closes the day). ``blocked_dates`` are closed.
    """

    timezone: ZoneInfo
    weekly: tuple[tuple[LocalSpan, ...], ...]
    overrides: Mapping[date, tuple[LocalSpan, ...]] = field(default_factory=dict)
    blocked_dates: frozenset[date] = frozenset()

    def spans_on(self, day: date) -> tuple[LocalSpan, ...]:
        """Open spans of one local date, after overrides and blocked dates."""
        if day in self.blocked_dates:
            return ()
        spans = self.overrides.get(day)
        if spans is not None:
            return spans
        return self.weekly[day.weekday()]


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """Shape of the slots being offered. All lengths in **seconds**."""

    duration: int
    interval: int
    pre_buffer: int = 0
    post_buffer: int = 0
    seats: int = 1
    per_day_limit: int | None = None

    def __post_init__(self) -> None:
        if self.duration <= 0 or self.interval <= 0:
            raise ValueError("slot duration and interval must be positive")
        if self.pre_buffer < 0 or self.post_buffer < 0 or self.seats < 1:
            raise ValueError("buffers must be >= 0 and seats >= 1")


@dataclass(frozen=True, slots=True)
class HostBusy:
    """One host's time: busy intervals plus this calendar's own bookings.

    ``busy``: intervals (any order, may overlap) during which the host cannot take this slot —
    other calendars' bookings padded by *their* buffers, block slots, provider events.
    ``bookings``: the host's non-cancelled bookings of the calendar being queried, padded by its
    buffers; they count as seats when they start exactly at a slot start, as busy otherwise.
    ``booking_starts``: the *unpadded* start of each of ``bookings`` (same order), which is what
    seats and daily limits count; required whenever bookings carry a pre-buffer (when empty the
    padded starts are used).
    ``open_hours``: the host's own hours, or ``None`` for the calendar's.
    """

    host_id: str
    busy: Sequence[Interval] = ()
    bookings: Sequence[Interval] = ()
    booking_starts: Sequence[int] = ()
    open_hours: OpenHours | None = None


@dataclass(frozen=True, slots=True)
class ResourcePool:
    """A room or equipment the queried calendar is mapped to (rule 6 of the module doc).

    ``capacity``: how many bookings it holds at once (0 = none). ``bookings``: every booking
    occupying it, from any calendar, padded by its own buffers (like host busy time).
    """

    resource_id: str
    capacity: int
    bookings: Sequence[Interval] = ()


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    """Everything the engine needs. Instants in epoch seconds UTC, inclusive bounds."""

    open_hours: OpenHours
    slot: SlotSpec
    hosts: Sequence[HostBusy]
    mode: Mode
    window_start: int
    window_end: int
    earliest: int | None = None
    latest: int | None = None
    resources: Sequence[ResourcePool] = ()


_ALWAYS_FULL = BusyIndex([(-(2**62), 2**62)])
"""Saturation of a pool that holds nothing: every slot overlaps it."""


def saturated(pool: ResourcePool) -> list[Interval]:
    """The instants at which ``pool`` has no unit left: sorted, disjoint half-open intervals where
    at least ``capacity`` of its bookings overlap (a sweep over their ends; an interval ending at
    ``t`` and one starting at ``t`` do not overlap). Everything when ``capacity <= 0``."""
    if pool.capacity <= 0:
        return [(-(2**62), 2**62)]
    if len(pool.bookings) < pool.capacity:
        return []
    edges = sorted([(a, 1) for a, b in pool.bookings if b > a] + [(b, -1) for a, b in pool.bookings if b > a])
    out: list[Interval] = []
    count = 0
    entered = 0
    for t, delta in edges:  # at equal instants ends (-1) sort before starts (+1)
        before = count
        count += delta
        if before < pool.capacity <= count:
            entered = t
        elif count < pool.capacity <= before and t > entered:
            out.append((entered, t))
    return out


def _resource_index(query: AvailabilityQuery) -> BusyIndex | None:
    """One index of the instants at which any of the query's resources is full (None: no
    resources, so rule 6 costs nothing)."""
    if not query.resources:
        return None
    if any(p.capacity <= 0 for p in query.resources):
        return _ALWAYS_FULL
    return BusyIndex(iv for pool in query.resources for iv in saturated(pool))


def booking_window(
    now: datetime,
    timezone: ZoneInfo,
    notice: tuple[float, str] | None,
    horizon: tuple[float, str] | None,
) -> tuple[int, int | None]:
    """Earliest and latest bookable slot start for minimum notice and booking horizon.

    ``now`` is an aware datetime. ``notice`` is GoHighLevel ``allowBookingAfter`` with its unit
    (``mins|hours|days|weeks|months``): the earliest start is ``now + notice`` — minutes and
    hours are elapsed time; days, weeks and months are calendar arithmetic on the local clock
    in ``timezone`` (one day of notice at 10:00 means 10:00 tomorrow, even across DST).
    ``horizon`` is ``allowBookingFor`` with its unit (``days|weeks|months``): slots are
    offered up to the end of the local day ``today + horizon``.
    Returns ``(earliest, latest)`` in epoch seconds; ``latest`` is ``None`` without a horizon.
    """
    local_now = now.astimezone(timezone)
    earliest = math.ceil(now.timestamp())
    if notice and notice[0] > 0:
        delta = _delta(notice)
        if notice[1] in ("mins", "minutes", "hours"):
            earliest = math.ceil(now.timestamp() + delta.total_seconds())  # type: ignore[union-attr]
        else:
            earliest = math.ceil((local_now + delta).timestamp())
    latest = None
    if horizon and horizon[0] > 0:
        last_day = local_now.date() + _delta(horizon)
        next_midnight = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), timezone)
        latest = int(next_midnight.timestamp()) - 1
    return earliest, latest


def _delta(amount: tuple[float, str]) -> relativedelta | timedelta:
    value, unit = amount
    if unit == "months":
        return relativedelta(months=int(value))
    seconds = {"mins": 60, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}[unit]
    return timedelta(seconds=value * seconds)


def local_to_utc(day: date, minute: int, tz: ZoneInfo) -> int | None:
    """Epoch seconds of local ``day`` + ``minute`` in ``tz``; ``None`` if that local time does
    not exist (DST gap). An ambiguous local time resolves to its first occurrence (fold=0)."""
    if minute >= MINUTES_PER_DAY:
        day = day + timedelta(days=minute // MINUTES_PER_DAY)
        minute %= MINUTES_PER_DAY
    naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    ts = int(naive.replace(tzinfo=tz).timestamp())
    if datetime.fromtimestamp(ts, tz).replace(tzinfo=None) != naive:
        return None
    return ts


def _boundary_to_utc(day: date, minute: int, tz: ZoneInfo) -> int:
    """Like :func:`local_to_utc` but a boundary inside a DST gap maps to the first local minute
    after it that exists (the transition instant), so an opening span keeps its existing part."""
    ts = local_to_utc(day, minute, tz)
    probe = minute
    while ts is None:  # gaps are at most a few hours; this runs only on transition days
        probe += 1
        ts = local_to_utc(day, probe, tz)
    return ts


def candidate_starts(hours: OpenHours, slot: SlotSpec, lo: int, hi: int) -> list[int]:
    """Sorted slot starts ``s`` with ``lo <= s <= hi`` satisfying rules 1 and 2 of the module doc."""
    tz = hours.timezone
    first_day = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
    last_day = datetime.fromtimestamp(hi, tz).date()
    duration, step = slot.duration, slot.interval
    step_min = step // 60 if step % 60 == 0 else None
    out: list[int] = []
    day = first_day
    one_day = timedelta(days=1)
    while day <= last_day:
        for open_min, close_min in hours.spans_on(day):
            start_utc = _boundary_to_utc(day, open_min, tz)
            end_utc = _boundary_to_utc(day, close_min, tz)
            if end_utc - start_utc < duration:
                continue
            naive_span = (close_min - open_min) * 60
            if end_utc - start_utc == naive_span:
                # No offset change inside the span: the local grid is the UTC grid.
                s = start_utc
                last = end_utc - duration
                if s < lo:
                    s += -((s - lo) // step) * step
                while s <= last and s <= hi:
                    out.append(s)
                    s += step
            else:
                # A DST transition inside the span: walk the local grid one start at a time.
                if step_min is None:
                    raise ValueError("slot interval must be whole minutes")
                for minute in range(open_min, close_min, step_min):
                    s = local_to_utc(day, minute, tz)
                    if s is None or s < start_utc or s + duration > end_utc or not lo <= s <= hi:
                        continue
                    out.append(s)
        day += one_day
    # Overlapping spans of one day can yield the same start twice; a start is offered once.
    return sorted(set(out))


class _HostState:
    """A host prepared for repeated slot tests: merged busy time, seats, per-day counts."""

    __slots__ = ("busy", "day_counts", "host_id", "seat_bookings", "seat_counts", "tz")

    def __init__(self, host: HostBusy, slot: SlotSpec, tz: ZoneInfo) -> None:
        self.host_id = host.host_id
        self.tz = tz
        bookings = list(host.bookings)
        starts = list(host.booking_starts) if host.booking_starts else [b[0] for b in bookings]
        if slot.seats > 1:
            # Own bookings are seats at their exact start; kept apart from the rest of busy time.
            self.busy = BusyIndex(host.busy)
            self.seat_bookings = sorted(zip(starts, bookings, strict=True))
            self.seat_counts = Counter(starts)
        else:
            self.busy = BusyIndex([*host.busy, *bookings])
            self.seat_bookings = []
            self.seat_counts = Counter()
        self.day_counts: Counter[date] | None = None
        if slot.per_day_limit is not None:
            self.day_counts = Counter(datetime.fromtimestamp(s, tz).date() for s in starts)

    def free(self, s: int, lo: int, hi: int, slot: SlotSpec) -> bool:
        if self.busy.overlaps(lo, hi):
            return False
        if (
            self.day_counts is not None
            and slot.per_day_limit is not None
            and self.day_counts[datetime.fromtimestamp(s, self.tz).date()] >= slot.per_day_limit
        ):
            return False
        if slot.seats > 1:
            if self.seat_counts[s] >= slot.seats:
                return False
            for start, (b_start, b_end) in self.seat_bookings:
                if start != s and b_start < hi and b_end > lo:
                    return False
        return True


def _hours_key(hours: OpenHours) -> tuple[object, ...]:
    """Equal opening hours give equal keys (members sharing a schedule share candidates)."""
    return (hours.timezone.key, hours.weekly, tuple(sorted(hours.overrides.items())), hours.blocked_dates)


def _prepare(query: AvailabilityQuery) -> tuple[list[_HostState], dict[tuple[object, ...], list[int]]]:
    """Host states, and for each distinct set of opening hours the hosts that use it."""
    states = [_HostState(h, query.slot, (h.open_hours or query.open_hours).timezone) for h in query.hosts]
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, h in enumerate(query.hosts):
        groups.setdefault(_hours_key(h.open_hours or query.open_hours), []).append(i)
    return states, groups


def _bounds(query: AvailabilityQuery) -> tuple[int, int]:
    lo = query.window_start if query.earliest is None else max(query.window_start, query.earliest)
    hi = query.window_end if query.latest is None else min(query.window_end, query.latest)
    return lo, hi


def compute_slots(query: AvailabilityQuery) -> list[int]:
    """Offered slot starts (sorted epoch seconds) for ``query``, per the rule in the module doc.

    Raises ``ValueError`` for a query with no hosts in ``SINGLE``/``ALL`` mode semantics broken
    (``SINGLE`` with more than one host).
    """
    if query.mode is Mode.SINGLE and len(query.hosts) != 1:
        raise ValueError("SINGLE mode takes exactly one host")
    lo, hi = _bounds(query)
    if lo > hi or not query.hosts:
        return []
    slot = query.slot
    pre, post, duration = slot.pre_buffer, slot.post_buffer, slot.duration
    states, groups = _prepare(query)
    full = _resource_index(query)

    if len(groups) == 1:
        # Fast path: every host shares the calendar's hours, so candidates are computed once.
        hours = query.hosts[0].open_hours or query.open_hours
        out = []
        need_all = query.mode is not Mode.ANY
        for s in candidate_starts(hours, slot, lo, hi):
            a, b = s - pre, s + duration + post
            if full is not None and full.overlaps(a, b):
                continue
            if need_all:
                if all(st.free(s, a, b, slot) for st in states):
                    out.append(s)
            elif any(st.free(s, a, b, slot) for st in states):
                out.append(s)
        return out

    # Hosts with their own hours (per-member schedules): evaluate each group of hosts sharing the
    # same hours (any / all of its members free), then combine the groups the same way.
    per_group: list[set[int]] = []
    for members in groups.values():
        first = query.hosts[members[0]]
        hours = first.open_hours or query.open_hours
        group_states = [states[i] for i in members]
        test = any if query.mode is Mode.ANY else all
        per_group.append(
            {
                s
                for s in candidate_starts(hours, slot, lo, hi)
                if test(st.free(s, s - pre, s + duration + post, slot) for st in group_states)
            }
        )
    combined = set.union(*per_group) if query.mode is Mode.ANY else set.intersection(*per_group)
    if full is not None:
        combined = {s for s in combined if not full.overlaps(s - pre, s + duration + post)}
    return sorted(combined)


def free_hosts_at(query: AvailabilityQuery, start: int) -> list[str]:
    """Ids of the hosts (in query order) for whom ``start`` is an offered slot start.

    Used at booking time: the slot must be a candidate under the host's hours, inside notice and
    horizon, every mapped resource must have a unit left (none are free otherwise), and the
    host free for the padded slot. Mode is not applied here; callers decide
    (round robin picks one of these, collective needs them all).
    """
    lo, hi = _bounds(query)
    if not lo <= start <= hi:
        return []
    slot = query.slot
    full = _resource_index(query)
    if full is not None and full.overlaps(start - slot.pre_buffer, start + slot.duration + slot.post_buffer):
        return []  # a mapped room or equipment has no unit left (rule 6)
    states, _ = _prepare(query)
    free: list[str] = []
    cache: dict[tuple[object, ...], bool] = {}
    for host, st in zip(query.hosts, states, strict=True):
        hours = host.open_hours or query.open_hours
        key = _hours_key(hours)
        if key not in cache:
            cache[key] = start in candidate_starts(hours, slot, start, start)
        if cache[key] and st.free(
            start, start - slot.pre_buffer, start + slot.duration + slot.post_buffer, slot
        ):
            free.append(host.host_id)
    return free


def look_busy(starts: Sequence[int], tz: ZoneInfo, percentage: float, seed: str) -> list[int]:
    """Hide ``percentage`` % of the free slots of each local day in ``tz`` (GoHighLevel
    ``lookBusyConfig``): per day, ``round(n * percentage / 100)`` of its ``n`` slots, those ranking
    lowest by a hash of ``seed`` and the slot start. Deterministic: the same inputs hide the same
    slots on every call, and the choice does not depend on the window asked for (pass whole local
    days). ``starts`` are sorted epoch seconds; returns the kept ones, still sorted.
    """
    if percentage <= 0:
        return list(starts)
    by_day: dict[date, list[int]] = {}
    for s in starts:
        by_day.setdefault(datetime.fromtimestamp(s, tz).date(), []).append(s)
    hidden: set[int] = set()
    for day_starts in by_day.values():
        count = min(len(day_starts), round(len(day_starts) * min(percentage, 100) / 100))
        ranked = sorted(day_starts, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).digest())
        hidden.update(ranked[:count])
    return [s for s in starts if s not in hidden]


def group_by_local_date(starts: Sequence[int], tz: ZoneInfo) -> dict[str, list[str]]:
    """``{"YYYY-MM-DD": ["YYYY-MM-DDTHH:MM:SS±HH:MM", ...]}`` in ``tz``, both keys and values
    local to ``tz`` with explicit offsets (GoHighLevel free-slots response shape)."""
    out: dict[str, list[str]] = {}
    for s in starts:
        local = datetime.fromtimestamp(s, tz)
        out.setdefault(local.date().isoformat(), []).append(local.isoformat())
    return out


def utc_iso(ts: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.000Z`` for an epoch second."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
