"""Regressions found by an adversarial review: each was a 5xx, an overlap, a lost update or a
stale-data dead end. Every case here must answer as the issue's rules say."""

from __future__ import annotations

import json

import pytest

from slotbook import container
from tests.integration.conftest import all_slots, free_slots, make_calendar, ms

APPT = "/calendars/events/appointments"
MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")


def _book(client, tenant, cal_id, start, **extra):
    return client.post(
        APPT,
        {
            "calendarId": cal_id,
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": start,
            **extra,
        },
    )


def test_collective_of_the_largest_allowed_size_books_moves_and_uncancels(client, tenant):
    members = [{"userId": f"m{i:02d}"} for i in range(30)]
    cal = make_calendar(client, tenant.location_id, calendarType="collective", teamMembers=members)
    appt = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00")
    assert appt.status == 200, appt.body
    path = f"{APPT}/{appt.body['id']}"
    assert client.put(path, {"startTime": "2027-03-08T11:00:00+01:00"}).status == 200
    assert client.put(path, {"appointmentStatus": "cancelled"}).status == 200
    assert (
        client.put(path, {"appointmentStatus": "confirmed", "startTime": "2027-03-08T12:00:00+01:00"}).status
        == 200
    )
    too_many = client.post(
        "/calendars/",
        {
            "locationId": tenant.location_id,
            "name": "x",
            "calendarType": "collective",
            "teamMembers": [{"userId": f"u{i}"} for i in range(31)],
        },
    )
    assert too_many.status == 422


@pytest.mark.parametrize(
    "start",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:10:00",
        "9000-06-01T10:00:00Z",
        "2027-03-08T10:00:00.900+01:00",
    ],
)
def test_out_of_range_or_sub_second_times_are_400(client, tenant, start):
    cal = make_calendar(client, tenant.location_id)
    for flags in ({}, {"ignoreFreeSlotValidation": True}):
        reply = _book(client, tenant, cal["id"], start, **flags)
        assert reply.status == 400, (start, flags, reply.body)


def test_a_naive_local_time_that_does_not_exist_is_400(client, tenant):
    cal = make_calendar(
        client,
        tenant.location_id,
        openHours=[
            {
                "daysOfTheWeek": [0],
                "hours": [{"openHour": 0, "openMinute": 0, "closeHour": 6, "closeMinute": 0}],
            }
        ],
    )
    reply = _book(client, tenant, cal["id"], "2027-03-28T02:30:00", ignoreFreeSlotValidation=True)
    assert reply.status == 400
    assert "does not exist" in reply.body["message"]


@pytest.mark.parametrize(
    ("a", "b"), [(253402300798000 - 86400000, 253402300798000), (-62135596799000, -62135596799000 + 86400000)]
)
def test_extreme_epochs_are_400(client, tenant, a, b):
    cal = make_calendar(client, tenant.location_id)
    assert (
        client.get(f"/calendars/{cal['id']}/free-slots", params={"startDate": a, "endDate": b}).status == 400
    )
    for path in ("/calendars/events", "/calendars/blocked-slots"):
        for who in ({"calendarId": cal["id"]}, {"userId": "host-1"}):
            reply = client.get(
                path, params={"locationId": tenant.location_id, "startTime": a, "endTime": b, **who}
            )
            assert reply.status == 400, (path, who, reply.body)


@pytest.mark.parametrize(
    "fields",
    [
        {"slotDuration": 1e308},
        {"preBuffer": 1e308},
        {"allowBookingAfter": 1e308, "allowBookingAfterUnit": "days"},
        {"allowBookingAfter": 100000, "allowBookingAfterUnit": "months"},
        {"allowBookingFor": 10000000, "allowBookingForUnit": "days"},
        {"allowBookingAfter": 1e20, "allowBookingAfterUnit": "mins"},
        {"availabilities": [{"date": "garbage", "hours": []}]},
        {"availabilities": [{"date": "2027-02-30T00:00:00.000Z", "hours": []}]},
        {"description": "x" * 500_000},
        {"teamMembers": [{"userId": "u" * 3000}]},
    ],
)
def test_oversized_or_impossible_calendar_values_are_422_and_stored_nowhere(client, tenant, fields):
    before = client.get("/calendars/", params={"locationId": tenant.location_id}).body
    body = {"locationId": tenant.location_id, "name": "x", "teamMembers": [{"userId": "h"}], **fields}
    assert client.post("/calendars/", body).status == 422, fields
    assert client.get("/calendars/", params={"locationId": tenant.location_id}).body == before


