"""Unit tests for the pure free-slot engine (slotbook.availability).

Examples pin each clause of the slot rule in the module docstring with explicit expected slots,
written as local ISO strings with offsets (the shape ``group_by_local_date`` returns). Property
tests at the end compare the engine with a brute-force model of the same rule on generated inputs
around DST changes. Nothing here reads the clock: every ``now`` is an explicit datetime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotbook.availability import (
    AvailabilityQuery,
    HostBusy,
    LocalSpan,
    Mode,
    OpenHours,
    SlotSpec,
    booking_window,
    candidate_starts,
    compute_slots,
    free_hosts_at,
    group_by_local_date,
    local_to_utc,
    utc_iso,
)
from slotbook.intervals import Interval

CPH = ZoneInfo("Europe/Copenhagen")
NY = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")

MONDAY = date(2026, 6, 1)  # a Monday in summer time (+02:00 in Copenhagen), far from any DST change
TUESDAY = MONDAY + timedelta(days=1)
SUNDAY = MONDAY + timedelta(days=6)

CPH_SPRING = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
CPH_FALL = date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET
NY_SPRING = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
NY_FALL = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- helpers -----------------------------------------------------------------------------------


def hm(text: str) -> int:
    """``"09:30"`` -> minutes after local midnight (``"24:00"`` -> 1440)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def spans(*texts: str) -> tuple[LocalSpan, ...]:
    """``spans("09:00-10:00", "13:00-14:00")`` -> local minute spans."""
    out = []
    for text in texts:
        start, end = text.split("-")
        out.append((hm(start), hm(end)))
    return tuple(out)


def week(**days: tuple[str, ...]) -> tuple[tuple[LocalSpan, ...], ...]:
    """Weekly hours by weekday name; days not named are closed."""
    assert set(days) <= set(WEEKDAYS)
    return tuple(spans(*days.get(name, ())) for name in WEEKDAYS)


def every_day(*texts: str) -> tuple[tuple[LocalSpan, ...], ...]:
    return tuple(spans(*texts) for _ in WEEKDAYS)


def weekdays(*texts: str) -> tuple[tuple[LocalSpan, ...], ...]:
    return week(**{name: texts for name in WEEKDAYS[:5]})


def at(tz: ZoneInfo, day: date, clock: str) -> int:
    """Epoch seconds of an existing, unambiguous local wall-clock time."""
    h, m = divmod(hm(clock), 60)
    return int(datetime.combine(day, time(h, m), tz).timestamp())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def local_days(tz: ZoneInfo, first: date, last: date | None = None) -> tuple[int, int]:
    """Inclusive window from local midnight of ``first`` to the last second of ``last``."""
    last = first if last is None else last
    start = int(datetime.combine(first, time(), tz).timestamp())
    end = int(datetime.combine(last + timedelta(days=1), time(), tz).timestamp()) - 1
    return start, end


def make_query(
    hours: OpenHours,
    window: tuple[int, int],
    *,
    duration: int = 30,
    interval: int | None = None,
    pre: int = 0,
    post: int = 0,
    seats: int = 1,
    per_day_limit: int | None = None,
    hosts: list[HostBusy] | None = None,
    mode: Mode = Mode.SINGLE,
    earliest: int | None = None,
    latest: int | None = None,
) -> AvailabilityQuery:
    """A query with lengths in **minutes** (the engine takes seconds)."""
    return AvailabilityQuery(
        open_hours=hours,
        slot=SlotSpec(
            duration=duration * 60,
            interval=(interval or duration) * 60,
            pre_buffer=pre * 60,
            post_buffer=post * 60,
            seats=seats,
            per_day_limit=per_day_limit,
        ),
        hosts=hosts if hosts is not None else [HostBusy("h1")],
        mode=mode,
        window_start=window[0],
        window_end=window[1],
        earliest=earliest,
        latest=latest,
    )


def offered(query: AvailabilityQuery, tz: ZoneInfo | None = None) -> dict[str, list[str]]:
    return group_by_local_date(compute_slots(query), tz or query.open_hours.timezone)


def isos(day: date | str, offset: str, *clocks: str) -> list[str]:
    return [f"{day}T{clock}:00{offset}" for clock in clocks]


def monday_only(*texts: str) -> OpenHours:
    return OpenHours(CPH, week(monday=texts))


def busy_cph(day: date, *texts: str) -> list[Interval]:
    """Busy intervals from local ``"HH:MM-HH:MM"`` strings in Copenhagen."""
    return [(at(CPH, day, a), at(CPH, day, b)) for a, b in (t.split("-") for t in texts)]


def test_reference_dates_fall_on_the_expected_weekdays() -> None:
    assert MONDAY.weekday() == 0
    assert [d.weekday() for d in (CPH_SPRING, CPH_FALL, NY_SPRING, NY_FALL)] == [6, 6, 6, 6]


# --- SlotSpec and OpenHours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration": 0, "interval": 60},
        {"duration": 60, "interval": 0},
        {"duration": -60, "interval": 60},
        {"duration": 60, "interval": 60, "pre_buffer": -1},
        {"duration": 60, "interval": 60, "post_buffer": -1},
        {"duration": 60, "interval": 60, "seats": 0},
    ],
)
def test_slot_spec_rejects_invalid_shapes(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        SlotSpec(**kwargs)


def test_spans_on_applies_overrides_then_blocked_dates() -> None:
    hours = OpenHours(
        CPH,
        weekdays("09:00-17:00"),
        overrides={TUESDAY: spans("12:00-13:00"), MONDAY + timedelta(days=2): ()},
        blocked_dates=frozenset({TUESDAY, MONDAY + timedelta(days=3)}),
    )
    assert hours.spans_on(MONDAY) == ((540, 1020),)
    assert hours.spans_on(TUESDAY) == ()  # blocked wins over an override
    assert hours.spans_on(MONDAY + timedelta(days=2)) == ()  # empty override closes the day
    assert hours.spans_on(MONDAY + timedelta(days=3)) == ()  # blocked
    assert hours.spans_on(MONDAY + timedelta(days=4)) == ((540, 1020),)
    assert hours.spans_on(SUNDAY) == ()


# --- weekly hours and the grid ---------------------------------------------------------------------


def test_slot_must_lie_wholly_inside_one_open_interval() -> None:
    # Given Monday hours 09:00-10:00 and 10:00-11:00 as two spans, 60-minute slots every 30 minutes
    hours = monday_only("09:00-10:00", "10:00-11:00")
    query = make_query(hours, local_days(CPH, MONDAY, SUNDAY), duration=60, interval=30)
    # Then 09:30 is not offered: it would cross from one span into the other
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:00", "10:00")}


def test_grid_is_anchored_at_each_interval_start() -> None:
    # Given spans opening at 09:10 and 13:05 with 30-minute slots every 30 minutes
    hours = monday_only("09:10-12:00", "13:05-14:00")
    query = make_query(hours, local_days(CPH, MONDAY), duration=30)
    # Then each span has its own grid; 11:40 (ends 12:10) and 13:35 (ends 14:05) do not fit
    assert offered(query) == {
        "2026-06-01": isos(MONDAY, "+02:00", "09:10", "09:40", "10:10", "10:40", "11:10", "13:05")
    }


def test_weekly_hours_differ_per_weekday_with_several_spans() -> None:
    hours = OpenHours(
        CPH, week(monday=("09:00-10:00",), wednesday=("14:00-15:00", "16:00-16:30"), friday=("08:00-08:15",))
    )
    query = make_query(hours, local_days(CPH, MONDAY, SUNDAY), duration=30)
    # Friday's 15-minute span cannot hold a 30-minute slot
    assert offered(query) == {
        "2026-06-01": isos("2026-06-01", "+02:00", "09:00", "09:30"),
        "2026-06-03": isos("2026-06-03", "+02:00", "14:00", "14:30", "16:00"),
    }


def test_span_may_close_at_midnight() -> None:
    hours = monday_only("22:00-24:00")
    query = make_query(hours, local_days(CPH, MONDAY, TUESDAY), duration=60)
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "22:00", "23:00")}


