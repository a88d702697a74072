"""Adversarial review of recurring appointments (issue 3): regressions for defects found.

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen.
"""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import all_slots, free_slots, make_calendar, ms


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


def test_until_at_the_end_of_year_9999_is_accepted_not_a_500(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    for until in ("99991231", "99991231T235959"):
        reply = _appointment(
            client,
            tenant,
            cal["id"],
            "2027-03-08T10:00:00+01:00",
            rrule=f"RRULE:FREQ=WEEKLY;UNTIL={until}",
            ignoreFreeSlotValidation=True,
        )
        assert reply.status in (200, 422), reply.body


def test_absurd_nth_weekday_is_422_not_a_500(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    for rule in ("FREQ=MONTHLY;BYDAY=+99MO", "FREQ=MONTHLY;BYDAY=1000000000000000000000MO"):
        reply = _appointment(
            client, tenant, cal["id"], "2027-03-08T10:00:00+01:00", rrule=rule, ignoreFreeSlotValidation=True
        )
        assert reply.status == 422, reply.body


def test_a_series_starting_in_the_second_of_an_ambiguous_hour_starts_at_its_start(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    start = "2027-10-31T02:30:00+01:00"  # the second 02:30 that night (CET), 01:30Z
    master = _series(client, tenant, cal["id"], start, "FREQ=DAILY;COUNT=2")
    got = client.get(f"/calendars/events/appointments/{_iid(master['id'], start)}")
    assert got.status == 200, got.body
    listed = _events(
        client, tenant, "2027-10-30T00:00:00+02:00", "2027-11-02T00:00:00+01:00", calendarId=cal["id"]
    )
    assert [e["startTime"] for e in listed] == [start, "2027-11-01T02:30:00+01:00"]


def test_moving_a_series_by_its_period_keeps_a_detached_instance_unique(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    mondays = ["2027-03-08T10:00:00+01:00", "2027-03-15T10:00:00+01:00", "2027-03-22T10:00:00+01:00"]
    master = _series(client, tenant, cal["id"], mondays[0], "FREQ=WEEKLY;COUNT=3")
    second = _iid(master["id"], mondays[1])
    moved = client.put(f"/calendars/events/appointments/{second}", {"startTime": "2027-03-15T14:00:00+01:00"})
    assert moved.status == 200, moved.body
    # When the whole series moves one week later
    shifted = client.put(
        f"/calendars/events/appointments/{master['id']}",
        {"startTime": mondays[1], "ignoreFreeSlotValidation": True},
    )
    assert shifted.status == 200, shifted.body
    # Then every listed id is unique and the detached instance is still listed at 14:00
    events = _events(
        client, tenant, "2027-03-01T00:00:00+01:00", "2027-04-30T00:00:00+02:00", calendarId=cal["id"]
    )
    by_id: dict[str, list[str]] = {}
    for e in events:
        by_id.setdefault(e["id"], []).append(e["startTime"])
    assert "2027-03-15T14:00:00+01:00" in [e["startTime"] for e in events], events
    assert all(len(v) == 1 for v in by_id.values()), by_id
    # And free slots agree with the listing: 10:00 on the 15th is free iff no event lists it
    listed_starts = {e["startTime"] for e in events}
    assert _free_at(client, cal["id"], mondays[1]) == (mondays[1] not in listed_starts)


def test_the_rrule_a_series_answers_with_can_be_sent_back(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    from datetime import UTC, datetime, timedelta

    # Given a daily series with 150 excluded occurrences (as its clients see it: one EXDATE line)
    first = datetime(2027, 4, 1, 8, tzinfo=UTC)
    days = [(first + timedelta(days=i)).strftime("%Y%m%dT%H%M%SZ") for i in range(150)]
    text = "RRULE:FREQ=DAILY\nEXDATE:" + ",".join(days[:75]) + "\nEXDATE:" + ",".join(days[75:])
    master = _series(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00", "RRULE:FREQ=DAILY")
    changed = client.put(
        f"/calendars/events/appointments/{master['id']}", {"rrule": text, "ignoreFreeSlotValidation": True}
    )
    assert changed.status == 200, changed.body
    got = client.get(f"/calendars/events/appointments/{master['id']}").body["event"]
    assert got["rrule"].count(",") == 149 and len(got["rrule"]) > 2000
    # When a client writes back what it read (read-modify-write of the whole appointment)
    again = client.put(
        f"/calendars/events/appointments/{master['id']}",
        {"title": "Renamed", "rrule": got["rrule"], "ignoreFreeSlotValidation": True},
    )
    # Then it is accepted, and nothing about the series changed but the title
    assert again.status == 200, again.body
    assert again.body["rrule"] == got["rrule"] and again.body["title"] == "Renamed"


def test_a_host_full_of_series_gets_a_422_not_a_500(client, tenant, aws):
    import boto3

    from slotbook.store import keys as k

    cal = make_calendar(client, tenant.location_id)
    assert _appointment(client, tenant, cal["id"], "2027-03-08T11:00:00+01:00").status == 200
    # Given host-1's VERSION item close to DynamoDB's 400 KB item limit (as ~80 series with long
    # rules and 500 exclusions each would leave it)
    key = k.host_version(tenant.location_id, "host-1")
    boto3.resource("dynamodb").Table(aws).update_item(
        Key=key, UpdateExpression="SET padding = :p", ExpressionAttributeValues={":p": "x" * 404_000}
    )
    # When one more series with a long rule is booked for host-1
    from datetime import UTC, datetime, timedelta

    base = datetime(2030, 1, 1, 9, tzinfo=UTC)
    stamps = [(base + timedelta(days=i)).strftime("%Y%m%dT%H%M%SZ") for i in range(500)]
    rule = "RRULE:FREQ=YEARLY;BYMONTH=" + ",".join(["3"] * 485) + "\nEXDATE:" + ",".join(stamps)
    reply = _appointment(
        client, tenant, cal["id"], "2027-03-08T10:00:00+01:00", rrule=rule, ignoreFreeSlotValidation=True
    )
    # Then it is a clear 422, not a 500, and the host can still be booked normally
    assert reply.status == 422, reply.body
    assert _appointment(client, tenant, cal["id"], "2027-03-09T10:00:00+01:00").status == 200


def test_book_next_respects_the_per_day_limit_against_the_series_own_occurrences(client, tenant):
    # Given host-1 blocked on Tuesday from 10:00 to the end of the day
    block = client.post(
        "/calendars/events/block-slots",
        {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-09T10:00:00+01:00",
            "endTime": "2027-03-09T23:00:00+01:00",
        },
    )
    assert block.status == 201, block.body
    # And a daily recurring calendar taking one appointment per day
    cal = make_calendar(
        client,
        tenant.location_id,
        appoinmentPerDay=1,
        enableRecurring=True,
        recurring={"freq": "DAILY", "count": 3, "bookingOption": "book_next"},
    )
    # When booking three days at 10:00 from Monday
    booked = _appointment(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00")
    assert booked.status == 200, booked.body
    # Then Tuesday's occurrence is not moved onto Wednesday, which already has the series' own one
    events = _events(
        client, tenant, "2027-03-08T00:00:00+01:00", "2027-03-11T00:00:00+01:00", calendarId=cal["id"]
    )
    per_day: dict[str, int] = {}
    for e in events:
        per_day[e["startTime"][:10]] = per_day.get(e["startTime"][:10], 0) + 1
    assert max(per_day.values()) == 1, [e["startTime"] for e in events]


def test_bymonthday_zero_is_422(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    reply = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=0",
            "ignoreFreeSlotValidation": True,
        },
    )
    assert reply.status == 422, reply.body


def test_a_listing_window_with_too_many_occurrences_is_refused_not_oversized(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    created = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
            "rrule": "FREQ=DAILY",
            "ignoreFreeSlotValidation": True,
        },
    )
    assert created.status == 200, created.body
    window = {
        "locationId": tenant.location_id,
        "calendarId": cal["id"],
        "startTime": ms("2027-03-01T00:00:00Z"),
    }
    ok = client.get("/calendars/events", params={**window, "endTime": ms("2030-03-01T00:00:00Z")})
    assert ok.status == 200 and len(ok.body["events"]) > 1000
    too_long = client.get("/calendars/events", params={**window, "endTime": ms("2047-03-01T00:00:00Z")})
    assert too_long.status == 400, too_long.body
