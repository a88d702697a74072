"""The fixed benchmark scenarios (bench/scenarios/*.json) give the documented slot counts.

The counts in ``bench.scenarios.EXPECTED`` are the ones every implementation must reproduce
(bench/scenarios/README.md). The spot checks re-read the raw JSON, not the engine query built from
it, so a slip in ``bench.scenarios.build_query`` would show up here too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench.scenarios import EXPECTED, WEEKDAYS, Scenario, load, load_all
from slotbook.availability import compute_slots


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def epoch(iso_utc: str) -> int:
    return int(datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).timestamp())


SHARED = ["S1", "S2", "S3", "S3b"]
"""The shared benchmark's scenarios (one zone for everyone); S4/S4c have per-host zones and are
checked in test_bench_zones.py."""


@pytest.fixture(scope="module", params=SHARED)
def scenario(request: pytest.FixtureRequest) -> tuple[Scenario, list[int]]:
    loaded = load(request.param)
    return loaded, compute_slots(loaded.query)


def test_load_all_returns_every_documented_scenario() -> None:
    assert [s.name for s in load_all()] == [*SHARED, "S4", "S4c"]
    assert EXPECTED == {"S1": 272, "S2": 695, "S3": 1, "S3b": 124, "S4": 1988, "S4c": 109}


def test_scenario_yields_the_expected_number_of_slots(scenario: tuple[Scenario, list[int]]) -> None:
    loaded, slots = scenario
    assert len(slots) == EXPECTED[loaded.name]


def test_scenario_slots_are_sorted_and_unique(scenario: tuple[Scenario, list[int]]) -> None:
    _, slots = scenario
    assert slots == sorted(set(slots))


def test_scenario_slots_lie_in_working_hours_of_open_days(scenario: tuple[Scenario, list[int]]) -> None:
    loaded, slots = scenario
    raw = loaded.raw
    tz = ZoneInfo(raw["timezone"])
    blocked = {date.fromisoformat(d) for d in raw.get("blockedDates", [])}
    window_start = epoch(raw["windowUtc"]["start"])
    window_end = epoch(raw["windowUtc"]["end"])
    length = raw["eventMinutes"] * 60
    for s in slots:
        local = datetime.fromtimestamp(s, tz)
        assert window_start <= s <= window_end
        assert local.date() not in blocked, local.isoformat()
        minute = local.hour * 60 + local.minute
        midnight = datetime.combine(local.date(), datetime.min.time(), tz)
        assert any(
            minutes(iv["start"]) <= minute
            and (minute - minutes(iv["start"])) % raw["intervalMinutes"] == 0
            and s + length <= int((midnight + timedelta(minutes=minutes(iv["end"]))).timestamp())
            for iv in raw["workingHours"].get(WEEKDAYS[local.weekday()], [])
        ), local.isoformat()


def test_scenario_slots_avoid_buffered_busy_time(scenario: tuple[Scenario, list[int]]) -> None:
    loaded, slots = scenario
    raw = loaded.raw
    after = raw.get("bufferAfterMinutes", 0) * 60
    length = raw["eventMinutes"] * 60
    busy = [[(epoch(b["start"]), epoch(b["end"]) + after) for b in h["busy"]] for h in raw["hosts"]]

    def free(host_busy: list[tuple[int, int]], s: int) -> bool:
        return not any(a < s + length and b > s for a, b in host_busy)

    for s in slots:
        if raw["mode"] == "union":
            assert any(free(h, s) for h in busy)
        else:  # single, intersection
            assert all(free(h, s) for h in busy)