@pytest.mark.parametrize(
    ("duration", "interval", "expected"),
    [
        (60, 15, ["09:00", "09:15", "09:30", "09:45", "10:00"]),
        (30, 45, ["09:00", "09:45", "10:30"]),
        (120, 30, ["09:00"]),
        (121, 30, []),
        (15, 60, ["09:00", "10:00"]),
    ],
)
def test_slot_duration_and_interval_are_independent(
    duration: int, interval: int, expected: list[str]
) -> None:
    # Given Monday 09:00-11:00
    query = make_query(
        monday_only("09:00-11:00"), local_days(CPH, MONDAY), duration=duration, interval=interval
    )
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


# --- overrides and blocked dates ---------------------------------------------------------------


def test_date_overrides_replace_weekday_spans_and_can_close_or_open_a_day() -> None:
    # Given weekdays 09:00-10:00, Tuesday overridden to 13:00-14:00, Wednesday overridden closed,
    # Thursday blocked, Saturday (normally closed) opened 10:00-11:00 by an override
    hours = OpenHours(
        CPH,
        weekdays("09:00-10:00"),
        overrides={
            date(2026, 6, 2): spans("13:00-14:00"),
            date(2026, 6, 3): (),
            date(2026, 6, 6): spans("10:00-11:00"),
        },
        blocked_dates=frozenset({date(2026, 6, 4)}),
    )
    query = make_query(hours, local_days(CPH, MONDAY, SUNDAY), duration=60)
    assert offered(query) == {
        "2026-06-01": ["2026-06-01T09:00:00+02:00"],
        "2026-06-02": ["2026-06-02T13:00:00+02:00"],
        "2026-06-05": ["2026-06-05T09:00:00+02:00"],
        "2026-06-06": ["2026-06-06T10:00:00+02:00"],
    }


def test_blocked_date_closes_the_day_even_with_an_override() -> None:
    hours = OpenHours(
        CPH,
        weekdays("09:00-10:00"),
        overrides={MONDAY: spans("12:00-13:00")},
        blocked_dates=frozenset({MONDAY}),
    )
    assert compute_slots(make_query(hours, local_days(CPH, MONDAY), duration=60)) == []


# --- busy time -----------------------------------------------------------------------------------


def test_busy_blocks_overlapping_slots_and_touching_busy_does_not() -> None:
    # Given 09:00-12:00, 30-minute slots every 15 minutes, busy 10:00-10:30
    hosts = [HostBusy("h1", busy=busy_cph(MONDAY, "10:00-10:30"))]
    query = make_query(monday_only("09:00-12:00"), local_days(CPH, MONDAY), interval=15, hosts=hosts)
    # Then 09:45, 10:00, 10:15 overlap it; 09:30 (ends 10:00) and 10:30 (starts 10:30) only touch
    assert offered(query) == {
        "2026-06-01": isos(
            MONDAY, "+02:00", "09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"
        )
    }


def test_busy_in_any_order_and_bookings_block_alike() -> None:
    # Given unsorted, overlapping busy intervals and one booking of this calendar (one seat)
    host = HostBusy(
        "h1",
        busy=[*busy_cph(MONDAY, "10:00-10:30", "09:00-09:20"), *busy_cph(MONDAY, "10:10-10:20")],
        bookings=busy_cph(MONDAY, "11:00-11:30"),
    )
    query = make_query(monday_only("09:00-12:00"), local_days(CPH, MONDAY), hosts=[host])
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:30", "10:30", "11:30")}


# --- buffers -------------------------------------------------------------------------------------


def test_pre_and_post_buffers_pad_the_candidate() -> None:
    # Given busy 10:00-10:30 and 30-minute slots every 15 minutes with 15 min before, 10 after
    hosts = [HostBusy("h1", busy=busy_cph(MONDAY, "10:00-10:30"))]
    query = make_query(
        monday_only("09:00-12:00"), local_days(CPH, MONDAY), interval=15, pre=15, post=10, hosts=hosts
    )
    # Then s is refused iff [s - 15, s + 40) overlaps [10:00, 10:30), i.e. 09:20 < s < 10:45
    assert offered(query) == {
        "2026-06-01": isos(MONDAY, "+02:00", "09:00", "09:15", "10:45", "11:00", "11:15", "11:30")
    }


@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        ((), ["09:00", "09:30"]),  # buffers may reach outside opening hours
        (("08:45-09:00",), ["09:30"]),  # inside 09:00's pre-buffer
        (("08:30-08:45",), ["09:00", "09:30"]),  # touches the pre-buffer only
        (("10:00-10:15",), ["09:00"]),  # inside 09:30's post-buffer
        (("10:15-11:00",), ["09:00", "09:30"]),
    ],
)
def test_buffers_extend_outside_open_hours(busy: tuple[str, ...], expected: list[str]) -> None:
    # Given opening 09:00-10:00, 30-minute slots, 15-minute pre and post buffers
    hosts = [HostBusy("h1", busy=busy_cph(MONDAY, *busy))]
    query = make_query(monday_only("09:00-10:00"), local_days(CPH, MONDAY), pre=15, post=15, hosts=hosts)
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


# --- booking window: minimum notice and horizon ----------------------------------------------------

NOW = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # Wednesday 10:00 in Copenhagen (+02:00)


@pytest.mark.parametrize(
    ("notice", "expected_delay"),
    [
        (None, 0),
        ((0, "hours"), 0),
        ((30, "mins"), 1800),
        ((45, "minutes"), 2700),
        ((2, "hours"), 7200),
        ((1.5, "hours"), 5400),
        ((2, "days"), 2 * 86400),
        ((1, "weeks"), 7 * 86400),
    ],
)
def test_minimum_notice_is_added_to_now(notice: tuple[float, str] | None, expected_delay: int) -> None:
    earliest, latest = booking_window(NOW, CPH, notice, None)
    assert earliest == int(NOW.timestamp()) + expected_delay
    assert latest is None


