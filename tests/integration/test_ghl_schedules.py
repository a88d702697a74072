"""GoHighLevel availability schedules through the handlers: user schedules (CRUD, search,
associations), event-calendar schedules, validation, tenancy, response shapes — and what they
do to free slots (per member, per zone, date rules, round robin and collective, DST).

Time is frozen at 2027-03-01 08:00 UTC (a Monday); the location is in Europe/Copenhagen (UTC+1
until 2027-03-28). New York is UTC-5 until its DST change on 2027-03-14, UTC-4 after.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from slotbook import container
from tests.integration.conftest import Client, all_slots, free_slots, make_calendar
from tests.integration.test_reference_schemas import check

SCHEDULES = "/calendars/schedules"
ONE = "/calendars/schedules/{id}"
ASSOC = "/calendars/schedules/{id}/associations/{calendarId}"
EVENT_CAL = "/calendars/schedules/event-calendar/{calendarId}"
NY = "America/New_York"
WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
SCHEDULE_KEYS = {
    "id",
    "name",
    "locationId",
    "userId",
    "timezone",
    "rules",
    "calendarIds",
    "deleted",
    "dateAdded",
    "dateUpdated",
}
NY_MON = ("2027-03-08T00:00:00-05:00", "2027-03-08T23:59:59-05:00")
CPH_MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")


def wday(day: str, *intervals: tuple[str, str]) -> dict[str, Any]:
    return {"type": "wday", "day": day, "intervals": [{"from": a, "to": b} for a, b in intervals]}


def on_date(day: str, *intervals: tuple[str, str]) -> dict[str, Any]:
    return {"type": "date", "date": day, "intervals": [{"from": a, "to": b} for a, b in intervals]}


def workdays(start: str, end: str) -> list[dict[str, Any]]:
    return [wday(d, (start, end)) for d in WORKDAYS]


def create_schedule(
    client: Client,
    location_id: str,
    *,
    user_id: str = "host-1",
    timezone: str = NY,
    rules: list[dict[str, Any]] | None = None,
    calendar_ids: list[str] | None = None,
    name: str = "Mornings",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "locationId": location_id,
        "name": name,
        "userId": user_id,
        "timezone": timezone,
        "rules": workdays("09:00", "12:00") if rules is None else rules,
    }
    if calendar_ids is not None:
        body["calendarIds"] = calendar_ids
    reply = client.post(SCHEDULES, body)
    schedule = check(reply, SCHEDULES, "post", 201)["schedule"]
    assert set(schedule) == SCHEDULE_KEYS
    return schedule


def get_schedule(client: Client, schedule_id: str) -> dict[str, Any]:
    return check(client.get(f"{SCHEDULES}/{schedule_id}"), ONE, "get", 200)["schedule"]


def search(client: Client, location_id: str, user_id: str, **params: Any) -> list[dict[str, Any]]:
    reply = client.get(f"{SCHEDULES}/search", params={"locationId": location_id, "userId": user_id, **params})
    return check(reply, f"{SCHEDULES}/search", "get", 200)["schedules"]


def associate(client: Client, schedule_id: str, calendar_id: str) -> Any:
    return client.put(f"{SCHEDULES}/{schedule_id}/associations/{calendar_id}")


def dissociate(client: Client, schedule_id: str, calendar_id: str) -> Any:
    return client.delete(f"{SCHEDULES}/{schedule_id}/associations/{calendar_id}")


def book(client: Client, location_id: str, calendar_id: str, start: str) -> Any:
    return client.post(
        "/calendars/events/appointments",
        {"calendarId": calendar_id, "locationId": location_id, "contactId": "contact-1", "startTime": start},
    )


def ny_slots(client: Client, calendar_id: str, start: str, end: str) -> list[str]:
    return all_slots(free_slots(client, calendar_id, start, end, timezone=NY))


@pytest.fixture
def other_tenant(aws: str) -> tuple[str, Client]:
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", NY)
    _, token = tenancy.create_api_key(location.id, "k", ["calendars.readonly", "calendars.write"])
    return location.id, Client(token)


@pytest.fixture
def personal(client: Client, tenant: Any) -> dict[str, Any]:
    """host-1's personal calendar, openHours Mon–Thu 09:00–17:00, Fri 09:00–16:00 Copenhagen."""
    return make_calendar(client, tenant.location_id, calendarType="personal", name="Host 1")


# -- user schedules: CRUD and shapes ------------------------------------------------------------


