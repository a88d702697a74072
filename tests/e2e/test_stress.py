"""No double booking under real concurrency: many clients race for the same (or overlapping) slots
through the local HTTP server, whose handlers run in parallel like separate Lambda instances.

Each race releases all its threads at once (``threading.Barrier``), each thread on its own HTTP
connection. Every request is bounded by a timeout, and so is every race.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

import pytest

from tests.e2e.conftest import (
    REQUEST_TIMEOUT_S,
    TIMEZONE,
    LocalServer,
    Tenant,
    booking_monday,
    epoch_ms,
    http_session,
    iso,
    local,
    parse_iso,
)

pytestmark = pytest.mark.e2e

THREADS = 24
RACE_TIMEOUT_S = 60.0
REFUSALS = frozenset({400, 409})
"""A lost race is a clear client error: 400 (slot no longer offered) or 409 (lost every retry)."""

WEEKDAYS_9_TO_17 = [
    {
        "daysOfTheWeek": [1, 2, 3, 4, 5],
        "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
    }
]


@dataclass(frozen=True)
class Outcome:
    """One racer's request and the server's answer."""

    contact_id: str
    start: str
    status: int
    body: Any


class Api:
    """Plain HTTP calls in the GoHighLevel dialect, as one tenant."""

    def __init__(self, server: LocalServer, tenant: Tenant) -> None:
        self.server = server
        self.tenant = tenant
        self.headers = {"Authorization": f"Bearer {tenant.api_key}", "Version": "2021-07-28"}

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        with http_session() as session:
            reply = session.request(
                method, self.server.url(path), headers=self.headers, timeout=REQUEST_TIMEOUT_S, **kwargs
            )
        try:
            body = reply.json()
        except ValueError:
            body = reply.text
        return reply.status_code, body

    def create_calendar(self, **fields: Any) -> dict[str, Any]:
        body = {
            "locationId": self.tenant.location_id,
            "name": "Race track",
            "calendarType": "event",
            "teamMembers": [{"userId": "host-1"}],
            "openHours": WEEKDAYS_9_TO_17,
            "slotDuration": 30,
            "slotDurationUnit": "mins",
            "slotInterval": 30,
            "slotIntervalUnit": "mins",
            **fields,
        }
        status, reply = self.request("POST", "/calendars/", json=body)
        assert status == 200, (status, reply)
        return reply["calendar"]

    def free_slots(self, calendar_id: str, day: date) -> list[str]:
        status, reply = self.request(
            "GET",
            f"/calendars/{calendar_id}/free-slots",
            params={
                "startDate": epoch_ms(local(day, 0)),
                "endDate": epoch_ms(local(day + timedelta(days=1), 0) - timedelta(milliseconds=1)),
                "timezone": TIMEZONE,
            },
        )
        assert status == 200, (status, reply)
        return [slot for value in reply.values() for slot in value["slots"]]

    def events(self, day: date, **owner: str) -> list[dict[str, Any]]:
        """Appointments overlapping ``day`` for ``calendarId=`` or ``userId=``."""
        status, reply = self.request(
            "GET",
            "/calendars/events",
            params={
                "locationId": self.tenant.location_id,
                "startTime": str(epoch_ms(local(day, 0))),
                "endTime": str(epoch_ms(local(day + timedelta(days=1), 0))),
                **owner,
            },
        )
        assert status == 200, (status, reply)
        return reply["events"]

    def warm_up(self, size: int) -> None:
        """Make the server hold ``size`` warm environments of the events function, so a race is not
        serialised by cold starts (the local host loads environments one at a time, under a lock)."""
        barrier = threading.Barrier(size)

        def touch(index: int) -> int:
            with http_session() as session:
                barrier.wait(timeout=RACE_TIMEOUT_S)
                return session.get(
                    self.server.url(f"/calendars/events/appointments/warm-up-{index}"),
                    headers=self.headers,
                    timeout=REQUEST_TIMEOUT_S,
                ).status_code

        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="warm-up") as pool:
            statuses = [
                f.result(timeout=RACE_TIMEOUT_S) for f in [pool.submit(touch, i) for i in range(size)]
            ]
        assert set(statuses) == {404}, statuses

    def race(self, calendar_id: str, starts: list[str], label: str = "racer") -> list[Outcome]:
        """Book ``starts[i]`` for contact ``<label>-i`` from ``len(starts)`` threads released together,
        against warm environments."""
        self.warm_up(len(starts))
        barrier = threading.Barrier(len(starts))
        url = self.server.url("/calendars/events/appointments")

        def book(index: int) -> Outcome:
            contact = f"{label}-{index:02d}"
            body = {
                "calendarId": calendar_id,
                "locationId": self.tenant.location_id,
                "contactId": contact,
                "startTime": starts[index],
                "title": f"Race {index}",
            }
            with http_session() as session:
                barrier.wait(timeout=RACE_TIMEOUT_S)
                reply = session.post(url, json=body, headers=self.headers, timeout=REQUEST_TIMEOUT_S)
            try:
                payload = reply.json()
            except ValueError:
                payload = reply.text
            return Outcome(contact, starts[index], reply.status_code, payload)

        with ThreadPoolExecutor(max_workers=len(starts), thread_name_prefix="racer") as pool:
            futures = [pool.submit(book, i) for i in range(len(starts))]
            return [future.result(timeout=RACE_TIMEOUT_S) for future in futures]


# --------------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------------


def winners(outcomes: list[Outcome]) -> list[Outcome]:
    """The 200s, after checking every answer is a 200 or a clear 4xx refusal in the dialect's shape."""
    summary = sorted((o.status, o.contact_id) for o in outcomes)
    assert not [o for o in outcomes if o.status >= 500], f"server errors under contention: {summary}"
    for o in outcomes:
        if o.status == 200:
            assert isinstance(o.body, dict), o
            assert o.body["contactId"] == o.contact_id and o.body["startTime"] == o.start, o
            assert o.body["id"] and o.body["appointmentStatus"] == "confirmed", o
        else:
            assert o.status in REFUSALS, f"unexpected answer {o}"
            assert isinstance(o.body, dict), f"not a JSON error body: {o}"
            assert o.body.get("statusCode") == o.status, o
            assert isinstance(o.body.get("message"), str) and o.body["message"].strip(), o
    return [o for o in outcomes if o.status == 200]