def test_notice_in_months_is_calendar_months_in_the_zone() -> None:
    # End of January + 1 month clamps to the end of February, same local wall-clock time
    earliest, _ = booking_window(datetime(2026, 1, 31, 8, 0, tzinfo=UTC), CPH, (1, "months"), None)
    assert utc_iso(earliest) == "2026-02-28T08:00:00.000Z"  # 09:00 CET
    # Across the spring change the local time is kept: 10:00 CET -> 10:00 CEST
    earliest, _ = booking_window(datetime(2026, 3, 15, 9, 0, tzinfo=UTC), CPH, (1, "months"), None)
    assert utc_iso(earliest) == "2026-04-15T08:00:00.000Z"


def test_earliest_rounds_a_fractional_now_up() -> None:
    now = datetime(2026, 6, 10, 8, 0, 0, 250_000, tzinfo=UTC)
    assert booking_window(now, CPH, None, None) == (int(NOW.timestamp()) + 1, None)


def test_now_may_be_given_in_any_zone() -> None:
    assert booking_window(NOW.astimezone(NY), CPH, (2, "hours"), (1, "days")) == booking_window(
        NOW, CPH, (2, "hours"), (1, "days")
    )


@pytest.mark.parametrize(
    ("now", "horizon", "expected_latest"),
    [
        (NOW, (3, "days"), "2026-06-13T21:59:59.000Z"),
        (NOW, (2, "weeks"), "2026-06-24T21:59:59.000Z"),
        (NOW, (1, "months"), "2026-07-10T21:59:59.000Z"),
        (NOW, (0, "days"), None),
        # 23:30 UTC is already Thursday 01:30 in Copenhagen: "today" is the local date
        (datetime(2026, 6, 10, 23, 30, tzinfo=UTC), (1, "days"), "2026-06-12T21:59:59.000Z"),
        # The end of the last day is local midnight after the spring change (+02:00)
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), (3, "days"), "2026-03-30T21:59:59.000Z"),
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), (1, "days"), "2026-03-28T22:59:59.000Z"),
    ],
)
def test_horizon_ends_at_the_end_of_local_day_today_plus_n(
    now: datetime, horizon: tuple[float, str], expected_latest: str | None
) -> None:
    _, latest = booking_window(now, CPH, None, horizon)
    assert (None if latest is None else utc_iso(latest)) == expected_latest


@pytest.mark.parametrize(
    ("tz", "now", "notice", "expected_delay"),
    [
        (CPH, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), (2, "hours"), 7200),
        (CPH, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), (90, "mins"), 5400),
        (CPH, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), (1, "hours"), 3600),
        (NY, datetime(2026, 3, 8, 6, 30, tzinfo=UTC), (2, "hours"), 7200),
    ],
)
def test_notice_in_minutes_and_hours_is_absolute_across_dst(
    tz: ZoneInfo, now: datetime, notice: tuple[float, str], expected_delay: int
) -> None:
    earliest, _ = booking_window(now, tz, notice, None)
    assert earliest - int(now.timestamp()) == expected_delay


def test_notice_and_horizon_limit_the_offered_slots() -> None:
    # Given weekdays 09:00-10:00 with 30-minute slots, and now = Monday 09:10 local
    hours = OpenHours(CPH, weekdays("09:00-10:00"))
    now = datetime.combine(MONDAY, time(9, 10), CPH)
    # When notice is 15 minutes and the horizon 2 days
    earliest, latest = booking_window(now, CPH, (15, "mins"), (2, "days"))
    query = make_query(hours, local_days(CPH, MONDAY, SUNDAY), earliest=earliest, latest=latest)
    # Then Monday starts at 09:30 (09:25 is the earliest start) and nothing after Wednesday
    assert offered(query) == {
        "2026-06-01": ["2026-06-01T09:30:00+02:00"],
        "2026-06-02": isos("2026-06-02", "+02:00", "09:00", "09:30"),
        "2026-06-03": isos("2026-06-03", "+02:00", "09:00", "09:30"),
    }


@pytest.mark.parametrize(
    ("earliest", "latest", "expected"),
    [
        (("2026-06-01", "09:00"), ("2026-06-02", "09:30"), 4),
        (("2026-06-01", "09:01"), ("2026-06-02", "09:30"), 3),
        (("2026-06-01", "09:00"), ("2026-06-02", "09:29"), 3),
        (("2026-06-02", "09:30"), ("2026-06-02", "09:30"), 1),
        (("2026-06-02", "09:31"), ("2026-06-02", "09:30"), 0),
    ],
)
def test_earliest_and_latest_are_inclusive(
    earliest: tuple[str, str], latest: tuple[str, str], expected: int
) -> None:
    hours = OpenHours(CPH, weekdays("09:00-10:00"))
    query = make_query(
        hours,
        local_days(CPH, MONDAY, SUNDAY),
        earliest=at(CPH, date.fromisoformat(earliest[0]), earliest[1]),
        latest=at(CPH, date.fromisoformat(latest[0]), latest[1]),
    )
    assert len(compute_slots(query)) == expected


# --- window bounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (at(CPH, MONDAY, "09:00"), at(CPH, MONDAY, "09:30"), ["09:00", "09:30"]),  # both ends inclusive
        (at(CPH, MONDAY, "09:00"), at(CPH, MONDAY, "09:30") - 1, ["09:00"]),
        (at(CPH, MONDAY, "09:00") + 1, at(CPH, MONDAY, "10:00"), ["09:30"]),  # the grid does not move
        (at(CPH, MONDAY, "09:30"), at(CPH, MONDAY, "09:30"), ["09:30"]),
        (at(CPH, MONDAY, "09:31"), at(CPH, MONDAY, "09:30"), []),  # empty window
    ],
)
def test_window_bounds_are_inclusive(start: int, end: int, expected: list[str]) -> None:
    query = make_query(monday_only("09:00-10:00"), (start, end))
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


def test_window_starting_mid_span_keeps_the_span_grid() -> None:
    query = make_query(monday_only("09:10-11:00"), (at(CPH, MONDAY, "09:20"), at(CPH, MONDAY, "23:00")))
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:40", "10:10")}


def test_candidate_starts_bounds_are_inclusive() -> None:
    hours = monday_only("09:00-10:00")
    slot = SlotSpec(duration=1800, interval=900)
    lo, hi = at(CPH, MONDAY, "09:15"), at(CPH, MONDAY, "09:30")
    assert candidate_starts(hours, slot, lo, hi) == [lo, hi]


# --- modes -----------------------------------------------------------------------------------------


def two_hosts() -> list[HostBusy]:
    # a is busy 09:00-10:00, b is busy 10:00-11:00
    return [
        HostBusy("a", busy=busy_cph(MONDAY, "09:00-10:00")),
        HostBusy("b", busy=busy_cph(MONDAY, "10:00-11:00")),
    ]