def test_schedule_lifecycle_create_read_search_update_delete(client, tenant, personal, clock):
    loc = tenant.location_id
    # Given a schedule of host-1 applied to their personal calendar
    rules = [*workdays("09:00", "12:00"), on_date("2027-03-10")]
    created = create_schedule(client, loc, rules=rules, calendar_ids=[personal["id"]])
    assert created == {
        "id": created["id"],
        "name": "Mornings",
        "locationId": loc,
        "userId": "host-1",
        "timezone": NY,
        "rules": rules,
        "calendarIds": [personal["id"]],
        "deleted": False,
        "dateAdded": "2027-03-01T08:00:00.000Z",
        "dateUpdated": "2027-03-01T08:00:00.000Z",
    }
    # Then it reads back identically, by id and by search
    assert get_schedule(client, created["id"]) == created
    assert search(client, loc, "host-1") == [created]
    assert search(client, loc, "host-1", calendarId=personal["id"]) == [created]
    # When renaming it an hour later (rules and zone untouched)
    clock.now += timedelta(hours=1)
    reply = client.put(f"{SCHEDULES}/{created['id']}", {"name": "Late mornings"})
    renamed = check(reply, ONE, "put", 200)["schedule"]
    assert renamed == {**created, "name": "Late mornings", "dateUpdated": "2027-03-01T09:00:00.000Z"}
    # When changing rules and zone
    reply = client.put(
        f"{SCHEDULES}/{created['id']}",
        {"rules": [wday("monday", ("8:00", "9:30"))], "timezone": "Asia/Tokyo"},
    )
    changed = check(reply, ONE, "put", 200)["schedule"]
    assert changed["rules"] == [wday("monday", ("08:00", "09:30"))]
    assert (changed["timezone"], changed["name"]) == ("Asia/Tokyo", "Late mornings")
    assert get_schedule(client, created["id"]) == changed
    # When deleting it
    reply = client.delete(f"{SCHEDULES}/{created['id']}")
    assert (reply.status, reply.body) == (200, {"success": True})
    check(reply, ONE, "delete", 200)
    # Then it is gone everywhere
    assert client.get(f"{SCHEDULES}/{created['id']}").status == 404
    assert client.delete(f"{SCHEDULES}/{created['id']}").status == 404
    assert search(client, loc, "host-1") == []


def test_search_by_user_and_calendar_with_skip_and_limit(client, tenant, personal, clock):
    loc = tenant.location_id
    other_cal = make_calendar(
        client, loc, name="Team", teamMembers=[{"userId": "host-1"}, {"userId": "host-2"}]
    )
    # Given three schedules of host-1 created a minute apart, and one of host-2
    first = create_schedule(client, loc, name="first", calendar_ids=[personal["id"]])
    clock.now += timedelta(minutes=1)
    second = create_schedule(client, loc, name="second", calendar_ids=[other_cal["id"]])
    clock.now += timedelta(minutes=1)
    third = create_schedule(client, loc, name="third")
    create_schedule(client, loc, name="theirs", user_id="host-2")
    # Then host-1's search lists theirs oldest first, and pages with skip/limit
    assert [s["id"] for s in search(client, loc, "host-1")] == [first["id"], second["id"], third["id"]]
    assert [s["name"] for s in search(client, loc, "host-1", skip=1, limit=1)] == ["second"]
    assert [s["name"] for s in search(client, loc, "host-1", skip=2, limit=500)] == ["third"]
    assert search(client, loc, "host-1", skip=3) == []
    assert [s["name"] for s in search(client, loc, "host-2")] == ["theirs"]
    assert search(client, loc, "nobody") == []
    # And calendarId narrows to the schedules applied to that calendar
    assert [s["name"] for s in search(client, loc, "host-1", calendarId=other_cal["id"])] == ["second"]
    assert search(client, loc, "host-2", calendarId=other_cal["id"]) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"skip": -1},
        {"limit": "many"},
        {"userId": None},
        {"locationId": None},
    ],
)
def test_search_parameters_are_validated(client, tenant, params):
    query = {"locationId": tenant.location_id, "userId": "host-1", **params}
    reply = client.get(f"{SCHEDULES}/search", params={k: v for k, v in query.items() if v is not None})
    assert reply.status == 422, reply.body
    assert reply.body["statusCode"] == 422


BAD_RULES = [
    pytest.param([wday("monday", ("9:60", "12:00"))], id="minute-60"),
    pytest.param([wday("monday", ("25:00", "26:00"))], id="hour-25"),
    pytest.param([wday("monday", ("24:00", "24:00"))], id="from-24"),
    pytest.param([wday("monday", ("0900", "12:00"))], id="no-colon"),
    pytest.param([wday("monday", ("12:00", "09:00"))], id="from-after-to"),
    pytest.param([wday("monday", ("09:00", "09:00"))], id="empty-interval"),
    pytest.param([wday("monday", ("09:00", "12:00"), ("11:00", "13:00"))], id="overlap-in-rule"),
    pytest.param(
        [wday("monday", ("09:00", "12:00")), wday("monday", ("11:59", "13:00"))], id="overlap-across-rules"
    ),
    pytest.param(
        [on_date("2027-03-09", ("09:00", "12:00")), on_date("2027-03-09", ("10:00", "11:00"))],
        id="date-overlap",
    ),
    pytest.param([{"type": "wday", "intervals": []}], id="wday-without-day"),
    pytest.param([{"type": "wday", "day": "funday", "intervals": []}], id="unknown-day"),
    pytest.param([{"type": "wday", "day": "Monday", "intervals": []}], id="day-capitalised"),
    pytest.param(
        [{"type": "wday", "day": "monday", "date": "2027-03-09", "intervals": []}], id="wday-with-date"
    ),
    pytest.param([{"type": "date", "intervals": []}], id="date-without-date"),
    pytest.param([{"type": "date", "date": "2027-02-30", "intervals": []}], id="impossible-date"),
    pytest.param([{"type": "date", "date": "2027-3-9", "intervals": []}], id="date-format"),
    pytest.param(
        [{"type": "date", "date": "2027-03-09", "day": "tuesday", "intervals": []}], id="date-with-day"
    ),
    pytest.param([{"type": "weekly", "day": "monday", "intervals": []}], id="unknown-type"),
    pytest.param([{"type": "wday", "day": "monday"}], id="intervals-missing"),
    pytest.param(
        [{"type": "wday", "day": "monday", "intervals": [{"from_": "09:00", "to": "10:00"}]}], id="from_"
    ),
    pytest.param([{"type": "wday", "day": "monday", "intervals": [{"from": "09:00"}]}], id="to-missing"),
    pytest.param(
        [wday("monday", *[(f"{h:02d}:00", f"{h:02d}:30") for h in range(13)])], id="thirteen-intervals"
    ),
    pytest.param([wday("monday", ("09:00", "10:00"))] * 101, id="101-rules"),
]


