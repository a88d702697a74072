"""Recurring appointments through the GoHighLevel handlers (issue 3): ``rrule`` series, their
instances (ids ``<masterId>_<startMs>_<durationSeconds>``), busy time, and calendars with
``enableRecurring``.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen, where
summer time starts on Sunday 2027-03-28 (+01:00 → +02:00). The calendars are open Mon–Thu
09:00–17:00 and Fri 09:00–16:00, 30-minute slots every 30 minutes, host ``host-1``.
"""

from __future__ import annotations

from typing import Any

import pytest

from slotbook import container
from slotbook.errors import BookingConflict, SlotUnavailable
from slotbook.services.scheduling import AppointmentInput
from slotbook.timeutil import parse_instant, zone
from tests.integration.conftest import all_slots, free_slots, make_calendar, ms

MONDAYS = [
    "2027-03-08T10:00:00+01:00",
    "2027-03-15T10:00:00+01:00",
    "2027-03-22T10:00:00+01:00",
    "2027-03-29T10:00:00+02:00",  # after the DST change: still 10:00 local
]
FOUR_WEEKS = ("2027-03-08T00:00:00+01:00", "2027-04-05T00:00:00+02:00")


def _appointment(client, tenant, cal_id: str, start: str, **extra: Any):
    return client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal_id,
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": start,
            **extra,
        },
    )


def _series(client, tenant, cal_id: str, start: str, rrule: str, **extra: Any) -> dict[str, Any]:
    reply = _appointment(client, tenant, cal_id, start, rrule=rrule, ignoreFreeSlotValidation=True, **extra)
    assert reply.status == 200, reply.body
    return reply.body


def _events(client, tenant, lo: str, hi: str, **owner: str) -> list[dict[str, Any]]:
    reply = client.get(
        "/calendars/events",
        params={"locationId": tenant.location_id, "startTime": ms(lo), "endTime": ms(hi), **owner},
    )
    assert reply.status == 200, reply.body
    return reply.body["events"]


def _iid(master_id: str, start: str, seconds: int = 1800) -> str:
    return f"{master_id}_{ms(start)}_{seconds}"


def _day(start: str) -> tuple[str, str]:
    return start[:10] + "T00:00:00" + start[19:], start[:10] + "T23:59:59" + start[19:]


def _free_at(client, cal_id: str, start: str) -> bool:
    return start in all_slots(free_slots(client, cal_id, *_day(start)))


