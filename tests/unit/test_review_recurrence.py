"""Adversarial review of slotbook.recurrence: regressions for defects found (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotbook import recurrence as r
from slotbook.errors import ValidationFailed

CPH = ZoneInfo("Europe/Copenhagen")
MONDAY_9 = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)


def test_until_at_the_end_of_year_9999_has_no_end_bound_instead_of_overflowing():
    for until in ("99991231", "99991231T235959"):
        rule, _ = r.parse(f"FREQ=WEEKLY;UNTIL={until}", MONDAY_9, 1800, CPH)
        assert r.last_end(rule, MONDAY_9, CPH, 1800) is None


@pytest.mark.parametrize("text", ["FREQ=MONTHLY;BYDAY=+99MO", "FREQ=MONTHLY;BYDAY=1000000000000000000000MO"])
def test_absurd_nth_weekday_is_refused_with_422(text):
    with pytest.raises(ValidationFailed):
        r.parse(text, MONDAY_9, 1800, CPH)


def test_a_start_in_the_second_of_an_ambiguous_hour_is_the_first_occurrence():
    start = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 CET, the second 02:30 that night
    rule, _ = r.parse("FREQ=DAILY;COUNT=2", start, 1800, CPH)
    assert r.first(rule, start, CPH, 5) == [start, start + timedelta(days=1)]
    assert r.is_occurrence(rule, start, CPH, start)


def test_rrule_text_with_many_exdates_is_accepted_but_the_rrule_line_stays_bounded():
    stamps = ",".join((MONDAY_9 + timedelta(days=i)).strftime("%Y%m%dT%H%M%SZ") for i in range(1, 501))
    _, exdates = r.parse("RRULE:FREQ=DAILY\nEXDATE:" + stamps, MONDAY_9, 1800, CPH)
    assert len(exdates) == 500
    with pytest.raises(ValidationFailed):
        r.parse("RRULE:FREQ=YEARLY;BYMONTH=" + ",".join(["3"] * 600), MONDAY_9, 1800, CPH)


def test_a_daily_series_longer_than_the_shortest_dst_day_is_refused():
    start = datetime(2027, 3, 1, 12, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    # 23.5 hours every day would overlap itself across the spring-forward night (a 23-hour day)
    with pytest.raises(ValidationFailed):
        r.parse("FREQ=DAILY", start, 23 * 3600 + 1800, ZoneInfo("Europe/Copenhagen"))
    r.parse("FREQ=DAILY", start, 22 * 3600, ZoneInfo("Europe/Copenhagen"))