def span(event: dict[str, Any]) -> tuple[datetime, datetime]:
    return parse_iso(event["startTime"]), parse_iso(event["endTime"])


def overlapping_pairs(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of events whose [start, end) intervals intersect."""
    pairs = []
    for a, b in combinations(events, 2):
        (a_start, a_end), (b_start, b_end) = span(a), span(b)
        if a_start < b_end and b_start < a_end:
            pairs.append(
                (f"{a['id']} {a['startTime']}..{a['endTime']}", f"{b['id']} {b['startTime']}..{b['endTime']}")
            )
    return pairs


# --------------------------------------------------------------------------------------------------------
# Races
# --------------------------------------------------------------------------------------------------------


def test_same_slot_one_host_exactly_one_booking_wins(local_server: LocalServer, tenant: Tenant) -> None:
    api = Api(local_server, tenant)
    monday = booking_monday()
    # Given a one-host calendar offering Monday 10:00, 11:00, 13:00 and 15:00
    cal = api.create_calendar()
    slots = [iso(local(monday, hour)) for hour in (10, 11, 13, 15)]
    assert set(slots) <= set(api.free_slots(cal["id"], monday))

    # When, slot after slot, 24 clients book the same slot at the same moment (one race per slot:
    # the lost-update window is narrow for identical requests, so one race alone rarely hits it)
    expected = []
    for round_no, slot in enumerate(slots):
        outcomes = api.race(cal["id"], [slot] * THREADS, label=f"round{round_no}")

        # Then exactly one succeeds and every other gets a clear 400/409 in the dialect's error shape
        won = winners(outcomes)
        assert len(won) == 1, (slot, sorted((o.status, o.contact_id) for o in outcomes))
        assert len([o for o in outcomes if o.status in REFUSALS]) == THREADS - 1
        expected.append((won[0].body["id"], won[0].contact_id, slot))

    # And exactly the winners are stored, and the host has no overlapping appointments
    stored = api.events(monday, calendarId=cal["id"])
    assert sorted((e["id"], e["contactId"], e["startTime"]) for e in stored) == sorted(expected)
    hosted = api.events(monday, userId="host-1")
    assert sorted(e["id"] for e in hosted) == sorted(won_id for won_id, _, _ in expected)
    assert overlapping_pairs(hosted) == []
    assert not set(slots) & set(api.free_slots(cal["id"], monday))


def test_overlapping_slots_one_host_never_overlap(local_server: LocalServer, tenant: Tenant) -> None:
    api = Api(local_server, tenant)
    monday = booking_monday()
    # Given a one-host calendar with 30-minute appointments offered every 15 minutes
    cal = api.create_calendar(slotInterval=15, slotDuration=30)
    candidates = [iso(local(monday, 10, minute)) for minute in (0, 15, 30, 45)] + [iso(local(monday, 11))]
    offered = api.free_slots(cal["id"], monday)
    assert set(candidates) <= set(offered)

    # When 20 clients book 10:00, 10:15, 10:30, 10:45 and 11:00 (four each, interleaved) at once
    starts = [candidates[i % len(candidates)] for i in range(20)]
    outcomes = api.race(cal["id"], starts)

    # Then at least one succeeds, every refusal is a clear 400/409, and nothing is a 5xx
    won = winners(outcomes)
    assert won, sorted((o.status, o.start) for o in outcomes)
    # And the stored appointments are exactly the successes, with no overlapping pair for the host
    stored = api.events(monday, userId="host-1")
    assert sorted(e["id"] for e in stored) == sorted(o.body["id"] for o in won)
    assert overlapping_pairs(stored) == []
    assert sorted(e["id"] for e in api.events(monday, calendarId=cal["id"])) == sorted(
        e["id"] for e in stored
    )
    # And a 400 ("no longer available") was never a spurious refusal: its time overlaps a stored booking
    for o in outcomes:
        if o.status == 400:
            start = parse_iso(o.start)
            end = start + timedelta(minutes=30)
            assert any(s < end and start < e for s, e in map(span, stored)), (o, stored)


def test_class_slot_fills_exactly_its_seats(local_server: LocalServer, tenant: Tenant) -> None:
    api = Api(local_server, tenant)
    monday = booking_monday()
    slot = iso(local(monday, 10))
    # Given a class calendar with 5 seats per slot
    cal = api.create_calendar(calendarType="class_booking", appoinmentPerSlot=5, name="Yoga class")
    assert cal["appoinmentPerSlot"] == 5
    assert slot in api.free_slots(cal["id"], monday)

    # When 24 clients book the same class at once
    outcomes = api.race(cal["id"], [slot] * THREADS)

    # Then exactly 5 get a seat and the other 19 get a clear 400/409
    won = winners(outcomes)
    assert len(won) == 5, sorted((o.status, o.contact_id, str(o.body)[:80]) for o in outcomes)
    # And exactly those 5 are stored, all at that slot, and the full class is no longer offered
    stored = api.events(monday, calendarId=cal["id"])
    assert sorted((e["id"], e["contactId"]) for e in stored) == sorted(
        (o.body["id"], o.contact_id) for o in won
    )
    assert {e["startTime"] for e in stored} == {slot}
    assert slot not in api.free_slots(cal["id"], monday)


def test_round_robin_slot_gives_each_member_one_booking(local_server: LocalServer, tenant: Tenant) -> None:
    api = Api(local_server, tenant)
    monday = booking_monday()
    slot = iso(local(monday, 10))
    members = ["rr-ann", "rr-bob", "rr-cy"]
    # Given a round-robin calendar with 3 members
    cal = api.create_calendar(
        calendarType="round_robin",
        name="Sales round robin",
        teamMembers=[{"userId": m} for m in members],
    )
    assert slot in api.free_slots(cal["id"], monday)

    # When 24 clients book the same slot at once
    outcomes = api.race(cal["id"], [slot] * THREADS)

    # Then exactly 3 succeed, one per member, and the other 21 get a clear 400/409
    won = winners(outcomes)
    assert len(won) == 3, sorted((o.status, o.contact_id, str(o.body)[:80]) for o in outcomes)
    assert sorted(o.body["assignedUserId"] for o in won) == members
    # And the stored appointments agree: one per member, none overlapping for any member
    stored = api.events(monday, calendarId=cal["id"])
    assert sorted((e["id"], e["assignedUserId"]) for e in stored) == sorted(
        (o.body["id"], o.body["assignedUserId"]) for o in won
    )
    for member in members:
        hosted = api.events(monday, userId=member)
        assert len(hosted) == 1 and hosted[0]["users"] == [member], hosted
        assert overlapping_pairs(hosted) == []
    assert slot not in api.free_slots(cal["id"], monday)