@pytest.fixture
def two_calendars(client, tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two calendars sharing host-1."""
    return make_calendar(client, tenant.location_id), make_calendar(client, tenant.location_id, name="Other")


def test_weekly_series_expands_in_the_window_and_is_busy_time_everywhere(client, tenant, two_calendars):
    cal, other = two_calendars
    # Given a weekly series (no end) at Monday 10:00, booked with ignoreFreeSlotValidation
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;INTERVAL=1", title="Weekly")
    assert master["isRecurring"] is True and master["rrule"] == "RRULE:FREQ=WEEKLY;INTERVAL=1"
    assert master["startTime"] == MONDAYS[0] and master["assignedUserId"] == "host-1"
    # When listing four weeks, by calendar and by user
    by_cal = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    by_user = _events(client, tenant, *FOUR_WEEKS, userId="host-1")
    # Then four instances with ids <master>_<startMs>_<durationSeconds>, 10:00 local each week
    assert [e["id"] for e in by_cal] == [_iid(master["id"], s) for s in MONDAYS]
    assert [e["id"] for e in by_user] == [e["id"] for e in by_cal]
    assert [e["startTime"] for e in by_cal] == MONDAYS
    assert by_cal[3]["endTime"] == "2027-03-29T10:30:00+02:00"
    for e in by_cal:
        assert e["isRecurring"] is True
        assert e["masterEventId"] == master["id"]
        assert e["rrule"] == "RRULE:FREQ=WEEKLY;INTERVAL=1"
        assert e["title"] == "Weekly" and e["users"] == ["host-1"] and e["calendarId"] == cal["id"]
    # And every occurrence is busy for host-1 in both calendars; the slots around stay free
    for start in MONDAYS:
        for c in (cal, other):
            slots = all_slots(free_slots(client, c["id"], *_day(start)))
            assert start not in slots
            assert start.replace("T10:00", "T09:30") in slots and start.replace("T10:00", "T10:30") in slots
    # And a listing window that holds no occurrence lists none
    assert (
        _events(
            client, tenant, "2027-03-09T00:00:00+01:00", "2027-03-15T09:00:00+01:00", calendarId=cal["id"]
        )
        == []
    )


def test_instances_and_master_read_by_id(client, tenant, two_calendars):
    cal, _ = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "FREQ=WEEKLY;COUNT=4")
    got = client.get(f"/calendars/events/appointments/{_iid(master['id'], MONDAYS[2])}")
    assert got.status == 200, got.body
    event = got.body["event"]
    assert event["id"] == _iid(master["id"], MONDAYS[2])
    assert event["startTime"] == MONDAYS[2] and event["masterEventId"] == master["id"]
    assert event["isRecurring"] is True and event["rrule"] == "RRULE:FREQ=WEEKLY;COUNT=4"
    whole = client.get(f"/calendars/events/appointments/{master['id']}").body["event"]
    assert whole["isRecurring"] is True and "masterEventId" not in whole
    assert whole["startTime"] == MONDAYS[0]
    # Ids that name no occurrence: wrong time, wrong duration, past the COUNT, not a series
    for bad in (
        _iid(master["id"], "2027-03-09T10:00:00+01:00"),
        _iid(master["id"], MONDAYS[1], 3600),
        _iid(master["id"], "2027-04-05T10:00:00+02:00"),
        f"nosuchmaster_{ms(MONDAYS[0])}_1800",
        f"{master['id']}_abc_1800",
    ):
        assert client.get(f"/calendars/events/appointments/{bad}").status == 404, bad
        assert client.put(f"/calendars/events/appointments/{bad}", {"title": "x"}).status == 404, bad
        assert client.delete(f"/calendars/events/{bad}", {}).status == 404, bad


def test_editing_one_instance_detaches_it_and_moves_its_busy_time(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY", title="Weekly")
    second = _iid(master["id"], MONDAYS[1])
    # When the second occurrence moves to 14:00 that day
    moved = client.put(
        f"/calendars/events/appointments/{second}",
        {"startTime": "2027-03-15T14:00:00+01:00", "title": "Moved"},
    )
    assert moved.status == 200, moved.body
    assert moved.body["id"] == second
    assert moved.body["startTime"] == "2027-03-15T14:00:00+01:00" and moved.body["isRecurring"] is True
    # Then the listing shows it at its new time, under the same id, still linked to the series
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["id"] for e in events] == [_iid(master["id"], s) for s in MONDAYS]
    detached = events[1]
    assert detached["startTime"] == "2027-03-15T14:00:00+01:00" and detached["title"] == "Moved"
    assert detached["masterEventId"] == master["id"]
    assert [e["title"] for e in events] == ["Weekly", "Moved", "Weekly", "Weekly"]
    # And free slots follow: 10:00 that Monday is free again, 14:00 taken, in both calendars
    for c in (cal, other):
        assert _free_at(client, c["id"], MONDAYS[1])
        assert not _free_at(client, c["id"], "2027-03-15T14:00:00+01:00")
    # And the series now excludes the original start
    whole = client.get(f"/calendars/events/appointments/{master['id']}").body["event"]
    assert whole["rrule"] == "RRULE:FREQ=WEEKLY\nEXDATE:20270315T090000Z"
    # And the detached instance is edited like any appointment; moving it onto a taken time fails
    assert client.put(f"/calendars/events/appointments/{second}", {"title": "Again"}).status == 200
    onto = client.put(f"/calendars/events/appointments/{second}", {"startTime": MONDAYS[2]})
    assert onto.status == 400
    # And an instance cannot become a series of its own
    own = client.put(
        f"/calendars/events/appointments/{second}", {"rrule": "FREQ=DAILY", "ignoreFreeSlotValidation": True}
    )
    assert own.status == 422


def test_moving_an_instance_onto_taken_time_is_refused_unless_waived(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    assert _appointment(client, tenant, other["id"], "2027-03-15T14:00:00+01:00").status == 200
    second = _iid(master["id"], MONDAYS[1])
    refused = client.put(
        f"/calendars/events/appointments/{second}", {"startTime": "2027-03-15T14:00:00+01:00"}
    )
    assert refused.status == 400
    # Nothing changed: the occurrence is still there, expanded
    assert client.get(f"/calendars/events/appointments/{second}").body["event"]["startTime"] == MONDAYS[1]
    # A small move that overlaps only the occurrence itself is fine
    nudged = client.put(
        f"/calendars/events/appointments/{second}", {"startTime": "2027-03-15T10:30:00+01:00"}
    )
    assert nudged.status == 200, nudged.body


def test_deleting_one_instance_frees_its_time(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    third = _iid(master["id"], MONDAYS[2])
    assert not _free_at(client, other["id"], MONDAYS[2])
    deleted = client.delete(f"/calendars/events/{third}", {})
    assert deleted.status == 201 and deleted.body == {"succeeded": True}
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [MONDAYS[0], MONDAYS[1], MONDAYS[3]]
    assert _free_at(client, other["id"], MONDAYS[2]) and _free_at(client, cal["id"], MONDAYS[2])
    assert not _free_at(client, other["id"], MONDAYS[3])
    assert client.get(f"/calendars/events/appointments/{third}").status == 404
    assert client.delete(f"/calendars/events/{third}", {}).status == 404
    # A detached instance is deleted like any appointment and does not come back
    second = _iid(master["id"], MONDAYS[1])
    assert client.put(f"/calendars/events/appointments/{second}", {"title": "Own"}).status == 200
    assert client.delete(f"/calendars/events/{second}", {}).status == 201
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [MONDAYS[0], MONDAYS[3]]
    assert _free_at(client, cal["id"], MONDAYS[1])


def test_editing_the_master_changes_every_instance(client, tenant, two_calendars):
    cal, _ = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=4", title="Weekly")
    second = _iid(master["id"], MONDAYS[1])
    assert client.put(f"/calendars/events/appointments/{second}", {"title": "Own"}).status == 200
    renamed = client.put(
        f"/calendars/events/appointments/{master['id']}", {"title": "Renamed", "address": "Room 1"}
    )
    assert renamed.status == 200, renamed.body
    assert renamed.body["id"] == master["id"] and renamed.body["title"] == "Renamed"
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    # Every occurrence of the series follows; the detached one keeps its own fields
    assert [e["title"] for e in events] == ["Renamed", "Own", "Renamed", "Renamed"]
    assert events[0]["address"] == "Room 1"


def test_moving_the_series_needs_the_waiver_and_moves_every_occurrence(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=4")
    assert client.delete(f"/calendars/events/{_iid(master['id'], MONDAYS[2])}", {}).status == 201
    path = f"/calendars/events/appointments/{master['id']}"
    # A new time for the whole series without ignoreFreeSlotValidation: 422, nothing changes
    assert client.put(path, {"startTime": "2027-03-08T11:00:00+01:00"}).status == 422
    moved = client.put(path, {"startTime": "2027-03-08T11:00:00+01:00", "ignoreFreeSlotValidation": True})
    assert moved.status == 200, moved.body
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    # Every occurrence moved an hour; the deleted one stays deleted
    assert [e["startTime"] for e in events] == [
        "2027-03-08T11:00:00+01:00",
        "2027-03-15T11:00:00+01:00",
        "2027-03-29T11:00:00+02:00",
    ]
    assert _free_at(client, other["id"], MONDAYS[0])
    assert not _free_at(client, other["id"], "2027-03-15T11:00:00+01:00")
    # A new rule replaces the old one
    daily = client.put(path, {"rrule": "FREQ=DAILY;COUNT=3", "ignoreFreeSlotValidation": True})
    assert daily.status == 200, daily.body
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [
        "2027-03-08T11:00:00+01:00",
        "2027-03-09T11:00:00+01:00",
        "2027-03-10T11:00:00+01:00",
    ]
    assert _free_at(client, other["id"], "2027-03-15T11:00:00+01:00")


def test_cancelling_the_series_frees_every_occurrence(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    path = f"/calendars/events/appointments/{master['id']}"
    assert client.put(path, {"appointmentStatus": "cancelled"}).status == 200
    assert all(_free_at(client, other["id"], s) for s in MONDAYS)
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["appointmentStatus"] for e in events] == ["cancelled"] * 4
    # Re-activating takes time again, so it needs the waiver
    assert client.put(path, {"appointmentStatus": "confirmed"}).status == 422
    assert (
        client.put(path, {"appointmentStatus": "confirmed", "ignoreFreeSlotValidation": True}).status == 200
    )
    assert not _free_at(client, other["id"], MONDAYS[1])


def test_deleting_the_master_removes_the_series_and_its_detached_instances(client, tenant, two_calendars):
    cal, other = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    second = _iid(master["id"], MONDAYS[1])
    assert (
        client.put(
            f"/calendars/events/appointments/{second}", {"startTime": "2027-03-15T14:00:00+01:00"}
        ).status
        == 200
    )
    deleted = client.delete(f"/calendars/events/{master['id']}", {})
    assert deleted.status == 201
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"]) == []
    assert _events(client, tenant, *FOUR_WEEKS, userId="host-1") == []
    assert all(_free_at(client, other["id"], s) for s in MONDAYS)
    assert _free_at(client, other["id"], "2027-03-15T14:00:00+01:00")
    for gone in (master["id"], second, _iid(master["id"], MONDAYS[2])):
        assert client.get(f"/calendars/events/appointments/{gone}").status == 404
    assert client.delete(f"/calendars/events/{master['id']}", {}).status == 404


def test_rrule_without_ignore_free_slot_validation_is_not_applied(client, tenant, two_calendars):
    # The reference: "The rrule only be applied if ignoreFreeSlotValidation is true".
    cal, _ = two_calendars
    single = _appointment(client, tenant, cal["id"], MONDAYS[0], rrule="FREQ=WEEKLY")
    assert single.status == 200, single.body
    assert single.body["isRecurring"] is False and "rrule" not in single.body
    listed = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["id"] for e in listed] == [single.body["id"]]
    explicit = _appointment(
        client, tenant, cal["id"], MONDAYS[1], rrule="FREQ=WEEKLY", ignoreFreeSlotValidation=False
    )
    assert explicit.status == 200 and explicit.body["isRecurring"] is False
    # The same on update: the appointment stays a single one
    changed = client.put(f"/calendars/events/appointments/{single.body['id']}", {"rrule": "FREQ=WEEKLY"})
    assert changed.status == 200 and changed.body["isRecurring"] is False
    assert len(_events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])) == 2


@pytest.mark.parametrize(
    "rrule",
    [
        "",
        "INTERVAL=2",  # FREQ missing
        "FREQ=SOMETIMES",
        "FREQ=MINUTELY",  # absurd for appointments
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;COUNT=3;UNTIL=20270401T000000Z",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",  # never happens
        "FREQ=DAILY;UNTIL=20270101T000000Z",  # ends before it starts
        "FREQ=DAILY;BYHOUR=9",
        "RDATE:20270310T090000Z",
        "not a rule at all",
        "FREQ=WEEKLY\nEXDATE:yesterday",
    ],
)
def test_bad_rules_are_422_and_store_nothing(client, tenant, two_calendars, rrule):
    cal, _ = two_calendars
    reply = _appointment(client, tenant, cal["id"], MONDAYS[0], rrule=rrule, ignoreFreeSlotValidation=True)
    assert reply.status == 422, reply.body
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"]) == []


def test_overlapping_occurrences_are_refused(client, tenant, two_calendars):
    cal, _ = two_calendars
    reply = _appointment(
        client,
        tenant,
        cal["id"],
        MONDAYS[0],
        endTime="2027-03-10T10:00:00+01:00",  # two days long, every day
        rrule="FREQ=DAILY",
        ignoreFreeSlotValidation=True,
    )
    assert reply.status == 422


def test_count_and_until_are_honoured(client, tenant, two_calendars):
    cal, other = two_calendars
    counted = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=2")
    _series(
        client, tenant, other["id"], "2027-03-09T10:00:00+01:00", "RRULE:FREQ=WEEKLY;UNTIL=20270323T090000Z"
    )
    by_cal = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["id"] for e in by_cal] == [_iid(counted["id"], s) for s in MONDAYS[:2]]
    by_other = _events(client, tenant, *FOUR_WEEKS, calendarId=other["id"])
    assert [e["startTime"] for e in by_other] == [
        "2027-03-09T10:00:00+01:00",
        "2027-03-16T10:00:00+01:00",
        "2027-03-23T10:00:00+01:00",  # UNTIL is inclusive
    ]
    assert _free_at(client, cal["id"], MONDAYS[2]) and _free_at(
        client, cal["id"], "2027-03-30T10:00:00+02:00"
    )


def test_an_infinite_rule_is_expanded_only_in_the_window(client, tenant, two_calendars):
    cal, _ = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "FREQ=DAILY")
    three_days = _events(
        client, tenant, "2027-03-09T00:00:00+01:00", "2027-03-12T00:00:00+01:00", calendarId=cal["id"]
    )
    assert [e["startTime"] for e in three_days] == [
        "2027-03-09T10:00:00+01:00",
        "2027-03-10T10:00:00+01:00",
        "2027-03-11T10:00:00+01:00",
    ]
    # Years later the series still occupies 10:00, and a listing there is just that day
    later = _events(
        client, tenant, "2031-06-02T00:00:00+02:00", "2031-06-03T00:00:00+02:00", calendarId=cal["id"]
    )
    assert [e["id"] for e in later] == [_iid(master["id"], "2031-06-02T10:00:00+02:00")]
    assert not _free_at(client, cal["id"], "2031-06-02T10:00:00+02:00")
    # An occurrence overlapping the window's start is listed (events overlapping [start, end))
    partial = _events(
        client, tenant, "2027-03-09T10:15:00+01:00", "2027-03-09T10:20:00+01:00", calendarId=cal["id"]
    )
    assert [e["startTime"] for e in partial] == ["2027-03-09T10:00:00+01:00"]


def test_a_normal_booking_on_a_series_instance_is_refused(client, tenant, two_calendars):
    cal, other = two_calendars
    _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    for c in (cal, other):
        refused = _appointment(client, tenant, c["id"], MONDAYS[3])
        assert refused.status == 400, refused.body
    assert _appointment(client, tenant, other["id"], "2027-03-29T10:30:00+02:00").status == 200


def test_series_buffers_pad_its_occurrences(client, tenant):
    cal = make_calendar(client, tenant.location_id, slotBuffer=30, slotBufferUnit="mins")
    other = make_calendar(client, tenant.location_id, name="Other")
    _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=2")
    slots = all_slots(free_slots(client, other["id"], *_day(MONDAYS[1])))
    # 10:00-10:30 plus 30 minutes after: 10:30 is taken too, 11:00 free
    assert "2027-03-15T10:30:00+01:00" not in slots and "2027-03-15T11:00:00+01:00" in slots


def test_an_appointment_becomes_a_series_with_rrule(client, tenant, two_calendars):
    cal, other = two_calendars
    plain = _appointment(client, tenant, cal["id"], MONDAYS[0], title="Plain").body
    made = client.put(
        f"/calendars/events/appointments/{plain['id']}",
        {"rrule": "FREQ=WEEKLY;COUNT=3", "ignoreFreeSlotValidation": True},
    )
    assert made.status == 200, made.body
    assert made.body["isRecurring"] is True and made.body["rrule"] == "RRULE:FREQ=WEEKLY;COUNT=3"
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["id"] for e in events] == [_iid(plain["id"], s) for s in MONDAYS[:3]]
    assert not _free_at(client, other["id"], MONDAYS[2])
    # Deleting the first occurrence frees it: the plain appointment's own busy entry is gone
    assert client.delete(f"/calendars/events/{_iid(plain['id'], MONDAYS[0])}", {}).status == 201
    assert _free_at(client, other["id"], MONDAYS[0])


def test_another_tenants_series_is_invisible(client, tenant, two_calendars, aws):
    from slotbook.services.tenancy import SCOPES
    from tests.integration.conftest import Client

    cal, _ = two_calendars
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "Europe/Copenhagen")
    _, token = tenancy.create_api_key(location.id, "all", sorted(SCOPES))
    stranger = Client(token)
    for ident in (master["id"], _iid(master["id"], MONDAYS[1])):
        assert stranger.get(f"/calendars/events/appointments/{ident}").status == 404
        assert stranger.put(f"/calendars/events/appointments/{ident}", {"title": "x"}).status == 404
        assert stranger.delete(f"/calendars/events/{ident}", {}).status == 404
    assert len(_events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])) == 4


# -- calendars with enableRecurring ----------------------------------------------------------


def _recurring_calendar(client, tenant, option: str, **extra: Any) -> dict[str, Any]:
    return make_calendar(
        client,
        tenant.location_id,
        name="Therapy",
        enableRecurring=True,
        recurring={
            "freq": "WEEKLY",
            "count": 4,
            "bookingOption": option,
            "bookingOverlapDefaultStatus": "new",
        },
        **extra,
    )


@pytest.fixture
def third_taken(client, tenant) -> dict[str, Any]:
    """host-1 is booked on another calendar at the third Monday's 10:00."""
    other = make_calendar(client, tenant.location_id, name="Other")
    assert _appointment(client, tenant, other["id"], MONDAYS[2]).status == 200
    return other


def test_recurring_calendar_skip_leaves_the_taken_occurrence_out(client, tenant, third_taken):
    cal = _recurring_calendar(client, tenant, "skip")
    booked = _appointment(client, tenant, cal["id"], MONDAYS[0])
    assert booked.status == 200, booked.body
    assert booked.body["isRecurring"] is True
    assert booked.body["rrule"] == "RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=4\nEXDATE:20270322T090000Z"
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [MONDAYS[0], MONDAYS[1], MONDAYS[3]]
    assert {e["appointmentStatus"] for e in events} == {"confirmed"}
    for start in (MONDAYS[0], MONDAYS[1], MONDAYS[3]):
        assert not _free_at(client, third_taken["id"], start)


def test_recurring_calendar_continue_books_the_taken_occurrence_with_the_overlap_status(
    client, tenant, third_taken
):
    cal = _recurring_calendar(client, tenant, "continue")
    booked = _appointment(client, tenant, cal["id"], MONDAYS[0])
    assert booked.status == 200, booked.body
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == MONDAYS
    assert [e["appointmentStatus"] for e in events] == ["confirmed", "confirmed", "new", "confirmed"]
    assert events[2]["masterEventId"] == booked.body["id"]


def test_recurring_calendar_book_next_moves_the_taken_occurrence_to_the_next_slot(
    client, tenant, third_taken
):
    cal = _recurring_calendar(client, tenant, "book_next")
    booked = _appointment(client, tenant, cal["id"], MONDAYS[0])
    assert booked.status == 200, booked.body
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [
        MONDAYS[0],
        MONDAYS[1],
        "2027-03-22T10:30:00+01:00",  # the next offered slot after the taken 10:00
        MONDAYS[3],
    ]
    assert events[2]["id"] == _iid(booked.body["id"], MONDAYS[2])
    assert not _free_at(client, third_taken["id"], "2027-03-22T10:30:00+01:00")


def test_recurring_calendar_book_next_skips_when_nothing_is_offered_before_the_next(client, tenant):
    # Given a daily recurring calendar whose host is blocked from Wednesday noon until Thursday 15:00
    block = client.post(
        "/calendars/events/block-slots",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-10T12:00:00+01:00",
            "endTime": "2027-03-11T15:00:00+01:00",
        },
    )
    assert block.status == 201, block.body
    cal = make_calendar(
        client,
        tenant.location_id,
        enableRecurring=True,
        recurring={"freq": "DAILY", "count": 4, "bookingOption": "book_next"},
    )
    # When booking four days at 15:00 from Monday
    booked = _appointment(client, tenant, cal["id"], "2027-03-08T15:00:00+01:00")
    assert booked.status == 200, booked.body
    # Then Wednesday's occurrence is taken and nothing is offered before Thursday's: left out
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [
        "2027-03-08T15:00:00+01:00",
        "2027-03-09T15:00:00+01:00",
        "2027-03-11T15:00:00+01:00",
    ]


