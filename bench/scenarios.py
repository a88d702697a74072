"""Load the fixed benchmark scenarios (bench/scenarios/*.json) into engine queries.

The format and the slot rule are documented in bench/scenarios/README.md. This module is the
only adapter between that neutral format and :mod:`slotbook.availability`; the test suite and
``make bench`` both use it, so the counts they check are the counts the benchmark times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from slotbook.availability import AvailabilityQuery, HostBusy, Mode, OpenHours, SlotSpec

SCENARIO_DIR = Path(__file__).parent / "scenarios"
EXPECTED = {"S1": 272, "S2": 695, "S3": 1, "S3b": 124, "S4": 1988, "S4c": 109}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MODES = {"single": Mode.SINGLE, "union": Mode.ANY, "intersection": Mode.ALL}


@dataclass(frozen=True)
class Scenario:
    name: str
    raw: dict
    query: AvailabilityQuery


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _epoch(iso_utc: str) -> int:
    return int(datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).timestamp())


def _hours(timezone: str, working_hours: dict, blocked: list[str]) -> OpenHours:
    weekly = tuple(
        tuple((_minutes(iv["start"]), _minutes(iv["end"])) for iv in working_hours.get(day, []))
        for day in WEEKDAYS
    )
    return OpenHours(
        timezone=ZoneInfo(timezone),
        weekly=weekly,
        blocked_dates=frozenset(date.fromisoformat(d) for d in blocked),
    )


def build_query(raw: dict) -> AvailabilityQuery:
    """Translate one scenario document into an engine query (busy ends extended by the buffer).

    A host with its own ``timezone`` + ``workingHours`` (S4, S4c) gets its own opening hours, as
    a member's availability schedule gives them in the service."""
    tz = ZoneInfo(raw["timezone"])
    blocked = raw.get("blockedDates", [])
    hours = _hours(raw["timezone"], raw["workingHours"], blocked)
    after = raw.get("bufferAfterMinutes", 0) * 60
    hosts = [
        HostBusy(
            host_id=h["id"],
            busy=[(_epoch(b["start"]), _epoch(b["end"]) + after) for b in h["busy"]],
            open_hours=_hours(h["timezone"], h["workingHours"], blocked) if "timezone" in h else None,
        )
        for h in raw["hosts"]
    ]
    start = int(datetime.fromisoformat(raw["window"]["start"]).replace(tzinfo=tz).timestamp())
    end = int(datetime.fromisoformat(raw["window"]["end"]).replace(tzinfo=tz).timestamp())
    return AvailabilityQuery(
        open_hours=hours,
        slot=SlotSpec(duration=raw["eventMinutes"] * 60, interval=raw["intervalMinutes"] * 60),
        hosts=hosts,
        mode=MODES[raw["mode"]],
        window_start=start,
        window_end=end,
    )


def load(name: str) -> Scenario:
    raw = json.loads((SCENARIO_DIR / f"{name}.json").read_text())
    return Scenario(name=name, raw=raw, query=build_query(raw))


def load_all() -> list[Scenario]:
    return [load(name) for name in EXPECTED]
