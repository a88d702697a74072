"""Adversarial review of notification delivery (issue 5): each test is a defect found in review
(it failed before its fix). Harness and fixtures come from test_delivery.py."""

# ruff: noqa: F811  (fixtures imported from test_delivery.py are redefined as test parameters)

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import FrozenClock, Tenant
from tests.integration.conftest import Client, make_calendar
from tests.integration.test_delivery import (  # noqa: F401  (fixtures)
    REMINDER_EMAIL,
    START,
    Receiver,
    book,
    brief,
    calendar,
    drain,
    log,
    queues,
    receiver,
    settings,
    sweep,
)


def test_deleting_an_appointment_sends_the_deleted_webhook(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    receiver: Receiver,
) -> None:
    """README: ``appointment.deleted`` is sent when an appointment is deleted."""
    receiver.status = 204
    made = admin.post(f"/admin/locations/{tenant.location_id}/webhooks", {"url": receiver.url})
    assert made.status == 201, made.body
    appt = book(client, calendar, tenant)
    assert drain(queues["url"]) == []
    assert client.delete(f"/calendars/events/{appt}", {}).status in (200, 201)
    sweep()
    assert drain(queues["url"]) == []
    types = [json.loads(body)["type"] for _, body in receiver.got]
    assert types[-1] == "appointment.deleted" and "appointment.booked" in types
    deleted = json.loads(receiver.got[-1][1])
    assert deleted["data"]["appointment"]["id"] == appt


def test_moving_an_appointment_to_another_calendar_is_a_reschedule(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    receiver: Receiver,
    clock: FrozenClock,
) -> None:
    """README: ``appointment.rescheduled`` — its start/end (or calendar) changed; the new
    calendar's reminders apply."""
    receiver.status = 204
    made = admin.post(f"/admin/locations/{tenant.location_id}/webhooks", {"url": receiver.url})
    assert made.status == 201, made.body
    other = make_calendar(client, tenant.location_id, name="Other")
    settings(client, other, REMINDER_EMAIL)
    appt = book(client, calendar, tenant)
    reply = client.put(f"/calendars/events/appointments/{appt}", {"calendarId": other["id"]})
    assert reply.status == 200, reply.body
    assert drain(queues["url"]) == []
    types = [json.loads(body)["type"] for _, body in receiver.got]
    assert "appointment.rescheduled" in types
    clock.now = START - timedelta(hours=1)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert ("reminder", "email", "anna@example.com", "sent") in brief(log(admin, tenant, appt))


