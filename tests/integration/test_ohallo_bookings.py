"""oHallo bookings and connection free slots over HTTP (reference/seeds/000; the issue's
booking creation, reschedule and cancel): the seed's booking shape, bookings only in free
working time (outside hours, a blocked date, an overlap or the buffer → 409), cancel frees the
time, free slots leave out booked time plus ``bufferMinutes``, validation → 400 naming the
field, other workspaces → 404.

The connection is the seed's (Mon-Thu 09:00-17:00, Fri 09:00-16:00 Europe/Copenhagen, 15 min
buffer); tests run at 2027-03-01T08:00Z, a Monday (09:00 in Copenhagen, UTC+1 until 28 March).
"""

from __future__ import annotations

from typing import Any

import pytest

from localdev.fake_providers.google import FakeGoogle
from tests.conftest import Tenant
from tests.integration.conftest import Client
from tests.integration.ohallo_support import (
    SEED_BOOKING,
    SEED_BOOKING_LIST,
    SEED_ERROR,
    connect_seed,
    google_fixture,  # noqa: F401 - the `google` fixture
    key_with,
    ohallo,
    other_tenant,
)

TUESDAY = "2027-03-02"
SEED_FIELDS = {
    "title": "Product demo -- Nordic Parts",
    "contactId": "f7e8d9c0-b1a2-3456-7890-abcdef123456",
    "contactName": "Henrik Larsen",
    "contactEmail": "henrik@nordic-parts.dk",
    "conversationId": "c9f8e7d6-b5a4-3210-fedc-ba9876543210",
    "timezone": "Europe/Copenhagen",
}


@pytest.fixture
def api(tenant: Tenant) -> Client:
    return ohallo(tenant.token)


@pytest.fixture
def connection(api: Client, tenant: Tenant, google: FakeGoogle) -> dict[str, Any]:
    return connect_seed(api, tenant.location_id, google)


def book(
    api: Client, tenant: Tenant, connection_id: str, start: str, end: str | None = None, **fields: Any
) -> Any:
    body = {"calendarConnectionId": connection_id, "startTime": start, **fields}
    if end is not None:
        body["endTime"] = end
    return api.post(f"/api/workspaces/{tenant.location_id}/bookings", body)


def starts(api: Client, connection_id: str, day: str = TUESDAY, **params: Any) -> list[str]:
    reply = api.get(
        f"/api/calendar-connections/{connection_id}/free-slots",
        params={"startDate": day, "endDate": day, **params},
    )
    assert reply.status == 200, reply.body
    return [s["startTime"] for s in reply.body["items"]]


def _patch_config(api: Client, connection_id: str, **config: Any) -> None:
    reply = api.request(
        "PATCH", f"/api/calendar-connections/{connection_id}", json_body={"bookingConfig": config}
    )
    assert reply.status == 200, reply.body


# -- the seed's shapes --------------------------------------------------------------------------