@pytest.mark.parametrize("rules", BAD_RULES)
def test_bad_rules_are_422_and_change_nothing(client, tenant, personal, rules):
    loc = tenant.location_id
    body = {"locationId": loc, "name": "x", "userId": "host-1", "timezone": NY, "rules": rules}
    check(client.post(SCHEDULES, body), SCHEDULES, "post", 422)
    assert search(client, loc, "host-1") == []
    # The same rules are refused by every operation that takes rules
    existing = create_schedule(client, loc)
    check(client.put(f"{SCHEDULES}/{existing['id']}", {"rules": rules}), ONE, "put", 422)
    assert get_schedule(client, existing["id"]) == existing
    path = f"{SCHEDULES}/event-calendar/{personal['id']}"
    check(client.post(path, {"timezone": NY, "rules": rules}), EVENT_CAL, "post", 422)
    assert client.get(path).status == 404


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"timezone": "Mars/Olympus_Mons"}, id="unknown-zone"),
        pytest.param({"timezone": "EST5EDT "}, id="zone-with-space"),
        pytest.param({"timezone": ""}, id="empty-zone"),
        pytest.param({"timezone": None}, id="zone-missing"),
        pytest.param({"name": None}, id="name-missing"),
        pytest.param({"name": ""}, id="name-empty"),
        pytest.param({"userId": None}, id="user-missing"),
        pytest.param({"calendarIds": [f"cal-{i}" for i in range(51)]}, id="51-calendars"),
        pytest.param({"calendarIds": "cal-1"}, id="calendarIds-not-a-list"),
        pytest.param({"color": "red"}, id="unknown-field"),
    ],
)
def test_bad_schedule_fields_are_422(client, tenant, fields):
    body = {"locationId": tenant.location_id, "name": "x", "userId": "host-1", "timezone": NY, **fields}
    reply = client.post(SCHEDULES, {k: v for k, v in body.items() if v is not None})
    check(reply, SCHEDULES, "post", 422)
    assert search(client, tenant.location_id, "host-1") == []


def test_end_of_day_is_24_00_or_00_00_and_reads_back_as_00_00(client, tenant):
    # Given intervals ending at midnight, written both ways, and one spanning the whole day
    rules = [
        wday("monday", ("18:00", "24:00")),
        wday("tuesday", ("18:00", "00:00")),
        wday("sunday", ("0:00", "0:00")),
    ]
    created = create_schedule(client, tenant.location_id, rules=rules)
    # Then the response uses the one spelling the reference's pattern allows
    assert created["rules"] == [
        wday("monday", ("18:00", "00:00")),
        wday("tuesday", ("18:00", "00:00")),
        wday("sunday", ("00:00", "00:00")),
    ]


def test_rules_of_one_day_add_up_and_touching_intervals_join(client, tenant, personal):
    # Given 09:00-10:00 and 10:00-11:00 New York on Monday, in two rules, and hour-long slots
    make = client.put(f"/calendars/{personal['id']}", {"slotDuration": 60, "slotDurationUnit": "mins"})
    assert make.status == 200, make.body
    rules = [wday("monday", ("09:00", "10:00")), wday("monday", ("10:00", "11:00"), ("14:00", "15:00"))]
    create_schedule(client, tenant.location_id, rules=rules, calendar_ids=[personal["id"]])
    # Then a slot across 10:00 is offered, as if the hours were 09:00-11:00
    assert ny_slots(client, personal["id"], *NY_MON) == [
        "2027-03-08T09:00:00-05:00",
        "2027-03-08T09:30:00-05:00",
        "2027-03-08T10:00:00-05:00",
        "2027-03-08T14:00:00-05:00",
    ]