def test_recurring_calendar_book_next_uses_the_next_day_when_it_comes_first(client, tenant):
    # Given the host blocked from Wednesday noon to the end of that day only
    block = client.post(
        "/calendars/events/block-slots",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-10T12:00:00+01:00",
            "endTime": "2027-03-10T23:00:00+01:00",
        },
    )
    assert block.status == 201, block.body
    cal = make_calendar(
        client,
        tenant.location_id,
        enableRecurring=True,
        recurring={"freq": "DAILY", "count": 4, "bookingOption": "book_next"},
    )
    booked = _appointment(client, tenant, cal["id"], "2027-03-08T15:00:00+01:00")
    assert booked.status == 200, booked.body
    # Then Wednesday's occurrence moves to Thursday 09:00, before Thursday's own 15:00
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == [
        "2027-03-08T15:00:00+01:00",
        "2027-03-09T15:00:00+01:00",
        "2027-03-11T09:00:00+01:00",
        "2027-03-11T15:00:00+01:00",
    ]


def test_recurring_calendar_first_occurrence_taken_is_the_usual_400(client, tenant):
    other = make_calendar(client, tenant.location_id, name="Other")
    assert _appointment(client, tenant, other["id"], MONDAYS[0]).status == 200
    cal = _recurring_calendar(client, tenant, "skip")
    refused = _appointment(client, tenant, cal["id"], MONDAYS[0])
    assert refused.status == 400
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"]) == []


