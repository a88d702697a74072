"""Calendar resources (rooms, equipments) through the handlers, and their engine effect.

CRUD answers the reference's shapes (validated against its JSON schemas); a calendar mapped to a
room or equipment offers a slot only while the resource has a unit left, counted over every
calendar mapped to it, and bookings take units under the resource's version lock (invariant 1).

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from slotbook import container
from slotbook.domain import Amount, Calendar, CalendarType, Span, TeamMember, WeeklyRule
from slotbook.errors import BookingConflict, SlotUnavailable
from slotbook.services.scheduling import AppointmentInput, SchedulingService
from slotbook.store.dynamo import DynamoStore
from tests.integration.conftest import Client, all_slots, free_slots, make_calendar
from tests.integration.test_reference_schemas import check

MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")
TEN = "2027-03-08T10:00:00+01:00"
ELEVEN = "2027-03-08T11:00:00+01:00"
ROOMS = "/calendars/resources/rooms"
EQUIPMENTS = "/calendars/resources/equipments"
ONE_PATH = "/calendars/resources/{resourceType}/{id}"
LIST_PATH = "/calendars/resources/{resourceType}"


def _room(client: Client, location_id: str, calendar_ids: list[str], capacity: int = 2, **extra: Any) -> Any:
    body = {
        "locationId": location_id,
        "name": "Yoga room",
        "description": "Second floor",
        "quantity": 1,
        "outOfService": 0,
        "capacity": capacity,
        "calendarIds": calendar_ids,
        **extra,
    }
    return client.post(ROOMS, body)


def _equipment(client: Client, location_id: str, calendar_ids: list[str], quantity: int, out: int) -> Any:
    body = {
        "locationId": location_id,
        "name": "Massage table",
        "description": "",
        "quantity": quantity,
        "outOfService": out,
        "capacity": 0,
        "calendarIds": calendar_ids,
    }
    return client.post(EQUIPMENTS, body)


def _book(client: Client, location_id: str, calendar_id: str, start: str, **extra: Any) -> Any:
    return client.post(
        "/calendars/events/appointments",
        {"calendarId": calendar_id, "locationId": location_id, "contactId": "c", "startTime": start, **extra},
    )


def _team(client: Client, location_id: str, *members: str) -> dict[str, Any]:
    """A round-robin calendar whose members are never the limit in these tests."""
    return make_calendar(
        client,
        location_id,
        calendarType="round_robin",
        teamMembers=[{"userId": m} for m in members],
    )


def _mapped(store: DynamoStore, location_id: str, calendar_id: str) -> dict[str, int]:
    _, state = store.get_location_and_calendar(location_id, calendar_id)
    assert state is not None
    return state.resources


@pytest.fixture
def other_tenant(aws: str) -> tuple[str, Client]:
    from slotbook.services.tenancy import SCOPES

    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "America/New_York")
    _, token = tenancy.create_api_key(location.id, "all", sorted(SCOPES))
    return location.id, Client(token)


# --- CRUD ------------------------------------------------------------------------------------


def test_room_round_trip_in_the_reference_shapes(client, tenant, store):
    cal = make_calendar(client, tenant.location_id)
    # When a room is created, mapped to a calendar
    created = check(_room(client, tenant.location_id, [cal["id"]]), LIST_PATH, "post", 201)
    assert created == {
        "id": created["id"],
        "locationId": tenant.location_id,
        "name": "Yoga room",
        "resourceType": "rooms",
        "isActive": True,
        "description": "Second floor",
        "quantity": 1,
        "outOfService": 0,
        "capacity": 2,
        "calendarIds": [cal["id"]],
    }
    rid = created["id"]
    # Then it reads back, lists, and the calendar carries its capacity
    assert check(client.get(f"{ROOMS}/{rid}"), ONE_PATH, "get", 200) == created
    listed = client.get(ROOMS, params={"locationId": tenant.location_id, "skip": 0, "limit": 10})
    assert check(listed, LIST_PATH, "get", 200) == [created]
    assert _mapped(store, tenant.location_id, cal["id"]) == {rid: 2}
    # When it is updated: CalendarResourceResponseDTO (no calendarIds), the change persisted
    updated = client.put(f"{ROOMS}/{rid}", {"name": "Big room", "capacity": 5, "isActive": True})
    body = check(updated, ONE_PATH, "put", 200)
    assert "calendarIds" not in body
    assert body["name"] == "Big room" and body["capacity"] == 5
    assert client.get(f"{ROOMS}/{rid}").body["calendarIds"] == [cal["id"]]
    assert _mapped(store, tenant.location_id, cal["id"]) == {rid: 5}
    # When it is deleted: {"success": true}, gone, and the calendar no longer maps it
    assert check(client.delete(f"{ROOMS}/{rid}"), ONE_PATH, "delete", 200) == {"success": True}
    assert client.get(f"{ROOMS}/{rid}").status == 404
    assert client.delete(f"{ROOMS}/{rid}").status == 404
    assert _mapped(store, tenant.location_id, cal["id"]) == {}


def test_listing_pages_and_keeps_types_apart(client, tenant, clock):
    ids = []
    for minute in range(3):
        clock.now = clock.now.replace(minute=minute)
        ids.append(_room(client, tenant.location_id, []).body["id"])
    eq = _equipment(client, tenant.location_id, [], 2, 0).body["id"]

    def page(path: str, skip: int, limit: int) -> list[str]:
        reply = client.get(path, params={"locationId": tenant.location_id, "skip": skip, "limit": limit})
        assert reply.status == 200, reply.body
        return [r["id"] for r in reply.body]

    assert page(ROOMS, 0, 10) == ids
    assert page(ROOMS, 1, 1) == ids[1:2]
    assert page(ROOMS, 3, 10) == []
    assert page(EQUIPMENTS, 0, 10) == [eq]
    # An id of one type is not found under the other
    assert client.get(f"{EQUIPMENTS}/{ids[0]}").status == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/calendars/resources/chairs", None),
        ("POST", "/calendars/resources/chairs", "create"),
        ("GET", "/calendars/resources/chairs/x", None),
        ("PUT", "/calendars/resources/chairs/x", {"name": "n"}),
        ("DELETE", "/calendars/resources/chairs/x", None),
    ],
)
def test_unknown_resource_type_is_400(client, tenant, method, path, body):
    if body == "create":
        body = {
            "locationId": tenant.location_id,
            "name": "n",
            "description": "",
            "quantity": 1,
            "outOfService": 0,
            "capacity": 1,
            "calendarIds": [],
        }
    params = {"locationId": tenant.location_id, "skip": 0, "limit": 5} if method == "GET" else None
    reply = client.request(method, path, json_body=body, params=params)
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "Bad Request"


@pytest.mark.parametrize(
    "change",
    [
        {"capacity": -1},
        {"quantity": 2.5},
        {"outOfService": "many"},
        {"calendarIds": "x"},
        {"name": ""},
        {"colour": "red"},
    ],
)
def test_malformed_bodies_are_422_and_store_nothing(client, tenant, change):
    reply = _room(client, tenant.location_id, [], **change)
    assert reply.status == 422, reply.body
    listed = client.get(ROOMS, params={"locationId": tenant.location_id, "skip": 0, "limit": 5})
    assert listed.body == []


def test_create_requires_every_reference_field(client, tenant):
    reply = client.post(ROOMS, {"locationId": tenant.location_id, "name": "n", "calendarIds": []})
    assert reply.status == 422
    assert {m.split(" ")[0] for m in reply.body["message"]} >= {"description", "quantity", "capacity"}


@pytest.mark.parametrize(
    "params", [{"skip": 0}, {"limit": 5}, {"skip": -1, "limit": 5}, {"skip": 0, "limit": 0}]
)
def test_listing_needs_bounded_skip_and_limit(client, tenant, params):
    reply = client.get(ROOMS, params={"locationId": tenant.location_id, **params})
    assert reply.status == 422, reply.body
    assert client.get(ROOMS, params={"locationId": tenant.location_id, "skip": 0, "limit": 501}).status == 422


def test_out_of_service_cannot_exceed_quantity(client, tenant):
    assert _equipment(client, tenant.location_id, [], 2, 3).status == 400
    eq = _equipment(client, tenant.location_id, [], 2, 1).body
    assert client.put(f"{EQUIPMENTS}/{eq['id']}", {"quantity": 0}).status == 400
    assert client.get(f"{EQUIPMENTS}/{eq['id']}").body["quantity"] == 2


def test_one_equipment_maps_to_one_calendar_only(client, tenant, store):
    a = make_calendar(client, tenant.location_id)
    b = make_calendar(client, tenant.location_id)
    reply = _equipment(client, tenant.location_id, [a["id"], b["id"]], 1, 0)
    assert reply.status == 400, reply.body
    assert _mapped(store, tenant.location_id, a["id"]) == {}
    eq = _equipment(client, tenant.location_id, [a["id"]], 1, 0).body
    assert client.put(f"{EQUIPMENTS}/{eq['id']}", {"calendarIds": [a["id"], b["id"]]}).status == 400
    # Moving it to the other calendar is fine: the first one loses it in the same write
    assert client.put(f"{EQUIPMENTS}/{eq['id']}", {"calendarIds": [b["id"]]}).status == 200
    assert _mapped(store, tenant.location_id, a["id"]) == {}
    assert _mapped(store, tenant.location_id, b["id"]) == {eq["id"]: 1}
    # A room maps to many
    room = _room(client, tenant.location_id, [a["id"], b["id"]]).body
    assert _mapped(store, tenant.location_id, a["id"]) == {room["id"]: 2}


def test_unknown_or_foreign_calendar_is_400_and_changes_nothing(client, tenant, store, other_tenant):
    other_location, other_client = other_tenant
    theirs = make_calendar(other_client, other_location)
    ours = make_calendar(client, tenant.location_id)
    for missing in ("no-such-calendar", theirs["id"]):
        reply = _room(client, tenant.location_id, [ours["id"], missing])
        assert reply.status == 400, reply.body
        assert missing in reply.body["message"]
    assert _mapped(store, tenant.location_id, ours["id"]) == {}
    assert _mapped(store, other_location, theirs["id"]) == {}
    assert client.get(ROOMS, params={"locationId": tenant.location_id, "skip": 0, "limit": 5}).body == []


def test_a_calendar_takes_at_most_three_resources(client, tenant, store):
    cal = make_calendar(client, tenant.location_id)
    kept = [_room(client, tenant.location_id, [cal["id"]]).body["id"] for _ in range(3)]
    assert _room(client, tenant.location_id, [cal["id"]]).status == 400
    spare = _room(client, tenant.location_id, []).body["id"]
    assert client.put(f"{ROOMS}/{spare}", {"calendarIds": [cal["id"]]}).status == 400
    # Updating a resource already mapped is not a fourth one
    assert client.put(f"{ROOMS}/{kept[0]}", {"capacity": 9, "calendarIds": [cal["id"]]}).status == 200
    assert set(_mapped(store, tenant.location_id, cal["id"])) == set(kept)


def test_a_deleted_calendar_drops_out_of_the_mapping(client, tenant):
    a = make_calendar(client, tenant.location_id)
    b = make_calendar(client, tenant.location_id)
    room = _room(client, tenant.location_id, [a["id"], b["id"]]).body
    assert client.delete(f"/calendars/{a['id']}").status == 200
    # Editing other fields still works, and the mapping keeps only calendars that exist
    assert client.put(f"{ROOMS}/{room['id']}", {"capacity": 4}).status == 200
    assert client.get(f"{ROOMS}/{room['id']}").body["calendarIds"] == [b["id"]]
    assert client.delete(f"{ROOMS}/{room['id']}").status == 200


def test_tenant_isolation(client, tenant, other_tenant):
    other_location, other_client = other_tenant
    theirs = _room(other_client, other_location, []).body
    # Another tenant's resource answers exactly like an unknown one
    for method, body in (("GET", None), ("PUT", {"name": "mine"}), ("DELETE", None)):
        reply = client.request(method, f"{ROOMS}/{theirs['id']}", json_body=body)
        assert reply.status == 404, (method, reply.body)
    assert other_client.get(f"{ROOMS}/{theirs['id']}").body["name"] == "Yoga room"
    # Naming the other location is 403
    assert client.get(ROOMS, params={"locationId": other_location, "skip": 0, "limit": 5}).status == 403
    assert _room(client, other_location, []).status == 403
    assert client.put(f"{ROOMS}/{theirs['id']}", {"locationId": other_location}).status == 403
    assert client.get(ROOMS, params={"locationId": tenant.location_id, "skip": 0, "limit": 5}).body == []


def test_resource_scopes_are_required(aws, tenant):
    tenancy = container.services().tenancy
    _, token = tenancy.create_api_key(tenant.location_id, "calendars only", ["calendars.readonly"])
    reader = Client(token)
    params = {"locationId": tenant.location_id, "skip": 0, "limit": 5}
    assert reader.get(ROOMS, params=params).status == 401
    _, token = tenancy.create_api_key(tenant.location_id, "read", ["calendars/resources.readonly"])
    reader = Client(token)
    assert reader.get(ROOMS, params=params).status == 200
    assert _room(reader, tenant.location_id, []).status == 401


# --- engine effect (through the handlers) ---------------------------------------------------


def test_room_shared_by_two_calendars_holds_capacity_bookings_across_both(client, tenant):
    # Given two calendars with different hosts sharing a room of capacity 2
    a = _team(client, tenant.location_id, "a1", "a2")
    b = _team(client, tenant.location_id, "b1", "b2")
    room = _room(client, tenant.location_id, [a["id"], b["id"]], capacity=2).body
    # When one booking lands on each calendar at 10:00
    first = _book(client, tenant.location_id, a["id"], TEN)
    assert first.status == 200, first.body
    assert _book(client, tenant.location_id, b["id"], TEN).status == 200
    # Then a third on either calendar is refused, though both have a free host
    for cal in (a, b):
        reply = _book(client, tenant.location_id, cal["id"], TEN)
        assert reply.status == 400, reply.body
        # And 10:00 is gone from both calendars' free slots; 10:30 is still offered
        slots = all_slots(free_slots(client, cal["id"], *MON))
        assert TEN not in slots
        assert "2027-03-08T10:30:00+01:00" in slots
    # And the appointment says which resource it occupies
    event = client.get(f"/calendars/events/appointments/{first.body['id']}").body["event"]
    assert event["assignedResources"] == [room["id"]]


def test_equipment_capacity_is_quantity_minus_out_of_service(client, tenant):
    cal = _team(client, tenant.location_id, "u1", "u2", "u3", "u4")
    _equipment(client, tenant.location_id, [cal["id"]], quantity=3, out=1)
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 400
    assert TEN not in all_slots(free_slots(client, cal["id"], *MON))


def test_inactive_or_empty_resource_offers_no_slots(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    room = _room(client, tenant.location_id, [cal["id"]], capacity=3).body
    assert len(all_slots(free_slots(client, cal["id"], *MON))) == 16
    assert client.put(f"{ROOMS}/{room['id']}", {"isActive": False}).status == 200
    assert free_slots(client, cal["id"], *MON) == {}
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 400
    # Reactivated it offers again; a capacity of 0 offers nothing either
    assert client.put(f"{ROOMS}/{room['id']}", {"isActive": True}).status == 200
    assert len(all_slots(free_slots(client, cal["id"], *MON))) == 16
    assert client.put(f"{ROOMS}/{room['id']}", {"capacity": 0}).status == 200
    assert free_slots(client, cal["id"], *MON) == {}


def test_cancel_frees_capacity_and_reschedule_moves_it(client, tenant):
    a = _team(client, tenant.location_id, "a1", "a2")
    b = _team(client, tenant.location_id, "b1", "b2")
    _room(client, tenant.location_id, [a["id"], b["id"]], capacity=1)
    booked = _book(client, tenant.location_id, a["id"], TEN).body
    assert TEN not in all_slots(free_slots(client, b["id"], *MON))
    # When it is cancelled the unit is free again
    cancel = client.put(f"/calendars/events/appointments/{booked['id']}", {"appointmentStatus": "cancelled"})
    assert cancel.status == 200, cancel.body
    assert TEN in all_slots(free_slots(client, b["id"], *MON))
    # When another booking is moved from 10:00 to 11:00 the occupancy moves with it
    other = _book(client, tenant.location_id, b["id"], TEN).body
    moved = client.put(f"/calendars/events/appointments/{other['id']}", {"startTime": ELEVEN})
    assert moved.status == 200, moved.body
    slots = all_slots(free_slots(client, a["id"], *MON))
    assert TEN in slots and ELEVEN not in slots
    # And deleting it frees 11:00
    assert client.delete(f"/calendars/events/{other['id']}", {}).status in (200, 201)
    assert ELEVEN in all_slots(free_slots(client, a["id"], *MON))


def test_reschedule_within_its_own_unit_does_not_count_itself(client, tenant):
    # Given a two-member calendar (a free host is never the issue) and a room of capacity 1
    cal = make_calendar(
        client,
        tenant.location_id,
        calendarType="round_robin",
        teamMembers=[{"userId": "u1"}, {"userId": "u2"}],
        slotDuration=60,
        slotInterval=30,
    )
    _room(client, tenant.location_id, [cal["id"]], capacity=1)
    booked = _book(client, tenant.location_id, cal["id"], TEN).body
    # When the 10:00-11:00 booking moves to 10:30, overlapping its own old time in the room
    moved = client.put(
        f"/calendars/events/appointments/{booked['id']}", {"startTime": "2027-03-08T10:30:00+01:00"}
    )
    assert moved.status == 200, moved.body


def test_capacity_changes_and_unmapping_reach_the_calendars(client, tenant):
    cal = _team(client, tenant.location_id, "u1", "u2", "u3")
    room = _room(client, tenant.location_id, [cal["id"]], capacity=1).body
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 400
    assert client.put(f"{ROOMS}/{room['id']}", {"capacity": 2}).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 400
    # Unmapped, only the hosts limit the calendar
    assert client.put(f"{ROOMS}/{room['id']}", {"calendarIds": []}).status == 200
    assert _book(client, tenant.location_id, cal["id"], TEN).status == 200


def test_ignore_free_slot_validation_skips_the_check_but_occupies_the_resource(client, tenant):
    a = _team(client, tenant.location_id, "a1", "a2")
    b = make_calendar(client, tenant.location_id, teamMembers=[{"userId": "b1"}])
    room = _room(client, tenant.location_id, [a["id"], b["id"]], capacity=1).body
    assert _book(client, tenant.location_id, a["id"], TEN).status == 200
    forced = _book(client, tenant.location_id, a["id"], TEN, ignoreFreeSlotValidation=True)
    assert forced.status == 200, forced.body
    event = client.get(f"/calendars/events/appointments/{forced.body['id']}").body["event"]
    assert event["assignedResources"] == [room["id"]]
    # Two bookings now hold the room: raising capacity to 2 still leaves no unit at 10:00
    assert client.put(f"{ROOMS}/{room['id']}", {"capacity": 2}).status == 200
    assert TEN not in all_slots(free_slots(client, b["id"], *MON))


def test_free_slots_cost_one_query_per_mapped_resource_and_nothing_without(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    ddb = container.services().store._client

    def cost() -> Counter[str]:
        counts: Counter[str] = Counter()

        def record(model: Any, **_: Any) -> None:
            counts[model.name] += 1

        ddb.meta.events.register("before-call.dynamodb", record)
        try:
            free_slots(client, cal["id"], *MON)
        finally:
            ddb.meta.events.unregister("before-call.dynamodb", record)
        return counts

    unmapped = cost()
    room = _room(client, tenant.location_id, [cal["id"]]).body
    _equipment(client, tenant.location_id, [cal["id"]], 1, 0)
    # Two mapped resources: two more strongly consistent Queries, nothing else
    assert cost() - unmapped == Counter({"Query": 2})
    assert unmapped - cost() == Counter()
    # Unmapped again: the calendar costs what it did before
    assert client.put(f"{ROOMS}/{room['id']}", {"calendarIds": []}).status == 200
    assert cost() - unmapped == Counter({"Query": 1})


# --- invariant 1: capacity under concurrency ---------------------------------------------------

EPOCH = datetime(2027, 1, 1, tzinfo=UTC)
MONDAY_10 = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen


def _calendar(location_id: str, hosts: list[str]) -> Calendar:
    return Calendar(
        id="-",
        location_id=location_id,
        name="room calendar",
        calendar_type=CalendarType.ROUND_ROBIN,
        team_members=[TeamMember(user_id=h) for h in hosts],
        slot_duration=Amount(value=30, unit="mins"),
        slot_interval=Amount(value=30, unit="mins"),
        weekly=[WeeklyRule(days=[0, 1, 2, 3, 4], spans=[Span(open=9 * 60, close=17 * 60)])],
        created_at=EPOCH,
        updated_at=EPOCH,
    )


@pytest.fixture
def scheduling(tenant) -> SchedulingService:
    return container.services().scheduling


def _shared_room(client: Client, scheduling: SchedulingService, location_id: str, capacity: int) -> tuple:
    a = scheduling.create_calendar(_calendar(location_id, ["a1", "a2", "a3", "a4"]))
    b = scheduling.create_calendar(_calendar(location_id, ["b1", "b2", "b3", "b4"]))
    reply = _room(client, location_id, [a.id, b.id], capacity=capacity)
    assert reply.status == 201, reply.body
    return a, b


def _occupying(store: DynamoStore, location_id: str, *calendars: Calendar) -> int:
    day = datetime(2027, 3, 8, tzinfo=UTC)
    return sum(
        1
        for cal in calendars
        for e in store.calendar_events(location_id, cal.id, day, day.replace(day=9))
        if e.occupies_hosts
    )


def test_interleaved_bookings_on_two_calendars_only_the_version_stops_the_second(
    client, tenant, scheduling, store
):
    # Given calendars A and B with disjoint hosts sharing a room of capacity 1
    a, b = _shared_room(client, scheduling, tenant.location_id, capacity=1)
    # When a booking on each finishes all its reads before either writes
    plan_a = scheduling.prepare_create(tenant.location_id, AppointmentInput(a.id, "x", MONDAY_10))
    plan_b = scheduling.prepare_create(tenant.location_id, AppointmentInput(b.id, "y", MONDAY_10))
    assert not set(plan_a.event.hosts) & set(plan_b.event.hosts)  # no host version is shared
    scheduling.commit(plan_a)
    # Then the second write fails on the room's version alone, and nothing of it is stored
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_b)
    assert _occupying(store, tenant.location_id, a, b) == 1
    # And a retry from fresh reads sees the room full
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, AppointmentInput(b.id, "y", MONDAY_10))


def test_interleaved_race_for_the_last_unit_of_a_larger_room(client, tenant, scheduling, store):
    # Given a room of capacity 2 with one unit taken
    a, b = _shared_room(client, scheduling, tenant.location_id, capacity=2)
    scheduling.create_appointment(tenant.location_id, AppointmentInput(a.id, "w", MONDAY_10))
    # When two bookings race for the last unit
    plan_a = scheduling.prepare_create(tenant.location_id, AppointmentInput(a.id, "x", MONDAY_10))
    plan_b = scheduling.prepare_create(tenant.location_id, AppointmentInput(b.id, "y", MONDAY_10))
    scheduling.commit(plan_b)
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_a)
    # Then the room is full on both calendars
    assert _occupying(store, tenant.location_id, a, b) == 2
    for cal in (a, b):
        with pytest.raises(SlotUnavailable):
            scheduling.create_appointment(tenant.location_id, AppointmentInput(cal.id, "z", MONDAY_10))


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_bookings_through_the_api_exactly_capacity_win(
    client, tenant, scheduling, store, capacity
):
    # Given 8 one-host calendars (no two share a host) mapped to one room of `capacity`
    calendars = [scheduling.create_calendar(_calendar(tenant.location_id, [f"host-{i}"])) for i in range(8)]
    reply = _room(client, tenant.location_id, [c.id for c in calendars], capacity=capacity)
    assert reply.status == 201, reply.body
    barrier = threading.Barrier(len(calendars))
    statuses: list[int] = []
    lock = threading.Lock()

    def book(index: int) -> None:
        barrier.wait()
        reply = _book(client, tenant.location_id, calendars[index].id, TEN, contactId=f"c{index}")
        with lock:
            statuses.append(reply.status)

    # When each calendar books 10:00 at the same moment, through the handlers
    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(calendars))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    # Then exactly `capacity` win (only the room's version orders them); the rest are told the
    # slot is gone (a loser meets at most `capacity` conflicts, fewer than the retry budget)
    assert sorted(statuses) == [200] * capacity + [400] * (len(calendars) - capacity), statuses
    assert _occupying(store, tenant.location_id, *calendars) == capacity