def test_unknown_or_foreign_schedule_is_404(client, tenant, personal, other_tenant):
    other_loc, other = other_tenant
    theirs = create_schedule(other, other_loc)
    for schedule_id in ("does-not-exist", theirs["id"]):
        assert client.get(f"{SCHEDULES}/{schedule_id}").status == 404
        assert client.put(f"{SCHEDULES}/{schedule_id}", {"name": "mine"}).status == 404
        assert client.delete(f"{SCHEDULES}/{schedule_id}").status == 404
        assert associate(client, schedule_id, personal["id"]).status == 404
        assert dissociate(client, schedule_id, personal["id"]).status == 404
    # And the other tenant's schedule is untouched; naming its location is 403
    assert get_schedule(other, theirs["id"]) == theirs
    reply = client.get(f"{SCHEDULES}/search", params={"locationId": other_loc, "userId": "host-1"})
    assert reply.status == 403
    body = {"locationId": other_loc, "name": "x", "userId": "host-1", "timezone": NY}
    assert client.post(SCHEDULES, body).status == 403


def test_scopes_are_the_references(tenant):
    tenancy = container.services().tenancy
    _, token = tenancy.create_api_key(tenant.location_id, "read only", ["calendars.readonly"])
    reader = Client(token)
    schedule = create_schedule(Client(tenant.token), tenant.location_id)
    assert get_schedule(reader, schedule["id"]) == schedule
    assert search(reader, tenant.location_id, "host-1") == [schedule]
    body = {"locationId": tenant.location_id, "name": "x", "userId": "host-1", "timezone": NY}
    assert reader.post(SCHEDULES, body).status == 401
    assert reader.put(f"{SCHEDULES}/{schedule['id']}", {"name": "y"}).status == 401
    assert reader.delete(f"{SCHEDULES}/{schedule['id']}").status == 401
    assert associate(reader, schedule["id"], "cal").status == 401
    assert reader.post(f"{SCHEDULES}/event-calendar/cal", {"timezone": NY, "rules": []}).status == 401


# -- associations ---------------------------------------------------------------------------------


def test_associate_and_dissociate(client, tenant, personal, clock):
    loc = tenant.location_id
    team = make_calendar(client, loc, name="Team", teamMembers=[{"userId": "host-1"}, {"userId": "host-2"}])
    schedule = create_schedule(client, loc)
    # When applying it to two calendars (the second PUT of the same pair changes nothing)
    for cal in (personal, team):
        reply = associate(client, schedule["id"], cal["id"])
        assert check(reply, ASSOC, "put", 200) == {"success": True}
    applied = get_schedule(client, schedule["id"])
    assert applied["calendarIds"] == [personal["id"], team["id"]]
    clock.now += timedelta(minutes=1)
    assert check(associate(client, schedule["id"], team["id"]), ASSOC, "put", 200) == {"success": True}
    assert get_schedule(client, schedule["id"]) == applied  # not even dateUpdated moved
    assert [s["id"] for s in search(client, loc, "host-1", calendarId=team["id"])] == [schedule["id"]]
    # When removing one (twice: the second is a no-op)
    for _ in range(2):
        reply = dissociate(client, schedule["id"], personal["id"])
        assert check(reply, ASSOC, "delete", 200) == {"success": True}
    assert get_schedule(client, schedule["id"])["calendarIds"] == [team["id"]]
    assert search(client, loc, "host-1", calendarId=personal["id"]) == []


def test_association_needs_a_calendar_of_the_location_with_the_user_on_its_team(
    client, tenant, personal, other_tenant
):
    loc = tenant.location_id
    other_loc, other = other_tenant
    foreign = make_calendar(other, other_loc, calendarType="personal")
    theirs = make_calendar(
        client, loc, name="Host 2", calendarType="personal", teamMembers=[{"userId": "host-2"}]
    )
    schedule = create_schedule(client, loc)
    # A calendar that is not in the location (unknown, or another tenant's) is 400
    for calendar_id in ("no-such-calendar", foreign["id"]):
        reply = associate(client, schedule["id"], calendar_id)
        check(reply, ASSOC, "put", 400)
        assert reply.body["message"] == "Schedule and calendar must belong to the same location"
        check(dissociate(client, schedule["id"], calendar_id), ASSOC, "delete", 400)
    # A calendar whose team the schedule's user is not on is 400
    reply = associate(client, schedule["id"], theirs["id"])
    check(reply, ASSOC, "put", 400)
    assert "not a team member" in reply.body["message"]
    # The same on create, with calendarIds
    for calendar_ids in (["no-such-calendar"], [foreign["id"]], [personal["id"], theirs["id"]]):
        body = {
            "locationId": loc,
            "name": "x",
            "userId": "host-1",
            "timezone": NY,
            "calendarIds": calendar_ids,
        }
        check(client.post(SCHEDULES, body), SCHEDULES, "post", 400)
    # Nothing changed
    assert get_schedule(client, schedule["id"])["calendarIds"] == []
    assert [s["id"] for s in search(client, loc, "host-1")] == [schedule["id"]]


