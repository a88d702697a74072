"""GoHighLevel dialect through the handlers: calendars, free slots, appointments, block slots.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

from tests.integration.conftest import SEED_000_HOURS, all_slots, free_slots, make_calendar, ms

MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")


def test_walkthrough_create_read_free_slots_book_and_see_it_gone(client, tenant):
    # Given a calendar with the working hours of seeds/000
    cal = make_calendar(client, tenant.location_id)
    # When reading a Monday and a Friday
    slots = free_slots(client, cal["id"], "2027-03-08T00:00:00+01:00", "2027-03-12T23:59:59+01:00")
    # Then Monday offers 09:00..16:30 and Friday 09:00..15:30, every 30 minutes, with offsets
    assert slots["2027-03-08"][0] == "2027-03-08T09:00:00+01:00"
    assert slots["2027-03-08"][-1] == "2027-03-08T16:30:00+01:00"
    assert len(slots["2027-03-08"]) == 16
    assert slots["2027-03-12"][-1] == "2027-03-12T15:30:00+01:00"
    # When booking 10:00 Monday
    booked = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "contact-1",
            "startTime": "2027-03-08T10:00:00+01:00",
            "title": "Intro",
        },
    )
    assert booked.status == 200, booked.body
    assert booked.body["endTime"] == "2027-03-08T10:30:00+01:00"
    assert booked.body["assignedUserId"] == "host-1"
    # Then it is gone from the next answer, and booking it again is refused with a clear 400
    assert "2027-03-08T10:00:00+01:00" not in all_slots(free_slots(client, cal["id"], *MON))
    again = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "contact-2",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    )
    assert again.status == 400
    assert again.body["statusCode"] == 400


def test_calendar_round_trip_keeps_fields_and_units(client, tenant):
    cal = make_calendar(
        client,
        tenant.location_id,
        slotDuration=1,
        slotDurationUnit="hours",
        slotInterval=15,
        slotIntervalUnit="mins",
        preBuffer=10,
        preBufferUnit="mins",
        slotBuffer=5,
        slotBufferUnit="mins",
        allowBookingAfter=2,
        allowBookingAfterUnit="hours",
        allowBookingFor=30,
        allowBookingForUnit="days",
        appoinmentPerDay=4,
        description="Say hello",
        slug="intro",
        eventColor="#ff0000",
        lookBusyConfig={"enabled": False, "LookBusyPercentage": 0},
    )
    got = client.get(f"/calendars/{cal['id']}")
    assert got.status == 200
    body = got.body["calendar"]
    assert body == cal
    assert body["openHours"] == SEED_000_HOURS
    assert (body["slotDuration"], body["slotDurationUnit"]) == (1, "hours")
    assert (body["preBuffer"], body["slotBuffer"], body["allowBookingFor"]) == (10, 5, 30)
    assert body["description"] == "Say hello"
    assert body["widgetType"] == "classic"  # the reference's default
    # A PUT changes only what it sends
    put = client.put(f"/calendars/{cal['id']}", {"name": "Renamed", "slotInterval": 30})
    assert put.status == 200
    assert put.body["calendar"]["name"] == "Renamed"
    assert put.body["calendar"]["slotInterval"] == 30
    assert put.body["calendar"]["description"] == "Say hello"
    listed = client.get("/calendars/", params={"locationId": tenant.location_id})
    assert [c["id"] for c in listed.body["calendars"]] == [cal["id"]]
    # DELETE, then it is gone
    assert client.delete(f"/calendars/{cal['id']}").body == {"success": True}
    assert client.get(f"/calendars/{cal['id']}").status == 404


def test_free_slots_input_rules(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    path = f"/calendars/{cal['id']}/free-slots"
    start = ms("2027-03-08T00:00:00+01:00")
    assert client.get(path, params={"startDate": start, "endDate": start + 32 * 86400000}).status == 400
    assert client.get(path, params={"startDate": start, "endDate": start - 1}).status == 400
    bad_tz = client.get(
        path, params={"startDate": start, "endDate": start + 86400000, "timezone": "Mars/Olympus"}
    )
    assert bad_tz.status == 400
    assert client.get(path, params={"startDate": "soon", "endDate": start}).status == 422
    assert client.get(path, params={"endDate": start}).status == 422
    not_member = client.get(
        path, params={"startDate": start, "endDate": start + 86400000, "userId": "stranger"}
    )
    assert not_member.status == 400
    assert (
        client.get("/calendars/unknown/free-slots", params={"startDate": start, "endDate": start}).status
        == 404
    )


def test_free_slots_in_requested_timezone(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    slots = free_slots(client, cal["id"], *MON, timezone="America/New_York")
    # 09:00 Copenhagen is 03:00 in New York (both on standard time on 2027-03-08? NY changes 03-14)
    assert slots["2027-03-08"][0] == "2027-03-08T03:00:00-05:00"


def test_dst_both_ways_local_nine_stays_nine(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    spring = free_slots(client, cal["id"], "2027-03-26T00:00:00+01:00", "2027-03-29T23:59:59+02:00")
    assert spring["2027-03-26"][0] == "2027-03-26T09:00:00+01:00"
    assert spring["2027-03-29"][0] == "2027-03-29T09:00:00+02:00"
    autumn = free_slots(client, cal["id"], "2027-10-29T00:00:00+02:00", "2027-11-01T23:59:59+01:00")
    assert autumn["2027-10-29"][0] == "2027-10-29T09:00:00+02:00"
    assert autumn["2027-11-01"][0] == "2027-11-01T09:00:00+01:00"


def test_busy_in_any_calendar_of_the_location_with_stacked_buffers(client, tenant):
    # Given host-1 on calendar A (15 min after-buffer) and calendar B (10 min pre-buffer)
    cal_a = make_calendar(client, tenant.location_id, name="A", slotBuffer=15, slotBufferUnit="mins")
    cal_b = make_calendar(
        client, tenant.location_id, name="B", preBuffer=10, preBufferUnit="mins", slotInterval=15
    )
    # When host-1 is booked 10:00–10:30 on A
    reply = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal_a["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    )
    assert reply.status == 200
    slots_b = all_slots(free_slots(client, cal_b["id"], *MON))
    # Then on B: A's appointment occupies 10:00–10:45 (its buffer); B's slot needs 10 min before it.
    # 09:15 (09:05–09:45) is free, 09:30 (09:20–10:00) touches 10:00 and is free,
    # 09:45 overlaps, 10:45 (10:35–11:15) overlaps A's buffer, 11:00 (10:50–11:30) is free.
    assert "2027-03-08T09:30:00+01:00" in slots_b
    assert "2027-03-08T09:45:00+01:00" not in slots_b
    assert "2027-03-08T10:45:00+01:00" not in slots_b
    assert "2027-03-08T11:00:00+01:00" in slots_b


def test_block_slots_for_host_and_for_calendar(client, tenant):
    cal = make_calendar(client, tenant.location_id, slotInterval=30)
    other = make_calendar(client, tenant.location_id, name="Other")
    host_block = client.post(
        "/calendars/events/block-slots",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "title": "Dentist",
            "startTime": "2027-03-08T11:00:00+01:00",
            "endTime": "2027-03-08T12:00:00+01:00",
        },
    )
    assert host_block.status == 201, host_block.body
    cal_block = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "title": "Closed",
            "startTime": "2027-03-08T14:00:00+01:00",
            "endTime": "2027-03-08T15:00:00+01:00",
        },
    )
    assert cal_block.status == 201
    slots = all_slots(free_slots(client, cal["id"], *MON))
    other_slots = all_slots(free_slots(client, other["id"], *MON))
    for t in ("11:00", "11:30", "14:00", "14:30"):
        assert f"2027-03-08T{t}:00+01:00" not in slots
    assert "2027-03-08T11:00:00+01:00" not in other_slots  # the host's own block follows them
    assert "2027-03-08T14:00:00+01:00" in other_slots  # the calendar's block does not
    # Listing, editing and deleting block slots
    listed = client.get(
        "/calendars/blocked-slots",
        params={
            "locationId": tenant.location_id,
            "calendarId": cal["id"],
            "startTime": ms("2027-03-08T00:00:00+01:00"),
            "endTime": ms("2027-03-09T00:00:00+01:00"),
        },
    )
    assert [e["id"] for e in listed.body["events"]] == [cal_block.body["id"]]
    by_user = client.get(
        "/calendars/blocked-slots",
        params={
            "locationId": tenant.location_id,
            "userId": "host-1",
            "startTime": ms("2027-03-08T00:00:00+01:00"),
            "endTime": ms("2027-03-09T00:00:00+01:00"),
        },
    )
    assert [e["id"] for e in by_user.body["events"]] == [host_block.body["id"]]
    moved = client.put(
        f"/calendars/events/block-slots/{host_block.body['id']}",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-08T16:00:00+01:00",
            "endTime": "2027-03-08T17:00:00+01:00",
        },
    )
    assert moved.status == 201
    assert moved.body["startTime"] == "2027-03-08T16:00:00+01:00"
    slots = all_slots(free_slots(client, cal["id"], *MON))
    assert "2027-03-08T11:00:00+01:00" in slots and "2027-03-08T16:00:00+01:00" not in slots
    assert client.delete(f"/calendars/events/{cal_block.body['id']}", {}).status == 201
    assert "2027-03-08T14:00:00+01:00" in all_slots(free_slots(client, cal["id"], *MON))
    # Exactly one owner
    both = client.post(
        "/calendars/events/block-slots",
        {
            "calendarId": cal["id"],
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-08T14:00:00+01:00",
            "endTime": "2027-03-08T15:00:00+01:00",
        },
    )
    assert both.status == 422
    neither = client.post(
        "/calendars/events/block-slots",
        {
            "locationId": tenant.location_id,
            "startTime": "2027-03-08T14:00:00+01:00",
            "endTime": "2027-03-08T15:00:00+01:00",
        },
    )
    assert neither.status == 422


def _book(client, tenant, cal_id, start, **extra):
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


def test_reschedule_rechecks_the_new_time_not_counting_itself(client, tenant):
    cal = make_calendar(client, tenant.location_id, slotDuration=60, slotInterval=30)
    a = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    _book(client, tenant, cal["id"], "2027-03-08T13:00:00+01:00")
    # Moving by 30 minutes overlaps only itself: allowed
    moved = client.put(
        f"/calendars/events/appointments/{a['id']}", {"startTime": "2027-03-08T10:30:00+01:00"}
    )
    assert moved.status == 200, moved.body
    assert moved.body["endTime"] == "2027-03-08T11:30:00+01:00"
    slots = all_slots(free_slots(client, cal["id"], *MON))
    assert "2027-03-08T09:30:00+01:00" in slots and "2027-03-08T10:00:00+01:00" not in slots
    # Onto the other appointment: refused, and nothing changed
    clash = client.put(
        f"/calendars/events/appointments/{a['id']}", {"startTime": "2027-03-08T12:30:00+01:00"}
    )
    assert clash.status == 400
    got = client.get(f"/calendars/events/appointments/{a['id']}")
    assert got.body["event"]["startTime"] == "2027-03-08T10:30:00+01:00"
    # Title-only edits need no free slot
    assert client.put(f"/calendars/events/appointments/{a['id']}", {"title": "Renamed"}).status == 200


def test_cancel_and_delete_free_the_slot_at_once(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    a = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    b = _book(client, tenant, cal["id"], "2027-03-08T11:00:00+01:00").body
    cancelled = client.put(f"/calendars/events/appointments/{a['id']}", {"appointmentStatus": "cancelled"})
    assert cancelled.body["appointmentStatus"] == "cancelled"
    assert client.delete(f"/calendars/events/{b['id']}", {}).body == {"succeeded": True}
    slots = all_slots(free_slots(client, cal["id"], *MON))
    assert "2027-03-08T10:00:00+01:00" in slots and "2027-03-08T11:00:00+01:00" in slots
    assert client.get(f"/calendars/events/appointments/{b['id']}").status == 404
    # Un-cancelling re-checks the slot: someone else took it meanwhile
    assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").status == 200
    assert (
        client.put(f"/calendars/events/appointments/{a['id']}", {"appointmentStatus": "confirmed"}).status
        == 400
    )


def test_events_listing_needs_an_owner_and_returns_overlaps(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    a = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    params = {
        "locationId": tenant.location_id,
        "startTime": ms("2027-03-08T10:15:00+01:00"),
        "endTime": ms("2027-03-08T12:00:00+01:00"),
    }
    assert client.get("/calendars/events", params=params).status == 400
    by_cal = client.get("/calendars/events", params={**params, "calendarId": cal["id"]}).body["events"]
    by_user = client.get("/calendars/events", params={**params, "userId": "host-1"}).body["events"]
    assert [e["id"] for e in by_cal] == [e["id"] for e in by_user] == [a["id"]]
    assert by_cal[0]["users"] == ["host-1"]
    after = {**params, "calendarId": cal["id"], "startTime": ms("2027-03-08T10:30:00+01:00")}
    assert client.get("/calendars/events", params=after).body["events"] == []


def test_notice_horizon_and_the_flags_that_lift_them(client, tenant, clock):
    # now = 2027-03-01 08:00 UTC = 09:00 Copenhagen, Monday
    cal = make_calendar(
        client,
        tenant.location_id,
        allowBookingAfter=2,
        allowBookingAfterUnit="hours",
        allowBookingFor=7,
        allowBookingForUnit="days",
    )
    today = free_slots(client, cal["id"], "2027-03-01T00:00:00+01:00", "2027-03-31T23:59:59+02:00")
    assert today["2027-03-01"][0] == "2027-03-01T11:00:00+01:00"  # 2 h notice from 09:00
    assert max(today) == "2027-03-08"  # horizon: up to the end of today + 7 days
    early = _book(client, tenant, cal["id"], "2027-03-01T10:00:00+01:00")
    assert early.status == 400
    assert _book(client, tenant, cal["id"], "2027-03-01T10:00:00+01:00", ignoreDateRange=True).status == 200
    late = _book(client, tenant, cal["id"], "2027-03-15T10:00:00+01:00")
    assert late.status == 400
    sunday = _book(client, tenant, cal["id"], "2027-03-07T10:00:00+01:00", ignoreFreeSlotValidation=True)
    assert sunday.status == 200, sunday.body


def test_round_robin_priority_then_least_recently_booked(client, tenant, clock):
    cal = make_calendar(
        client,
        tenant.location_id,
        calendarType="round_robin",
        teamMembers=[
            {"userId": "low", "priority": 0},
            {"userId": "high", "priority": 1},
            {"userId": "mid", "priority": 0.5},
        ],
    )
    first = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    assert first["assignedUserId"] == "high"
    second = _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body
    assert second["assignedUserId"] == "mid"
    # The slot stays offered while any member is free
    assert "2027-03-08T10:00:00+01:00" in all_slots(free_slots(client, cal["id"], *MON))
    assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body["assignedUserId"] == "low"
    assert "2027-03-08T10:00:00+01:00" not in all_slots(free_slots(client, cal["id"], *MON))
    # userId narrows the answer to one member
    only_low = all_slots(free_slots(client, cal["id"], *MON, userId="low"))
    assert "2027-03-08T10:00:00+01:00" not in only_low and "2027-03-08T11:00:00+01:00" in only_low


def test_round_robin_equal_distribution(client, tenant):
    cal = make_calendar(
        client,
        tenant.location_id,
        calendarType="round_robin",
        eventType="RoundRobin_OptimizeForEqualDistribution",
        teamMembers=[{"userId": "a", "priority": 1}, {"userId": "b", "priority": 0}],
    )
    hosts = [
        _book(client, tenant, cal["id"], f"2027-03-08T{h}:00:00+01:00").body["assignedUserId"]
        for h in ("10", "11", "12", "13")
    ]
    assert sorted(hosts) == ["a", "a", "b", "b"]


def test_collective_needs_everyone_and_books_everyone(client, tenant):
    cal = make_calendar(
        client,
        tenant.location_id,
        calendarType="collective",
        teamMembers=[{"userId": "x", "isPrimary": True}, {"userId": "y"}],
    )
    solo = make_calendar(client, tenant.location_id, teamMembers=[{"userId": "y"}])
    _book(client, tenant, solo["id"], "2027-03-08T10:00:00+01:00")
    assert "2027-03-08T10:00:00+01:00" not in all_slots(free_slots(client, cal["id"], *MON))
    booked = _book(client, tenant, cal["id"], "2027-03-08T11:00:00+01:00").body
    assert booked["assignedUserId"] == "x"
    event = client.get(f"/calendars/events/appointments/{booked['id']}").body["event"]
    assert sorted(event["users"]) == ["x", "y"]
    assert "2027-03-08T11:00:00+01:00" not in all_slots(free_slots(client, solo["id"], *MON))


def test_class_seats_and_daily_limit(client, tenant):
    cal = make_calendar(client, tenant.location_id, calendarType="class_booking", appoinmentPerSlot=2)
    for _ in range(2):
        assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").status == 200
    assert "2027-03-08T10:00:00+01:00" not in all_slots(free_slots(client, cal["id"], *MON))
    assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").status == 400
    daily = make_calendar(
        client, tenant.location_id, name="Daily", teamMembers=[{"userId": "d"}], appoinmentPerDay=2
    )
    for h in ("10", "12"):
        assert _book(client, tenant, daily["id"], f"2027-03-08T{h}:00:00+01:00").status == 200
    assert free_slots(client, daily["id"], *MON) == {}
    assert "2027-03-09" in free_slots(
        client, daily["id"], "2027-03-09T00:00:00+01:00", "2027-03-09T23:00:00+01:00"
    )


def test_inactive_calendar_offers_nothing(client, tenant):
    cal = make_calendar(client, tenant.location_id, isActive=False)
    assert free_slots(client, cal["id"], *MON) == {}
    assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").status == 400


def test_events_by_group_cover_the_groups_calendars(client, tenant):
    group = client.post(
        "/calendars/groups",
        {"locationId": tenant.location_id, "name": "Team G", "description": "", "slug": "team-g"},
    ).body["group"]
    in_a = make_calendar(
        client, tenant.location_id, name="A", groupId=group["id"], teamMembers=[{"userId": "a"}]
    )
    in_b = make_calendar(
        client, tenant.location_id, name="B", groupId=group["id"], teamMembers=[{"userId": "b"}]
    )
    other = make_calendar(client, tenant.location_id, name="C", teamMembers=[{"userId": "c"}])
    ids = {
        cal["id"]: _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").body["id"]
        for cal in (in_a, in_b, other)
    }
    listed = client.get(
        "/calendars/events",
        params={
            "locationId": tenant.location_id,
            "groupId": group["id"],
            "startTime": ms("2027-03-08T00:00:00+01:00"),
            "endTime": ms("2027-03-09T00:00:00+01:00"),
        },
    ).body["events"]
    assert sorted(e["id"] for e in listed) == sorted([ids[in_a["id"]], ids[in_b["id"]]])
    assert {e["groupId"] for e in listed} == {group["id"]}
    only_group = client.get("/calendars/", params={"locationId": tenant.location_id, "groupId": group["id"]})
    assert sorted(c["id"] for c in only_group.body["calendars"]) == sorted([in_a["id"], in_b["id"]])


def test_date_overrides_sunday_hours_and_hour_units(client, tenant):
    # Given Sunday-only hours (GoHighLevel day 0), 1-hour slots, and two date overrides
    cal = make_calendar(
        client,
        tenant.location_id,
        slotDuration=1,
        slotDurationUnit="hours",
        slotInterval=1,
        slotIntervalUnit="hours",
        openHours=[
            {
                "daysOfTheWeek": [0],
                "hours": [{"openHour": 10, "openMinute": 0, "closeHour": 13, "closeMinute": 0}],
            }
        ],
        availabilities=[
            {"date": "2027-03-14T00:00:00.000Z", "hours": []},  # a Sunday, closed
            {
                "date": "2027-03-16T00:00:00.000Z",
                "hours": [  # a Tuesday, open 08:00-10:00
                    {"openHour": 8, "openMinute": 0, "closeHour": 10, "closeMinute": 0}
                ],
            },
        ],
    )
    slots = free_slots(client, cal["id"], "2027-03-07T00:00:00+01:00", "2027-03-21T23:59:59+01:00")
    assert slots == {
        "2027-03-07": ["2027-03-07T10:00:00+01:00", "2027-03-07T11:00:00+01:00", "2027-03-07T12:00:00+01:00"],
        "2027-03-16": ["2027-03-16T08:00:00+01:00", "2027-03-16T09:00:00+01:00"],
        "2027-03-21": ["2027-03-21T10:00:00+01:00", "2027-03-21T11:00:00+01:00", "2027-03-21T12:00:00+01:00"],
    }
    # The overrides come back with ids; deleting one by id reopens its date
    overrides = client.get(f"/calendars/{cal['id']}").body["calendar"]["availabilities"]
    closed = next(o for o in overrides if o["date"].startswith("2027-03-14"))
    assert closed["hours"] == []
    put = client.put(
        f"/calendars/{cal['id']}",
        {"availabilities": [{"id": closed["id"], "date": closed["date"], "hours": [], "deleted": True}]},
    )
    assert put.status == 200
    assert [o["date"][:10] for o in put.body["calendar"]["availabilities"]] == ["2027-03-16"]
    assert "2027-03-14" in free_slots(
        client, cal["id"], "2027-03-14T00:00:00+01:00", "2027-03-14T23:00:00+01:00"
    )