def test_recurring_calendar_with_the_waiver_books_one_appointment(client, tenant):
    cal = _recurring_calendar(client, tenant, "skip")
    single = _appointment(client, tenant, cal["id"], MONDAYS[0], ignoreFreeSlotValidation=True)
    assert single.status == 200 and single.body["isRecurring"] is False
    assert len(_events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])) == 1


# -- invariant 1 with series -------------------------------------------------------------------


def _input(cal_id: str, start: str, **extra: Any) -> AppointmentInput:
    return AppointmentInput(
        calendar_id=cal_id, contact_id="c", start=parse_instant(start, zone("Europe/Copenhagen")), **extra
    )


def test_a_booking_that_read_before_a_series_was_written_cannot_commit(client, tenant, two_calendars):
    cal, other = two_calendars
    scheduling = container.services().scheduling
    # Given a normal booking of the third Monday that finished its reads
    plan = scheduling.prepare_create(tenant.location_id, _input(other["id"], MONDAYS[2]))
    # When a series covering that Monday is written meanwhile
    _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=4")
    # Then the booking's commit fails on host-1's version, and a fresh attempt sees the time taken
    with pytest.raises(BookingConflict):
        scheduling.commit(plan)
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, _input(other["id"], MONDAYS[2]))
    assert [e["startTime"] for e in _events(client, tenant, *FOUR_WEEKS, calendarId=other["id"])] == []


