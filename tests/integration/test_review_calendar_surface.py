"""Adversarial review of the calendar surface (groups, schedules, resources, notes,
notification settings): each test pins one defect found in review and stays as its regression.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import Client, make_calendar, ms
from tests.integration.test_ghl_schedules import NY, SCHEDULES, book, on_date, wday

# -- a calendar left in a group deleted under it --------------------------------------------------


def test_calendar_joining_a_group_while_it_is_deleted_stays_bookable(client, tenant, monkeypatch):
    # Given a group with no calendars yet
    loc = tenant.location_id
    group = client.post(
        "/calendars/groups", {"locationId": loc, "name": "Team", "description": "", "slug": "team"}
    ).body["group"]
    # And a calendar being created in it: the group is checked, then (before the calendar is
    # written) the group is deleted, which sees no calendar in it yet
    store = container.services().scheduling._store
    original = type(store).put_calendar

    def racing_put(self: Any, calendar: Any, **kw: Any) -> None:
        if calendar.group_id == group["id"] and kw.get("previous") is None:
            container.services().groups.delete_group(loc, group["id"])
        original(self, calendar, **kw)

    monkeypatch.setattr(type(store), "put_calendar", racing_put)
    cal = make_calendar(client, loc, groupId=group["id"])
    monkeypatch.setattr(type(store), "put_calendar", original)
    assert client.get(f"/calendars/groups/{group['id']}").status in (404, 405)
    # When free slots offer a time (a missing group disables nothing) and a client books it
    slots = client.get(
        f"/calendars/{cal['id']}/free-slots",
        params={"startDate": ms("2027-03-08T00:00:00+01:00"), "endDate": ms("2027-03-08T23:59:59+01:00")},
    ).body
    assert "2027-03-08T10:00:00+01:00" in slots["2027-03-08"]["slots"]
    reply = book(client, loc, cal["id"], "2027-03-08T10:00:00+01:00")
    # Then the booking succeeds: free slots and bookings agree about the calendar
    assert reply.status == 200, reply.body


# -- a calendar item filled by its members' schedules ---------------------------------------------

MEMBERS = [f"user-{i}" for i in range(12)]


def _big_rules() -> list[dict[str, Any]]:
    """100 date rules of 12 intervals each (the most a schedule may hold): about 40 KB on each
    calendar it applies to."""
    return [
        on_date(
            f"2028-{d // 28 + 1:02d}-{d % 28 + 1:02d}", *[(f"{h:02d}:00", f"{h:02d}:30") for h in range(12)]
        )
        for d in range(100)
    ]


def _calendar_item_bytes(location_id: str, calendar_id: str) -> int:
    """The calendar item's size as DynamoDB counts it (names + values, UTF-8)."""
    from boto3.dynamodb.types import TypeSerializer
    from moto.dynamodb.models.dynamo_type import DynamoType

    from slotbook.store import keys as k

    store = container.services().scheduling._store
    item = store._client.get_item(TableName=store._name, Key=k.calendar(location_id, calendar_id))["Item"]
    serialize = TypeSerializer().serialize
    return sum(len(key.encode()) + DynamoType(serialize(v)).size() for key, v in item.items())


@pytest.fixture
def crowded(client: Client, tenant: Any) -> dict[str, Any]:
    """A round-robin calendar whose item is close to DynamoDB's 400 KB: its members' schedules
    travel on it (each stored as DynamoDB really would, under the limit)."""
    loc = tenant.location_id
    cal = make_calendar(client, loc, calendarType="round_robin", teamMembers=[{"userId": m} for m in MEMBERS])
    for member in MEMBERS:
        reply = client.post(
            SCHEDULES,
            {
                "locationId": loc,
                "name": "hours",
                "userId": member,
                "timezone": NY,
                "rules": _big_rules(),
                "calendarIds": [cal["id"]],
            },
        )
        assert reply.status == 201, reply.body
        if _calendar_item_bytes(loc, cal["id"]) > 360_000:
            break
    assert 360_000 < _calendar_item_bytes(loc, cal["id"]) < 400_000
    return cal


def test_event_calendar_schedule_that_would_overflow_the_calendar_item_is_422(client, crowded):
    # When the calendar is given its own schedule, too big to fit on the crowded item
    path = f"/calendars/schedules/event-calendar/{crowded['id']}"
    reply = client.post(path, {"timezone": NY, "rules": _big_rules()})
    # Then it is a clear 422, and nothing is stored
    assert reply.status == 422, reply.body
    assert client.get(path).status == 404
    # And the same holds for growing a smaller own schedule
    assert client.post(path, {"timezone": NY, "rules": [wday("monday", ("09:00", "10:00"))]}).status == 201
    assert client.put(path, {"rules": _big_rules()}).status == 422
    assert client.get(path).body["schedule"]["rules"] == [wday("monday", ("09:00", "10:00"))]


def test_calendar_update_that_would_overflow_its_item_is_422(client, tenant, crowded):
    # When the calendar's own fields grow past what its crowded item can hold
    days = [
        {
            "date": f"2028-{d // 28 + 1:02d}-{d % 28 + 1:02d}T00:00:00.000Z",
            "hours": [{"openHour": h, "openMinute": 0, "closeHour": h, "closeMinute": 30} for h in range(12)],
        }
        for d in range(200)
    ]
    reply = client.put(f"/calendars/{crowded['id']}", {"availabilities": days})
    # Then it is a clear 422 and the calendar is unchanged
    assert reply.status == 422, reply.body
    assert not client.get(f"/calendars/{crowded['id']}").body["calendar"].get("availabilities")


# -- resources read back the calendars they can be written with -----------------------------------

ROOMS = "/calendars/resources/rooms"


def test_a_deleted_calendar_leaves_the_resources_it_was_mapped_to_at_once(client, tenant):
    # Given a room mapped to two calendars, one of which is then deleted
    loc = tenant.location_id
    a, b = make_calendar(client, loc), make_calendar(client, loc)
    body = {"locationId": loc, "name": "Room", "description": "", "quantity": 1, "outOfService": 0}
    room = client.post(ROOMS, {**body, "capacity": 2, "calendarIds": [a["id"], b["id"]]}).body
    assert client.delete(f"/calendars/{a['id']}").status == 200
    # When a client reads the room, and writes back what it read
    read = client.get(f"{ROOMS}/{room['id']}").body
    listed = client.get(ROOMS, params={"locationId": loc, "skip": 0, "limit": 10}).body
    written = client.put(f"{ROOMS}/{room['id']}", {"calendarIds": read["calendarIds"], "capacity": 3})
    # Then the deleted calendar is no longer listed, and the write-back succeeds
    assert read["calendarIds"] == [b["id"]]
    assert listed[0]["calendarIds"] == [b["id"]]
    assert written.status == 200, written.body
