"""Availability-schedule rules: the GoHighLevel rule DTOs → domain rules → engine opening hours.

Examples pin each translation (day names, HH:MM, end of day, date rules overriding weekday rules,
rules of one day adding up, touching intervals joining) and the domain checks; property tests
compare :meth:`AvailabilitySchedule.open_hours` with a brute-force reading of the rules, and the
DTO round trip with its input.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from slotbook.availability import SlotSpec, candidate_starts
from slotbook.domain import AvailabilitySchedule, ScheduleRule, ScheduleRuleKind, Span
from slotbook.errors import ValidationFailed
from slotbook.http.ghl_schedules import DAYS, ScheduleRuleDTO, rule_dto
from slotbook.services.schedules import check_rules, check_timezone

EPOCH = datetime(2027, 3, 1, tzinfo=UTC)
PROPS = settings(max_examples=200, deadline=None)


def schedule(rules: list[ScheduleRule], tz: str = "America/New_York") -> AvailabilitySchedule:
    return AvailabilitySchedule(
        id="s", location_id="loc", user_id="u", timezone=tz, rules=rules, created_at=EPOCH, updated_at=EPOCH
    )


def dto(payload: dict[str, Any]) -> ScheduleRule:
    return ScheduleRuleDTO.model_validate(payload).rule()


def wday(day: str, *intervals: tuple[str, str]) -> dict[str, Any]:
    return {"type": "wday", "day": day, "intervals": [{"from": a, "to": b} for a, b in intervals]}


def on(day: str, *intervals: tuple[str, str]) -> dict[str, Any]:
    return {"type": "date", "date": day, "intervals": [{"from": a, "to": b} for a, b in intervals]}


# -- DTO → domain ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "index"), [("monday", 0), ("wednesday", 2), ("saturday", 5), ("sunday", 6)])
def test_day_names_map_to_domain_weekdays_monday_first(name, index):
    assert dto(wday(name, ("09:00", "17:00"))) == ScheduleRule(
        kind=ScheduleRuleKind.WEEKDAY, day=index, spans=[Span(open=540, close=1020)]
    )


def test_times_are_minutes_after_local_midnight_and_midnight_ends_the_day():
    rule = dto(wday("monday", ("0:05", "9:30"), ("18:00", "24:00"), ("23:00", "00:00")))
    assert [(s.open, s.close) for s in rule.spans] == [(5, 570), (1080, 1440), (1380, 1440)]
    assert rule_dto(rule)["intervals"] == [
        {"from": "00:05", "to": "09:30"},
        {"from": "18:00", "to": "00:00"},
        {"from": "23:00", "to": "00:00"},
    ]


def test_date_rule_with_no_intervals_is_a_closed_date():
    rule = dto(on("2027-03-10"))
    assert rule == ScheduleRule(kind=ScheduleRuleKind.DATE, on=date(2027, 3, 10), spans=[])
    assert rule_dto(rule) == {"type": "date", "date": "2027-03-10", "intervals": []}


@pytest.mark.parametrize(
    "payload",
    [
        wday("monday", ("24:00", "24:00")),
        wday("monday", ("09:60", "10:00")),
        wday("monday", ("9", "10:00")),
        wday("monday", ("09:00", "24:01")),
        wday("monday", ("-1:00", "10:00")),
        {"type": "wday", "intervals": []},
        {"type": "wday", "day": "monday", "date": "2027-03-10", "intervals": []},
        {"type": "date", "date": "2027-02-29", "intervals": []},
        {"type": "date", "date": "2027-03-10T00:00:00Z", "intervals": []},
        {"type": "date", "intervals": []},
        {"type": "date", "date": "2027-03-10", "day": "monday", "intervals": []},
        {"type": "wday", "day": "monday", "intervals": [{"from": "09:00", "to": "10:00", "extra": 1}]},
    ],
)
def test_malformed_rules_are_refused_by_the_dto(payload):
    with pytest.raises(ValidationError):
        ScheduleRuleDTO.model_validate(payload)


# -- domain checks ----------------------------------------------------------------------------------


def test_overlaps_within_a_day_are_refused_touching_is_fine():
    check_rules(
        [dto(wday("monday", ("09:00", "12:00"), ("12:00", "13:00"))), dto(wday("monday", ("13:00", "14:00")))]
    )
    check_rules([dto(wday("monday", ("09:00", "12:00"))), dto(wday("tuesday", ("09:00", "12:00")))])
    check_rules([dto(wday("tuesday", ("09:00", "12:00"))), dto(on("2027-03-09", ("10:00", "11:00")))])
    with pytest.raises(ValidationFailed) as failed:
        check_rules([dto(wday("monday", ("09:00", "12:00"))), dto(wday("monday", ("11:00", "13:00")))])
    assert failed.value.errors == ["rules.1.intervals overlap other intervals of monday"]
    with pytest.raises(ValidationFailed) as failed:
        check_rules([dto(on("2027-03-09", ("09:00", "10:00"), ("09:30", "09:45")))])
    assert failed.value.errors == ["rules.0.intervals overlap other intervals of 2027-03-09"]


def test_start_must_be_before_end_and_rules_are_bounded():
    with pytest.raises(ValidationFailed) as failed:
        check_rules([dto(wday("monday", ("10:00", "09:00"), ("11:00", "11:00")))])
    assert failed.value.errors == [
        "rules.0.intervals.0 from must be before to",
        "rules.0.intervals.1 from must be before to",
    ]
    with pytest.raises(ValidationFailed):
        check_rules([dto(wday("monday", ("09:00", "10:00")))] * 101)
    bad = ScheduleRule(kind=ScheduleRuleKind.WEEKDAY, on=date(2027, 3, 1))
    with pytest.raises(ValidationFailed):
        check_rules([bad])


@pytest.mark.parametrize("name", ["America/New_York", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_any_iana_zone_is_accepted(name):
    check_timezone(name)


@pytest.mark.parametrize("name", ["Mars/Base", "localtime", "Factory", "", "america/new_york", "EST5EDT "])
def test_other_zone_names_are_refused(name):
    with pytest.raises(ValidationFailed):
        check_timezone(name)


# -- domain → engine opening hours -------------------------------------------------------------------


def test_open_hours_weekdays_dates_and_joins():
    hours = schedule(
        [
            dto(wday("monday", ("09:00", "12:00"))),
            dto(wday("monday", ("12:00", "13:00"), ("15:00", "16:00"))),
            dto(wday("sunday", ("10:00", "11:00"))),
            dto(on("2027-03-08", ("07:00", "08:00"))),  # a Monday
            dto(on("2027-03-15")),  # a Monday, closed
        ]
    ).open_hours()
    assert hours.timezone == ZoneInfo("America/New_York")
    assert hours.weekly == (((540, 780), (900, 960)), (), (), (), (), (), ((600, 660),))
    assert hours.spans_on(date(2027, 3, 1)) == ((540, 780), (900, 960))
    assert hours.spans_on(date(2027, 3, 7)) == ((600, 660),)
    assert hours.spans_on(date(2027, 3, 2)) == ()
    assert hours.spans_on(date(2027, 3, 8)) == ((420, 480),)
    assert hours.spans_on(date(2027, 3, 15)) == ()


def test_schedule_hours_stay_local_across_dst():
    # 09:00-10:00 New York on weekdays: 14:00 UTC before 2027-03-14, 13:00 UTC after
    hours = schedule([dto(wday(d, ("09:00", "10:00"))) for d in DAYS[:5]]).open_hours()
    lo = int(datetime(2027, 3, 12, tzinfo=UTC).timestamp())
    hi = int(datetime(2027, 3, 16, tzinfo=UTC).timestamp())
    starts = candidate_starts(hours, SlotSpec(duration=3600, interval=3600), lo, hi)
    assert [datetime.fromtimestamp(s, UTC).isoformat() for s in starts] == [
        "2027-03-12T14:00:00+00:00",
        "2027-03-15T13:00:00+00:00",
    ]


# -- properties ------------------------------------------------------------------------------------

QUARTERS = st.integers(min_value=0, max_value=96)
WEEK_START = date(2027, 3, 1)


@st.composite
def intervals(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Up to 4 non-overlapping (possibly touching) spans of quarter hours."""
    cuts = sorted(draw(st.sets(QUARTERS, max_size=8)))
    pairs = [(cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts) - 1, 2)]
    return draw(st.permutations(pairs))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def rule_payloads(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rules for weekdays and dates of two weeks: at most one rule per weekday or date (so the
    brute force below can read them without the overlap check's help)."""
    rules: list[dict[str, Any]] = []
    for day in draw(st.sets(st.sampled_from(DAYS))):
        spans = draw(intervals())
        rules.append(wday(day, *[(_hhmm(a), "24:00" if b == 1440 else _hhmm(b)) for a, b in spans]))
    for offset in draw(st.sets(st.integers(0, 13), max_size=5)):
        spans = draw(intervals())
        day = (WEEK_START + timedelta(days=offset)).isoformat()
        rules.append(on(day, *[(_hhmm(a), "24:00" if b == 1440 else _hhmm(b)) for a, b in spans]))
    return draw(st.permutations(rules))


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _open_by_brute_force(payloads: list[dict[str, Any]], day: date, minute: int) -> bool:
    dated = [p for p in payloads if p["type"] == "date" and p["date"] == day.isoformat()]
    chosen = dated or [p for p in payloads if p["type"] == "wday" and p["day"] == DAYS[day.weekday()]]
    return any(
        _minutes(i["from"]) <= minute < (_minutes(i["to"]) or 1440) for p in chosen for i in p["intervals"]
    )


@PROPS
@given(rule_payloads(), st.integers(0, 13), st.integers(0, 1439))
def test_open_hours_agree_with_a_brute_force_reading(payloads, offset, minute):
    rules = [dto(p) for p in payloads]
    check_rules(rules)
    hours = schedule(rules).open_hours()
    day = WEEK_START + timedelta(days=offset)
    spans = hours.spans_on(day)
    assert any(a <= minute < b for a, b in spans) == _open_by_brute_force(payloads, day, minute)
    # Spans are sorted, non-empty, and joined: no two touch or overlap
    assert all(a < b for a, b in spans)
    assert all(prev[1] < nxt[0] for prev, nxt in pairwise(spans))


@PROPS
@given(rule_payloads())
def test_rules_read_back_as_sent_with_midnight_written_00_00(payloads):
    expected = [
        {**p, "intervals": [{**i, "to": "00:00" if i["to"] == "24:00" else i["to"]} for i in p["intervals"]]}
        for p in payloads
    ]
    got = [rule_dto(dto(p)) for p in payloads]
    assert got == expected
    # and what reads back is accepted again, meaning the same
    assert [dto(p) for p in got] == [dto(p) for p in payloads]
