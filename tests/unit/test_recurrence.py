"""slotbook.recurrence: RFC 5545 rules of recurring appointments, expanded in local wall-clock
time, and instance ids ``<masterId>_<startMs>_<durationSeconds>``."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotbook import recurrence as r
from slotbook.errors import ValidationFailed

CPH = ZoneInfo("Europe/Copenhagen")
NY = ZoneInfo("America/New_York")
MONDAY_9 = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)  # 09:00 in Copenhagen (CET)
YEAR = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def _local(instants: list[datetime], tz: ZoneInfo) -> list[str]:
    return [i.astimezone(tz).isoformat() for i in instants]


def test_weekly_nine_oclock_stays_nine_across_both_dst_changes():
    rule, _ = r.parse("RRULE:FREQ=WEEKLY", MONDAY_9, 1800, CPH)
    found = r.occurrences(rule, MONDAY_9, CPH, *YEAR)
    assert len(found) == 43  # every Monday from 8 March to 27 December
    assert {i.astimezone(CPH).strftime("%a %H:%M") for i in found} == {"Mon 09:00"}
    # The UTC instant moves with the offset: 08:00Z in winter, 07:00Z in summer
    assert found[2].isoformat() == "2027-03-22T08:00:00+00:00"
    assert found[3].isoformat() == "2027-03-29T07:00:00+00:00"
    assert found[-9].isoformat() == "2027-11-01T08:00:00+00:00"


def test_a_local_time_that_does_not_exist_is_skipped_and_an_ambiguous_one_is_the_first():
    start = datetime(2027, 3, 26, 1, 30, tzinfo=UTC)  # 02:30 CET, Friday
    rule, _ = r.parse("FREQ=DAILY;COUNT=4", start, 600, CPH)
    # 28 March 02:30 does not exist in Copenhagen (clocks jump 02:00 → 03:00)
    assert _local(r.occurrences(rule, start, CPH, *YEAR), CPH) == [
        "2027-03-26T02:30:00+01:00",
        "2027-03-27T02:30:00+01:00",
        "2027-03-29T02:30:00+02:00",
    ]
    autumn = datetime(2027, 10, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST
    rule, _ = r.parse("FREQ=DAILY;COUNT=2", autumn, 600, CPH)
    # 31 October 02:30 happens twice; the first (still +02:00) is taken
    assert _local(r.occurrences(rule, autumn, CPH, *YEAR), CPH) == [
        "2027-10-30T02:30:00+02:00",
        "2027-10-31T02:30:00+02:00",
    ]


def test_dtstart_is_always_the_first_occurrence_and_a_dtstart_line_is_ignored():
    # Monday start, rule on Tuesdays and Thursdays
    rule, _ = r.parse("DTSTART:19990101T000000Z\nRRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3", MONDAY_9, 1800, CPH)
    assert [i.strftime("%a %d") for i in r.occurrences(rule, MONDAY_9, CPH, *YEAR)] == [
        "Mon 08",
        "Tue 09",
        "Thu 11",
        "Tue 16",
    ]


def test_count_until_and_exdates():
    rule, ex = r.parse(
        "RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20270316T080000Z\nEXDATE:20270310T080000Z", MONDAY_9, 3600, CPH
    )
    assert [i.day for i in r.occurrences(rule, MONDAY_9, CPH, *YEAR, exdates=ex)] == [8, 12, 14, 16]
    # The end bound of an UNTIL series is UNTIL (+ a day of slack) + the duration, not walked
    assert r.last_end(rule, MONDAY_9, CPH, 3600) == datetime(2027, 3, 17, 9, 0, tzinfo=UTC)
    # UNTIL as a date includes that whole local day; a floating UNTIL is local time
    by_date, _ = r.parse("FREQ=DAILY;UNTIL=20270310", MONDAY_9, 3600, CPH)
    assert [i.day for i in r.occurrences(by_date, MONDAY_9, CPH, *YEAR)] == [8, 9, 10]
    floating, _ = r.parse("FREQ=DAILY;UNTIL=20270309T090000", MONDAY_9, 3600, CPH)
    assert [i.day for i in r.occurrences(floating, MONDAY_9, CPH, *YEAR)] == [8, 9]
    counted, _ = r.parse("FREQ=MONTHLY;COUNT=3", MONDAY_9, 3600, CPH)
    assert [i.month for i in r.first(counted, MONDAY_9, CPH, 10)] == [3, 4, 5]
    assert r.last_end(counted, MONDAY_9, CPH, 3600) == datetime(2027, 5, 8, 8, 0, tzinfo=UTC)  # exact
    assert r.last_end(r.parse("FREQ=WEEKLY", MONDAY_9, 60, CPH)[0], MONDAY_9, CPH, 60) is None


def test_exdate_forms():
    _, ex = r.parse(
        "FREQ=DAILY\nEXDATE;TZID=America/New_York:20270309T030000\nEXDATE;VALUE=DATE:20270310\n"
        "EXDATE:20270311T090000",
        MONDAY_9,
        60,
        CPH,
    )
    assert [e.isoformat() for e in ex] == [
        "2027-03-09T08:00:00+00:00",  # 03:00 New York (EST) = 09:00 Copenhagen
        "2027-03-10T08:00:00+00:00",  # that date at the series' local time
        "2027-03-11T08:00:00+00:00",  # floating: the series' zone
    ]


def test_rendering_with_exdates_parses_back():
    rule, _ = r.parse("FREQ=WEEKLY", MONDAY_9, 60, CPH)
    excluded = [datetime(2027, 3, 22, 8, tzinfo=UTC), datetime(2027, 3, 15, 8, tzinfo=UTC)]
    text = r.with_exdates(rule, excluded)
    assert text == "RRULE:FREQ=WEEKLY\nEXDATE:20270315T080000Z,20270322T080000Z"
    again, ex = r.parse(text, MONDAY_9, 60, CPH)
    assert again == rule and sorted(ex) == sorted(excluded)
    assert r.with_exdates(rule, []) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("INTERVAL=2", "FREQ is required"),
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;COUNT=-1", "COUNT"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20280101", "COUNT and UNTIL"),
        ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
        ("FREQ=DAILY;BYMINUTE=5", "BYMINUTE"),
        ("FREQ=DAILY;X-NAME=1", "unknown part"),
        ("FREQ=WEEKLY;BYDAY=FUNDAY", "not a valid"),
        ("FREQ=DAILY;UNTIL=2027", "UNTIL"),
        ("FREQ=DAILY\nFREQ=WEEKLY", "exactly one RRULE"),
        ("EXRULE:FREQ=DAILY", "unsupported property"),
        ("FREQ=DAILY\nEXDATE;TZID=Mars/Olympus:20270309T040000", "TZID"),
        ("FREQ=DAILY\nEXDATE;FOO=BAR:20270309T040000", "parameter"),
        ("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", "no occurrences"),
        ("FREQ=DAILY;UNTIL=20270301T000000Z", "no occurrences"),
        ("FREQ=DAILY", "overlap"),  # with a two-day appointment, below
        ("x" * 1001, "at most"),
    ],
)
def test_refused_rules(text, message):
    duration = 2 * 86400 if text == "FREQ=DAILY" else 1800
    with pytest.raises(ValidationFailed) as caught:
        r.parse(text, MONDAY_9, duration, CPH)
    assert message in str(caught.value)


def test_an_impossible_rule_is_refused_quickly():
    # dateutil alone would search until the year 9999 (seconds); the probe stops after 800 years
    started = time.perf_counter()
    with pytest.raises(ValidationFailed):
        r.parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", MONDAY_9, 60, CPH)
    assert time.perf_counter() - started < 2.0


def test_instance_ids():
    assert r.instance_id("ocQHyuzHvysMo5N5VsXc", datetime(2024, 10, 25, 2, 0, tzinfo=UTC), 1800) == (
        "ocQHyuzHvysMo5N5VsXc_1729821600000_1800"  # the reference's example
    )
    assert r.parse_instance_id("ocQHyuzHvysMo5N5VsXc_1729821600000_1800") == (
        "ocQHyuzHvysMo5N5VsXc",
        datetime(2024, 10, 25, 2, 0, tzinfo=UTC),
        1800,
    )
    for bad in (
        "plain",
        "_1_2",
        "a_b_c",
        "a_1729821600500_1800",
        "a_1_",
        "a_-1_2",
        "a_1_2_3",
        "a_" + "9" * 20 + "_1",
    ):
        assert r.parse_instance_id(bad) is None, bad


# -- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from([CPH, NY, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")])
STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)
RULES = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=10",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
    ]
)


@settings(max_examples=60, deadline=None)
@given(rule_text=RULES, start=STARTS, tz=ZONES, cut=st.integers(min_value=0, max_value=400 * 86400))
def test_windows_add_up_and_keep_the_local_time(rule_text, start, tz, cut):
    rule, _ = r.parse(rule_text, start, 600, tz)
    lo, hi = start - timedelta(days=3), start + timedelta(days=400)
    mid = lo + timedelta(seconds=cut)
    whole = r.occurrences(rule, start, tz, lo, hi)
    assert whole == sorted(set(whole))
    assert r.occurrences(rule, start, tz, lo, mid) + r.occurrences(rule, start, tz, mid, hi) == whole
    assert whole[0] == start  # DTSTART is the first occurrence
    local_time = start.astimezone(tz).time()
    assert all(i.astimezone(tz).time() == local_time for i in whole)
    assert r.first(rule, start, tz, len(whole)) == whole[: len(whole)] or len(whole) == 0
    # Each one is an occurrence; excluding one removes exactly that one
    victim = whole[len(whole) // 2]
    assert r.is_occurrence(rule, start, tz, victim)
    assert not r.is_occurrence(rule, start, tz, victim, exdates=[victim])
    assert r.occurrences(rule, start, tz, lo, hi, exdates=[victim]) == [i for i in whole if i != victim]


@settings(max_examples=100, deadline=None)
@given(
    master=st.text(alphabet="abcXYZ0189", min_size=1, max_size=24),
    start=STARTS,
    duration=st.integers(min_value=1, max_value=31 * 86400),
)
def test_instance_ids_round_trip(master, start, duration):
    ident = r.instance_id(master, start, duration)
    assert r.parse_instance_id(ident) == (master, start, duration)


PART = st.sampled_from(
    [
        "INTERVAL=2",
        "INTERVAL=0",
        "COUNT=5",
        "COUNT=0",
        "UNTIL=20280101T000000Z",
        "UNTIL=20200101",
        "BYDAY=MO,TH",
        "BYDAY=5FR",
        "BYDAY=-1SU",
        "BYMONTHDAY=31",
        "BYMONTHDAY=30",
        "BYMONTHDAY=-1",
        "BYMONTH=2",
        "BYMONTH=4,6",
        "BYSETPOS=3",
        "BYSETPOS=-9",
        "BYWEEKNO=53",
        "BYYEARDAY=366",
        "WKST=SU",
        "BYHOUR=3",
        "FOO=1",
        "=",
        ";",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "BOGUS", ""]),
    parts=st.lists(PART, max_size=4, unique=True),
    start=STARTS,
    tz=ZONES,
)
def test_any_rule_is_accepted_and_expands_cheaply_or_is_refused_with_422(freq, parts, start, tz):
    text = ";".join([f"FREQ={freq}", *parts]) if freq else ";".join(parts)
    try:
        rule, _ = r.parse(text, start, 600, tz)
    except ValidationFailed:
        return
    started = time.perf_counter()
    r.occurrences(rule, start, tz, start + timedelta(days=3000), start + timedelta(days=3031))
    assert r.first(rule, start, tz, 3)[0] == start
    assert time.perf_counter() - started < 2.0


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=80), start=STARTS)
def test_arbitrary_text_never_raises_anything_but_422(text, start):
    with contextlib.suppress(ValidationFailed):
        r.parse(text, start, 600, CPH)
