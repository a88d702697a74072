"""The template's IAM actions per function are exactly what the function's code uses.

A representative flow runs through every route; each DynamoDB request is attributed to the
function that made it (a TransactWriteItems counts as the item actions it contains), and the
set must equal the template's table actions for that function: nothing missing (it would fail
on AWS), nothing extra (least privilege).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from localdev.template import load_template
from slotbook import container
from tests.conftest import ADMIN_TOKEN
from tests.integration.conftest import local_api

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _template_actions(logical_id: str) -> tuple[set[str], set[str]]:
    props = load_template()["Resources"][logical_id]["Properties"]
    table: set[str] = set()
    index: set[str] = set()
    for policy in props["Policies"]:
        for statement in policy["Statement"]:
            actions = {a.removeprefix("dynamodb:") for a in statement["Action"] if a.startswith("dynamodb:")}
            if statement["Resource"] == {"Fn::GetAtt": ["SlotbookTable", "Arn"]}:
                table |= actions
            elif statement["Resource"] == {"Fn::Sub": "${SlotbookTable.Arn}/index/*"}:
                index |= actions
    return table, index


def test_each_function_uses_exactly_the_actions_the_template_grants(aws: str) -> None:
    used: dict[str, set[str]] = defaultdict(set)
    used_index: dict[str, set[str]] = defaultdict(set)
    current: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"] or "{}")
        fn = current[-1]
        if model.name == "TransactWriteItems":
            for item in body["TransactItems"]:
                used[fn].add(_TRANSACT_ACTIONS[next(iter(item))])
        elif "IndexName" in body:
            used_index[fn].add(model.name)
        else:
            used[fn].add(model.name)

    container.services().store._client.meta.events.register("before-call.dynamodb", record)
    api = local_api()

    def call(method: str, path: str, token: str, body: Any = None, version: str | None = "2021-07-28") -> Any:
        headers = [("authorization", f"Bearer {token}"), ("content-type", "application/json")]
        if version:
            headers.append(("version", version))
        route = api.router.resolve(method, path.split("?")[0])
        assert route is not None, path
        current.append(route[0].function)
        response, _, _ = api.handle(method, path, headers, json.dumps(body).encode() if body else b"", "1")
        assert response.status < 300, (method, path, response.status, response.body)
        return json.loads(response.body) if response.body else None

    location = call("POST", "/admin/locations", ADMIN_TOKEN, {"name": "L", "timezone": "UTC"}, None)[
        "location"
    ]
    key = call(
        "POST",
        f"/admin/locations/{location['id']}/api-keys",
        ADMIN_TOKEN,
        {
            "name": "k",
            "scopes": [
                "calendars.readonly",
                "calendars.write",
                "calendars/events.readonly",
                "calendars/events.write",
            ],
        },
        None,
    )["apiKey"]
    spare = call(
        "POST",
        f"/admin/locations/{location['id']}/api-keys",
        ADMIN_TOKEN,
        {"name": "spare", "scopes": ["calendars.readonly"]},
        None,
    )["apiKey"]
    call("DELETE", f"/admin/locations/{location['id']}/api-keys/{spare['id']}", ADMIN_TOKEN, version=None)
    call("GET", f"/admin/locations/{location['id']}", ADMIN_TOKEN, version=None)
    token, loc = key["token"], location["id"]
    hours = [
        {
            "daysOfTheWeek": [1, 2, 3, 4, 5],
            "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
        }
    ]
    cal = call(
        "POST",
        "/calendars/",
        token,
        {"locationId": loc, "name": "c", "teamMembers": [{"userId": "u"}], "openHours": hours},
    )["calendar"]
    call("GET", f"/calendars/?locationId={loc}", token)
    call("GET", f"/calendars/{cal['id']}", token)
    call("PUT", f"/calendars/{cal['id']}", token, {"name": "c2"})
    window = "startDate=1804320000000&endDate=1804924800000"  # 2027-03-05 .. 2027-03-12 UTC
    call("GET", f"/calendars/{cal['id']}/free-slots?{window}", token)
    appt = call(
        "POST",
        "/calendars/events/appointments",
        token,
        {"calendarId": cal["id"], "locationId": loc, "contactId": "c", "startTime": "2027-03-08T10:00:00Z"},
    )
    call("GET", f"/calendars/events/appointments/{appt['id']}", token)
    call("PUT", f"/calendars/events/appointments/{appt['id']}", token, {"startTime": "2027-03-08T11:00:00Z"})
    call("PUT", f"/calendars/events/appointments/{appt['id']}", token, {"appointmentStatus": "cancelled"})
    listing = "startTime=1804320000000&endTime=1804924800000"
    call("GET", f"/calendars/events?locationId={loc}&calendarId={cal['id']}&{listing}", token)
    call("GET", f"/calendars/events?locationId={loc}&userId=u&{listing}", token)
    block = call(
        "POST",
        "/calendars/events/block-slots",
        token,
        {
            "calendarId": cal["id"],
            "locationId": loc,
            "startTime": "2027-03-09T10:00:00Z",
            "endTime": "2027-03-09T11:00:00Z",
        },
    )
    call(
        "PUT",
        f"/calendars/events/block-slots/{block['id']}",
        token,
        {
            "calendarId": cal["id"],
            "locationId": loc,
            "startTime": "2027-03-09T12:00:00Z",
            "endTime": "2027-03-09T13:00:00Z",
        },
    )
    call("GET", f"/calendars/blocked-slots?locationId={loc}&calendarId={cal['id']}&{listing}", token)
    call("DELETE", f"/calendars/events/{block['id']}", token, {})
    call("DELETE", f"/calendars/events/{appt['id']}", token, {})
    call("DELETE", f"/calendars/{cal['id']}", token)

    for function in ("AdminFunction", "CalendarsFunction", "EventsFunction"):
        table, index = _template_actions(function)
        assert used[function] == table, function
        assert used_index[function] == index, function