def test_a_recurring_booking_that_read_before_a_booking_cannot_commit(client, tenant):
    cal = _recurring_calendar(client, tenant, "skip")
    other = make_calendar(client, tenant.location_id, name="Other")
    scheduling = container.services().scheduling
    # Given a recurring booking (four Mondays) that finished its reads: every Monday was free
    plan = scheduling.prepare_create(tenant.location_id, _input(cal["id"], MONDAYS[0]))
    assert plan.series is not None and plan.series.master is not None
    assert plan.series.master.exdates == []
    # When a normal booking takes the fourth Monday meanwhile
    assert _appointment(client, tenant, other["id"], MONDAYS[3]).status == 200
    # Then the series cannot commit; retried from fresh reads it skips the taken Monday
    with pytest.raises(BookingConflict):
        scheduling.commit(plan)
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"]) == []
    master = scheduling.create_appointment(tenant.location_id, _input(cal["id"], MONDAYS[0]))
    assert [e.isoformat() for e in master.exdates] == ["2027-03-29T08:00:00+00:00"]
    events = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert [e["startTime"] for e in events] == MONDAYS[:3]


def test_recurring_responses_match_the_reference_schemas(client, tenant, two_calendars):
    from tests.integration.test_reference_schemas import check

    cal, _ = two_calendars
    one = "/calendars/events/appointments/{eventId}"
    created = check(
        _appointment(
            client, tenant, cal["id"], MONDAYS[0], rrule="FREQ=WEEKLY", ignoreFreeSlotValidation=True
        ),
        "/calendars/events/appointments",
        "post",
        200,
    )
    second = _iid(created["id"], MONDAYS[1])
    listed = check(
        client.get(
            "/calendars/events",
            params={
                "locationId": tenant.location_id,
                "calendarId": cal["id"],
                "startTime": ms(FOUR_WEEKS[0]),
                "endTime": ms(FOUR_WEEKS[1]),
            },
        ),
        "/calendars/events",
        "get",
        200,
    )
    assert len(listed["events"]) == 4
    check(client.get(f"/calendars/events/appointments/{second}"), one, "get", 200)
    check(client.get(f"/calendars/events/appointments/{created['id']}"), one, "get", 200)
    check(client.put(f"/calendars/events/appointments/{second}", {"title": "x"}), one, "put", 200)
    check(client.get(f"/calendars/events/appointments/{second}"), one, "get", 200)
    check(client.put(f"/calendars/events/appointments/{created['id']}", {"title": "y"}), one, "put", 200)
    third = _iid(created["id"], MONDAYS[2])
    check(client.delete(f"/calendars/events/{third}", {}), "/calendars/events/{eventId}", "delete", 201)
    check(
        client.delete(f"/calendars/events/{created['id']}", {}), "/calendars/events/{eventId}", "delete", 201
    )


