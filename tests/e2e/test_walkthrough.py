"""The README walkthrough's booking step, run as written: examples/book_with_sdk.py books the
first free slot with the official SDK against the local server and sees it gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ALL_SCOPES, LocalServer, Tenant, TenantFactory, http_session

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SEED_000_HOURS = [
    {
        "daysOfTheWeek": [1, 2, 3, 4],
        "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
    },
    {"daysOfTheWeek": [5], "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 16, "closeMinute": 0}]},
]


def test_readme_sdk_example_books_a_slot_and_it_disappears(local_server: LocalServer, tenant: Tenant) -> None:
    # Given the walkthrough's calendar (step 1)
    created = http_session().post(
        local_server.url("/calendars/"),
        headers={"Authorization": f"Bearer {tenant.api_key}", "Version": "2021-07-28"},
        json={
            "locationId": tenant.location_id,
            "name": "Intro call",
            "calendarType": "event",
            "teamMembers": [{"userId": "anna"}],
            "slotDuration": 30,
            "slotInterval": 30,
            "openHours": SEED_000_HOURS,
        },
        timeout=10,
    )
    assert created.status_code == 200, created.text
    env = {
        **os.environ,
        "SLOTBOOK_URL": local_server.base_url,
        "SLOTBOOK_KEY": tenant.api_key,
        "CALENDAR_ID": created.json()["calendar"]["id"],
    }
    # When step 3 runs as the README says
    result = subprocess.run(
        [sys.executable, "examples/book_with_sdk.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it booked the first free slot with anna and that slot is no longer offered
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("first free slot of 'Intro call': ")
    assert " with anna" in lines[1]
    assert lines[2].endswith("still offered after booking: False")


def test_readme_schedule_step_moves_the_hosts_slots_to_her_zone(
    local_server: LocalServer, tenant: Tenant
) -> None:
    """Step 5: anna's New York schedule (Mon/Tue 09:00-12:00) replaces the calendar's hours."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    session = http_session()
    headers = {"Authorization": f"Bearer {tenant.api_key}", "Version": "2021-07-28"}
    calendar = session.post(
        local_server.url("/calendars/"),
        headers=headers,
        json={
            "locationId": tenant.location_id,
            "name": "Intro call",
            "calendarType": "event",
            "teamMembers": [{"userId": "anna"}],
            "slotDuration": 30,
            "slotInterval": 30,
            "openHours": SEED_000_HOURS,
        },
        timeout=10,
    ).json()["calendar"]
    created = session.post(
        local_server.url("/calendars/schedules"),
        headers=headers,
        json={
            "locationId": tenant.location_id,
            "name": "Anna from New York",
            "userId": "anna",
            "timezone": "America/New_York",
            "calendarIds": [calendar["id"]],
            "rules": [
                {"type": "wday", "day": "monday", "intervals": [{"from": "09:00", "to": "12:00"}]},
                {"type": "wday", "day": "tuesday", "intervals": [{"from": "09:00", "to": "12:00"}]},
            ],
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    start = int(datetime.now().timestamp() * 1000)
    slots = session.get(
        local_server.url(f"/calendars/{calendar['id']}/free-slots"),
        headers=headers,
        params={"startDate": start, "endDate": start + 7 * 24 * 3600 * 1000},
        timeout=10,
    ).json()
    offered = [datetime.fromisoformat(s) for day in slots.values() for s in day["slots"]]
    assert offered, slots
    new_york = ZoneInfo("America/New_York")
    for slot in offered:
        local = slot.astimezone(new_york)
        assert local.strftime("%A") in ("Monday", "Tuesday"), slot
        assert (
            timedelta(hours=9)
            <= timedelta(hours=local.hour, minutes=local.minute)
            <= timedelta(hours=11, minutes=30)
        )


def _readme_step(number: int) -> str:
    """The bash blocks of README walkthrough step ``number``, as written."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"**{number}. ")
    end = (
        text.index("More tenants:", start)
        if f"**{number + 1}. " not in text[start:]
        else text.index(f"**{number + 1}. ", start)
    )
    blocks, inside, lines = [], False, []
    for line in text[start:end].splitlines():
        if line.startswith("```bash"):
            inside, lines = True, []
        elif line.startswith("```") and inside:
            inside = False
            blocks.append("\n".join(lines))
        elif inside:
            lines.append(line)
    return "\n".join(blocks)


def test_readme_connection_step_connects_syncs_and_books(
    local_server: LocalServer, new_tenant: TenantFactory
) -> None:
    tenant = new_tenant((*ALL_SCOPES, "calendar:read", "calendar:write"))
    # Given the make-dev server with its fake Google (account erik@nordic-parts.dk, a Supplier call
    # at 09:00-10:00 UTC on the next Monday to Thursday)
    env = {
        **os.environ,
        "SLOTBOOK_URL": local_server.base_url,
        "SLOTBOOK_LOCATION": tenant.location_id,
        "SLOTBOOK_KEY": tenant.api_key,
    }
    # When step 6 runs as the README says (OAuth consent, pick the calendar, free slots, a booking)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _readme_step(6)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Then the Supplier call is missing from the connection's slots and the booking was made
    slots_line = next(line for line in result.stdout.splitlines() if line.startswith("['"))
    assert "'08:30'" in slots_line and "'10:00'" in slots_line
    assert "'09:00'" not in slots_line and "'09:30'" not in slots_line
    assert '"title":"Product demo"' in result.stdout and '"status":"confirmed"' in result.stdout