def test_a_user_has_one_schedule_per_calendar(client, tenant):
    loc = tenant.location_id
    cal = make_calendar(client, loc, calendarType="round_robin")
    first = create_schedule(client, loc, calendar_ids=[cal["id"]])
    second = create_schedule(client, loc, name="Afternoons", rules=workdays("13:00", "17:00"))
    # Associating a second schedule of host-1 with the same calendar is 400; creating one is 422
    reply = associate(client, second["id"], cal["id"])
    check(reply, ASSOC, "put", 400)
    assert "one schedule per calendar" in reply.body["message"]
    body = {"locationId": loc, "name": "x", "userId": "host-1", "timezone": NY, "calendarIds": [cal["id"]]}
    check(client.post(SCHEDULES, body), SCHEDULES, "post", 422)
    assert [s["id"] for s in search(client, loc, "host-1", calendarId=cal["id"])] == [first["id"]]
    # Another user's schedule on the same calendar is fine (once they are on its team)
    reply = client.put(
        f"/calendars/{cal['id']}", {"teamMembers": [{"userId": "host-1"}, {"userId": "host-2"}]}
    )
    assert reply.status == 200, reply.body
    create_schedule(client, loc, user_id="host-2", rules=[], calendar_ids=[cal["id"]])
    # After the first leaves the calendar, the second may take its place
    assert dissociate(client, first["id"], cal["id"]).status == 200
    assert associate(client, second["id"], cal["id"]).status == 200
    assert ny_slots(client, cal["id"], *NY_MON)[0] == "2027-03-08T13:00:00-05:00"


def test_racing_schedules_of_one_user_get_one_calendar_once(client, tenant, personal):
    # Given five schedules of host-1, each trying to take the same calendar at the same instant
    loc = tenant.location_id
    schedules = [create_schedule(client, loc, name=f"s{i}") for i in range(5)]
    barrier = threading.Barrier(len(schedules))
    statuses: list[int] = []

    def attempt(schedule_id: str) -> None:
        caller = Client(tenant.token)
        barrier.wait()
        statuses.append(associate(caller, schedule_id, personal["id"]).status)

    threads = [threading.Thread(target=attempt, args=(s["id"],)) for s in schedules]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one won, the others were told why (400), and the state agrees
    assert sorted(statuses) == [200, 400, 400, 400, 400]
    assert len(search(client, loc, "host-1", calendarId=personal["id"])) == 1


def test_deleted_calendars_drop_out_of_their_schedules(client, tenant, personal):
    loc = tenant.location_id
    spare = make_calendar(client, loc, name="Spare", calendarType="personal")
    schedule = create_schedule(client, loc, calendar_ids=[personal["id"], spare["id"]])
    # When a calendar is deleted
    assert client.delete(f"/calendars/{spare['id']}").status == 200
    # Then the schedule lists only the live one, and every write still works
    assert get_schedule(client, schedule["id"])["calendarIds"] == [personal["id"]]
    assert search(client, loc, "host-1")[0]["calendarIds"] == [personal["id"]]
    assert check(client.put(f"{SCHEDULES}/{schedule['id']}", {"name": "y"}), ONE, "put", 200)
    assert dissociate(client, schedule["id"], spare["id"]).status == 400  # gone from both
    assert client.delete(f"{SCHEDULES}/{schedule['id']}").status == 200
    assert ny_slots(client, personal["id"], *NY_MON)[0] == "2027-03-08T03:00:00-05:00"  # 09:00 CPH


def test_calendar_updates_keep_the_schedules_applied(client, tenant, personal):
    create_schedule(client, tenant.location_id, calendar_ids=[personal["id"]])
    reply = client.put(f"/calendars/{personal['id']}", {"name": "Renamed", "slotInterval": 60})
    assert reply.status == 200, reply.body
    assert ny_slots(client, personal["id"], *NY_MON) == [
        "2027-03-08T09:00:00-05:00",
        "2027-03-08T10:00:00-05:00",
        "2027-03-08T11:00:00-05:00",
    ]


@pytest.fixture
def dynamo_calls(aws: str) -> list[tuple[str, dict[str, Any]]]:
    """Every DynamoDB request the functions make from now on: (operation, request body)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, json.loads(params["body"] or "{}")))

    container.services().store._client.meta.events.register("before-call.dynamodb", record)
    return calls


def _writes(calls: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, str, str]]]:
    """The write requests among ``calls``: each as its items' (action, sort key, expression)."""
    out = []
    for name, body in calls:
        if name == "TransactWriteItems":
            items = []
            for item in body["TransactItems"]:
                (action, spec), *_ = item.items()
                key = spec.get("Key") or spec["Item"]
                items.append((action, key["SK"]["S"].split("#")[0], spec.get("UpdateExpression", "")))
            out.append(sorted(items))
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            out.append([(name, "", "")])
    return out