def test_a_series_occupies_the_rooms_of_its_calendar(client, tenant):
    # Given two calendars with different hosts sharing a room for one
    cal = make_calendar(client, tenant.location_id)
    other = make_calendar(client, tenant.location_id, name="Other", teamMembers=[{"userId": "host-2"}])
    room = client.post(
        "/calendars/resources/rooms",
        {
            "locationId": tenant.location_id,
            "name": "Room",
            "description": "",
            "quantity": 1,
            "outOfService": 0,
            "capacity": 1,
            "calendarIds": [cal["id"], other["id"]],
        },
    )
    assert room.status == 201, room.body
    # When a weekly series is booked on the first calendar
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY")
    listed = _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"])
    assert {tuple(e["assignedResources"]) for e in listed} == {(room.body["id"],)}
    # Then the other calendar cannot use the room at those times (host-2 is free)
    assert not any(_free_at(client, other["id"], s) for s in MONDAYS)
    assert _appointment(client, tenant, other["id"], MONDAYS[1]).status == 400
    # And deleting or moving an occurrence gives the room back at its old time
    assert client.delete(f"/calendars/events/{_iid(master['id'], MONDAYS[1])}", {}).status == 201
    moved = client.put(
        f"/calendars/events/appointments/{_iid(master['id'], MONDAYS[2])}",
        {"startTime": "2027-03-22T14:00:00+01:00"},
    )
    assert moved.status == 200, moved.body
    assert _free_at(client, other["id"], MONDAYS[1]) and _free_at(client, other["id"], MONDAYS[2])
    assert not _free_at(client, other["id"], "2027-03-22T14:00:00+01:00")
    # And deleting the series frees the room everywhere
    assert client.delete(f"/calendars/events/{master['id']}", {}).status == 201
    assert all(_free_at(client, other["id"], s) for s in MONDAYS)
    assert _free_at(client, other["id"], "2027-03-22T14:00:00+01:00")