@pytest.mark.parametrize(
    ("mode", "hosts", "expected"),
    [
        (Mode.ANY, ["a", "b"], ["09:00", "10:00", "11:00"]),  # round robin: any host free
        (Mode.ALL, ["a", "b"], ["11:00"]),  # collective: every host free
        (Mode.SINGLE, ["a"], ["10:00", "11:00"]),
        (Mode.SINGLE, ["b"], ["09:00", "11:00"]),
        (Mode.ANY, ["a"], ["10:00", "11:00"]),
        (Mode.ALL, ["b"], ["09:00", "11:00"]),
    ],
)
def test_modes_combine_host_free_time(mode: Mode, hosts: list[str], expected: list[str]) -> None:
    # Given 09:00-12:00 with 60-minute slots
    chosen = [h for h in two_hosts() if h.host_id in hosts]
    query = make_query(
        monday_only("09:00-12:00"), local_days(CPH, MONDAY), duration=60, hosts=chosen, mode=mode
    )
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


@pytest.mark.parametrize("count", [0, 2])
def test_single_mode_takes_exactly_one_host(count: int) -> None:
    hosts = [HostBusy(f"h{i}") for i in range(count)]
    with pytest.raises(ValueError):
        compute_slots(make_query(monday_only("09:00-10:00"), local_days(CPH, MONDAY), hosts=hosts))


@pytest.mark.parametrize("mode", [Mode.ANY, Mode.ALL])
def test_no_hosts_means_no_slots(mode: Mode) -> None:
    query = make_query(monday_only("09:00-10:00"), local_days(CPH, MONDAY), hosts=[], mode=mode)
    assert compute_slots(query) == []


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("09:00", ["b"]),
        ("10:00", ["a"]),
        ("11:00", ["a", "b"]),
        ("09:30", []),  # not on the grid
        ("08:00", []),  # before opening
        ("11:30", []),  # on no grid and the slot would overrun closing
        ("12:00", []),  # closing time: the slot does not fit
    ],
)
def test_free_hosts_at_reports_free_hosts_in_query_order(clock: str, expected: list[str]) -> None:
    query = make_query(
        monday_only("09:00-12:00"), local_days(CPH, MONDAY), duration=60, hosts=two_hosts(), mode=Mode.ANY
    )
    assert free_hosts_at(query, at(CPH, MONDAY, clock)) == expected
    reversed_query = dataclasses.replace(query, hosts=list(reversed(two_hosts())))
    assert free_hosts_at(reversed_query, at(CPH, MONDAY, clock)) == list(reversed(expected))


def test_free_hosts_at_is_empty_outside_the_window_notice_or_horizon() -> None:
    base = make_query(
        monday_only("09:00-12:00"), local_days(CPH, MONDAY), duration=60, hosts=two_hosts(), mode=Mode.ALL
    )
    eleven = at(CPH, MONDAY, "11:00")
    assert free_hosts_at(base, eleven) == ["a", "b"]
    assert free_hosts_at(dataclasses.replace(base, earliest=eleven + 1), eleven) == []
    assert free_hosts_at(dataclasses.replace(base, latest=eleven - 1), eleven) == []
    assert free_hosts_at(dataclasses.replace(base, window_end=eleven - 1), eleven) == []
    assert free_hosts_at(dataclasses.replace(base, window_start=eleven + 1), eleven) == []
    # a closed day
    assert free_hosts_at(base, at(CPH, TUESDAY, "11:00")) == []


# --- seats and per-day limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "bookings_at_ten", "expected"),
    [
        (3, 2, ["09:00", "09:15", "09:30", "10:00", "10:30"]),  # 2 of 3 seats taken: 10:00 still offered
        (3, 3, ["09:00", "09:15", "09:30", "10:30"]),  # full
        (1, 1, ["09:00", "09:15", "09:30", "10:30"]),  # no seats: a booking is busy time
        (2, 0, ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]),
    ],
)
def test_bookings_at_the_same_start_take_seats(seats: int, bookings_at_ten: int, expected: list[str]) -> None:
    # Given 09:00-11:00, 30-minute slots every 15 minutes, and bookings of this calendar at 10:00
    host = HostBusy("h1", bookings=busy_cph(MONDAY, *["10:00-10:30"] * bookings_at_ten))
    query = make_query(
        monday_only("09:00-11:00"), local_days(CPH, MONDAY), interval=15, seats=seats, hosts=[host]
    )
    # Then a booking at a different, overlapping start (09:45, 10:15) blocks; touching ones do not
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


def test_other_busy_time_blocks_a_seated_slot() -> None:
    host = HostBusy("h1", busy=busy_cph(MONDAY, "10:00-10:30"))
    query = make_query(monday_only("10:00-11:00"), local_days(CPH, MONDAY), seats=5, hosts=[host])
    assert offered(query) == {"2026-06-01": ["2026-06-01T10:30:00+02:00"]}


def test_padded_bookings_count_as_seats_via_booking_starts() -> None:
    # Given 15-minute pre and post buffers, so the 10:00 booking is stored padded as 09:45-10:45
    # and its real start is given in booking_starts
    host = HostBusy("h1", bookings=busy_cph(MONDAY, "09:45-10:45"), booking_starts=[at(CPH, MONDAY, "10:00")])
    query = make_query(
        monday_only("09:00-11:00"),
        local_days(CPH, MONDAY),
        interval=15,
        pre=15,
        post=15,
        seats=2,
        hosts=[host],
    )
    # Then 10:00 is a seat of that booking; every other overlapping start is blocked by it
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:00", "10:00")}


def test_per_day_limit_closes_the_host_for_that_local_day() -> None:
    # Given Monday and Tuesday 09:00-12:00, 60-minute slots, at most 2 bookings a day
    hours = OpenHours(CPH, week(monday=("09:00-12:00",), tuesday=("09:00-12:00",)))
    window = local_days(CPH, MONDAY, TUESDAY)
    two = HostBusy("h1", bookings=busy_cph(MONDAY, "09:00-10:00", "10:00-11:00"))
    one = HostBusy("h1", bookings=busy_cph(MONDAY, "09:00-10:00"))
    assert offered(make_query(hours, window, duration=60, per_day_limit=2, hosts=[two])) == {
        "2026-06-02": isos("2026-06-02", "+02:00", "09:00", "10:00", "11:00")
    }
    assert offered(make_query(hours, window, duration=60, per_day_limit=2, hosts=[one])) == {
        "2026-06-01": isos("2026-06-01", "+02:00", "10:00", "11:00"),
        "2026-06-02": isos("2026-06-02", "+02:00", "09:00", "10:00", "11:00"),
    }


def test_per_day_limit_counts_by_local_day() -> None:
    # Given a booking at Tuesday 01:30 Copenhagen time, which is still Monday 23:30 in UTC
    hours = OpenHours(CPH, week(monday=("09:00-10:00",), tuesday=("09:00-10:00",)))
    booking = (utc(2026, 6, 1, 23, 30), utc(2026, 6, 2, 0, 0))
    host = HostBusy("h1", bookings=[booking])
    query = make_query(hours, local_days(CPH, MONDAY, TUESDAY), duration=60, per_day_limit=1, hosts=[host])
    # Then it counts for Tuesday
    assert offered(query) == {"2026-06-01": ["2026-06-01T09:00:00+02:00"]}