def test_each_schedule_write_is_one_transaction_with_its_calendars(client, tenant, personal, dynamo_calls):
    loc = tenant.location_id
    team = make_calendar(client, loc, name="Team", calendarType="round_robin")
    schedule = create_schedule(client, loc, calendar_ids=[personal["id"], team["id"]])
    set_entry, remove_entry = "SET #s.#u = :entry", "REMOVE #s.#u"
    # An update carries the new rules to both calendars in the same transaction
    dynamo_calls.clear()
    assert client.put(f"{SCHEDULES}/{schedule['id']}", {"rules": []}).status == 200
    assert _writes(dynamo_calls) == [
        [("Put", "SCHED", ""), ("Update", "CAL", set_entry), ("Update", "CAL", set_entry)]
    ]
    # Removing one association: the schedule, the entry removed there, kept in sync elsewhere
    dynamo_calls.clear()
    assert dissociate(client, schedule["id"], personal["id"]).status == 200
    assert _writes(dynamo_calls) == [
        [("Put", "SCHED", ""), ("Update", "CAL", remove_entry), ("Update", "CAL", set_entry)]
    ]
    # Deleting: the schedule and its remaining calendar's entry
    dynamo_calls.clear()
    assert client.delete(f"{SCHEDULES}/{schedule['id']}").status == 200
    assert _writes(dynamo_calls) == [[("Delete", "SCHED", ""), ("Update", "CAL", remove_entry)]]


def test_free_slots_read_schedules_with_the_calendar_at_no_extra_cost(client, tenant, personal, dynamo_calls):
    create_schedule(client, tenant.location_id, calendar_ids=[personal["id"]])
    dynamo_calls.clear()
    assert ny_slots(client, personal["id"], *NY_MON)[0] == "2027-03-08T09:00:00-05:00"
    # the API key, location + calendar (schedules included), the host's version, its busy time
    assert Counter(name for name, _ in dynamo_calls) == Counter({"GetItem": 1, "BatchGetItem": 2, "Query": 1})


# -- event-calendar schedules -------------------------------------------------------------------


def test_event_calendar_schedule_lifecycle(client, tenant, clock):
    cal = make_calendar(client, tenant.location_id)
    path = f"{SCHEDULES}/event-calendar/{cal['id']}"
    # Before it has one: 404
    assert client.get(path).status == 404
    assert client.put(path, {"timezone": NY}).status == 404
    # When creating one
    rules = [wday("saturday", ("10:00", "11:00")), on_date("2027-03-13")]
    created = check(
        client.post(path, {"timezone": "America/Los_Angeles", "rules": rules}), EVENT_CAL, "post", 201
    )
    assert created == {
        "schedule": {
            "calendarId": cal["id"],
            "timezone": "America/Los_Angeles",
            "rules": rules,
            "dateAdded": "2027-03-01T08:00:00.000Z",
            "dateUpdated": "2027-03-01T08:00:00.000Z",
        }
    }
    assert check(client.get(path), EVENT_CAL, "get", 200) == created
    # A second create is refused (422), changing nothing
    check(client.post(path, {"timezone": NY, "rules": []}), EVENT_CAL, "post", 422)
    assert check(client.get(path), EVENT_CAL, "get", 200) == created
    # Partial updates: the zone alone keeps the rules; the rules alone keep the zone
    clock.now += timedelta(minutes=5)
    zoned = check(client.put(path, {"timezone": NY}), EVENT_CAL, "put", 200)["schedule"]
    assert (zoned["timezone"], zoned["rules"]) == (NY, rules)
    assert zoned["dateUpdated"] == "2027-03-01T08:05:00.000Z"
    ruled = check(client.put(path, {"rules": [wday("monday", ("09:00", "10:00"))]}), EVENT_CAL, "put", 200)
    assert (ruled["schedule"]["timezone"], ruled["schedule"]["rules"]) == (
        NY,
        [wday("monday", ("09:00", "10:00"))],
    )
    assert check(client.get(path), EVENT_CAL, "get", 200) == ruled
    # Bad input is 422
    check(client.put(path, {"timezone": "Nowhere/Land"}), EVENT_CAL, "put", 422)
    check(client.put(path, {"rules": [wday("monday", ("10:00", "09:00"))]}), EVENT_CAL, "put", 422)
    check(client.post(path, {"timezone": NY}), EVENT_CAL, "post", 422)  # rules are required on create


def test_event_calendar_schedule_of_unknown_or_foreign_calendar_is_404(client, other_tenant):
    other_loc, other = other_tenant
    foreign = make_calendar(other, other_loc)
    for calendar_id in ("no-such-calendar", foreign["id"]):
        path = f"{SCHEDULES}/event-calendar/{calendar_id}"
        assert client.post(path, {"timezone": NY, "rules": []}).status == 404
        assert client.get(path).status == 404
        assert client.put(path, {"timezone": NY}).status == 404
    assert other.get(f"{SCHEDULES}/event-calendar/{foreign['id']}").status == 404  # still none there


# -- free slots: the engine effects --------------------------------------------------------------


