"""DynamoDB cost of the hot paths: a free-slots call is one BatchGetItem (location + calendar
with its block slots), one BatchGetItem of the hosts' version items (their recurring series) and
one strongly consistent Query per host — never one per day."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import free_slots, make_calendar


@pytest.fixture
def requests_made(aws: str) -> Counter[str]:
    counts: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    container.services().store._client.meta.events.register("before-call.dynamodb", record)
    return counts


@pytest.mark.parametrize("members", [["solo"], ["a", "b", "c"]])
def test_free_slots_cost_one_query_per_host_for_a_31_day_range(client, tenant, requests_made, members):
    cal = make_calendar(
        client, tenant.location_id, calendarType="round_robin", teamMembers=[{"userId": m} for m in members]
    )
    block = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "startTime": "2027-03-09T10:00:00+01:00",
            "endTime": "2027-03-09T12:00:00+01:00",
        },
    )
    assert block.status == 201
    requests_made.clear()
    slots = free_slots(client, cal["id"], "2027-03-01T00:00:00+01:00", "2027-03-31T23:00:00+02:00")
    assert "2027-03-09T10:00:00+01:00" not in slots["2027-03-09"]  # the calendar's block applies
    # BatchGetItem: location + calendar, then the hosts' VERSION items (their recurring series)
    assert requests_made == Counter({"GetItem": 1, "BatchGetItem": 2, "Query": len(members)})


def test_block_slot_of_a_deleted_calendar_can_still_be_deleted(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    block = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "startTime": "2027-03-09T10:00:00+01:00",
            "endTime": "2027-03-09T12:00:00+01:00",
        },
    ).body
    assert client.delete(f"/calendars/{cal['id']}").status == 200
    assert client.delete(f"/calendars/events/{block['id']}", {}).status == 201
    assert client.delete(f"/calendars/events/{block['id']}", {}).status == 404


def test_a_linked_connection_costs_one_query_whatever_the_range(client, tenant, requests_made):
    # Given a member whose connected calendar (linked with userId) has a provider event
    from datetime import UTC, datetime

    from slotbook.domain import Connection
    from slotbook.providers.base import BusyChange

    store = container.services().store
    now = datetime(2027, 3, 1, tzinfo=UTC)
    store.put_connection(
        Connection(
            id="cxn1",
            location_id=tenant.location_id,
            provider="google",
            display_name="Solo's calendar",
            calendar_id="solo@example.com",
            user_id="solo",
            created_at=now,
            updated_at=now,
        )
    )
    start = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)
    store.apply_busy(
        tenant.location_id,
        "cxn1",
        [BusyChange(event_id="ev1", start=start, end=start.replace(hour=11), busy=True)],
        full=True,
    )
    cal = make_calendar(client, tenant.location_id, teamMembers=[{"userId": "solo"}])
    requests_made.clear()
    # When free slots are read over 31 days
    slots = free_slots(client, cal["id"], "2027-03-01T00:00:00+01:00", "2027-03-31T23:00:00+02:00")
    # Then the provider event blocks them, for one more Query (the connection's busy days)
    assert "2027-03-09T10:00:00+01:00" not in slots["2027-03-09"]
    assert "2027-03-09T12:00:00+01:00" in slots["2027-03-09"]
    assert requests_made == Counter({"GetItem": 1, "BatchGetItem": 2, "Query": 2})
