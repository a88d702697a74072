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