def test_per_day_limit_with_seats_counts_every_booking() -> None:
    host = HostBusy("h1", bookings=busy_cph(MONDAY, "10:00-10:30", "10:00-10:30"))
    query = make_query(
        monday_only("09:00-11:00"), local_days(CPH, MONDAY), seats=5, per_day_limit=2, hosts=[host]
    )
    assert compute_slots(query) == []
    query = dataclasses.replace(query, slot=dataclasses.replace(query.slot, per_day_limit=3))
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:00", "09:30", "10:00", "10:30")}


@pytest.mark.parametrize(("mode", "expected"), [(Mode.ANY, ["09:00", "10:00", "11:00"]), (Mode.ALL, [])])
def test_per_day_limit_applies_per_host(mode: Mode, expected: list[str]) -> None:
    # Given host a has reached its limit on Monday (its booking is on Monday at 07:00), b has not
    hosts = [HostBusy("a", bookings=busy_cph(MONDAY, "07:00-08:00")), HostBusy("b")]
    query = make_query(
        monday_only("09:00-12:00"),
        local_days(CPH, MONDAY),
        duration=60,
        per_day_limit=1,
        hosts=hosts,
        mode=mode,
    )
    assert compute_slots(query) == [at(CPH, MONDAY, clock) for clock in expected]


# --- per-host opening hours ------------------------------------------------------------------------

CLOSED_UTC = OpenHours(UTC_ZONE, every_day())


def zone_hosts() -> list[HostBusy]:
    return [
        HostBusy("cph", open_hours=OpenHours(CPH, every_day("09:00-17:00"))),
        HostBusy("ny", open_hours=OpenHours(NY, every_day("09:00-17:00"))),
    ]


def test_per_host_hours_in_different_zones_collective() -> None:
    # Given the calendar's own hours closed, one host 09-17 Copenhagen (07-15 UTC in June),
    # one host 09-17 New York (13-21 UTC), and 60-minute slots
    query = make_query(
        CLOSED_UTC, local_days(UTC_ZONE, MONDAY), duration=60, hosts=zone_hosts(), mode=Mode.ALL
    )
    slots = compute_slots(query)
    # Then the collective slots are the overlap, 13:00 and 14:00 UTC
    assert [utc_iso(s) for s in slots] == ["2026-06-01T13:00:00.000Z", "2026-06-01T14:00:00.000Z"]
    assert group_by_local_date(slots, CPH) == {"2026-06-01": isos(MONDAY, "+02:00", "15:00", "16:00")}
    assert group_by_local_date(slots, NY) == {"2026-06-01": isos(MONDAY, "-04:00", "09:00", "10:00")}


def test_per_host_hours_in_different_zones_round_robin() -> None:
    query = make_query(
        CLOSED_UTC, local_days(UTC_ZONE, MONDAY), duration=60, hosts=zone_hosts(), mode=Mode.ANY
    )
    assert [utc_iso(s) for s in compute_slots(query)] == [
        f"2026-06-01T{hour:02d}:00:00.000Z" for hour in range(7, 21)
    ]


def test_per_host_hours_follow_each_zones_own_dst_dates() -> None:
    # Given Tuesday 2026-03-10: New York is already on summer time (-04:00), Copenhagen is not (+01:00)
    day = date(2026, 3, 10)
    query = make_query(CLOSED_UTC, local_days(UTC_ZONE, day), duration=60, hosts=zone_hosts(), mode=Mode.ALL)
    # Then the overlap is 13:00-16:00 UTC: three slots instead of June's two
    assert group_by_local_date(compute_slots(query), CPH) == {
        "2026-03-10": isos(day, "+01:00", "14:00", "15:00", "16:00")
    }


def test_per_host_busy_and_hours_combine() -> None:
    hosts = zone_hosts()
    hosts[1] = dataclasses.replace(hosts[1], busy=[(utc(2026, 6, 1, 13, 0), utc(2026, 6, 1, 14, 0))])
    window = local_days(UTC_ZONE, MONDAY)
    collective = make_query(CLOSED_UTC, window, duration=60, hosts=hosts, mode=Mode.ALL)
    assert [utc_iso(s) for s in compute_slots(collective)] == ["2026-06-01T14:00:00.000Z"]
    # Round robin keeps 13:00 UTC: the Copenhagen host is free then
    round_robin = dataclasses.replace(collective, mode=Mode.ANY)
    assert len(compute_slots(round_robin)) == 14


def test_per_host_hours_mixed_with_calendar_hours() -> None:
    # Given the calendar's hours are New York 09-17 and only one host has its own (Copenhagen) hours
    hours = OpenHours(NY, every_day("09:00-17:00"))
    hosts = [HostBusy("cph", open_hours=OpenHours(CPH, every_day("09:00-17:00"))), HostBusy("ny")]
    query = make_query(hours, local_days(UTC_ZONE, MONDAY), duration=60, hosts=hosts, mode=Mode.ALL)
    assert [utc_iso(s) for s in compute_slots(query)] == [
        "2026-06-01T13:00:00.000Z",
        "2026-06-01T14:00:00.000Z",
    ]


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(8, ["cph"]), (14, ["cph", "ny"]), (19, ["ny"]), (22, [])],
)
def test_free_hosts_at_uses_each_hosts_own_hours(hour: int, expected: list[str]) -> None:
    query = make_query(
        CLOSED_UTC, local_days(UTC_ZONE, MONDAY), duration=60, hosts=zone_hosts(), mode=Mode.ANY
    )
    assert free_hosts_at(query, utc(2026, 6, 1, hour, 0)) == expected
    assert free_hosts_at(query, utc(2026, 6, 1, hour, 30)) == []  # off every host's grid


def test_equal_per_host_hours_give_the_same_slots_as_shared_hours() -> None:
    # A host's hours equal to (but not the same object as) the calendar's take the per-group path
    hours = OpenHours(CPH, weekdays("09:00-12:00"))
    shared = make_query(
        hours, local_days(CPH, MONDAY, SUNDAY), duration=45, interval=15, hosts=two_hosts(), mode=Mode.ALL
    )
    copies = [dataclasses.replace(h, open_hours=OpenHours(CPH, weekdays("09:00-12:00"))) for h in two_hosts()]
    for mode in (Mode.ALL, Mode.ANY):
        assert compute_slots(dataclasses.replace(shared, hosts=copies, mode=mode)) == compute_slots(
            dataclasses.replace(shared, mode=mode)
        )


# --- DST -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "change", "offsets", "utc_hours"),
    [
        (CPH, CPH_SPRING, ("+01:00", "+02:00", "+02:00"), (8, 7, 7)),
        (CPH, CPH_FALL, ("+02:00", "+01:00", "+01:00"), (7, 8, 8)),
        (NY, NY_SPRING, ("-05:00", "-04:00", "-04:00"), (14, 13, 13)),
        (NY, NY_FALL, ("-04:00", "-05:00", "-05:00"), (13, 14, 14)),
    ],
)
def test_local_nine_stays_nine_across_dst(
    tz: ZoneInfo, change: date, offsets: tuple[str, ...], utc_hours: tuple[int, ...]
) -> None:
    # Given 09:00-10:00 every day, the day before, of, and after a DST change
    days = [change + timedelta(days=k) for k in (-1, 0, 1)]
    query = make_query(
        OpenHours(tz, every_day("09:00-10:00")), local_days(tz, days[0], days[-1]), duration=60
    )
    slots = compute_slots(query)
    # Then the local time is 09:00 every day while the UTC offset changes
    assert group_by_local_date(slots, tz) == {
        d.isoformat(): [f"{d}T09:00:00{off}"] for d, off in zip(days, offsets, strict=True)
    }
    assert [datetime.fromtimestamp(s, UTC).hour for s in slots] == list(utc_hours)