def test_same_calendar_occurrences_take_seats(client, tenant):
    cal = make_calendar(client, tenant.location_id, calendarType="class_booking", appoinmentPerSlot=2)
    _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=2")
    # One seat of two is taken by the occurrence: still offered, and bookable once
    assert _free_at(client, cal["id"], MONDAYS[1])
    assert _appointment(client, tenant, cal["id"], MONDAYS[1]).status == 200
    assert not _free_at(client, cal["id"], MONDAYS[1])
    assert _appointment(client, tenant, cal["id"], MONDAYS[1]).status == 400


def test_a_series_moves_to_another_calendar_and_lists_by_group(client, tenant):
    group = client.post(
        "/calendars/groups",
        {"locationId": tenant.location_id, "name": "Team", "description": "", "slug": "team"},
    )
    assert group.status == 201, group.body
    cal = make_calendar(client, tenant.location_id, groupId=group.body["group"]["id"])
    other = make_calendar(client, tenant.location_id, name="Other")
    master = _series(client, tenant, cal["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=4")
    by_group = _events(client, tenant, *FOUR_WEEKS, groupId=group.body["group"]["id"])
    assert [e["id"] for e in by_group] == [_iid(master["id"], s) for s in MONDAYS]
    path = f"/calendars/events/appointments/{master['id']}"
    assert client.put(path, {"calendarId": other["id"]}).status == 422
    moved = client.put(path, {"calendarId": other["id"], "ignoreFreeSlotValidation": True})
    assert moved.status == 200 and moved.body["calendarId"] == other["id"]
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=cal["id"]) == []
    assert _events(client, tenant, *FOUR_WEEKS, groupId=group.body["group"]["id"]) == []
    listed = _events(client, tenant, *FOUR_WEEKS, calendarId=other["id"])
    assert [e["calendarId"] for e in listed] == [other["id"]] * 4


