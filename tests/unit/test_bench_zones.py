"""Scenarios S4 and S4c: members' availability schedules in different zones (issue 3 bench).

The expected counts are recomputed here by brute force from the raw JSON, independently of the
engine: every host's own local grid, converted to UTC one slot at a time with zoneinfo."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench.scenarios import EXPECTED, WEEKDAYS, load
from slotbook.availability import compute_slots


def _epoch(iso_utc: str) -> int:
    return int(datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).timestamp())


def _host_slots(raw: dict, host: dict) -> set[int]:
    tz = ZoneInfo(host["timezone"])
    length = raw["eventMinutes"] * 60
    step = raw["intervalMinutes"]
    after = raw.get("bufferAfterMinutes", 0) * 60
    busy = [(_epoch(b["start"]), _epoch(b["end"]) + after) for b in host["busy"]]
    lo, hi = _epoch(raw["windowUtc"]["start"]), _epoch(raw["windowUtc"]["end"])
    out: set[int] = set()
    day = date(2026, 3, 14)
    while day <= date(2026, 4, 17):
        for iv in host["workingHours"].get(WEEKDAYS[day.weekday()], []):
            h0, m0 = map(int, iv["start"].split(":"))
            h1, m1 = map(int, iv["end"].split(":"))
            close = int(datetime(day.year, day.month, day.day, h1, m1, tzinfo=tz).timestamp())
            minute = h0 * 60 + m0
            while minute < h1 * 60 + m1:
                local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
                s = int(local.timestamp())
                free = not any(a < s + length and b > s for a, b in busy)
                if s + length <= close and lo <= s <= hi and free:
                    out.add(s)
                minute += step
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize("name", ["S4", "S4c"])
def test_zone_scenarios_match_a_brute_force_count(name: str) -> None:
    scenario = load(name)
    raw = scenario.raw
    per_host = [_host_slots(raw, h) for h in raw["hosts"]]
    expected = set.union(*per_host) if raw["mode"] == "union" else set.intersection(*per_host)
    slots = compute_slots(scenario.query)
    assert slots == sorted(expected)
    assert len(slots) == EXPECTED[name]


def test_zones_really_differ() -> None:
    raw = load("S4").raw
    assert len({h["timezone"] for h in raw["hosts"]}) == 5