@pytest.mark.parametrize(
    ("tz", "day", "span", "expected"),
    [
        # Spring forward: 02:00 and 02:30 do not exist and are skipped
        (
            CPH,
            CPH_SPRING,
            "01:00-05:00",
            isos(CPH_SPRING, "+01:00", "01:00", "01:30")
            + isos(CPH_SPRING, "+02:00", "03:00", "03:30", "04:00", "04:30"),
        ),
        (
            NY,
            NY_SPRING,
            "01:00-05:00",
            isos(NY_SPRING, "-05:00", "01:00", "01:30")
            + isos(NY_SPRING, "-04:00", "03:00", "03:30", "04:00", "04:30"),
        ),
        # Fall back: the repeated 02:xx (Copenhagen) / 01:xx (New York) appear once, first occurrence
        (
            CPH,
            CPH_FALL,
            "01:00-05:00",
            isos(CPH_FALL, "+02:00", "01:00", "01:30", "02:00", "02:30")
            + isos(CPH_FALL, "+01:00", "03:00", "03:30", "04:00", "04:30"),
        ),
        (
            NY,
            NY_FALL,
            "00:00-03:00",
            isos(NY_FALL, "-04:00", "00:00", "00:30", "01:00", "01:30")
            + isos(NY_FALL, "-05:00", "02:00", "02:30"),
        ),
    ],
)
def test_dst_day_grid_is_local_wall_clock(tz: ZoneInfo, day: date, span: str, expected: list[str]) -> None:
    query = make_query(OpenHours(tz, every_day(span)), local_days(tz, day), duration=30)
    assert offered(query) == {day.isoformat(): expected}


def test_spring_forward_sixty_minute_slots_are_absolute() -> None:
    # Given 01:00-05:00 on the 23-hour day: 3 real hours; 60-minute slots every 30 minutes
    query = make_query(
        OpenHours(CPH, every_day("01:00-05:00")), local_days(CPH, CPH_SPRING), duration=60, interval=30
    )
    # Then 01:30 +01:00 fits (it ends at 03:30 +02:00) and 04:30 does not
    assert offered(query) == {
        "2026-03-29": isos(CPH_SPRING, "+01:00", "01:00", "01:30")
        + isos(CPH_SPRING, "+02:00", "03:00", "03:30", "04:00")
    }


@pytest.mark.parametrize(
    ("day", "span", "duration", "expected"),
    [
        # 01:00-04:00 on the spring day is only 2 real hours
        (CPH_SPRING, "01:00-04:00", 120, isos(CPH_SPRING, "+01:00", "01:00")),
        (CPH_SPRING, "01:00-04:00", 150, []),
        # 02:00-03:30 on the fall day is 2.5 real hours, so 120-minute slots fit twice
        (CPH_FALL, "02:00-03:30", 120, isos(CPH_FALL, "+02:00", "02:00", "02:30")),
        (CPH_FALL, "02:00-03:30", 150, isos(CPH_FALL, "+02:00", "02:00")),
    ],
)
def test_slot_lengths_are_absolute_seconds(day: date, span: str, duration: int, expected: list[str]) -> None:
    query = make_query(OpenHours(CPH, every_day(span)), local_days(CPH, day), duration=duration, interval=30)
    assert offered(query).get(day.isoformat(), []) == expected


def test_fall_back_busy_in_the_repeated_hour_blocks_by_absolute_time() -> None:
    # Given busy 01:00-02:00 UTC, i.e. the second 02:00-03:00 (+01:00) of the fall-back day
    host = HostBusy("h1", busy=[(utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 2, 0))])
    query = make_query(
        OpenHours(CPH, every_day("01:00-05:00")),
        local_days(CPH, CPH_FALL),
        duration=60,
        interval=30,
        hosts=[host],
    )
    # Then only 02:30 +02:00 (00:30-01:30 UTC) overlaps it; 02:00 +02:00 ends as it begins
    assert offered(query) == {
        "2026-10-25": isos(CPH_FALL, "+02:00", "01:00", "01:30", "02:00")
        + isos(CPH_FALL, "+01:00", "03:00", "03:30", "04:00")
    }


@pytest.mark.parametrize(
    ("tz", "day", "clock", "expected"),
    [
        (CPH, MONDAY, "09:00", "2026-06-01T07:00:00.000Z"),
        (CPH, CPH_SPRING, "01:59", "2026-03-29T00:59:00.000Z"),
        (CPH, CPH_SPRING, "02:00", None),
        (CPH, CPH_SPRING, "02:30", None),
        (CPH, CPH_SPRING, "03:00", "2026-03-29T01:00:00.000Z"),
        (CPH, CPH_FALL, "02:00", "2026-10-25T00:00:00.000Z"),  # first occurrence (+02:00)
        (CPH, CPH_FALL, "02:30", "2026-10-25T00:30:00.000Z"),
        (CPH, CPH_FALL, "03:00", "2026-10-25T02:00:00.000Z"),
        (NY, NY_SPRING, "02:30", None),
        (NY, NY_SPRING, "03:00", "2026-03-08T07:00:00.000Z"),
        (NY, NY_FALL, "01:30", "2026-11-01T05:30:00.000Z"),  # first occurrence (-04:00)
        (NY, NY_FALL, "02:00", "2026-11-01T07:00:00.000Z"),
        (CPH, MONDAY, "24:00", "2026-06-01T22:00:00.000Z"),  # minute 1440 is the next midnight
        (CPH, MONDAY, "25:00", "2026-06-01T23:00:00.000Z"),
    ],
)
def test_local_to_utc(tz: ZoneInfo, day: date, clock: str, expected: str | None) -> None:
    result = local_to_utc(day, hm(clock), tz)
    assert (None if result is None else utc_iso(result)) == expected


@pytest.mark.parametrize(
    ("tz", "day", "span", "expected"),
    [
        # Opening in the gap: the span keeps its existing part from 03:00
        (CPH, CPH_SPRING, "02:30-05:00", isos(CPH_SPRING, "+02:00", "03:00", "03:30", "04:00", "04:30")),
        # Closing in the gap: the span ends at the transition
        (CPH, CPH_SPRING, "01:00-02:30", isos(CPH_SPRING, "+01:00", "01:00", "01:30")),
        # Opening at the gap's start
        (NY, NY_SPRING, "02:00-04:00", isos(NY_SPRING, "-04:00", "03:00", "03:30")),
    ],
)
def test_open_hours_boundary_inside_the_spring_gap(
    tz: ZoneInfo, day: date, span: str, expected: list[str]
) -> None:
    query = make_query(OpenHours(tz, every_day(span)), local_days(tz, day), duration=30)
    assert offered(query).get(day.isoformat(), []) == expected


