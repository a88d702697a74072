"""Pure rules of calendar connections: booking config → opening hours, PATCH merging and its
field-naming errors, and the UTC days a provider event is stored on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slotbook.domain import BookingConfig, WorkingHours
from slotbook.services.connections import _merged_config
from slotbook.store.connections import MAX_BUSY_SPAN, _days

BASE = BookingConfig(
    working_hours={"monday": WorkingHours(start="09:00", end="17:00")},
    buffer_minutes=15,
    timezone="Europe/Copenhagen",
    blocked_dates=[date(2026, 12, 24)],
)


def test_open_hours_follow_weekday_names_zone_and_blocked_dates() -> None:
    hours = BASE.open_hours()
    assert hours.weekly[0] == ((540, 1020),)
    assert all(day == () for day in hours.weekly[1:])
    assert str(hours.timezone) == "Europe/Copenhagen"
    assert hours.spans_on(date(2026, 12, 21)) == ((540, 1020),)  # a Monday
    assert hours.spans_on(date(2026, 12, 24)) == ()


def test_patch_replaces_only_sent_subfields() -> None:
    merged, errors = _merged_config(BASE, {"buffer_minutes": 10})
    assert not errors
    assert merged.buffer_minutes == 10
    assert merged.working_hours == BASE.working_hours and merged.timezone == BASE.timezone


def test_patch_errors_name_each_field_and_change_nothing() -> None:
    merged, errors = _merged_config(
        BASE,
        {
            "working_hours": {
                "funday": {"start": "09:00", "end": "10:00"},
                "monday": {"start": "17:00", "end": "09:00"},
            },
            "buffer_minutes": -1,
            "timezone": "Mars/Olympus",
            "blocked_dates": ["2026-02-30"],
        },
    )
    assert merged == BASE
    joined = " | ".join(errors)
    for field in (
        "bookingConfig.workingHours.funday",
        "bookingConfig.workingHours.monday.start",
        "bookingConfig.bufferMinutes",
        "bookingConfig.timezone",
        "bookingConfig.blockedDates[0]",
    ):
        assert field in joined


def test_hh_mm_is_strict() -> None:
    for bad in ("9:00", "09:60", "24:01", "0900", "09:00:00"):
        _, errors = _merged_config(BASE, {"working_hours": {"monday": {"start": bad, "end": "23:00"}}})
        assert errors, bad
    ok, errors = _merged_config(BASE, {"working_hours": {"sunday": {"start": "00:00", "end": "24:00"}}})
    assert not errors and ok.open_hours().weekly[6] == ((0, 1440),)


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(instants, st.integers(min_value=1, max_value=40 * 86400))
def test_days_cover_exactly_the_utc_dates_touched(start: datetime, seconds: int) -> None:
    end = start + timedelta(seconds=seconds)
    days = _days(start, end)
    clipped = min(end, start + MAX_BUSY_SPAN)
    assert days[0] == start.date().isoformat()
    assert days[-1] == (clipped - timedelta(microseconds=1)).date().isoformat()
    assert (
        len(days) == len(set(days)) == ((clipped - timedelta(microseconds=1)).date() - start.date()).days + 1
    )
