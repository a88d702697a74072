"""GoHighLevel calendar notification settings through the handlers: batch create, list filters and
paging, partial update, soft delete, every validation rule, 404s, tenancy, scopes and shapes;
and the store read the reminder service will use.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import Client, make_calendar
from tests.integration.test_reference_schemas import check

LIST = "/calendars/{calendarId}/notifications"
ONE = "/calendars/{calendarId}/notifications/{notificationId}"

REMINDER = {
    "receiverType": "contact",
    "channel": "email",
    "notificationType": "reminder",
    "subject": "See you soon",
    "body": "Your appointment is tomorrow",
    "beforeTime": [{"timeOffset": 1, "unit": "days"}, {"timeOffset": 2, "unit": "hours"}],
}
CONFIRMATION = {"receiverType": "assignedUser", "channel": "inApp", "notificationType": "confirmation"}


@pytest.fixture
def calendar(client: Client, tenant: Any) -> dict[str, Any]:
    return make_calendar(client, tenant.location_id)


def path(calendar_id: str, notification_id: str | None = None) -> str:
    base = f"/calendars/{calendar_id}/notifications"
    return f"{base}/{notification_id}" if notification_id else base


def create(client: Client, calendar_id: str, *items: dict[str, Any]) -> list[dict[str, Any]]:
    return check(client.post(path(calendar_id), list(items)), LIST, "post", 200)


def listing(client: Client, calendar_id: str, **params: Any) -> list[dict[str, Any]]:
    return check(client.get(path(calendar_id), params=params), LIST, "get", 200)


def get_one(client: Client, calendar_id: str, notification_id: str) -> dict[str, Any]:
    return check(client.get(path(calendar_id, notification_id)), ONE, "get", 200)


# -- happy paths and shapes --------------------------------------------------------------------------


def test_create_a_batch_then_list_and_find(client, calendar):
    cal = calendar["id"]
    reminder, confirmation = create(
        client, cal, REMINDER, {**CONFIRMATION, "selectedUsers": ["u1", "sub_account_admin"]}
    )
    assert reminder == {
        "_id": reminder["_id"],
        "receiverType": "contact",
        "channel": "email",
        "notificationType": "reminder",
        "isActive": True,
        "deleted": False,
        "subject": "See you soon",
        "body": "Your appointment is tomorrow",
        "beforeTime": [{"timeOffset": 1, "unit": "days"}, {"timeOffset": 2, "unit": "hours"}],
        "afterTime": [],
        "additionalEmailIds": [],
        "additionalPhoneNumbers": [],
        "selectedUsers": [],
    }
    assert confirmation["selectedUsers"] == ["u1", "sub_account_admin"]
    assert confirmation["_id"] != reminder["_id"]
    assert listing(client, cal) == [reminder, confirmation]
    assert get_one(client, cal, reminder["_id"]) == reminder


def test_every_kind_of_recipient_round_trips(client, calendar):
    cal = calendar["id"]
    items = [
        {
            "receiverType": "emails",
            "channel": "email",
            "notificationType": "booked",
            "additionalEmailIds": ["a@example.com", "b@example.org"],
            "templateId": "tpl-1",
            "fromAddress": "desk@example.com",
            "fromName": "Front desk",
        },
        {
            "receiverType": "phoneNumbers",
            "channel": "sms",
            "notificationType": "followup",
            "additionalPhoneNumbers": ["+4512345678"],
            "afterTime": [{"timeOffset": 30, "unit": "mins"}],
            "fromNumber": "+4587654321",
        },
        {
            "receiverType": "guest",
            "channel": "whatsapp",
            "notificationType": "cancellation",
            "isActive": False,
        },
        {
            "receiverType": "business",
            "channel": "email",
            "notificationType": "reschedule",
            "selectedUsers": ["u"],
        },
    ]
    created = create(client, cal, *items)
    assert created[0]["additionalEmailIds"] == ["a@example.com", "b@example.org"]
    assert (created[0]["templateId"], created[0]["fromAddress"], created[0]["fromName"]) == (
        "tpl-1",
        "desk@example.com",
        "Front desk",
    )
    assert created[1]["afterTime"] == [{"timeOffset": 30, "unit": "mins"}]
    assert created[1]["fromNumber"] == "+4587654321"
    assert created[2]["isActive"] is False
    assert listing(client, cal) == created


def test_list_filters_and_pages(client, calendar, clock):
    cal = calendar["id"]
    made = []
    for i in range(4):
        made += create(client, cal, {**CONFIRMATION, "isActive": i % 2 == 0})
        clock.now += timedelta(seconds=1)
    ids = [n["_id"] for n in made]
    assert [n["_id"] for n in listing(client, cal)] == ids
    assert [n["_id"] for n in listing(client, cal, isActive="true")] == ids[0::2]
    assert [n["_id"] for n in listing(client, cal, isActive="false")] == ids[1::2]
    assert [n["_id"] for n in listing(client, cal, limit=2)] == ids[:2]
    assert [n["_id"] for n in listing(client, cal, limit=2, skip=3)] == ids[3:]
    assert listing(client, cal, skip=4) == []
    for bad in ({"limit": 0}, {"limit": 501}, {"skip": -1}, {"limit": "x"}, {"isActive": "perhaps"}):
        assert client.get(path(cal), params=bad).status == 422, bad


def test_partial_update_changes_only_what_is_sent(client, calendar):
    cal = calendar["id"]
    (reminder,) = create(client, cal, REMINDER)
    nid = reminder["_id"]
    reply = client.put(path(cal, nid), {"subject": "Tomorrow!", "isActive": False})
    assert check(reply, ONE, "put", 200) == {"message": "Notification updated successfully"}
    assert get_one(client, cal, nid) == {**reminder, "subject": "Tomorrow!", "isActive": False}
    # "" clears an optional text; [] a list (here replaced by a new one)
    client.put(path(cal, nid), {"subject": "", "beforeTime": [{"timeOffset": 15, "unit": "mins"}]})
    got = get_one(client, cal, nid)
    assert "subject" not in got
    assert got["beforeTime"] == [{"timeOffset": 15, "unit": "mins"}]
    # null keeps a value
    client.put(path(cal, nid), {"body": None})
    assert get_one(client, cal, nid)["body"] == reminder["body"]


def test_changing_the_type_drops_offsets_that_no_longer_apply(client, calendar):
    cal = calendar["id"]
    (reminder,) = create(client, cal, REMINDER)
    nid = reminder["_id"]
    assert client.put(path(cal, nid), {"notificationType": "confirmation"}).status == 200
    got = get_one(client, cal, nid)
    assert (got["notificationType"], got["beforeTime"]) == ("confirmation", [])
    # Back to reminder needs offsets again
    refused = client.put(path(cal, nid), {"notificationType": "reminder"})
    assert refused.status == 422
    assert get_one(client, cal, nid) == got
    ok = client.put(
        path(cal, nid), {"notificationType": "followup", "afterTime": [{"timeOffset": 1, "unit": "days"}]}
    )
    assert ok.status == 200
    assert get_one(client, cal, nid)["afterTime"] == [{"timeOffset": 1, "unit": "days"}]
    # Changing the receiver drops addresses only it used
    (emails,) = create(
        client,
        cal,
        {
            "receiverType": "emails",
            "channel": "email",
            "notificationType": "booked",
            "additionalEmailIds": ["a@b.co"],
        },
    )
    assert client.put(path(cal, emails["_id"]), {"receiverType": "contact"}).status == 200
    assert get_one(client, cal, emails["_id"])["additionalEmailIds"] == []


def test_invalid_update_is_422_and_changes_nothing(client, calendar):
    cal = calendar["id"]
    (reminder,) = create(client, cal, REMINDER)
    for body in (
        {"channel": "inApp"},  # inApp cannot reach a contact
        {"afterTime": [{"timeOffset": 1, "unit": "days"}]},
        {"beforeTime": []},
        {"receiverType": "emails"},
        {"channel": "fax"},
        {"deleted": "perhaps"},
        {"unknown": 1},
    ):
        reply = client.put(path(cal, reminder["_id"]), body)
        assert reply.status == 422, (body, reply.body)
    assert get_one(client, cal, reminder["_id"]) == reminder


def test_soft_delete_hides_from_default_listing_and_can_be_undone(client, calendar):
    cal = calendar["id"]
    kept, gone = create(client, cal, REMINDER, CONFIRMATION)
    reply = client.delete(path(cal, gone["_id"]))
    assert check(reply, ONE, "delete", 200) == {"message": "Notification deleted successfully"}
    assert listing(client, cal) == [kept]
    assert listing(client, cal, deleted="false") == [kept]
    assert listing(client, cal, deleted="true") == [{**gone, "deleted": True}]
    assert get_one(client, cal, gone["_id"])["deleted"] is True
    # Deleting again is harmless
    assert client.delete(path(cal, gone["_id"])).status == 200
    # PUT deleted=false restores it, deleted=true soft-deletes it again
    assert client.put(path(cal, gone["_id"]), {"deleted": False}).status == 200
    assert listing(client, cal) == [kept, gone]
    assert client.put(path(cal, kept["_id"]), {"deleted": True}).status == 200
    assert listing(client, cal) == [gone]


def test_store_lists_only_active_live_settings_for_delivery(client, tenant, calendar):
    cal = calendar["id"]
    live, _inactive, deleted = create(
        client, cal, REMINDER, {**CONFIRMATION, "isActive": False}, CONFIRMATION
    )
    client.delete(path(cal, deleted["_id"]))
    other_cal = make_calendar(client, tenant.location_id, name="Other")
    create(client, other_cal["id"], CONFIRMATION)
    active = container.services().store.active_notifications(tenant.location_id, cal)
    assert [s.id for s in active] == [live["_id"]]
    assert [o.seconds() for o in active[0].before] == [86400, 7200]


# -- validation rules ------------------------------------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    item = {**CONFIRMATION, "receiverType": "contact", "channel": "email"}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_with(receiverType="everyone"), "receiverType"),
        (_with(channel="fax"), "channel"),
        (_with(notificationType="birthday"), "notificationType"),
        (_with(receiverType=None), "receiverType"),
        (_with(beforeTime=[{"timeOffset": 1, "unit": "hours"}]), "beforeTime is only allowed"),
        (_with(notificationType="reminder"), "beforeTime must have at least one"),
        (_with(afterTime=[{"timeOffset": 1, "unit": "hours"}]), "afterTime is only allowed"),
        (_with(notificationType="followup"), "afterTime must have at least one"),
        (
            _with(notificationType="reminder", beforeTime=[{"timeOffset": 0, "unit": "hours"}]),
            "greater than 0",
        ),
        (
            _with(notificationType="reminder", beforeTime=[{"timeOffset": -5, "unit": "mins"}]),
            "greater than 0",
        ),
        (_with(notificationType="reminder", beforeTime=[{"timeOffset": 1.5, "unit": "hours"}]), "timeOffset"),
        (_with(notificationType="reminder", beforeTime=[{"timeOffset": 1, "unit": "weeks"}]), "unit"),
        (_with(notificationType="reminder", beforeTime=[{"timeOffset": 1}]), "unit"),
        (
            _with(notificationType="followup", afterTime=[{"timeOffset": 31, "unit": "days"}]),
            "at most 30 days",
        ),
        (
            _with(
                notificationType="reminder",
                beforeTime=[{"timeOffset": 1, "unit": "hours"}, {"timeOffset": 60, "unit": "mins"}],
            ),
            "repeats",
        ),
        (
            _with(
                notificationType="reminder",
                beforeTime=[{"timeOffset": i, "unit": "mins"} for i in range(1, 12)],
            ),
            "beforeTime",
        ),
        (_with(receiverType="emails"), "additionalEmailIds must have at least one"),
        (_with(receiverType="emails", additionalEmailIds=["not-an-address"]), "additionalEmailIds"),
        (_with(receiverType="emails", additionalEmailIds=["a@b.co", "A@b.co"]), "duplicates"),
        (
            _with(receiverType="emails", additionalEmailIds=[f"u{i}@b.co" for i in range(21)]),
            "additionalEmailIds",
        ),
        (_with(additionalEmailIds=["a@b.co"]), "additionalEmailIds is only allowed"),
        (_with(receiverType="phoneNumbers", channel="sms"), "additionalPhoneNumbers must have at least one"),
        (
            _with(receiverType="phoneNumbers", channel="sms", additionalPhoneNumbers=["12345678"]),
            "additionalPhone",
        ),
        (
            _with(receiverType="phoneNumbers", channel="sms", additionalPhoneNumbers=["+12"]),
            "additionalPhone",
        ),
        (
            _with(channel="sms", additionalPhoneNumbers=["+4512345678"]),
            "additionalPhoneNumbers is only allowed",
        ),
        (_with(receiverType="emails", channel="sms", additionalEmailIds=["a@b.co"]), "cannot reach"),
        (_with(receiverType="emails", channel="whatsapp", additionalEmailIds=["a@b.co"]), "cannot reach"),
        (_with(receiverType="phoneNumbers", additionalPhoneNumbers=["+4512345678"]), "cannot reach"),
        (_with(channel="inApp"), "cannot reach"),
        (_with(receiverType="guest", channel="inApp"), "cannot reach"),
        (_with(subject="s" * 501), "subject"),
        (_with(body="b" * 20_001), "body"),
        (_with(fromName="n" * 101), "fromName"),
        (_with(fromAddress="nobody"), "fromAddress"),
        (_with(fromNumber="555"), "fromNumber"),
        (_with(templateId="t" * 129), "templateId"),
        (_with(selectedUsers=[f"u{i}" for i in range(51)]), "selectedUsers"),
        (_with(selectedUsers=["u", "u"]), "duplicates"),
        (_with(isActive="sometimes"), "isActive"),
        (_with(additionalWhatsappNumbers=["+4512345678"]), "additionalWhatsappNumbers"),
    ],
)
def test_each_rule_is_422_naming_the_field_and_the_batch_stores_nothing(client, calendar, item, expected):
    cal = calendar["id"]
    # The bad item is second in a batch with a good one: neither is stored
    reply = client.post(path(cal), [CONFIRMATION, item])
    assert reply.status == 422, reply.body
    assert reply.body["error"] == "Unprocessable Entity"
    assert any(m.startswith("1.") and expected in m for m in reply.body["message"]), reply.body["message"]
    assert listing(client, cal) == []


@pytest.mark.parametrize("body", [[], {"receiverType": "contact"}, [CONFIRMATION] * 26, "text", [None]])
def test_body_must_be_an_array_of_1_to_25_settings(client, calendar, body):
    assert client.post(path(calendar["id"]), body).status == 422
    assert listing(client, calendar["id"]) == []


def test_limits_are_accepted_at_their_edge(client, calendar):
    edge = {
        "receiverType": "emails",
        "channel": "email",
        "notificationType": "reminder",
        "additionalEmailIds": [f"u{i}@example.com" for i in range(20)],
        "beforeTime": [{"timeOffset": i, "unit": "days"} for i in range(21, 31)],
        "subject": "s" * 500,
        "body": "b" * 20_000,
        "selectedUsers": [f"u{i}" for i in range(50)],
    }
    created = create(client, calendar["id"], *([edge] * 25))
    assert len(created) == 25
    assert len(listing(client, calendar["id"])) == 25


def test_item_naming_another_calendar_is_400(client, tenant, calendar):
    other = make_calendar(client, tenant.location_id, name="Other")
    reply = client.post(path(calendar["id"]), [CONFIRMATION, {**CONFIRMATION, "calendarId": other["id"]}])
    assert reply.status == 400
    assert listing(client, calendar["id"]) == [] and listing(client, other["id"]) == []
    same = client.post(path(calendar["id"]), [{**CONFIRMATION, "calendarId": calendar["id"]}])
    assert same.status == 200


# -- 404s, tenancy and scopes ----------------------------------------------------------------------


def test_unknown_calendar_or_notification_is_404(client, tenant, calendar):
    (n,) = create(client, calendar["id"], CONFIRMATION)
    other = make_calendar(client, tenant.location_id, name="Other")
    for cal, nid in (("nope", n["_id"]), (calendar["id"], "nope"), (other["id"], n["_id"])):
        assert client.get(path(cal, nid)).status == 404
        assert client.put(path(cal, nid), {"isActive": False}).status == 404
        reply = client.delete(path(cal, nid))
        assert reply.status == 404
        assert reply.body["statusCode"] == 404
    assert client.get(path("nope")).status == 404
    assert client.post(path("nope"), [CONFIRMATION]).status == 404
    assert get_one(client, calendar["id"], n["_id"]) == n


def test_another_locations_settings_are_invisible(client, calendar):
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "UTC")
    _, token = tenancy.create_api_key(
        location.id, "k", ["calendars/events.readonly", "calendars/events.write"]
    )
    other = Client(token)
    cal = calendar["id"]
    (n,) = create(client, cal, CONFIRMATION)
    assert other.get(path(cal)).status == 404
    assert other.post(path(cal), [CONFIRMATION]).status == 404
    assert other.get(path(cal, n["_id"])).status == 404
    assert other.put(path(cal, n["_id"]), {"isActive": False}).status == 404
    assert other.delete(path(cal, n["_id"])).status == 404
    assert listing(client, cal) == [n]


def test_scopes_are_the_references(client, tenant, calendar):
    tenancy = container.services().tenancy
    cal = calendar["id"]
    (n,) = create(client, cal, CONFIRMATION)
    _, calendars_only = tenancy.create_api_key(
        tenant.location_id, "c", ["calendars.readonly", "calendars.write"]
    )
    _, read_only = tenancy.create_api_key(tenant.location_id, "r", ["calendars/events.readonly"])
    assert Client(calendars_only).get(path(cal)).status == 401
    assert Client(calendars_only).get(path(cal, n["_id"])).status == 401
    reader = Client(read_only)
    assert reader.get(path(cal)).status == 200
    assert reader.get(path(cal, n["_id"])).status == 200
    for method, target, body in (
        ("POST", path(cal), [CONFIRMATION]),
        ("PUT", path(cal, n["_id"]), {"isActive": False}),
        ("DELETE", path(cal, n["_id"]), None),
    ):
        denied = reader.request(method, target, json_body=body)
        assert denied.status == 401, method
        assert denied.body["message"] == "The token is not authorized for this scope."
    assert listing(client, cal) == [n]