# --- output shape --------------------------------------------------------------------------------


def test_group_by_local_date_keys_by_the_output_zone() -> None:
    starts = [utc(2026, 6, 1, 21, 30), utc(2026, 6, 1, 23, 30)]
    assert group_by_local_date(starts, CPH) == {
        "2026-06-01": ["2026-06-01T23:30:00+02:00"],
        "2026-06-02": ["2026-06-02T01:30:00+02:00"],
    }
    assert group_by_local_date(starts, UTC_ZONE) == {
        "2026-06-01": ["2026-06-01T21:30:00+00:00", "2026-06-01T23:30:00+00:00"]
    }
    assert group_by_local_date(starts, NY) == {
        "2026-06-01": ["2026-06-01T17:30:00-04:00", "2026-06-01T19:30:00-04:00"]
    }
    assert group_by_local_date([], CPH) == {}


def test_slots_of_one_zone_grouped_in_another() -> None:
    # Given New York hours 17:00-19:00; 18:00 New York is 00:00 the next day in Copenhagen
    query = make_query(OpenHours(NY, every_day("17:00-19:00")), local_days(NY, MONDAY), duration=60)
    assert offered(query) == {"2026-06-01": isos(MONDAY, "-04:00", "17:00", "18:00")}
    assert offered(query, CPH) == {
        "2026-06-01": ["2026-06-01T23:00:00+02:00"],
        "2026-06-02": ["2026-06-02T00:00:00+02:00"],
    }


def test_utc_iso() -> None:
    assert utc_iso(0) == "1970-01-01T00:00:00.000Z"
    assert utc_iso(utc(2026, 6, 1, 7, 5)) == "2026-06-01T07:05:00.000Z"


@pytest.mark.parametrize(
    "per_host_hours",
    [pytest.param(False, id="shared-hours"), pytest.param(True, id="per-host")],
)
def test_overlapping_spans_do_not_duplicate_slots(per_host_hours: bool) -> None:
    # Given two overlapping spans 09:00-11:00 and 10:00-12:00 and 60-minute slots
    hours = monday_only("09:00-11:00", "10:00-12:00")
    hosts = [HostBusy("a"), HostBusy("b")]
    if per_host_hours:
        hosts[1] = HostBusy("b", open_hours=monday_only("09:00-11:00", "10:00-12:00"))
    query = make_query(hours, local_days(CPH, MONDAY), duration=60, hosts=hosts, mode=Mode.ANY)
    # Then 10:00 (on both spans' grids) is offered once
    assert offered(query) == {"2026-06-01": isos(MONDAY, "+02:00", "09:00", "10:00", "11:00")}


# --- properties ----------------------------------------------------------------------------------
#
# A brute-force model of the slot rule: walk UTC instants, convert each to local wall-clock time and
# check the rule literally. All generated spans, grids and buffers are whole multiples of 5 minutes
# and both zones have whole-hour offsets, so slot starts are multiples of 300 s in UTC.

STEP = 300
PIVOTS = [
    (CPH, CPH_SPRING),
    (CPH, CPH_FALL),
    (NY, NY_SPRING),
    (NY, NY_FALL),
    (CPH, date(2026, 6, 14)),
]
GRID = list(range(0, 1441, 15))

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wall(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)


def exists(naive: datetime, tz: ZoneInfo) -> bool:
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def boundary(day: date, minute: int, tz: ZoneInfo) -> int:
    """Instant of a span boundary: first occurrence; in a gap, the first wall minute after it."""
    naive = wall(day, minute)
    while not exists(naive, tz):
        naive += timedelta(minutes=1)
    return int(naive.replace(tzinfo=tz).timestamp())


def model_candidates(hours: OpenHours, slot: SlotSpec, lo: int, hi: int) -> set[int]:
    tz = hours.timezone
    step_min = slot.interval // 60
    out = set()
    for s in range(lo + (-lo % STEP), hi + 1, STEP):
        local = datetime.fromtimestamp(s, tz)
        if local.fold:  # the second occurrence of a repeated wall-clock time
            continue
        minute = local.hour * 60 + local.minute
        for open_min, close_min in hours.spans_on(local.date()):
            if (
                open_min <= minute < close_min
                and (minute - open_min) % step_min == 0
                and s + slot.duration <= boundary(local.date(), close_min, tz)
            ):
                out.add(s)
    return out


def overlaps(ivs: Iterable[Interval], a: int, b: int) -> bool:
    return any(x < b and y > a for x, y in ivs)


def model_free(host: HostBusy, slot: SlotSpec, s: int, tz: ZoneInfo) -> bool:
    a, b = s - slot.pre_buffer, s + slot.duration + slot.post_buffer
    if overlaps(host.busy, a, b):
        return False
    starts = list(host.booking_starts) or [bk[0] for bk in host.bookings]
    if slot.seats == 1:
        if overlaps(host.bookings, a, b):
            return False
    else:
        if starts.count(s) >= slot.seats:
            return False
        if any(st_ != s and x < b and y > a for st_, (x, y) in zip(starts, host.bookings, strict=True)):
            return False
    if slot.per_day_limit is not None:
        day = datetime.fromtimestamp(s, tz).date()
        if sum(datetime.fromtimestamp(x, tz).date() == day for x in starts) >= slot.per_day_limit:
            return False
    return True


def bounds(q: AvailabilityQuery) -> tuple[int, int]:
    lo = q.window_start if q.earliest is None else max(q.window_start, q.earliest)
    hi = q.window_end if q.latest is None else min(q.window_end, q.latest)
    return lo, hi


def model_slots(q: AvailabilityQuery) -> list[int]:
    lo, hi = bounds(q)
    per_host = []
    for host in q.hosts:
        hours = host.open_hours or q.open_hours
        cands = model_candidates(hours, q.slot, lo, hi)
        per_host.append({s for s in cands if model_free(host, q.slot, s, hours.timezone)})
    if not per_host:
        return []
    combined = set.union(*per_host) if q.mode is Mode.ANY else set.intersection(*per_host)
    return sorted(combined)


@st.composite
def day_spans(draw: st.DrawFn) -> tuple[LocalSpan, ...]:
    """0-3 disjoint spans on a 15-minute grid; a span may be split in two touching spans."""
    n = draw(st.integers(0, 3))
    points = sorted(draw(st.lists(st.sampled_from(GRID), min_size=2 * n, max_size=2 * n, unique=True)))
    out: list[LocalSpan] = []
    for a, b in zip(points[::2], points[1::2], strict=True):
        inner = [m for m in GRID if a < m < b]
        if inner and draw(st.booleans()):
            cut = draw(st.sampled_from(inner))
            out += [(a, cut), (cut, b)]
        else:
            out.append((a, b))
    return tuple(out)


