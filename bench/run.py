"""``make bench``: figures for the README. Prints; asserts nothing about speed.

1. The availability engine on the fixed scenarios (bench/scenarios, copied from the shared
   benchmark): slot count, median / min / max of the whole computation over RUNS runs after
   WARMUP, and each scenario's sorted UTC slot starts in ``bench-out/<name>.json``.
2. DynamoDB requests made by one free-slots call and one booking, through the real handlers
   on the local (moto) stack, for a one-host and a five-host round-robin calendar.
3. Import time of each function module in a fresh interpreter (the cold-start share we own).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.scenarios import EXPECTED, load_all
from slotbook.availability import compute_slots, utc_iso

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
WARMUP, RUNS = 5, 30
CALCOM_MS = {"S1": 29.5, "S2": 583.0, "S3": 181.0, "S3b": 181.0}


def engine() -> None:
    print(f"Availability engine (median of {RUNS} runs after {WARMUP} warm-up, computation only)")
    header = ("scenario", "slots", "expected", "median ms", "min ms", "max ms", "vs Cal.com")
    print(
        f"{header[0]:9} "
        + " ".join(f"{h:>{w}}" for h, w in zip(header[1:], (6, 8, 10, 8, 8, 11), strict=True))
    )
    OUT.mkdir(exist_ok=True)
    for sc in load_all():
        for _ in range(WARMUP):
            compute_slots(sc.query)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            slots = compute_slots(sc.query)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        (OUT / f"{sc.name}.json").write_text(json.dumps({"slots": [utc_iso(s) for s in slots]}, indent=1))
        print(
            f"{sc.name:9} {len(slots):>6} {EXPECTED[sc.name]:>8} {median:>10.3f} {min(times):>8.3f} "
            f"{max(times):>8.3f} "
            + (f"{CALCOM_MS[sc.name] / median:>10.0f}x" if sc.name in CALCOM_MS else f"{'-':>11}")
        )


def dynamodb_requests() -> None:
    """Count DynamoDB API calls per request through the handlers (auth included)."""
    from localdev.server import LocalApi, bootstrap
    from localdev.template import load_template
    from slotbook.container import services

    info = bootstrap()
    api = LocalApi(load_template(), info.region)
    counts: Counter[str] = Counter()
    services().store._client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: counts.update([model.name])
    )
    headers = [
        ("authorization", f"Bearer {info.api_key}"),
        ("version", "2021-07-28"),
        ("content-type", "application/json"),
    ]

    def call(method: str, target: str, body: dict | None = None) -> dict:
        raw = json.dumps(body).encode() if body is not None else b""
        response, _, _ = api.handle(method, target, headers, raw, "127.0.0.1")
        if response.status >= 300:
            raise RuntimeError(f"{method} {target} -> {response.status} {response.body[:300]!r}")
        return json.loads(response.body or b"{}")

    week = [
        {
            "daysOfTheWeek": [1, 2, 3, 4, 5],
            "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
        }
    ]
    start = datetime(2030, 3, 4, tzinfo=UTC)
    start_ms, end_ms = int(start.timestamp() * 1000), int(start.timestamp() * 1000) + 7 * 86400 * 1000
    print("\nDynamoDB requests per API call (through the handlers, auth included; 7-day free-slots range)")
    for label, kind, members in (
        ("personal, 1 host", "event", ["u1"]),
        ("round robin, 5 hosts", "round_robin", ["r1", "r2", "r3", "r4", "r5"]),
    ):
        cal = call(
            "POST",
            "/calendars/",
            {
                "locationId": info.location_id,
                "name": label,
                "calendarType": kind,
                "teamMembers": [{"userId": u} for u in members],
                "openHours": week,
            },
        )["calendar"]
        counts.clear()
        slots = call("GET", f"/calendars/{cal['id']}/free-slots?startDate={start_ms}&endDate={end_ms}")
        free = dict(counts)
        first = next(iter(slots.values()))["slots"][0]
        counts.clear()
        call(
            "POST",
            "/calendars/events/appointments",
            {
                "calendarId": cal["id"],
                "locationId": info.location_id,
                "contactId": "bench",
                "startTime": first,
            },
        )
        book = dict(counts)
        print(f"  {label:22} free-slots: {sum(free.values())} {_fmt(free)}")
        print(f"  {'':22} booking:    {sum(book.values())} {_fmt(book)}")


def _fmt(counts: dict[str, int]) -> str:
    return "(" + ", ".join(f"{n}×{op}" for op, n in sorted(counts.items())) + ")"


def import_times() -> None:
    print("\nCold import of each function module (fresh interpreter, median of 5)")
    env = {**os.environ, "TABLE_NAME": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    for path in sorted((ROOT / "functions").glob("*/app.py")):
        group = path.parent.name
        code = (
            "import time, importlib.util; t = time.perf_counter(); "
            f"s = importlib.util.spec_from_file_location('app', {str(path)!r}); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); "
            "print((time.perf_counter() - t) * 1000)"
        )
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for _ in range(5)
        ]
        print(f"  functions/{group}/app.py: {statistics.median(runs):.0f} ms")


def main() -> None:
    engine()
    dynamodb_requests()
    import_times()


if __name__ == "__main__":
    main()