def test_seed_booking_create_get_and_list(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    cid = connection["id"]
    created = book(api, tenant, cid, "2027-03-02T10:00:00.000Z", "2027-03-02T10:30:00.000Z", **SEED_FIELDS)
    assert created.status == 201, created.body
    booking = created.body
    assert set(booking) == set(SEED_BOOKING)
    assert all(isinstance(v, str) for v in booking.values()), booking  # every seed field is a string
    assert {k: booking[k] for k in SEED_FIELDS} == SEED_FIELDS
    assert (booking["calendarConnectionId"], booking["status"]) == (cid, "confirmed")
    assert (booking["startTime"], booking["endTime"]) == (
        "2027-03-02T10:00:00.000Z",
        "2027-03-02T10:30:00.000Z",
    )
    assert booking["createdAt"] == "2027-03-01T08:00:00.000Z"

    assert api.get(f"/api/bookings/{booking['id']}").body == booking
    # The seed's request: GET .../bookings?calendarConnectionId=<id>
    listed = api.get(f"/api/workspaces/{tenant.location_id}/bookings?calendarConnectionId={cid}")
    assert listed.status == 200
    assert set(listed.body) == set(SEED_BOOKING_LIST)
    assert listed.body == {"items": [booking], "total": 1}


def test_minimal_booking_has_nulls_not_gaps(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    reply = book(api, tenant, connection["id"], "2027-03-02T11:00:00+01:00")
    assert reply.status == 201, reply.body
    booking = reply.body
    assert set(booking) == set(SEED_BOOKING)
    assert (booking["startTime"], booking["endTime"]) == (
        "2027-03-02T10:00:00.000Z",
        "2027-03-02T10:30:00.000Z",
    )
    for field in ("conversationId", "contactId", "contactName", "contactEmail"):
        assert booking[field] is None, field
    assert booking["timezone"] == "Europe/Copenhagen"  # the connection's zone


def test_empty_booking_list_and_free_slots_shape(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    listed = api.get(
        f"/api/workspaces/{tenant.location_id}/bookings", params={"calendarConnectionId": connection["id"]}
    )
    assert (listed.status, listed.body) == (200, {"items": [], "total": 0})
    reply = api.get(
        f"/api/calendar-connections/{connection['id']}/free-slots",
        params={"startDate": TUESDAY, "endDate": TUESDAY},
    )
    assert reply.status == 200
    assert set(reply.body) == {"items", "total", "timezone"}
    assert reply.body["timezone"] == "Europe/Copenhagen"
    assert reply.body["total"] == len(reply.body["items"]) > 0
    assert set(reply.body["items"][0]) == {"startTime", "endTime"}
    first = reply.body["items"][0]
    assert (first["startTime"], first["endTime"]) == ("2027-03-02T08:00:00.000Z", "2027-03-02T08:30:00.000Z")
    assert all(s["startTime"].startswith(TUESDAY) for s in reply.body["items"])


# -- only free working time ---------------------------------------------------------------------


def test_booking_in_working_hours_is_201_and_outside_is_409(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    cid = connection["id"]
    for start in (
        "2027-03-02T07:30:00Z",  # 08:30 Copenhagen: before opening
        "2027-03-02T15:45:00Z",  # 16:45-17:15: runs past closing
        "2027-03-05T15:00:00Z",  # Friday 16:00: Fridays close at 16:00
        "2027-03-06T10:00:00Z",  # Saturday: no working hours
    ):
        reply = book(api, tenant, cid, start)
        assert reply.status == 409, (start, reply.body)
        assert set(reply.body) == {"error"}
    assert book(api, tenant, cid, "2027-03-02T08:00:00Z").status == 201  # 09:00 sharp
    listed = api.get(f"/api/workspaces/{tenant.location_id}/bookings?calendarConnectionId={cid}").body
    assert listed["total"] == 1


def test_blocked_date_is_409_and_has_no_slots(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    cid = connection["id"]
    assert "2027-03-03T10:00:00.000Z" in starts(api, cid, "2027-03-03")
    _patch_config(api, cid, blockedDates=["2027-03-03"])
    reply = book(api, tenant, cid, "2027-03-03T10:00:00Z")
    assert reply.status == 409 and set(reply.body) == {"error"}
    assert starts(api, cid, "2027-03-03") == []
    assert book(api, tenant, cid, "2027-03-04T10:00:00Z").status == 201


def test_overlap_and_buffer_are_409_cancel_frees_the_slot(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    cid = connection["id"]
    first = book(api, tenant, cid, "2027-03-02T10:00:00Z")
    assert first.status == 201
    for start, end in (
        ("2027-03-02T10:00:00Z", None),  # the same time
        ("2027-03-02T09:45:00Z", "2027-03-02T10:15:00Z"),  # overlapping its start
        ("2027-03-02T10:15:00Z", "2027-03-02T10:45:00Z"),  # overlapping its end
        ("2027-03-02T10:30:00Z", "2027-03-02T11:00:00Z"),  # inside its 15-minute buffer
    ):
        reply = book(api, tenant, cid, start, end)
        assert reply.status == 409, (start, end, reply.body)
    assert book(api, tenant, cid, "2027-03-02T10:45:00Z").status == 201  # after the buffer

    cancelled = api.post(f"/api/bookings/{first.body['id']}/cancel")
    assert cancelled.status == 200
    assert cancelled.body == {**first.body, "status": "cancelled"}
    assert api.post(f"/api/bookings/{first.body['id']}/cancel").body["status"] == "cancelled"  # idempotent
    again = book(api, tenant, cid, "2027-03-02T10:00:00Z")
    assert again.status == 201, again.body
    listed = api.get(f"/api/workspaces/{tenant.location_id}/bookings?calendarConnectionId={cid}").body
    assert sorted(b["status"] for b in listed["items"]) == ["cancelled", "confirmed", "confirmed"]


def test_free_slots_leave_out_booked_time_and_buffer(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    cid = connection["id"]
    before = starts(api, cid)
    for t in ("09:30", "10:00", "10:30", "11:00"):
        assert f"{TUESDAY}T{t}:00.000Z" in before, t
    booking = book(api, tenant, cid, "2027-03-02T10:00:00Z").body
    after = starts(api, cid)
    assert f"{TUESDAY}T10:00:00.000Z" not in after  # booked
    assert f"{TUESDAY}T10:30:00.000Z" not in after  # the booking's 15-minute buffer
    assert f"{TUESDAY}T09:30:00.000Z" not in after  # a slot needs its own buffer before the booking
    assert f"{TUESDAY}T11:00:00.000Z" in after

    # Without a buffer a slot may end where a booking starts, and one made now leaves none after
    _patch_config(api, cid, bufferMinutes=0)
    no_buffer = starts(api, cid)
    assert f"{TUESDAY}T10:00:00.000Z" not in no_buffer
    assert f"{TUESDAY}T09:30:00.000Z" in no_buffer
    assert book(api, tenant, cid, "2027-03-02T13:00:00Z").status == 201
    assert f"{TUESDAY}T13:30:00.000Z" in starts(api, cid)
    assert f"{TUESDAY}T13:00:00.000Z" not in starts(api, cid)

    api.post(f"/api/bookings/{booking['id']}/cancel")
    assert f"{TUESDAY}T10:00:00.000Z" in starts(api, cid)


def test_free_slots_ranges_and_parameters(api: Client, connection: dict[str, Any]) -> None:
    cid = connection["id"]
    path = f"/api/calendar-connections/{cid}/free-slots"
    # Whole local days: Tuesday and Wednesday, endDate included
    two_days = api.get(path, params={"startDate": TUESDAY, "endDate": "2027-03-03"}).body["items"]
    assert {s["startTime"][:10] for s in two_days} == {TUESDAY, "2027-03-03"}
    # ISO instants are taken as given
    window = api.get(path, params={"startDate": "2027-03-02T10:00:00Z", "endDate": "2027-03-02T11:00:00Z"})
    assert [s["startTime"] for s in window.body["items"]] == [
        "2027-03-02T10:00:00.000Z",
        "2027-03-02T10:30:00.000Z",
        "2027-03-02T11:00:00.000Z",
    ]
    hourly = api.get(path, params={"startDate": TUESDAY, "endDate": TUESDAY, "duration": 60}).body["items"]
    assert hourly[0] == {"startTime": "2027-03-02T08:00:00.000Z", "endTime": "2027-03-02T09:00:00.000Z"}
    assert hourly[1]["startTime"] == "2027-03-02T09:00:00.000Z"
    quarter = api.get(path, params={"startDate": TUESDAY, "endDate": TUESDAY, "duration": 60, "interval": 15})
    assert quarter.body["items"][1]["startTime"] == "2027-03-02T08:15:00.000Z"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"endDate": TUESDAY}, "startDate is required"),
        ({"startDate": TUESDAY}, "endDate is required"),
        ({"startDate": "2027-02-30", "endDate": TUESDAY}, "startDate"),
        ({"startDate": "yesterday", "endDate": TUESDAY}, "startDate"),
        ({"startDate": TUESDAY, "endDate": "2027-03-01"}, "endDate"),
        ({"startDate": TUESDAY, "endDate": "2027-05-02"}, "31 days"),
        ({"startDate": TUESDAY, "endDate": TUESDAY, "duration": 3}, "duration"),
        ({"startDate": TUESDAY, "endDate": TUESDAY, "duration": "half"}, "duration"),
        ({"startDate": TUESDAY, "endDate": TUESDAY, "interval": 100000}, "interval"),
    ],
)
def test_free_slots_refusals(
    api: Client, connection: dict[str, Any], params: dict[str, Any], needle: str
) -> None:
    reply = api.get(f"/api/calendar-connections/{connection['id']}/free-slots", params=params)
    assert reply.status == 400, reply.body
    assert set(reply.body) == {"error"} and needle in reply.body["error"], reply.body


# -- reschedule -----------------------------------------------------------------------------------


def test_reschedule_moves_the_booking(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    cid = connection["id"]
    booking = book(api, tenant, cid, "2027-03-02T10:00:00Z", **SEED_FIELDS).body
    other = book(api, tenant, cid, "2027-03-02T14:00:00Z").body
    path = f"/api/bookings/{booking['id']}"

    moved = api.request("PATCH", path, json_body={"startTime": "2027-03-02T13:00:00Z"})
    assert moved.status == 200, moved.body
    assert moved.body == {
        **booking,
        "startTime": "2027-03-02T13:00:00.000Z",
        "endTime": "2027-03-02T13:30:00.000Z",  # same length
    }
    assert f"{TUESDAY}T10:00:00.000Z" in starts(api, cid)  # the old time is free again
    for body in (
        {"startTime": "2027-03-02T14:00:00Z"},  # taken by the other booking
        {"startTime": "2027-03-02T17:00:00Z"},  # 18:00 Copenhagen: after hours
        {"startTime": "2027-03-02T13:00:00Z", "endTime": "2027-03-02T14:00:00Z"},  # into the other
    ):
        reply = api.request("PATCH", path, json_body=body)
        assert reply.status == 409, (body, reply.body)
    assert api.get(path).body == moved.body

    longer = api.request(
        "PATCH", path, json_body={"startTime": "2027-03-02T11:00:00Z", "endTime": "2027-03-02T12:00:00Z"}
    )
    assert (longer.status, longer.body["endTime"]) == (200, "2027-03-02T12:00:00.000Z")

    api.post(f"/api/bookings/{other['id']}/cancel")
    reply = api.request(
        "PATCH", f"/api/bookings/{other['id']}", json_body={"startTime": "2027-03-02T15:00:00Z"}
    )
    assert reply.status in (400, 409) and set(reply.body) == {"error"}  # a cancelled booking stays put


# -- validation, auth, tenants ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"startTime": "2027-03-02T10:00:00Z"}, "calendarConnectionId is required"),
        ({"calendarConnectionId": "{cid}"}, "startTime is required"),
        ({"calendarConnectionId": "{cid}", "startTime": "2027-03-02T11:00:00"}, "startTime"),  # no offset
        ({"calendarConnectionId": "{cid}", "startTime": "next tuesday"}, "startTime"),
        ({"calendarConnectionId": "{cid}", "startTime": 1804327200000}, "startTime"),
        (
            {
                "calendarConnectionId": "{cid}",
                "startTime": "2027-03-02T10:00:00Z",
                "endTime": "2027-03-02T09:00:00Z",
            },
            "endTime must be after startTime",
        ),
        (
            {"calendarConnectionId": "{cid}", "startTime": "2027-03-02T10:00:00Z", "foo": 1},
            "unknown field 'foo'",
        ),
        (
            {"calendarConnectionId": "{cid}", "startTime": "2027-03-02T10:00:00Z", "timezone": "Nowhere"},
            "timezone",
        ),
        (
            {"calendarConnectionId": "{cid}", "startTime": "2027-03-02T10:00:00Z", "contactEmail": "henrik"},
            "contactEmail",
        ),
        ({"calendarConnectionId": "{cid}", "startTime": "2027-03-02T10:00:00Z", "title": 5}, "title"),
        ({"calendarConnectionId": "", "startTime": "2027-03-02T10:00:00Z"}, "calendarConnectionId"),
    ],
)
def test_booking_validation_is_400_and_books_nothing(
    api: Client, tenant: Tenant, connection: dict[str, Any], body: dict[str, Any], needle: str
) -> None:
    body = {k: (v.replace("{cid}", connection["id"]) if isinstance(v, str) else v) for k, v in body.items()}
    reply = api.post(f"/api/workspaces/{tenant.location_id}/bookings", body)
    assert reply.status == 400, reply.body
    assert set(reply.body) == {"error"} and needle in reply.body["error"], reply.body
    listed = api.get(f"/api/workspaces/{tenant.location_id}/bookings?calendarConnectionId={connection['id']}")
    assert listed.body["total"] == 0


def test_list_needs_a_connection_and_unknown_ids_are_404(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    reply = api.get(f"/api/workspaces/{tenant.location_id}/bookings")
    assert (reply.status, reply.body) == (400, {"error": "calendarConnectionId is required"})
    unknown = "00000000-0000-4000-8000-000000000000"
    reply = api.get(f"/api/workspaces/{tenant.location_id}/bookings?calendarConnectionId={unknown}")
    assert (reply.status, reply.body) == (404, {"error": "Calendar connection not found"})
    reply = book(api, tenant, unknown, "2027-03-02T10:00:00Z")
    assert (reply.status, reply.body) == (404, {"error": "Calendar connection not found"})
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/cancel")):
        body = {"startTime": "2027-03-02T10:00:00Z"} if method == "PATCH" else None
        reply = api.request(method, f"/api/bookings/{unknown}{suffix}", json_body=body)
        assert (reply.status, reply.body) == (404, {"error": "Booking not found"}), method
        assert set(reply.body) == set(SEED_ERROR)


def test_other_workspace_cannot_see_or_touch_bookings(
    api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    booking = book(api, tenant, connection["id"], "2027-03-02T10:00:00Z").body
    other = other_tenant()
    theirs = ohallo(other.token)
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"startTime": "2027-03-02T13:00:00Z"}),
        ("POST", "/cancel", None),
    ):
        reply = theirs.request(method, f"/api/bookings/{booking['id']}{suffix}", json_body=body)
        assert (reply.status, reply.body) == (404, {"error": "Booking not found"}), method
    reply = theirs.post(
        f"/api/workspaces/{other.location_id}/bookings",
        {"calendarConnectionId": connection["id"], "startTime": "2027-03-02T11:00:00Z"},
    )
    assert (reply.status, reply.body) == (404, {"error": "Calendar connection not found"})
    reply = theirs.get(
        f"/api/workspaces/{other.location_id}/bookings?calendarConnectionId={connection['id']}"
    )
    assert reply.status == 404
    reply = theirs.post(
        f"/api/workspaces/{tenant.location_id}/bookings",
        {"calendarConnectionId": connection["id"], "startTime": "2027-03-02T11:00:00Z"},
    )
    assert (reply.status, reply.body) == (404, {"error": "Workspace not found"})
    assert api.get(f"/api/bookings/{booking['id']}").body == booking


def test_booking_scopes(tenant: Tenant, connection: dict[str, Any]) -> None:
    reader = ohallo(key_with(tenant.location_id, ["calendar:read"]))
    body = {"calendarConnectionId": connection["id"], "startTime": "2027-03-02T10:00:00Z"}
    assert reader.post(f"/api/workspaces/{tenant.location_id}/bookings", body).status == 403
    writer = ohallo(key_with(tenant.location_id, ["calendar:write"]))
    made = writer.post(f"/api/workspaces/{tenant.location_id}/bookings", body)
    assert made.status == 201
    assert reader.get(f"/api/bookings/{made.body['id']}").status == 200
    assert writer.get(f"/api/bookings/{made.body['id']}").status == 403
    assert reader.post(f"/api/bookings/{made.body['id']}/cancel").status == 403
    assert ohallo(None).get(f"/api/bookings/{made.body['id']}").status == 401
    assert reader.get(f"/api/bookings/{made.body['id']}").body["status"] == "confirmed"