@st.composite
def open_hours(draw: st.DrawFn, tz: ZoneInfo, days: list[date]) -> OpenHours:
    weekly = tuple(draw(day_spans()) for _ in WEEKDAYS)
    overrides = draw(st.dictionaries(st.sampled_from(days), day_spans(), max_size=2))
    blocked = draw(st.frozensets(st.sampled_from(days), max_size=1))
    return OpenHours(tz, weekly, overrides, blocked)


def intervals_near(base: int, max_len_min: int = 240) -> st.SearchStrategy[Interval]:
    return st.tuples(st.integers(0, 5 * 1440), st.integers(1, max_len_min)).map(
        lambda t: (base + t[0] * 60, base + (t[0] + t[1]) * 60)
    )


@st.composite
def scenarios(draw: st.DrawFn, *, per_host_hours: bool = False, seats: bool = False) -> AvailabilityQuery:
    tz, pivot = draw(st.sampled_from(PIVOTS))
    days = [pivot + timedelta(days=k) for k in range(-2, 3)]
    hours = draw(open_hours(tz, days))
    base = int(datetime.combine(days[0], time(), tz).timestamp())
    # The window always covers the DST day (days[2]); notice and horizon may trim either end.
    window_start = base + draw(st.integers(0, 2 * 86400))
    window_end = base + draw(st.integers(3 * 86400, 5 * 86400))
    slot = SlotSpec(
        duration=draw(st.sampled_from([15, 30, 45, 60, 90, 120])) * 60,
        interval=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60])) * 60,
        pre_buffer=draw(st.sampled_from([0, 5, 10, 15, 30])) * 60,
        post_buffer=draw(st.sampled_from([0, 5, 10, 15, 30])) * 60,
        seats=draw(st.sampled_from([1, 1, 2, 3])) if seats else 1,
        per_day_limit=draw(st.none() | st.integers(1, 3)) if seats else None,
    )
    mode = draw(st.sampled_from(list(Mode)))
    n_hosts = 1 if mode is Mode.SINGLE else draw(st.integers(1, 4))
    hosts = []
    for i in range(n_hosts):
        own = None
        if per_host_hours and draw(st.booleans()):
            own = draw(open_hours(draw(st.sampled_from([CPH, NY])), days))
        bookings: list[Interval] = []
        starts: list[int] = []
        if seats:
            for k in draw(st.lists(st.integers(0, 5 * 96), max_size=5)):
                s = base + k * 900
                for _ in range(draw(st.integers(1, 3))):
                    starts.append(s)
                    bookings.append((s - slot.pre_buffer, s + slot.duration + slot.post_buffer))
        hosts.append(
            HostBusy(
                f"h{i}",
                busy=draw(st.lists(intervals_near(base), max_size=10)),
                bookings=bookings,
                booking_starts=starts,
                open_hours=own,
            )
        )
    earliest = draw(st.none() | st.integers(base, base + 3 * 86400))
    latest = draw(st.none() | st.integers(base + 2 * 86400, base + 5 * 86400))
    return AvailabilityQuery(hours, slot, hosts, mode, window_start, window_end, earliest, latest)


def padded(q: AvailabilityQuery, s: int) -> tuple[int, int]:
    return s - q.slot.pre_buffer, s + q.slot.duration + q.slot.post_buffer


@PROPS
@given(scenarios(per_host_hours=True, seats=True))
def test_property_engine_matches_brute_force_model(q: AvailabilityQuery) -> None:
    assert compute_slots(q) == model_slots(q)


@PROPS
@given(scenarios())
def test_property_offered_slots_respect_busy_time_of_the_required_hosts(q: AvailabilityQuery) -> None:
    for s in compute_slots(q):
        a, b = padded(q, s)
        free = [not overlaps([*h.busy, *h.bookings], a, b) for h in q.hosts]
        assert any(free) if q.mode is Mode.ANY else all(free), utc_iso(s)


@PROPS
@given(scenarios())
def test_property_offered_slots_lie_inside_one_open_span_of_their_local_day(q: AvailabilityQuery) -> None:
    tz = q.open_hours.timezone
    lo, hi = bounds(q)
    step_min = q.slot.interval // 60
    for s in compute_slots(q):
        assert lo <= s <= hi
        local = datetime.fromtimestamp(s, tz)
        assert local.fold == 0, "second occurrence of an ambiguous time offered"
        minute = local.hour * 60 + local.minute
        assert local.second == 0
        assert any(
            o <= minute < c
            and (minute - o) % step_min == 0
            and s + q.slot.duration <= boundary(local.date(), c, tz)
            for o, c in q.open_hours.spans_on(local.date())
        ), local.isoformat()


@PROPS
@given(scenarios(per_host_hours=True, seats=True))
def test_property_results_are_sorted_and_unique(q: AvailabilityQuery) -> None:
    slots = compute_slots(q)
    assert slots == sorted(set(slots))


@PROPS
@given(scenarios(per_host_hours=True, seats=True))
def test_property_any_is_union_and_all_is_intersection_of_single_hosts(q: AvailabilityQuery) -> None:
    singles = [set(compute_slots(dataclasses.replace(q, hosts=[h], mode=Mode.SINGLE))) for h in q.hosts]
    any_slots = set(compute_slots(dataclasses.replace(q, mode=Mode.ANY)))
    all_slots = set(compute_slots(dataclasses.replace(q, mode=Mode.ALL)))
    assert all_slots <= any_slots
    assert any_slots == set.union(*singles)
    assert all_slots == set.intersection(*singles)


@PROPS
@given(scenarios(per_host_hours=True, seats=True), st.data())
def test_property_more_busy_time_never_adds_slots(q: AvailabilityQuery, data: st.DataObject) -> None:
    window_base = q.window_start - 2 * 86400
    who = data.draw(st.integers(0, len(q.hosts) - 1))
    extra = data.draw(st.lists(intervals_near(window_base, 600), min_size=1, max_size=4))
    hosts = list(q.hosts)
    hosts[who] = dataclasses.replace(hosts[who], busy=[*hosts[who].busy, *extra])
    assert set(compute_slots(dataclasses.replace(q, hosts=hosts))) <= set(compute_slots(q))


@PROPS
@given(scenarios(per_host_hours=True, seats=True))
def test_property_free_hosts_at_agrees_with_compute_slots(q: AvailabilityQuery) -> None:
    lo, hi = bounds(q)
    any_slots = set(compute_slots(dataclasses.replace(q, mode=Mode.ANY)))
    all_slots = set(compute_slots(dataclasses.replace(q, mode=Mode.ALL)))
    candidates: set[int] = set()
    for h in q.hosts:
        candidates |= (
            set(candidate_starts(h.open_hours or q.open_hours, q.slot, lo, hi)) if lo <= hi else set()
        )
    ids = [h.host_id for h in q.hosts]
    for s in sorted(candidates | {lo, hi, lo + 60}):
        free = free_hosts_at(q, s)
        assert free == [i for i in ids if i in free]  # query order
        assert bool(free) == (s in any_slots)
        assert (len(free) == len(ids)) == (s in all_slots)
