"""Requests run on threads in ``make dev`` and the tests: shared client and resolver state must
not leak between them (a double booking seen under load came from exactly that)."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from localdev import powertools_isolation
from slotbook import container
from slotbook.store.dynamo import _rendered_conditions
from tests.integration.conftest import make_calendar


def test_queries_reach_botocore_with_conditions_already_rendered(client, tenant):
    # boto3's resource client renders Key/Attr objects with ONE builder shared by all threads; the
    # store must hand it strings (rendered per call), never condition objects.
    seen: list[Any] = []

    def spy(params: dict[str, Any], **_: Any) -> None:
        seen.append((params.get("KeyConditionExpression"), params.get("FilterExpression")))

    store_client = container.services().store._client
    store_client.meta.events.register_first("before-parameter-build.dynamodb.Query", spy)
    try:
        cal = make_calendar(client, tenant.location_id)
        window = {"startDate": "1804316400000", "endDate": "1804402799000"}
        assert client.get(f"/calendars/{cal['id']}/free-slots", params=window).status == 200
        assert client.get("/calendars/", params={"locationId": tenant.location_id}).status == 200
    finally:
        store_client.meta.events.unregister("before-parameter-build.dynamodb.Query", spy)
    assert seen
    for key_condition, filter_expression in seen:
        assert isinstance(key_condition, str)
        assert filter_expression is None or isinstance(filter_expression, str)


def test_rendered_conditions_keep_explicit_names_and_refuse_clashes():
    out = _rendered_conditions(
        {
            "KeyConditionExpression": Key("PK").eq("a") & Key("SK").begins_with("b"),
            "FilterExpression": Attr("x").gt(1),
        }
    )
    assert isinstance(out["KeyConditionExpression"], str) and isinstance(out["FilterExpression"], str)
    assert set(out["ExpressionAttributeNames"].values()) == {"PK", "SK", "x"}
    assert sorted(out["ExpressionAttributeValues"].values(), key=str) == sorted(["a", "b", 1], key=str)
    try:
        _rendered_conditions({"FilterExpression": Attr("x").eq(1), "ExpressionAttributeValues": {":v0": 2}})
    except ValueError:
        pass
    else:
        raise AssertionError("a clashing explicit placeholder must be refused")


def test_concurrent_busy_reads_all_see_the_booking(client, tenant, store):
    # Given one booked host
    cal = make_calendar(client, tenant.location_id)
    booked = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    ).body["id"]
    lo = datetime(2027, 3, 8, 8, tzinfo=UTC)
    wrong: list[Any] = []

    # When many threads read the host's busy time at once, switching threads very often
    def read() -> None:
        for _ in range(60):
            entries = store.host_busy(tenant.location_id, "host-1", lo, lo + timedelta(hours=4))
            if [e.event_id for e in entries] != [booked]:
                wrong.append(entries)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=read) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    # Then every read saw exactly the booking
    assert wrong == []


def test_each_environment_keeps_its_own_powertools_event():
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    powertools_isolation.install()
    first, second = APIGatewayHttpResolver(), APIGatewayHttpResolver()
    seen: dict[str, str] = {}

    @first.get("/who")
    def who_first() -> dict[str, str]:
        # another environment resolves a request while this one is in the middle of its own
        second.resolve(_event("/who", "second"), None)
        seen["first"] = first.current_event.get_query_string_value("name") or ""
        return {}

    @second.get("/who")
    def who_second() -> dict[str, str]:
        seen["second"] = second.current_event.get_query_string_value("name") or ""
        return {}

    first.resolve(_event("/who", "first"), None)
    assert seen == {"first": "first", "second": "second"}
    assert powertools_isolation.is_installed()


def _event(path: str, name: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": f"name={name}",
        "queryStringParameters": {"name": name},
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": path}, "stage": "$default"},
        "isBase64Encoded": False,
    }
