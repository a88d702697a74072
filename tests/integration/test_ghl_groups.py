"""GoHighLevel calendar groups through the handlers: CRUD, slug rules, tenancy, scopes, response
shapes, and the engine effect of a disabled group (no free slots, no bookings).

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import Client, all_slots, free_slots, make_calendar, ms
from tests.integration.test_reference_schemas import check

GROUPS = "/calendars/groups"
MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")
GROUP_KEYS = {"id", "locationId", "name", "description", "slug", "isActive"}


def create(client: Client, location_id: str, slug: str = "sales", **fields: Any) -> dict[str, Any]:
    body = {"locationId": location_id, "name": "Sales", "description": "Sales calls", "slug": slug, **fields}
    reply = client.post(GROUPS, body)
    return check(reply, GROUPS, "post", 201)["group"]


def slug_available(client: Client, location_id: str, slug: str) -> bool:
    reply = client.post(f"{GROUPS}/validate-slug", {"locationId": location_id, "slug": slug})
    return check(reply, "/calendars/groups/validate-slug", "post", 200)["available"]


def list_groups(client: Client, location_id: str) -> list[dict[str, Any]]:
    reply = client.get(GROUPS, params={"locationId": location_id})
    return check(reply, GROUPS, "get", 200)["groups"]


@pytest.fixture
def other_tenant(aws: str) -> tuple[str, Client]:
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "America/New_York")
    _, token = tenancy.create_api_key(
        location.id,
        "k",
        ["calendars.readonly", "calendars.write", "calendars/groups.readonly", "calendars/groups.write"],
    )
    return location.id, Client(token)


# -- CRUD and shapes ------------------------------------------------------------------------------


def test_group_lifecycle_create_list_validate_update_disable_delete(client, tenant):
    loc = tenant.location_id
    # Given a new group
    assert slug_available(client, loc, "sales") is True
    group = create(client, loc, "sales")
    assert set(group) == GROUP_KEYS
    assert group == {
        "id": group["id"],
        "locationId": loc,
        "name": "Sales",
        "description": "Sales calls",
        "slug": "sales",
        "isActive": True,
    }
    # Then it is listed and its slug is taken
    assert list_groups(client, loc) == [group]
    assert slug_available(client, loc, "sales") is False
    # When renaming it and changing its slug
    edited = client.put(
        f"{GROUPS}/{group['id']}", {"name": "Sales team", "description": "", "slug": "sales-team"}
    )
    body = check(edited, "/calendars/groups/{groupId}", "put", 200)["group"]
    assert body == {**group, "name": "Sales team", "description": "", "slug": "sales-team"}
    # Then the old slug is free again and the new one taken (the locks were swapped)
    assert slug_available(client, loc, "sales") is True
    assert slug_available(client, loc, "sales-team") is False
    # When disabling it
    status = client.put(f"{GROUPS}/{group['id']}/status", {"isActive": False})
    assert check(status, "/calendars/groups/{groupId}/status", "put", 200) == {"success": True}
    assert list_groups(client, loc) == [{**body, "isActive": False}]
    # When deleting it
    deleted = client.delete(f"{GROUPS}/{group['id']}")
    assert check(deleted, "/calendars/groups/{groupId}", "delete", 200) == {"success": True}
    # Then it is gone, and so is its slug lock
    assert list_groups(client, loc) == []
    assert slug_available(client, loc, "sales-team") is True
    assert client.delete(f"{GROUPS}/{group['id']}").status == 404


def test_groups_list_oldest_first_and_create_may_start_disabled(client, tenant, clock):
    from datetime import timedelta

    first = create(client, tenant.location_id, "first")
    clock.now += timedelta(minutes=1)
    second = create(client, tenant.location_id, "second", isActive=False)
    assert second["isActive"] is False
    assert [g["id"] for g in list_groups(client, tenant.location_id)] == [first["id"], second["id"]]


def test_update_keeping_the_slug_is_allowed(client, tenant):
    group = create(client, tenant.location_id, "keep")
    reply = client.put(f"{GROUPS}/{group['id']}", {"name": "Renamed", "description": "d", "slug": "keep"})
    assert reply.status == 200, reply.body
    assert reply.body["group"]["name"] == "Renamed"
    assert slug_available(client, tenant.location_id, "keep") is False


def test_status_re_enable_keeps_the_rest(client, tenant):
    group = create(client, tenant.location_id, "toggle")
    for active in (False, True):
        assert client.put(f"{GROUPS}/{group['id']}/status", {"isActive": active}).status == 200
    assert list_groups(client, tenant.location_id) == [group]


# -- slug uniqueness -------------------------------------------------------------------------------


def test_duplicate_slug_on_create_is_400_and_stores_nothing(client, tenant):
    create(client, tenant.location_id, "dup")
    reply = client.post(
        GROUPS, {"locationId": tenant.location_id, "name": "Again", "description": "", "slug": "dup"}
    )
    assert reply.status == 400
    assert reply.body["statusCode"] == 400
    assert "dup" in reply.body["message"]
    assert len(list_groups(client, tenant.location_id)) == 1


def test_duplicate_slug_on_update_is_400_and_changes_nothing(client, tenant):
    a = create(client, tenant.location_id, "a-slug")
    b = create(client, tenant.location_id, "b-slug")
    reply = client.put(f"{GROUPS}/{b['id']}", {"name": "B", "description": "", "slug": "a-slug"})
    assert reply.status == 400
    groups = {g["id"]: g for g in list_groups(client, tenant.location_id)}
    assert groups == {a["id"]: a, b["id"]: b}
    # b's own slug lock was not given up by the failed swap
    dup = client.post(
        GROUPS, {"locationId": tenant.location_id, "name": "C", "description": "", "slug": "b-slug"}
    )
    assert dup.status == 400


def test_concurrent_creates_of_one_slug_let_exactly_one_win(client, tenant):
    results: list[int] = []
    barrier = threading.Barrier(4)

    def attempt(i: int) -> None:
        barrier.wait()
        body = {"locationId": tenant.location_id, "name": f"G{i}", "description": "", "slug": "race"}
        results.append(client.post(GROUPS, body).status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 400, 400, 400]
    assert len(list_groups(client, tenant.location_id)) == 1


@pytest.mark.parametrize("slug", ["Sales", "sales team", "sales_team", "-sales", "sales-", "släg", "a" * 101])
def test_malformed_slug_is_422_everywhere(client, tenant, slug):
    loc = tenant.location_id
    created = client.post(GROUPS, {"locationId": loc, "name": "G", "description": "", "slug": slug})
    assert created.status == 422, created.body
    assert created.body["error"] == "Unprocessable Entity"
    probe = client.post(f"{GROUPS}/validate-slug", {"locationId": loc, "slug": slug})
    assert probe.status == 422
    group = create(client, loc, "valid-1")
    edited = client.put(f"{GROUPS}/{group['id']}", {"name": "G", "description": "", "slug": slug})
    assert edited.status == 422
    assert list_groups(client, loc) == [group]


@pytest.mark.parametrize("slug", ["a", "15-mins", "a--b", "x" * 100])
def test_well_formed_slugs_are_accepted(client, tenant, slug):
    assert create(client, tenant.location_id, slug)["slug"] == slug


@pytest.mark.parametrize(
    "body",
    [
        {"name": "G", "description": "", "slug": "s"},  # no locationId
        {"locationId": "LOC", "description": "", "slug": "s"},  # no name
        {"locationId": "LOC", "name": "G", "slug": "s"},  # no description
        {"locationId": "LOC", "name": "G", "description": ""},  # no slug
        {"locationId": "LOC", "name": "", "description": "", "slug": "s"},
        {"locationId": "LOC", "name": "   ", "description": "", "slug": "s"},
        {"locationId": "LOC", "name": "G", "description": "", "slug": "s", "color": "red"},
        {"locationId": "LOC", "name": "G", "description": "", "slug": "s", "isActive": "maybe"},
        {"locationId": "LOC", "name": "G" * 201, "description": "", "slug": "s"},
    ],
)
def test_create_body_validation_is_422(client, tenant, body):
    if "locationId" in body:
        body = {**body, "locationId": tenant.location_id}
    reply = client.post(GROUPS, body)
    assert reply.status == 422, reply.body
    assert list_groups(client, tenant.location_id) == []


def test_update_requires_name_description_and_slug(client, tenant):
    group = create(client, tenant.location_id)
    for missing in ("name", "description", "slug"):
        body = {"name": "N", "description": "D", "slug": "s"}
        del body[missing]
        assert client.put(f"{GROUPS}/{group['id']}", body).status == 422
    assert client.put(f"{GROUPS}/{group['id']}/status", {}).status == 422
    assert list_groups(client, tenant.location_id) == [group]


# -- deleting a group that still has calendars -------------------------------------------------------


def test_delete_refused_while_calendars_belong_to_the_group(client, tenant):
    group = create(client, tenant.location_id)
    cal = make_calendar(client, tenant.location_id, groupId=group["id"])
    refused = client.delete(f"{GROUPS}/{group['id']}")
    assert refused.status == 400
    assert "move" in refused.body["message"] and "delete" in refused.body["message"]
    assert list_groups(client, tenant.location_id) == [group]
    # After moving the calendar out of the group, the group can go
    assert client.put(f"/calendars/{cal['id']}", {"groupId": ""}).status == 200
    assert client.delete(f"{GROUPS}/{group['id']}").status == 200


# -- engine effect, and group filters of calendars and events -------------------------------------------


def test_disabled_group_offers_no_slots_and_refuses_bookings_until_re_enabled(client, tenant):
    # Given a calendar in a group, with free slots on Monday
    group = create(client, tenant.location_id)
    cal = make_calendar(client, tenant.location_id, groupId=group["id"])
    other = make_calendar(client, tenant.location_id, name="Ungrouped")
    before = all_slots(free_slots(client, cal["id"], *MON))
    assert "2027-03-08T10:00:00+01:00" in before
    # When the group is disabled
    assert client.put(f"{GROUPS}/{group['id']}/status", {"isActive": False}).status == 200
    # Then the calendar offers nothing and refuses a booking, while other calendars are unaffected
    assert all_slots(free_slots(client, cal["id"], *MON)) == []
    assert all_slots(free_slots(client, other["id"], *MON)) == before
    booking = {
        "calendarId": cal["id"],
        "locationId": tenant.location_id,
        "contactId": "contact-1",
        "startTime": "2027-03-08T10:00:00+01:00",
    }
    refused = client.post("/calendars/events/appointments", booking)
    assert refused.status == 400, refused.body
    # When it is enabled again, the slots come back and the booking is taken
    assert client.put(f"{GROUPS}/{group['id']}/status", {"isActive": True}).status == 200
    assert all_slots(free_slots(client, cal["id"], *MON)) == before
    booked = client.post("/calendars/events/appointments", booking)
    assert booked.status == 200, booked.body


def test_calendars_and_events_filter_by_group(client, tenant):
    loc = tenant.location_id
    group = create(client, loc)
    in_a = make_calendar(client, loc, name="A", groupId=group["id"])
    in_b = make_calendar(client, loc, name="B", groupId=group["id"], teamMembers=[{"userId": "host-2"}])
    outside = make_calendar(client, loc, name="C", teamMembers=[{"userId": "host-3"}])
    listed = client.get("/calendars/", params={"locationId": loc, "groupId": group["id"]})
    assert listed.status == 200
    assert {c["id"] for c in listed.body["calendars"]} == {in_a["id"], in_b["id"]}
    everything = client.get("/calendars/", params={"locationId": loc})
    assert {c["id"] for c in everything.body["calendars"]} == {in_a["id"], in_b["id"], outside["id"]}

    booked = {}
    for cal in (in_a, in_b, outside):
        reply = client.post(
            "/calendars/events/appointments",
            {
                "calendarId": cal["id"],
                "locationId": loc,
                "contactId": "c",
                "startTime": "2027-03-08T10:00:00+01:00",
            },
        )
        assert reply.status == 200, reply.body
        booked[cal["id"]] = reply.body["id"]
    events = client.get(
        "/calendars/events",
        params={
            "locationId": loc,
            "groupId": group["id"],
            "startTime": ms("2027-03-08T00:00:00+01:00"),
            "endTime": ms("2027-03-09T00:00:00+01:00"),
        },
    )
    assert events.status == 200, events.body
    assert {e["id"] for e in events.body["events"]} == {booked[in_a["id"]], booked[in_b["id"]]}
    assert {e["groupId"] for e in events.body["events"]} == {group["id"]}


# -- 404, tenancy and scopes ----------------------------------------------------------------------------


def test_unknown_group_is_404(client):
    body = {"name": "N", "description": "", "slug": "s"}
    assert client.put(f"{GROUPS}/nope", body).status == 404
    assert client.put(f"{GROUPS}/nope/status", {"isActive": False}).status == 404
    reply = client.delete(f"{GROUPS}/nope")
    assert reply.status == 404
    assert reply.body["statusCode"] == 404


def test_another_locations_groups_are_invisible(client, tenant, other_tenant):
    other_loc, other = other_tenant
    group = create(client, tenant.location_id, "shared-slug")
    # Its ids answer 404 to the other tenant, and nothing changes
    assert other.put(f"{GROUPS}/{group['id']}", {"name": "x", "description": "", "slug": "x"}).status == 404
    assert other.put(f"{GROUPS}/{group['id']}/status", {"isActive": False}).status == 404
    assert other.delete(f"{GROUPS}/{group['id']}").status == 404
    assert list_groups(client, tenant.location_id) == [group]
    # Naming another location is 403; its own list is empty
    assert other.get(GROUPS, params={"locationId": tenant.location_id}).status == 403
    assert (
        other.post(f"{GROUPS}/validate-slug", {"locationId": tenant.location_id, "slug": "a"}).status == 403
    )
    foreign = {"locationId": tenant.location_id, "name": "G", "description": "", "slug": "g"}
    assert other.post(GROUPS, foreign).status == 403
    assert list_groups(other, other_loc) == []
    # Slugs are unique per location only
    assert slug_available(other, other_loc, "shared-slug") is True
    assert create(other, other_loc, "shared-slug")["slug"] == "shared-slug"


def test_scopes_are_the_references(client, tenant):
    tenancy = container.services().tenancy
    group = create(client, tenant.location_id)
    loc = tenant.location_id
    _, calendars_only = tenancy.create_api_key(loc, "c", ["calendars.readonly", "calendars.write"])
    _, read_only = tenancy.create_api_key(loc, "r", ["calendars/groups.readonly"])
    assert Client(calendars_only).get(GROUPS, params={"locationId": loc}).status == 401
    reader = Client(read_only)
    assert reader.get(GROUPS, params={"locationId": loc}).status == 200
    writes = [
        ("POST", GROUPS, {"locationId": loc, "name": "G", "description": "", "slug": "other"}),
        ("POST", f"{GROUPS}/validate-slug", {"locationId": loc, "slug": "other"}),
        ("PUT", f"{GROUPS}/{group['id']}", {"name": "G", "description": "", "slug": "other"}),
        ("PUT", f"{GROUPS}/{group['id']}/status", {"isActive": False}),
        ("DELETE", f"{GROUPS}/{group['id']}", None),
    ]
    for method, path, body in writes:
        denied = reader.request(method, path, json_body=body)
        assert denied.status == 401, (method, path)
        assert denied.body["message"] == "The token is not authorized for this scope."
    assert list_groups(client, loc) == [group]
