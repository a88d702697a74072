"""Calendars, fully (issue 3): every CalendarCreateDTO / CalendarUpdateDTO field is stored and
returned, drafts offer nothing and are listed only with ``showDrafted``, and ``lookBusyConfig``
hides a stable share of each day's free slots."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import all_slots, free_slots, make_calendar

MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")
WEEK = ("2027-03-08T00:00:00+01:00", "2027-03-12T23:59:59+01:00")

EVERY_FIELD: dict[str, Any] = {
    "isActive": True,
    "notifications": [
        {
            "type": "email",
            "shouldSendToContact": True,
            "shouldSendToGuest": False,
            "shouldSendToUser": True,
            "shouldSendToSelectedUsers": False,
            "selectedUsers": "ops@example.com,lead@example.com",
        }
    ],
    "teamMembers": [
        {
            "userId": "host-1",
            "priority": 1,
            "meetingLocationType": "custom",
            "meetingLocation": "Room 4",
            "isPrimary": True,
            "locationConfigurations": [{"kind": "physical", "location": "Main St 1"}],
        },
        {"userId": "host-2", "priority": 0.5, "locationConfigurations": [{"kind": "zoom_conference"}]},
    ],
    "eventType": "RoundRobin_OptimizeForEqualDistribution",
    "name": "test calendar",
    "description": "this is used for testing",
    "slug": "test1",
    "widgetSlug": "test1",
    "calendarType": "round_robin",
    "widgetType": "default",
    "eventTitle": "{{contact.name}} x {{user.name}}",
    "eventColor": "#ff00aa",
    "meetingLocation": "https://meet.example.com/abc",
    "locationConfigurations": [{"kind": "custom", "location": "https://meet.example.com/abc"}],
    "slotDuration": 45,
    "slotDurationUnit": "mins",
    "slotInterval": 1,
    "slotIntervalUnit": "hours",
    "slotBuffer": 10,
    "slotBufferUnit": "mins",
    "preBuffer": 5,
    "preBufferUnit": "mins",
    "appoinmentPerSlot": 1,
    "appoinmentPerDay": 6,
    "allowBookingAfter": 2,
    "allowBookingAfterUnit": "hours",
    "allowBookingFor": 8,
    "allowBookingForUnit": "weeks",
    "openHours": [
        {
            "daysOfTheWeek": [1, 2, 3],
            "hours": [{"openHour": 8, "openMinute": 30, "closeHour": 12, "closeMinute": 0}],
        }
    ],
    "enableRecurring": False,
    "recurring": {
        "freq": "WEEKLY",
        "count": 4,
        "bookingOption": "skip",
        "bookingOverlapDefaultStatus": "new",
    },
    "formId": "form-123",
    "stickyContact": True,
    "isLivePaymentMode": False,
    "autoConfirm": False,
    "shouldSendAlertEmailsToAssignedMember": True,
    "alertEmail": "alerts@example.com",
    "googleInvitationEmails": True,
    "allowReschedule": False,
    "allowCancellation": False,
    "shouldAssignContactToTeamMember": True,
    "shouldSkipAssigningContactForExisting": True,
    "notes": "Bring your ID",
    "pixelId": "px-1",
    "formSubmitType": "RedirectURL",
    "formSubmitRedirectURL": "https://example.com/thanks",
    "formSubmitThanksMessage": "Thanks!",
    "availabilityType": 1,
    "availabilities": [
        {
            "date": "2027-03-10T00:00:00.000Z",
            "hours": [{"openHour": 10, "openMinute": 0, "closeHour": 11, "closeMinute": 0}],
            "deleted": False,
        }
    ],
    "guestType": "collect_detail",
    "consentLabel": "I agree",
    "calendarCoverImage": "https://path-to-image.com",
    "lookBusyConfig": {"enabled": True, "LookBusyPercentage": 25},
}


def _without_ids(calendar: dict[str, Any]) -> dict[str, Any]:
    out = dict(calendar)
    out["availabilities"] = [{k: v for k, v in a.items() if k != "id"} for a in out["availabilities"]]
    return out


def test_every_create_field_is_stored_and_returned(client, tenant):
    # Given a body with every field of CalendarCreateDTO
    reply = client.post("/calendars/", {"locationId": tenant.location_id, **EVERY_FIELD})
    assert reply.status == 200, reply.body
    created = reply.body["calendar"]
    # Then each field comes back as sent, on create and on read
    got = client.get(f"/calendars/{created['id']}").body["calendar"]
    assert got == created
    returned = _without_ids(got)
    for field, value in EVERY_FIELD.items():
        assert returned[field] == value, field
    assert got["locationId"] == tenant.location_id


def test_every_update_field_replaces_and_the_rest_stays(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    update = {k: v for k, v in EVERY_FIELD.items() if k not in ("calendarType",)}
    reply = client.put(f"/calendars/{cal['id']}", update)
    assert reply.status == 200, reply.body
    got = _without_ids(client.get(f"/calendars/{cal['id']}").body["calendar"])
    for field, value in update.items():
        assert got[field] == value, field
    # A later partial update changes only what it sends
    client.put(f"/calendars/{cal['id']}", {"eventColor": "#000000"})
    again = _without_ids(client.get(f"/calendars/{cal['id']}").body["calendar"])
    assert again["eventColor"] == "#000000"
    assert {k: again[k] for k in update if k != "eventColor"} == {
        k: v for k, v in update.items() if k != "eventColor"
    }


def test_drafts_offer_nothing_and_show_only_with_show_drafted(client, tenant):
    live = make_calendar(client, tenant.location_id, name="Live")
    draft = make_calendar(client, tenant.location_id, name="Draft", isActive=False)
    listed = client.get("/calendars/", params={"locationId": tenant.location_id, "showDrafted": "false"})
    assert [c["id"] for c in listed.body["calendars"]] == [live["id"]]
    everything = client.get("/calendars/", params={"locationId": tenant.location_id, "showDrafted": "true"})
    assert {c["id"] for c in everything.body["calendars"]} == {live["id"], draft["id"]}
    assert free_slots(client, draft["id"], *MON) == {}
    # Publishing the draft makes its slots appear
    client.put(f"/calendars/{draft['id']}", {"isActive": True})
    assert all_slots(free_slots(client, draft["id"], *MON)) == all_slots(free_slots(client, live["id"], *MON))


def _per_day(slots: dict[str, list[str]]) -> dict[str, int]:
    return {day: len(times) for day, times in slots.items()}


def test_look_busy_hides_a_stable_share_of_each_day(client, tenant):
    # Given two identical calendars, one hiding 50 % of its free slots
    plain = make_calendar(client, tenant.location_id, name="Plain")
    busy = make_calendar(
        client, tenant.location_id, name="Busy", lookBusyConfig={"enabled": True, "LookBusyPercentage": 50}
    )
    everything = free_slots(client, plain["id"], *WEEK)
    shown = free_slots(client, busy["id"], *WEEK)
    # Then each day shows half its slots (16 → 8 Mon-Thu, 14 → 7 Fri), all of them real free slots
    assert _per_day(everything) == {
        "2027-03-08": 16,
        "2027-03-09": 16,
        "2027-03-10": 16,
        "2027-03-11": 16,
        "2027-03-12": 14,
    }
    assert _per_day(shown) == {
        "2027-03-08": 8,
        "2027-03-09": 8,
        "2027-03-10": 8,
        "2027-03-11": 8,
        "2027-03-12": 7,
    }
    assert set(all_slots(shown)) < set(all_slots(everything))
    # And the same ones on every call, whatever window is asked for
    assert free_slots(client, busy["id"], *WEEK) == shown
    monday_only = free_slots(client, busy["id"], "2027-03-08T09:00:00+01:00", "2027-03-08T13:00:00+01:00")
    assert all_slots(monday_only) == [s for s in shown["2027-03-08"] if s < "2027-03-08T13:00:01"]
    # Disabled or 0 % hides nothing; 100 % hides everything
    client.put(f"/calendars/{busy['id']}", {"lookBusyConfig": {"enabled": False, "LookBusyPercentage": 50}})
    assert free_slots(client, busy["id"], *WEEK) == everything
    client.put(f"/calendars/{busy['id']}", {"lookBusyConfig": {"enabled": True, "LookBusyPercentage": 100}})
    assert free_slots(client, busy["id"], *WEEK) == {}


def test_a_look_busy_slot_is_still_really_free(client, tenant):
    # Look busy is presentation: a client that books a hidden slot gets it, because the time is free.
    busy = make_calendar(
        client, tenant.location_id, lookBusyConfig={"enabled": True, "LookBusyPercentage": 50}
    )
    plain = make_calendar(client, tenant.location_id, name="Plain", teamMembers=[{"userId": "other"}])
    hidden = sorted(
        set(all_slots(free_slots(client, plain["id"], *MON)))
        - set(all_slots(free_slots(client, busy["id"], *MON)))
    )
    assert hidden
    reply = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": busy["id"],
            "locationId": tenant.location_id,
            "contactId": "c1",
            "startTime": hidden[0],
        },
    )
    assert reply.status == 200, reply.body


def test_group_id_must_name_a_group_of_the_location(client, tenant):
    body = {"locationId": tenant.location_id, "name": "Grouped", "teamMembers": [{"userId": "host-1"}]}
    assert client.post("/calendars/", {**body, "groupId": "no-such-group"}).status == 400
    group = client.post(
        "/calendars/groups",
        {"locationId": tenant.location_id, "name": "Sales", "description": "", "slug": "sales"},
    ).body["group"]
    created = client.post("/calendars/", {**body, "groupId": group["id"]})
    assert created.status == 200 and created.body["calendar"]["groupId"] == group["id"]
    cal_id = created.body["calendar"]["id"]
    assert client.put(f"/calendars/{cal_id}", {"groupId": "no-such-group"}).status == 400
    assert client.get(f"/calendars/{cal_id}").body["calendar"]["groupId"] == group["id"]
    # leaving the group is always allowed
    assert "groupId" not in client.put(f"/calendars/{cal_id}", {"groupId": ""}).body["calendar"]


def test_a_booking_racing_a_group_disable_is_refused(client, tenant):
    from datetime import datetime

    import pytest

    from slotbook import container
    from slotbook.errors import BookingConflict, SlotUnavailable
    from slotbook.services.scheduling import AppointmentInput

    group = client.post(
        "/calendars/groups",
        {"locationId": tenant.location_id, "name": "Sales", "description": "", "slug": "sales-race"},
    ).body["group"]
    cal = make_calendar(client, tenant.location_id, groupId=group["id"])
    scheduling = container.services().scheduling
    data = AppointmentInput(
        calendar_id=cal["id"], contact_id="c1", start=datetime.fromisoformat("2027-03-08T10:00:00+01:00")
    )
    # Given a booking that finished its reads while the group was enabled
    plan = scheduling.prepare_create(tenant.location_id, data)
    # When the group is disabled before the booking writes
    assert client.put(f"/calendars/groups/{group['id']}/status", {"isActive": False}).status == 200
    # Then the write is refused, and a fresh attempt sees the group disabled
    with pytest.raises(BookingConflict):
        scheduling.commit(plan)
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, data)
    assert client.get(
        "/calendars/events",
        params={
            "locationId": tenant.location_id,
            "calendarId": cal["id"],
            "startTime": 0,
            "endTime": 1893456000000,
        },
    ).body == {"events": []}
