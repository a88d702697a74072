"""Time parsing and formatting at the edges of the domain.

Inside the domain every instant is an aware ``datetime`` in UTC or an integer epoch second;
these helpers convert what clients send (ISO 8601 strings, epoch milliseconds, IANA names,
value + unit durations) and render what they read (ISO 8601 with an explicit offset).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from slotbook.errors import InvalidRequest

UNIT_SECONDS = {"mins": 60, "hours": 3600, "days": 86400, "weeks": 604800}

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Instants Slotbook accepts: far enough from the ends of ``datetime`` that every window,
buffer and look-back computed from them stays representable."""

_ZONES = frozenset(available_timezones() - {"Factory", "localtime"})


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` from the tz database (tzdata). Raises :class:`InvalidRequest` for
    any other name."""
    if name not in _ZONES:
        raise InvalidRequest(f"Unknown time zone: {name[:64]!r}")
    return ZoneInfo(name)


def is_zone(name: str) -> bool:
    """True when ``name`` is a zone of the tz database."""
    return name in _ZONES


def parse_instant(value: str, default_tz: ZoneInfo, field: str = "time") -> datetime:
    """Parse an ISO 8601 date-time into an aware UTC datetime.

    A value with an offset (``+01:00``, ``Z``) is taken as is; a value without one is local time
    in ``default_tz`` (first occurrence when ambiguous; a local time that does not exist is
    refused). Raises :class:`InvalidRequest` naming ``field`` when the text is not an ISO 8601
    date-time, has a fraction of a second (slots are whole seconds), or lies outside
    [:data:`EARLIEST`, :data:`LATEST`).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequest(f"{field} must be an ISO 8601 date-time, got {value[:40]!r}") from exc
    if parsed.microsecond:
        raise InvalidRequest(f"{field} must be a whole second")
    if not datetime(1970, 1, 2) <= parsed.replace(tzinfo=None) < LATEST.replace(tzinfo=None):
        raise InvalidRequest(f"{field} is out of range")  # before any offset arithmetic can overflow
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=default_tz)
        if local.astimezone(UTC).astimezone(default_tz).replace(tzinfo=None) != parsed:
            raise InvalidRequest(f"{field} {value!r} does not exist in {default_tz.key} (clocks skip it)")
        parsed = local
    instant = parsed.astimezone(UTC)
    if not EARLIEST <= instant < LATEST:
        raise InvalidRequest(f"{field} is out of range")
    return instant


def parse_epoch_ms(value: str | float | int, field: str) -> datetime:
    """Epoch milliseconds (number or numeric string) → aware UTC datetime. 400 if not numeric."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{field} must be epoch milliseconds, got {value!r}") from exc
    if not math.isfinite(number) or not EARLIEST.timestamp() * 1000 <= number < LATEST.timestamp() * 1000:
        raise InvalidRequest(f"{field} is out of range")
    return datetime.fromtimestamp(number / 1000, UTC)


def iso_local(instant: datetime, tz: ZoneInfo) -> str:
    """``YYYY-MM-DDTHH:MM:SS±HH:MM`` of ``instant`` in ``tz`` (explicit offset, invariant 3)."""
    return instant.astimezone(tz).replace(microsecond=0).isoformat()


def iso_utc_ms(instant: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC, for creation and update stamps."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def sort_key(instant: datetime) -> str:
    """Fixed-width, lexicographically ordered UTC key ``YYYY-MM-DDTHH:MM:SSZ`` for sort keys."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unit_seconds(value: float, unit: str | None, default_unit: str = "mins") -> int:
    """Seconds in ``value`` ``unit`` (``mins|hours|days|weeks``; GoHighLevel's unit enums)."""
    return round(value * UNIT_SECONDS[unit or default_unit])
