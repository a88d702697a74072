"""``look_busy``: hides round(n * p / 100) of each local day's slots, deterministically."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from slotbook.availability import look_busy

TZ = ZoneInfo("America/New_York")
DAY0 = int(datetime(2027, 3, 8, 13, 0, tzinfo=UTC).timestamp())  # 09:00 New York (EDT from 14 March)


def _day_slots(day: int, count: int) -> list[int]:
    return [DAY0 + day * 86400 + i * 1800 for i in range(count)]


@given(
    counts=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=7),
    percentage=st.floats(min_value=0, max_value=100),
    seed=st.text(min_size=1, max_size=8),
)
def test_each_day_keeps_its_share_and_the_choice_is_stable(counts, percentage, seed):
    starts = sorted(s for day, n in enumerate(counts) for s in _day_slots(day, n))
    kept = look_busy(starts, TZ, percentage, seed)
    assert kept == sorted(kept) and set(kept) <= set(starts)
    for day, n in enumerate(counts):
        day_kept = [s for s in kept if s in set(_day_slots(day, n))]
        assert len(day_kept) == n - min(n, round(n * percentage / 100))
    # the same call hides the same slots; one day alone hides what it hid inside the week
    assert look_busy(starts, TZ, percentage, seed) == kept
    first = _day_slots(0, counts[0])
    assert look_busy(first, TZ, percentage, seed) == [s for s in kept if s in set(first)]


def test_zero_keeps_all_and_hundred_hides_all():
    starts = _day_slots(0, 10)
    assert look_busy(starts, TZ, 0, "cal") == starts
    assert look_busy(starts, TZ, 100, "cal") == []


def test_different_calendars_hide_different_slots():
    starts = _day_slots(0, 16)
    assert look_busy(starts, TZ, 50, "cal-a") != look_busy(starts, TZ, 50, "cal-b")
