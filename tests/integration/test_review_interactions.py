"""Cross-feature review: interactions between groups, schedules, resources, recurring series,
look busy, drafts, notes, notification settings and delivery, and races across them.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

# ruff: noqa: F811  (fixtures imported from test_delivery.py are redefined as test parameters)

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from slotbook import container
from slotbook.errors import BookingConflict, SlotUnavailable
from slotbook.services.scheduling import AppointmentInput
from tests.conftest import FrozenClock
from tests.integration.conftest import Client, make_calendar, ms
from tests.integration.test_delivery import (  # noqa: F401  (fixtures)
    REMINDER_EMAIL,
    START,
    book,
    brief,
    calendar,
    drain,
    log,
    queues,
    settings,
    sweep,
)

APPOINTMENTS = "/calendars/events/appointments"
TEN = "2027-03-08T10:00:00+01:00"


def _book(client: Client, location_id: str, calendar_id: str, start: str, **extra: Any) -> Any:
    body = {"calendarId": calendar_id, "locationId": location_id, "contactId": "c", "startTime": start}
    return client.post(APPOINTMENTS, {**body, **extra})


def test_a_recurring_booking_racing_a_group_disable_is_refused(client, tenant):
    # Given an enableRecurring calendar in a group, and a booking that read while it was enabled
    group = client.post(
        "/calendars/groups",
        {"locationId": tenant.location_id, "name": "Therapy", "description": "", "slug": "therapy"},
    ).body["group"]
    cal = make_calendar(
        client,
        tenant.location_id,
        groupId=group["id"],
        enableRecurring=True,
        recurring={"freq": "WEEKLY", "count": 4, "bookingOption": "skip"},
    )
    scheduling = container.services().scheduling
    data = AppointmentInput(calendar_id=cal["id"], contact_id="c1", start=datetime.fromisoformat(TEN))
    plan = scheduling.prepare_create(tenant.location_id, data)
    assert plan.series is not None
    # When the group is disabled before the series writes
    assert client.put(f"/calendars/groups/{group['id']}/status", {"isActive": False}).status == 200
    # Then the write is refused (as a single booking's is), and nothing of the series is stored
    with pytest.raises(BookingConflict):
        scheduling.commit(plan)
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, data)
    assert _events(client, tenant.location_id, calendarId=cal["id"]) == []


def test_deleting_a_series_tells_webhooks_its_edited_occurrences_are_deleted(client, admin, tenant):
    # Given a series with one occurrence edited on its own (it has pending reminders of its own)
    # and a webhook endpoint
    cal = make_calendar(client, tenant.location_id)
    reply = client.post(
        f"/calendars/{cal['id']}/notifications",
        [
            {
                "notificationType": "reminder",
                "receiverType": "contact",
                "channel": "email",
                "beforeTime": [{"timeOffset": 1, "unit": "hours"}],
            }
        ],
    )
    assert reply.status in (200, 201), reply.body
    hook = admin.post(
        f"/admin/locations/{tenant.location_id}/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["deleted"]},
    )
    assert hook.status == 201, hook.body
    series = _book(
        client,
        tenant.location_id,
        cal["id"],
        TEN,
        rrule="RRULE:FREQ=WEEKLY;COUNT=4",
        ignoreFreeSlotValidation=True,
    )
    assert series.status == 200, series.body
    instance_id = f"{series.body['id']}_{ms('2027-03-15T10:00:00+01:00')}_1800"
    edited = client.put(
        f"{APPOINTMENTS}/{instance_id}", {"title": "Moved", "startTime": "2027-03-15T11:00:00+01:00"}
    )
    assert edited.status == 200, edited.body
    store = container.services().store
    assert _pending(store, tenant.location_id, instance_id, "before:")
    # When the whole series is deleted
    assert client.delete(f"/calendars/events/{series.body['id']}").status in (200, 201)
    # Then the edited occurrence is gone too, its reminders are withdrawn and the endpoint is
    # told it was deleted, as for any deleted appointment
    assert client.get(f"{APPOINTMENTS}/{instance_id}").status == 404
    assert not _pending(store, tenant.location_id, instance_id, "before:")
    assert _pending(store, tenant.location_id, instance_id, "now:deleted")


def test_a_deleted_calendars_settings_send_nothing_more(
    client, admin, tenant, calendar, queues, clock: FrozenClock
):
    # Given a calendar with a reminder setting and a booking on it
    cancellation = {"receiverType": "contact", "channel": "email", "notificationType": "cancellation"}
    settings(client, calendar, REMINDER_EMAIL, cancellation)
    appt = book(client, calendar, tenant)
    drain(queues["url"])
    before = brief(log(admin, tenant, appt))
    # When the calendar is deleted, its settings can no longer be read, changed or deleted
    assert client.delete(f"/calendars/{calendar['id']}").status == 200
    assert client.get(f"/calendars/{calendar['id']}/notifications").status == 404
    # Then they send nothing more: neither the reminder when it falls due, nor a cancellation
    # when the appointment (which outlives its calendar) is cancelled
    clock.now = START - timedelta(hours=1)
    sweep()
    drain(queues["url"])
    assert client.put(f"{APPOINTMENTS}/{appt}", {"appointmentStatus": "cancelled"}).status == 200
    drain(queues["url"])
    sent = [r for r in brief(log(admin, tenant, appt))[len(before) :] if r[3] == "sent"]
    assert sent == []


def test_an_occurrence_edited_on_its_own_gets_its_reminders(client, tenant):
    # Given a weekly series on a calendar with a reminder setting
    cal = make_calendar(client, tenant.location_id)
    reminder = {**REMINDER_EMAIL, "beforeTime": [{"timeOffset": 1, "unit": "hours"}]}
    assert client.post(f"/calendars/{cal['id']}/notifications", [reminder]).status in (200, 201)
    series = _book(
        client,
        tenant.location_id,
        cal["id"],
        TEN,
        rrule="RRULE:FREQ=WEEKLY;COUNT=4",
        ignoreFreeSlotValidation=True,
    )
    assert series.status == 200, series.body
    store = container.services().store
    # When one occurrence is edited on its own without moving it (only its title)
    instance_id = f"{series.body['id']}_{ms('2027-03-15T10:00:00+01:00')}_1800"
    edited = client.put(f"{APPOINTMENTS}/{instance_id}", {"title": "Bring the forms"})
    assert edited.status == 200, edited.body
    # Then it is an appointment of its own, and gets its reminder like any appointment
    assert _pending(store, tenant.location_id, instance_id, "before:3600")


def _pending(store, location_id: str, appointment_id: str, trigger: str) -> list:
    """The appointment's jobs with ``trigger`` that are still to run (or, for immediate ones,
    were handed out)."""
    live = (
        ("pending",) if trigger.startswith("before:") else ("pending", "claimed", "queued", "done", "failed")
    )
    return [
        j
        for j in store.appointment_jobs(location_id, appointment_id)
        if j.trigger.startswith(trigger) and j.status.value in live
    ]


def _events(client: Client, location_id: str, **owner: str) -> list:
    reply = client.get(
        "/calendars/events",
        params={"locationId": location_id, "startTime": 0, "endTime": 1893456000000, **owner},
    )
    assert reply.status == 200, reply.body
    return reply.body["events"]