def test_member_schedule_in_another_zone_replaces_the_calendar_hours(client, tenant, personal):
    # Given a Copenhagen calendar (Mon–Thu 09–17, Fri 09–16 local) and host-1's schedule
    # Mon–Fri 09:00–12:00 New York applied to it
    create_schedule(client, tenant.location_id, calendar_ids=[personal["id"]])
    # Then Monday's slots are exactly 09:00..11:30 New York (15:00..17:30 Copenhagen)
    expected = [f"2027-03-08T{h}:{m}:00-05:00" for h in ("09", "10", "11") for m in ("00", "30")]
    assert ny_slots(client, personal["id"], *NY_MON) == expected
    assert all_slots(free_slots(client, personal["id"], *CPH_MON)) == [
        f"2027-03-08T{h}:{m}:00+01:00" for h in ("15", "16", "17") for m in ("00", "30")
    ]
    # And Friday too, though the calendar itself closes at 16:00 Copenhagen (10:00 New York)
    friday = ny_slots(client, personal["id"], "2027-03-12T00:00:00-05:00", "2027-03-12T23:59:59-05:00")
    assert friday[-1] == "2027-03-12T11:30:00-05:00"
    assert len(friday) == 6
    # And the weekend has no rule: no slots
    assert ny_slots(client, personal["id"], "2027-03-06T00:00:00-05:00", "2027-03-07T23:59:59-05:00") == []
    # Booking follows the same hours: 09:00 Copenhagen (calendar hours) is refused, 10:00 NY taken
    assert book(client, tenant.location_id, personal["id"], "2027-03-08T09:00:00+01:00").status == 400
    booked = book(client, tenant.location_id, personal["id"], "2027-03-08T10:00:00-05:00")
    assert booked.status == 200, booked.body
    assert "2027-03-08T10:00:00-05:00" not in ny_slots(client, personal["id"], *NY_MON)


def test_date_rules_override_weekday_rules(client, tenant, personal):
    rules = [
        *workdays("09:00", "12:00"),
        on_date("2027-03-09", ("13:00", "14:00")),  # a Tuesday: other hours
        on_date("2027-03-10"),  # a Wednesday: closed
        on_date("2027-03-13", ("10:00", "11:00")),  # a Saturday: open although no weekday rule
    ]
    create_schedule(client, tenant.location_id, rules=rules, calendar_ids=[personal["id"]])
    week = free_slots(
        client, personal["id"], "2027-03-08T00:00:00-05:00", "2027-03-13T23:59:59-05:00", timezone=NY
    )
    assert week["2027-03-09"] == ["2027-03-09T13:00:00-05:00", "2027-03-09T13:30:00-05:00"]
    assert "2027-03-10" not in week
    assert week["2027-03-11"][0] == "2027-03-11T09:00:00-05:00"
    assert week["2027-03-13"] == ["2027-03-13T10:00:00-05:00", "2027-03-13T10:30:00-05:00"]
    assert sorted(week) == ["2027-03-08", "2027-03-09", "2027-03-11", "2027-03-12", "2027-03-13"]


TEAM = [{"userId": "host-1"}, {"userId": "host-2"}]
UTC_MON = ("2027-03-08T00:00:00+00:00", "2027-03-08T23:59:59+00:00")


def _team_with_schedules(client: Client, location_id: str, calendar_type: str) -> dict[str, Any]:
    """host-1: 09:00–12:00 New York (14:00–17:00 UTC); host-2: 12:00–15:00 London (= UTC)."""
    cal = make_calendar(client, location_id, name=calendar_type, calendarType=calendar_type, teamMembers=TEAM)
    create_schedule(client, location_id, calendar_ids=[cal["id"]])
    create_schedule(
        client,
        location_id,
        user_id="host-2",
        timezone="Europe/London",
        rules=workdays("12:00", "15:00"),
        calendar_ids=[cal["id"]],
    )
    return cal


def _utc(slots: dict[str, list[str]]) -> list[str]:
    return [s[11:16] for s in all_slots(slots)]


def test_round_robin_offers_the_union_and_books_the_member_whose_hours_allow(client, tenant):
    cal = _team_with_schedules(client, tenant.location_id, "round_robin")
    # Then slots run 12:00..16:30 UTC: host-2 alone until 14:00, both until 15:00, host-1 after
    slots = _utc(free_slots(client, cal["id"], *UTC_MON, timezone="UTC"))
    assert slots == [f"{h}:{m}" for h in ("12", "13", "14", "15", "16") for m in ("00", "30")]
    # Booking a slot only one member's schedule allows assigns that member
    for start, host in (("2027-03-08T12:30:00Z", "host-2"), ("2027-03-08T16:00:00Z", "host-1")):
        booked = book(client, tenant.location_id, cal["id"], start)
        assert booked.status == 200, booked.body
        assert booked.body["assignedUserId"] == host
    # And once host-2 is booked at 12:30, 12:30 is gone (host-1 cannot take it)
    assert "12:30" not in _utc(free_slots(client, cal["id"], *UTC_MON, timezone="UTC"))
    # A slot neither schedule allows is refused, though the calendar's openHours allow it
    assert book(client, tenant.location_id, cal["id"], "2027-03-08T09:00:00+01:00").status == 400