def test_infinite_number_in_raw_json_is_4xx(client, tenant):
    raw = b'{"locationId": "%s", "name": "x", "slotDuration": 1e400}' % tenant.location_id.encode()
    assert client.request("POST", "/calendars/", raw=raw).status == 422


@pytest.mark.parametrize("tz", ["a" * 5000, "posixrules", "Factory", "../../etc/passwd", "Europe/../UTC"])
def test_unknown_or_hostile_timezones_are_400(client, tenant, tz):
    cal = make_calendar(client, tenant.location_id)
    start = ms("2027-03-08T00:00:00+01:00")
    reply = client.get(
        f"/calendars/{cal['id']}/free-slots",
        params={"startDate": start, "endDate": start + 86400000, "timezone": tz},
    )
    assert reply.status == 400


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 50_000, json.dumps({"title": "\ud800"}).encode()])
def test_deep_or_non_unicode_json_is_400(client, tenant, raw):
    assert client.request("POST", APPT, raw=raw).status == 400


def test_long_ids_in_paths_and_queries_are_4xx(client, tenant):
    long_id = "x" * 3000
    assert client.get(f"/calendars/{long_id}").status in (400, 404, 422)
    reply = client.get(
        "/calendars/events",
        params={"locationId": tenant.location_id, "userId": long_id, "startTime": 0, "endTime": 1},
    )
    assert 400 <= reply.status < 500


def test_appointment_of_a_deleted_calendar_can_still_be_cancelled(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    other = make_calendar(client, tenant.location_id, name="Other")
    appt = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    assert "2027-03-08T10:00:00+01:00" not in all_slots(free_slots(client, other["id"], *MON))
    assert client.delete(f"/calendars/{cal['id']}").status == 200
    # it cannot be moved (its calendar is gone) ...
    assert client.put(f"{APPT}/{appt['id']}", {"startTime": "2027-03-08T11:00:00+01:00"}).status == 404
    # ... but cancelling frees the host at once
    assert client.put(f"{APPT}/{appt['id']}", {"appointmentStatus": "cancelled"}).status == 200
    assert "2027-03-08T10:00:00+01:00" in all_slots(free_slots(client, other["id"], *MON))


def test_block_slot_can_move_off_a_deleted_calendar(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    block = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "startTime": "2027-03-08T10:00:00+01:00",
            "endTime": "2027-03-08T11:00:00+01:00",
        },
    ).body
    assert client.delete(f"/calendars/{cal['id']}").status == 200
    moved = client.put(
        f"/calendars/events/block-slots/{block['id']}",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-08T10:00:00+01:00",
            "endTime": "2027-03-08T11:00:00+01:00",
        },
    )
    assert moved.status == 201, moved.body


def test_group_filter_still_applies_with_a_user(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00")
    window = {
        "locationId": tenant.location_id,
        "startTime": ms("2027-03-08T00:00:00+01:00"),
        "endTime": ms("2027-03-09T00:00:00+01:00"),
    }
    assert client.get("/calendars/events", params={**window, "userId": "host-1"}).body["events"]
    empty = client.get("/calendars/events", params={**window, "userId": "host-1", "groupId": "no-such-group"})
    assert empty.body == {"events": []}


def test_concurrent_calendar_updates_are_both_kept(client, tenant):
    # Given a calendar, and a second update that lands between the first update's read and write
    cal = make_calendar(client, tenant.location_id)
    scheduling = container.services().scheduling
    interleaved = []

    def first_change(current):
        if not interleaved:
            interleaved.append(1)
            scheduling.update_calendar(
                tenant.location_id, cal["id"], lambda c: c.model_copy(update={"name": "B"})
            )
        return current.model_copy(update={"per_day_limit": 3})

    # When the first update commits
    scheduling.update_calendar(tenant.location_id, cal["id"], first_change)
    # Then neither change is lost
    got = client.get(f"/calendars/{cal['id']}").body["calendar"]
    assert (got["name"], got["appoinmentPerDay"]) == ("B", 3)
