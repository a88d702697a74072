"""Invariant 4 by fuzzing: generated requests to every route never answer 5xx, every 4xx has
the dialect's error shape, and no 4xx changes stored data.

Requests are built from the routes in template.yaml: real and random path ids, known and
random query parameters, valid bodies with one field replaced by arbitrary JSON, arbitrary
JSON, and raw bytes that are not JSON.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localdev.template import load_template, routes
from tests.integration.conftest import Client, make_calendar

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["", "2027-03-08T10:00:00+01:00", "Europe/Copenhagen", "-1", "1e400"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
QUERY_NAMES = [
    "locationId",
    "calendarId",
    "userId",
    "groupId",
    "startDate",
    "endDate",
    "startTime",
    "endTime",
    "timezone",
    "userIds",
    "showDrafted",
]
query_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["1804320000000", "Europe/Copenhagen", "true", "NaN", "inf"]),
)


def _item_count(table: str) -> int:
    return boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]  # test-only Scan


def test_generated_requests_never_5xx_and_4xx_write_nothing(aws, tenant):
    client = Client(tenant.token)
    cal = make_calendar(client, tenant.location_id)
    appt = client.post(
        "/calendars/events/appointments",
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
        },
    ).body
    ids = {"calendarId": cal["id"], "eventId": appt["id"], "locationId": tenant.location_id, "keyId": "x"}
    valid_bodies = {
        ("POST", "/calendars"): {"locationId": tenant.location_id, "name": "n"},
        ("PUT", "/calendars/{calendarId}"): {"name": "n"},
        ("POST", "/calendars/events/appointments"): {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-09T10:00:00+01:00",
        },
        ("PUT", "/calendars/events/appointments/{eventId}"): {"startTime": "2027-03-09T11:00:00+01:00"},
        ("POST", "/calendars/events/block-slots"): {
            "assignedUserId": "host-1",
            "locationId": tenant.location_id,
            "startTime": "2027-03-10T10:00:00+01:00",
            "endTime": "2027-03-10T11:00:00+01:00",
        },
    }
    ghl_routes = [r for r in routes(load_template()) if r.path.startswith("/calendars")]

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
        route = draw(st.sampled_from(ghl_routes))
        path = route.path
        for name in ("calendarId", "eventId"):
            if "{" + name + "}" in path:
                value = draw(st.one_of(st.just(ids[name]), st.text(min_size=1, max_size=25)))
                path = path.replace("{" + name + "}", quote(value, safe=""))
        query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), query_values, max_size=6))
        if draw(st.booleans()):
            query["locationId"] = tenant.location_id
        target = path + ("?" + urlencode(query) if query else "")
        base = valid_bodies.get((route.method, route.path.rstrip("/")))
        kind = draw(st.sampled_from(["mutated", "json", "raw"]))
        if kind == "mutated" and base is not None:
            body = dict(base)
            body[draw(st.sampled_from([*base, "unexpected"]))] = draw(json_values)
            raw = json.dumps(body).encode()
        elif kind == "raw":
            raw = draw(st.binary(max_size=40))
        else:
            raw = json.dumps(draw(json_values)).encode()
        return route.method, target, raw

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=requests())
    def probe(request: tuple[str, str, bytes]) -> None:
        method, target, raw = request
        before = _item_count(aws)
        reply = client.request(method, target, raw=raw)
        assert reply.status < 500, (method, target, raw, reply.status, reply.body)
        if reply.status >= 400:
            assert isinstance(reply.body, dict) and reply.body.get("statusCode") == reply.status, reply.body
            assert "message" in reply.body
            assert _item_count(aws) == before, (method, target, raw, reply.status)

    probe()


def test_generated_admin_requests_never_5xx(aws, tenant):
    from tests.conftest import ADMIN_TOKEN

    admin = Client(ADMIN_TOKEN, version=None)
    admin_routes = [r for r in routes(load_template()) if r.path.startswith("/admin")]

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
        route = draw(st.sampled_from(admin_routes))
        path = route.path
        for name in ("locationId", "keyId"):
            if "{" + name + "}" in path:
                value = draw(st.one_of(st.just(tenant.location_id), st.text(min_size=1, max_size=25)))
                path = path.replace("{" + name + "}", quote(value, safe=""))
        body = draw(
            st.one_of(
                json_values.map(lambda v: json.dumps(v).encode()),
                st.fixed_dictionaries({"name": json_values, "timezone": json_values}).map(
                    lambda v: json.dumps(v).encode()
                ),
                st.fixed_dictionaries({"name": json_values, "scopes": json_values}).map(
                    lambda v: json.dumps(v).encode()
                ),
                st.binary(max_size=30),
            )
        )
        return route.method, path, body

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=requests())
    def probe(request: tuple[str, str, bytes]) -> None:
        method, target, raw = request
        reply = admin.request(method, target, raw=raw)
        assert reply.status < 500, (method, target, raw, reply.status, reply.body)
        if reply.status >= 400:
            assert isinstance(reply.body, dict) and reply.body.get("statusCode") == reply.status, reply.body

    probe()