def test_collective_offers_the_intersection(client, tenant):
    cal = _team_with_schedules(client, tenant.location_id, "collective")
    assert _utc(free_slots(client, cal["id"], *UTC_MON, timezone="UTC")) == ["14:00", "14:30"]
    assert book(client, tenant.location_id, cal["id"], "2027-03-08T12:30:00Z").status == 400
    booked = book(client, tenant.location_id, cal["id"], "2027-03-08T14:30:00Z")
    assert booked.status == 200, booked.body


def test_event_calendar_schedule_replaces_open_hours(client, tenant):
    cal = make_calendar(client, tenant.location_id)
    before = all_slots(free_slots(client, cal["id"], *CPH_MON))
    assert before[0] == "2027-03-08T09:00:00+01:00"
    # Given the calendar's own schedule: Mondays 10:00-11:00 Los Angeles, closed on 2027-03-15
    path = f"{SCHEDULES}/event-calendar/{cal['id']}"
    rules = [wday("monday", ("10:00", "11:00")), on_date("2027-03-15")]
    assert client.post(path, {"timezone": "America/Los_Angeles", "rules": rules}).status == 201
    # Then Monday offers only those hours (10:00 PST = 19:00 Copenhagen), the 15th nothing
    assert all_slots(free_slots(client, cal["id"], *CPH_MON)) == [
        "2027-03-08T19:00:00+01:00",
        "2027-03-08T19:30:00+01:00",
    ]
    assert (
        all_slots(free_slots(client, cal["id"], "2027-03-15T00:00:00+01:00", "2027-03-16T08:00:00+01:00"))
        == []
    )
    # When its rules change, the slots follow
    assert client.put(path, {"rules": [wday("monday", ("08:00", "08:30"))]}).status == 200
    assert all_slots(free_slots(client, cal["id"], *CPH_MON)) == ["2027-03-08T17:00:00+01:00"]
    # And a member's own schedule wins over the calendar's
    create_schedule(client, tenant.location_id, calendar_ids=[cal["id"]])
    assert ny_slots(client, cal["id"], *NY_MON)[0] == "2027-03-08T09:00:00-05:00"


def test_removing_or_deleting_a_member_schedule_restores_the_calendar_hours(client, tenant, personal):
    schedule = create_schedule(client, tenant.location_id, calendar_ids=[personal["id"]])
    calendar_hours = [f"2027-03-08T{h:02d}:{m}:00+01:00" for h in range(9, 17) for m in ("00", "30")]
    assert all_slots(free_slots(client, personal["id"], *CPH_MON)) != calendar_hours
    # When the association is removed, the calendar's openHours apply again
    assert dissociate(client, schedule["id"], personal["id"]).status == 200
    assert all_slots(free_slots(client, personal["id"], *CPH_MON)) == calendar_hours
    # Re-applied, then the schedule's new rules reach the calendar; deleted, the hours return
    assert associate(client, schedule["id"], personal["id"]).status == 200
    assert (
        client.put(f"{SCHEDULES}/{schedule['id']}", {"rules": [wday("monday", ("07:00", "07:30"))]}).status
        == 200
    )
    assert ny_slots(client, personal["id"], *NY_MON) == ["2027-03-08T07:00:00-05:00"]
    assert client.delete(f"{SCHEDULES}/{schedule['id']}").status == 200
    assert all_slots(free_slots(client, personal["id"], *CPH_MON)) == calendar_hours


def test_schedule_keeps_local_hours_across_new_york_dst(client, tenant, personal):
    # Given 09:00-10:00 New York every day, and a date rule inside the spring-forward gap
    rules = [
        *[wday(d, ("09:00", "10:00")) for d in (*WORKDAYS, "saturday", "sunday")],
        on_date("2027-03-14", ("02:00", "04:00")),
    ]
    create_schedule(client, tenant.location_id, rules=rules, calendar_ids=[personal["id"]])
    slots = free_slots(client, personal["id"], "2027-03-12T00:00:00Z", "2027-03-16T00:00:00Z", timezone="UTC")
    # Then 09:00 New York is 14:00 UTC before the change and 13:00 UTC after it
    assert slots["2027-03-12"] == ["2027-03-12T14:00:00+00:00", "2027-03-12T14:30:00+00:00"]
    assert slots["2027-03-15"] == ["2027-03-15T13:00:00+00:00", "2027-03-15T13:30:00+00:00"]
    # And on the change day the local 02:00-03:00 does not exist: 03:00 EDT (07:00 UTC) opens
    assert slots["2027-03-14"] == ["2027-03-14T07:00:00+00:00", "2027-03-14T07:30:00+00:00"]
    in_ny = ny_slots(client, personal["id"], "2027-03-12T00:00:00-05:00", "2027-03-15T23:59:59-04:00")
    assert [s for s in in_ny if s.startswith(("2027-03-12", "2027-03-15"))] == [
        "2027-03-12T09:00:00-05:00",
        "2027-03-12T09:30:00-05:00",
        "2027-03-15T09:00:00-04:00",
        "2027-03-15T09:30:00-04:00",
    ]