def test_a_collective_series_occupies_every_member_and_user_listings_see_it(client, tenant):
    team = make_calendar(
        client,
        tenant.location_id,
        calendarType="collective",
        teamMembers=[{"userId": "host-1"}, {"userId": "host-2"}],
    )
    solo_2 = make_calendar(client, tenant.location_id, name="Solo 2", teamMembers=[{"userId": "host-2"}])
    master = _series(client, tenant, team["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=2")
    assert not _free_at(client, solo_2["id"], MONDAYS[1])
    for user in ("host-1", "host-2"):
        listed = _events(client, tenant, *FOUR_WEEKS, userId=user)
        assert [e["id"] for e in listed] == [_iid(master["id"], s) for s in MONDAYS[:2]]
        assert listed[0]["users"] == ["host-1", "host-2"]
    # A calendar + user listing narrows to the series that user hosts
    assert _events(client, tenant, *FOUR_WEEKS, calendarId=team["id"], userId="host-3") == []
    assert len(_events(client, tenant, *FOUR_WEEKS, calendarId=team["id"], userId="host-2")) == 2


def test_a_round_robin_series_goes_to_one_member(client, tenant):
    rr = make_calendar(
        client,
        tenant.location_id,
        calendarType="round_robin",
        teamMembers=[{"userId": "host-1", "priority": 1}, {"userId": "host-2", "priority": 0}],
    )
    solo_1 = make_calendar(client, tenant.location_id, name="Solo 1")
    master = _series(client, tenant, rr["id"], MONDAYS[0], "RRULE:FREQ=WEEKLY;COUNT=2")
    assert master["assignedUserId"] == "host-1"
    assert not _free_at(client, solo_1["id"], MONDAYS[1])
    # host-2 is still free then, so the round-robin calendar still offers the time
    assert _free_at(client, rr["id"], MONDAYS[1])