def test_uncancelling_an_appointment_brings_its_reminders_back(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    appt = book(client, calendar, tenant)
    path = f"/calendars/events/appointments/{appt}"
    assert client.put(path, {"appointmentStatus": "cancelled"}).status == 200
    assert client.put(path, {"appointmentStatus": "new"}).status == 200
    clock.now = START - timedelta(hours=1)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert brief(log(admin, tenant, appt)) == [("reminder", "email", "anna@example.com", "sent")]


def test_editing_a_reminders_offset_moves_its_pending_jobs(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    (setting,) = client.get(f"/calendars/{calendar['id']}/notifications").body
    appt = book(client, calendar, tenant)
    reply = client.put(
        f"/calendars/{calendar['id']}/notifications/{setting['_id']}",
        {"beforeTime": [{"timeOffset": 30, "unit": "mins"}]},
    )
    assert reply.status == 200, reply.body
    # The old offset (1 hour before) no longer sends
    clock.now = START - timedelta(hours=1)
    sweep()
    assert drain(queues["url"]) == []
    assert [r for r in log(admin, tenant, appt) if r["status"] == "sent"] == []


def test_an_email_address_the_directory_accepted_fails_cleanly_not_forever(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    """A non-ASCII local part passes the directory's check; sending to it must be recorded
    ``failed`` (not crash the job into five retries and the DLQ, starving the other recipients)."""
    loc = tenant.location_id
    reply = admin.put(f"/admin/locations/{loc}/contacts/c1", {"name": "Jörg", "email": "jörg@example.de"})
    assert reply.status in (200, 201, 422), reply.body
    if reply.status == 422:
        return  # refused at save: fine too
    booked = {"receiverType": "contact", "channel": "email", "notificationType": "booked"}
    followup = {**booked, "notificationType": "followup", "afterTime": [{"timeOffset": 5, "unit": "mins"}]}
    settings(client, calendar, booked, followup)
    appt = book(client, calendar, tenant)
    assert drain(queues["url"]) == []
    assert [r["status"] for r in log(admin, tenant, appt)] == ["failed"]


def test_a_booking_that_committed_answers_200_even_if_planning_throws(
    client: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planning runs after the commit: any error there (here a stored setting that no longer
    parses) must be logged, not turned into a 500 for a booking that exists."""
    from slotbook import container

    def broken(*_: object, **__: object) -> list[Any]:
        raise ValueError("a stored notification setting does not parse")

    monkeypatch.setattr(container.services().store, "active_notifications", broken)
    appt = book(client, calendar, tenant)  # asserts 200/201
    assert client.get(f"/calendars/events/appointments/{appt}").status == 200


def test_a_reminder_added_after_booking_reaches_existing_appointments(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    appt = book(client, calendar, tenant)
    settings(client, calendar, REMINDER_EMAIL)
    clock.now = START - timedelta(hours=1)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert brief(log(admin, tenant, appt)) == [("reminder", "email", "anna@example.com", "sent")]


def test_an_edited_offset_fires_at_its_new_time(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    (setting,) = client.get(f"/calendars/{calendar['id']}/notifications").body
    appt = book(client, calendar, tenant)
    path = f"/calendars/{calendar['id']}/notifications/{setting['_id']}"
    assert client.put(path, {"beforeTime": [{"timeOffset": 30, "unit": "mins"}]}).status == 200
    clock.now = START - timedelta(hours=1)
    assert sweep()["handedOut"] == 0  # the old job was withdrawn
    clock.now = START - timedelta(minutes=30)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert brief(log(admin, tenant, appt)) == [("reminder", "email", "anna@example.com", "sent")]
    # Deactivated: pending reminders of other appointments are withdrawn at once
    later = book(client, calendar, tenant, start=START + timedelta(days=1))
    assert client.put(path, {"isActive": False}).status == 200
    clock.now = START + timedelta(days=1, minutes=-30)
    assert sweep() == {"found": 0, "handedOut": 0}
    assert log(admin, tenant, later) == []


def test_a_users_inbox_does_not_show_another_users_items(admin: Client, tenant: Tenant) -> None:
    """Inbox items are keyed ``INBOX#<user>#...``: user ``a`` must not list the items of a user
    whose id starts with ``a#``."""
    from slotbook import container
    from slotbook.delivery.models import Channel, Message, Recipient

    store = container.services().store
    for user in ("a#b", "a"):
        message = Message(
            channel=Channel.IN_APP,
            recipient=Recipient(receiver_type="assignedUser", address=user, timezone="UTC"),
            subject=f"for {user}",
            idempotency_key=f"key-{user}",
        )
        store.put_inbox_item(tenant.location_id, "appt", "booked", message, START)
    reply = admin.get(f"/admin/locations/{tenant.location_id}/users/a/inbox")
    assert reply.status == 200
    assert [i["subject"] for i in reply.body["items"]] == ["for a"]


def test_a_cancel_invitation_carries_a_higher_sequence_than_the_booking(
    client: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    from tests.integration.test_delivery import BOOKED_EMAIL, ics_of, sent_emails

    cancellation = {"receiverType": "contact", "channel": "email", "notificationType": "cancellation"}
    settings(client, calendar, BOOKED_EMAIL, cancellation)
    appt = book(client, calendar, tenant)
    assert drain(queues["url"]) == []
    assert (
        client.put(f"/calendars/events/appointments/{appt}", {"appointmentStatus": "cancelled"}).status == 200
    )
    assert drain(queues["url"]) == []
    booked, cancelled = (ics_of(m.raw_data) for m in sent_emails())
    assert (str(booked["METHOD"]), str(cancelled["METHOD"])) == ("REQUEST", "CANCEL")
    sequence = [int(c.walk("VEVENT")[0]["SEQUENCE"]) for c in (booked, cancelled)]
    assert sequence[1] > sequence[0]


def test_a_booking_message_delivered_after_the_cancellation_is_suppressed(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    from tests.integration.test_delivery import BOOKED_EMAIL, sent_emails

    settings(client, calendar, BOOKED_EMAIL)
    appt = book(client, calendar, tenant)
    # the booked email is still on the queue when the appointment is cancelled
    assert (
        client.put(f"/calendars/events/appointments/{appt}", {"appointmentStatus": "cancelled"}).status == 200
    )
    assert drain(queues["url"]) == []
    assert sent_emails() == []
    assert [r["status"] for r in log(admin, tenant, appt)] == ["suppressed"]


@pytest.mark.parametrize("address", ["jörg@example.de", "a,b@x.com", "a@b@c.com"])
def test_addresses_email_headers_cannot_carry_are_refused_when_saved(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], address: str
) -> None:
    loc = tenant.location_id
    assert admin.put(f"/admin/locations/{loc}/contacts/c9", {"name": "X", "email": address}).status == 422
    setting = {
        "receiverType": "emails",
        "channel": "email",
        "notificationType": "booked",
        "additionalEmailIds": [address],
    }
    assert client.post(f"/calendars/{calendar['id']}/notifications", [setting]).status == 422
