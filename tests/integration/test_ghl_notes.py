"""GoHighLevel appointment notes through the handlers: CRUD, newest-first paging, validation,
404s, tenancy, scopes and response shapes.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import Client, make_calendar
from tests.integration.test_reference_schemas import check

NOTES = "/calendars/appointments/{appointmentId}/notes"
NOTE = "/calendars/appointments/{appointmentId}/notes/{noteId}"


@pytest.fixture
def appointment(client: Client, tenant: Any) -> dict[str, Any]:
    cal = make_calendar(client, tenant.location_id)
    reply = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "contact-7",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    )
    assert reply.status == 200, reply.body
    return reply.body


def notes_path(appointment_id: str) -> str:
    return f"/calendars/appointments/{appointment_id}/notes"


def add(client: Client, appointment_id: str, body: str, **fields: Any) -> dict[str, Any]:
    reply = client.post(notes_path(appointment_id), {"body": body, **fields})
    return check(reply, NOTES, "post", 201)["note"]


def page(client: Client, appointment_id: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    reply = client.get(notes_path(appointment_id), params={"limit": limit, "offset": offset})
    return check(reply, NOTES, "get", 200)


def test_note_lifecycle_and_shapes(client, appointment, clock):
    appt = appointment["id"]
    # Given a note written by a user
    note = add(client, appt, "Bring the contract", userId="user-1")
    assert note == {
        "id": note["id"],
        "body": "Bring the contract",
        "userId": "user-1",
        "contactId": "contact-7",
        "dateAdded": "2027-03-01T08:00:00.000Z",
        "createdBy": {"id": "user-1"},
    }
    assert page(client, appt) == {"notes": [note], "hasMore": False}
    # When another user edits it later
    clock.now += timedelta(hours=1)
    edited = client.put(
        f"{notes_path(appt)}/{note['id']}", {"body": "Bring both contracts", "userId": "user-2"}
    )
    body = check(edited, NOTE, "put", 200)["note"]
    # Then the body and user change; creator, contact and creation date stay
    assert body == {**note, "body": "Bring both contracts", "userId": "user-2"}
    # An edit naming no user keeps the last one
    again = client.put(f"{notes_path(appt)}/{note['id']}", {"body": "Done"})
    assert again.body["note"] == {**body, "body": "Done"}
    assert page(client, appt)["notes"] == [again.body["note"]]
    # When deleting it
    deleted = client.delete(f"{notes_path(appt)}/{note['id']}")
    assert check(deleted, NOTE, "delete", 200) == {"success": True}
    assert page(client, appt) == {"notes": [], "hasMore": False}
    assert client.delete(f"{notes_path(appt)}/{note['id']}").status == 404
    assert client.put(f"{notes_path(appt)}/{note['id']}", {"body": "x"}).status == 404


def test_note_without_user_has_no_creator(client, appointment):
    note = add(client, appointment["id"], "anonymous")
    assert "userId" not in note and "createdBy" not in note
    assert note["contactId"] == "contact-7"


def test_notes_list_newest_first_with_offset_limit_and_has_more(client, appointment, clock):
    appt = appointment["id"]
    ids = []
    for i in range(5):
        ids.append(add(client, appt, f"note {i}")["id"])
        clock.now += timedelta(seconds=1)
    newest_first = list(reversed(ids))
    first = page(client, appt, limit=2, offset=0)
    assert [n["id"] for n in first["notes"]] == newest_first[:2] and first["hasMore"] is True
    second = page(client, appt, limit=2, offset=2)
    assert [n["id"] for n in second["notes"]] == newest_first[2:4] and second["hasMore"] is True
    last = page(client, appt, limit=2, offset=4)
    assert [n["id"] for n in last["notes"]] == newest_first[4:] and last["hasMore"] is False
    assert page(client, appt, limit=5, offset=0)["hasMore"] is False
    assert page(client, appt, limit=20, offset=5) == {"notes": [], "hasMore": False}
    assert [n["body"] for n in page(client, appt)["notes"]] == [f"note {i}" for i in (4, 3, 2, 1, 0)]


def test_notes_of_one_appointment_are_not_another_ones(client, tenant, appointment):
    cal = make_calendar(client, tenant.location_id, name="Second", teamMembers=[{"userId": "host-2"}])
    other = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    ).body
    note = add(client, appointment["id"], "mine")
    assert page(client, other["id"])["notes"] == []
    # The note id under the wrong appointment is unknown
    assert client.put(f"{notes_path(other['id'])}/{note['id']}", {"body": "x"}).status == 404
    assert client.delete(f"{notes_path(other['id'])}/{note['id']}").status == 404
    assert page(client, appointment["id"])["notes"] == [note]


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 0},  # limit missing
        {"limit": 10},  # offset missing
        {"limit": 21, "offset": 0},
        {"limit": 0, "offset": 0},
        {"limit": 10, "offset": -1},
        {"limit": "ten", "offset": 0},
    ],
)
def test_paging_parameters_are_validated(client, appointment, params):
    reply = client.get(notes_path(appointment["id"]), params=params)
    assert reply.status == 422, reply.body
    assert reply.body["error"] == "Unprocessable Entity"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"userId": "u"},
        {"body": ""},
        {"body": "   \n"},
        {"body": "x" * 5001},
        {"body": 42},
        {"body": "ok", "color": "red"},
        {"body": "ok", "userId": "u" * 129},
    ],
)
def test_note_body_validation_is_422_and_stores_nothing(client, appointment, body):
    appt = appointment["id"]
    assert client.post(notes_path(appt), body).status == 422
    note = add(client, appt, "original")
    assert client.put(f"{notes_path(appt)}/{note['id']}", body).status == 422
    assert page(client, appt)["notes"] == [note]


def test_longest_body_is_accepted(client, appointment):
    assert len(add(client, appointment["id"], "é" * 5000)["body"]) == 5000


def test_unknown_appointment_or_block_slot_is_404(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    block = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "startTime": "2027-03-09T10:00:00+01:00",
            "endTime": "2027-03-09T11:00:00+01:00",
        },
    )
    assert block.status == 201, block.body
    for appt in ("nope", block.body["id"]):
        assert client.get(notes_path(appt), params={"limit": 10, "offset": 0}).status == 404
        assert client.post(notes_path(appt), {"body": "x"}).status == 404
        assert client.put(f"{notes_path(appt)}/n1", {"body": "x"}).status == 404
        reply = client.delete(f"{notes_path(appt)}/n1")
        assert reply.status == 404
        assert reply.body["statusCode"] == 404


def test_another_locations_notes_are_invisible(client, appointment):
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "UTC")
    _, token = tenancy.create_api_key(
        location.id, "k", ["calendars/events.readonly", "calendars/events.write"]
    )
    other = Client(token)
    appt = appointment["id"]
    note = add(client, appt, "private")
    assert other.get(notes_path(appt), params={"limit": 10, "offset": 0}).status == 404
    assert other.post(notes_path(appt), {"body": "x"}).status == 404
    assert other.put(f"{notes_path(appt)}/{note['id']}", {"body": "x"}).status == 404
    assert other.delete(f"{notes_path(appt)}/{note['id']}").status == 404
    assert page(client, appt)["notes"] == [note]


def test_scopes_are_the_references(client, tenant, appointment):
    tenancy = container.services().tenancy
    appt = appointment["id"]
    note = add(client, appt, "keep me")
    _, calendars_only = tenancy.create_api_key(
        tenant.location_id, "c", ["calendars.readonly", "calendars.write"]
    )
    _, read_only = tenancy.create_api_key(tenant.location_id, "r", ["calendars/events.readonly"])
    params = {"limit": 10, "offset": 0}
    assert Client(calendars_only).get(notes_path(appt), params=params).status == 401
    reader = Client(read_only)
    assert reader.get(notes_path(appt), params=params).status == 200
    for method, path, body in (
        ("POST", notes_path(appt), {"body": "x"}),
        ("PUT", f"{notes_path(appt)}/{note['id']}", {"body": "x"}),
        ("DELETE", f"{notes_path(appt)}/{note['id']}", None),
    ):
        denied = reader.request(method, path, json_body=body)
        assert denied.status == 401, method
        assert denied.body["message"] == "The token is not authorized for this scope."
    assert page(client, appt)["notes"] == [note]
