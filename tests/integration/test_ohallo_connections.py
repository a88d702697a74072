"""The oHallo calendar-connection routes over HTTP (reference/seeds/000, 001): every seed
example request gets the seed's response shape; auth and scopes; tenant isolation; PATCH
partial updates and its validation (400 naming the field, nothing changed); DELETE; the OAuth
flow against the fake Google, the account's calendars, and the public callback's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localdev.fake_providers.google import FakeGoogle
from tests.conftest import Tenant
from tests.integration.conftest import Client
from tests.integration.ohallo_support import (
    CALLBACK,
    CONNECTION_EXTRAS,
    SEED_CALENDARS,
    SEED_CONNECTION,
    SEED_CONNECTION_LIST,
    SEED_ERROR,
    SEED_PATCH_BODY,
    assert_shape,
    authorize,
    connect_seed,
    google_fixture,  # noqa: F401 - the `google` fixture
    key_with,
    ohallo,
    other_tenant,
    put_connection,
)


@pytest.fixture
def api(tenant: Tenant) -> Client:
    return ohallo(tenant.token)


@pytest.fixture
def connection(api: Client, tenant: Tenant, google: FakeGoogle) -> dict[str, Any]:
    """The seed's connection in the tenant's workspace (connected by OAuth), as the API shows it."""
    return connect_seed(api, tenant.location_id, google)


# -- the seed's examples ------------------------------------------------------------------------


def test_seed_list_connections(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    reply = api.get(f"/api/workspaces/{tenant.location_id}/calendar-connections")
    assert reply.status == 200
    assert_shape(reply.body, SEED_CONNECTION_LIST, CONNECTION_EXTRAS)
    assert reply.body == {"items": [connection], "total": 1}


def test_seed_get_connection(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    reply = api.get(f"/api/calendar-connections/{connection['id']}")
    assert reply.status == 200
    assert_shape(reply.body, SEED_CONNECTION, CONNECTION_EXTRAS)
    # The seed's values, ours written the seed's way
    expected = {
        k: v for k, v in SEED_CONNECTION.items() if k not in ("id", "workspaceId", "createdAt", "updatedAt")
    }
    assert {k: reply.body[k] for k in expected} == expected
    assert reply.body["workspaceId"] == tenant.location_id
    assert reply.body["createdAt"] == reply.body["updatedAt"] == "2027-03-01T08:00:00.000Z"
    assert (reply.body["status"], reply.body["accountEmail"], reply.body["userId"]) == (
        "active",
        "erik@nordic-parts.dk",
        None,
    )


def test_seed_patch_connection(api: Client, connection: dict[str, Any], clock: Any) -> None:
    from datetime import timedelta

    clock.now += timedelta(hours=1)
    reply = api.request("PATCH", f"/api/calendar-connections/{connection['id']}", json_body=SEED_PATCH_BODY)
    assert reply.status == 200, reply.body
    assert_shape(reply.body, SEED_CONNECTION, CONNECTION_EXTRAS)
    assert reply.body["displayName"] == "Sales and Support Calendar"
    assert reply.body["bookingConfig"] == SEED_PATCH_BODY["bookingConfig"]
    assert reply.body["calendarId"] == connection["calendarId"]  # not sent: unchanged
    assert reply.body["enabled"] is True
    assert reply.body["createdAt"] == connection["createdAt"]
    assert reply.body["updatedAt"] == "2027-03-01T09:00:00.000Z"
    assert api.get(f"/api/calendar-connections/{connection['id']}").body == reply.body


def test_seed_delete_connection(api: Client, connection: dict[str, Any]) -> None:
    path = f"/api/calendar-connections/{connection['id']}"
    reply = api.delete(path)
    assert (reply.status, reply.body) == (204, None)
    gone = api.get(path)
    assert gone.status == 404
    assert_shape(gone.body, SEED_ERROR)
    assert gone.body == {"error": "Calendar connection not found"}
    assert api.delete(path).status == 404
    assert api.request("PATCH", path, json_body={"enabled": False}).status == 404


def test_seed_list_calendars(api: Client, tenant: Tenant, google: FakeGoogle) -> None:
    created = authorize(api, tenant.location_id, google)
    assert created.status == 200, created.body
    reply = api.get(f"/api/calendar-connections/{created.body['id']}/calendars")
    assert reply.status == 200, reply.body
    assert_shape(reply.body, SEED_CALENDARS)
    by_id = {c["calendarId"]: c for c in reply.body["items"]}
    assert by_id == {c["calendarId"]: c for c in SEED_CALENDARS["items"]}


def test_seed_error_shape_for_unknown_connection(api: Client) -> None:
    for method in ("GET", "DELETE"):
        reply = api.request(method, "/api/calendar-connections/11223344-5566-4788-89aa-bbccddeeff00")
        assert reply.status == 404
        assert_shape(reply.body, SEED_ERROR)
    reply = api.get("/api/calendar-connections/11223344-5566-4788-89aa-bbccddeeff00/calendars")
    assert (reply.status, reply.body) == (404, {"error": "Calendar connection not found"})


def test_empty_workspace_lists_nothing(api: Client, tenant: Tenant) -> None:
    reply = api.get(f"/api/workspaces/{tenant.location_id}/calendar-connections")
    assert (reply.status, reply.body) == (200, {"items": [], "total": 0})


# -- auth, scopes, tenants --------------------------------------------------------------------


def test_missing_or_unknown_token_is_401(tenant: Tenant, connection: dict[str, Any]) -> None:
    for client in (ohallo(None), ohallo("sf_live_v1_a3Bx9kLmP2qR7wYz4nDfGhJkQpStUvWx")):
        for method, path in (
            ("GET", f"/api/workspaces/{tenant.location_id}/calendar-connections"),
            ("GET", f"/api/calendar-connections/{connection['id']}"),
            ("DELETE", f"/api/calendar-connections/{connection['id']}"),
            ("POST", f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google"),
        ):
            reply = client.request(method, path)
            assert reply.status == 401, (method, path, reply.body)
            assert set(reply.body) == {"error"} and reply.body["error"]
    assert ohallo(tenant.token).get(f"/api/calendar-connections/{connection['id']}").status == 200


def test_scopes_read_and_write(tenant: Tenant, connection: dict[str, Any]) -> None:
    path = f"/api/calendar-connections/{connection['id']}"
    reader = ohallo(key_with(tenant.location_id, ["calendar:read"]))
    assert reader.get(path).status == 200
    assert reader.get(f"/api/workspaces/{tenant.location_id}/calendar-connections").status == 200
    for method, body in (("PATCH", {"displayName": "x"}), ("DELETE", None)):
        reply = reader.request(method, path, json_body=body)
        assert reply.status == 403, (method, reply.body)
        assert set(reply.body) == {"error"}
    started = reader.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google")
    assert started.status == 403
    # GoHighLevel scopes are not oHallo scopes
    ghl_only = ohallo(key_with(tenant.location_id, ["calendars.readonly", "calendars.write"]))
    assert ghl_only.get(path).status == 403
    writer_only = ohallo(key_with(tenant.location_id, ["calendar:write"]))
    assert writer_only.get(path).status == 403
    assert writer_only.request("PATCH", path, json_body={"enabled": False}).status == 200
    assert ohallo(tenant.token).get(path).body["displayName"] == "Sales Team Calendar"


def test_other_workspace_reads_like_nothing(api: Client, tenant: Tenant, connection: dict[str, Any]) -> None:
    other = other_tenant()
    theirs = ohallo(other.token)
    path = f"/api/calendar-connections/{connection['id']}"
    missing = theirs.get("/api/calendar-connections/00000000-0000-4000-8000-000000000000")
    for method, body in (("GET", None), ("PATCH", {"displayName": "mine"}), ("DELETE", None)):
        reply = theirs.request(method, path, json_body=body)
        assert (reply.status, reply.body) == (missing.status, missing.body) == (404, missing.body)
    for sub in ("calendars", "free-slots?startDate=2027-03-02&endDate=2027-03-02"):
        assert theirs.get(f"{path}/{sub}").body == {"error": "Calendar connection not found"}
    # Their workspace id in our token's path, and ours in theirs
    for client, workspace in ((theirs, tenant.location_id), (api, other.location_id)):
        for method, suffix in (
            ("GET", "calendar-connections"),
            ("POST", "calendar-connections/oauth/google"),
            ("GET", "bookings?calendarConnectionId=" + connection["id"]),
        ):
            reply = client.request(method, f"/api/workspaces/{workspace}/{suffix}")
            assert (reply.status, reply.body) == (404, {"error": "Workspace not found"}), (method, suffix)
    assert theirs.get(f"/api/workspaces/{other.location_id}/calendar-connections").body == {
        "items": [],
        "total": 0,
    }
    assert api.get(path).body == connection  # untouched


# -- PATCH ------------------------------------------------------------------------------------


def _patch(api: Client, connection_id: str, body: Any) -> Any:
    return api.request("PATCH", f"/api/calendar-connections/{connection_id}", json_body=body)


def test_patch_changes_only_what_is_sent(api: Client, connection: dict[str, Any]) -> None:
    cid = connection["id"]
    reply = _patch(api, cid, {"displayName": "Renamed"})
    assert reply.status == 200
    assert reply.body == {**connection, "displayName": "Renamed"}

    reply = _patch(api, cid, {"bookingConfig": {"bufferMinutes": 0}})
    config = {**connection["bookingConfig"], "bufferMinutes": 0}
    assert (reply.status, reply.body["bookingConfig"]) == (200, config)

    hours = {"saturday": {"start": "10:00", "end": "24:00"}}
    reply = _patch(api, cid, {"bookingConfig": {"workingHours": hours, "blockedDates": []}})
    config = {**config, "workingHours": hours, "blockedDates": []}
    assert (reply.status, reply.body["bookingConfig"]) == (200, config)

    reply = _patch(api, cid, {"enabled": False, "bookingConfig": {"timezone": "America/New_York"}})
    assert reply.status == 200
    assert reply.body["enabled"] is False
    assert reply.body["bookingConfig"] == {**config, "timezone": "America/New_York"}
    assert reply.body["displayName"] == "Renamed"
    assert reply.body["calendarId"] == "sales@nordic-parts.dk"

    reply = _patch(api, cid, {"calendarId": None})  # null unlinks
    assert (reply.status, reply.body["calendarId"]) == (200, None)
    assert api.get(f"/api/calendar-connections/{cid}").body == reply.body

    reply = _patch(api, cid, {})
    assert (reply.status, reply.body) == (200, api.get(f"/api/calendar-connections/{cid}").body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"foo": 1}, "unknown field 'foo'"),
        ({"bookingConfig": {"foo": 1}}, "unknown field 'bookingConfig.foo'"),
        ({"bookingConfig": {"bufferMinutes": -1}}, "bookingConfig.bufferMinutes must be >= 0"),
        ({"bookingConfig": {"bufferMinutes": "10"}}, "bookingConfig.bufferMinutes"),
        ({"bookingConfig": {"bufferMinutes": 1.5}}, "bookingConfig.bufferMinutes"),
        ({"bookingConfig": {"bufferMinutes": True}}, "bookingConfig.bufferMinutes"),
        ({"bookingConfig": {"bufferMinutes": 10**30}}, "bookingConfig.bufferMinutes"),
        ({"bookingConfig": {"bufferMinutes": None}}, "bookingConfig.bufferMinutes must not be null"),
        ({"bookingConfig": {"timezone": "Mars/Olympus_Mons"}}, "bookingConfig.timezone"),
        ({"bookingConfig": {"timezone": "CET+1"}}, "bookingConfig.timezone"),
        ({"bookingConfig": {"blockedDates": ["2026-13-01"]}}, "bookingConfig.blockedDates[0]"),
        ({"bookingConfig": {"blockedDates": ["2026-12-24", "20261225"]}}, "bookingConfig.blockedDates[1]"),
        ({"bookingConfig": {"blockedDates": "2026-12-24"}}, "bookingConfig.blockedDates"),
        ({"bookingConfig": {"workingHours": {"funday": {"start": "09:00", "end": "17:00"}}}}, "funday"),
        ({"bookingConfig": {"workingHours": {"Monday": {"start": "09:00", "end": "17:00"}}}}, "Monday"),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "9:00", "end": "17:00"}}}},
            "bookingConfig.workingHours.monday.start",
        ),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "24:00", "end": "24:00"}}}},
            "bookingConfig.workingHours.monday.start",
        ),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "09:00", "end": "24:30"}}}},
            "bookingConfig.workingHours.monday.end",
        ),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "17:00", "end": "09:00"}}}},
            "bookingConfig.workingHours.monday.end",
        ),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "09:00", "end": "09:00"}}}},
            "bookingConfig.workingHours.monday.end",
        ),
        (
            {"bookingConfig": {"workingHours": {"monday": {"start": "09:00"}}}},
            "bookingConfig.workingHours.monday.end is required",
        ),
        ({"bookingConfig": {"workingHours": {"monday": None}}}, "bookingConfig.workingHours.monday"),
        ({"bookingConfig": None}, "bookingConfig"),
        ({"bookingConfig": []}, "bookingConfig must be an object"),
        ({"displayName": ""}, "displayName"),
        ({"displayName": "   "}, "displayName"),
        ({"displayName": None}, "displayName"),
        ({"displayName": 5}, "displayName must be a string"),
        ({"calendarId": ""}, "calendarId"),
        ({"calendarId": 7}, "calendarId"),
        ({"enabled": "yes"}, "enabled must be a boolean"),
        ({"enabled": None}, "enabled"),
        ([], "request body must be an object"),
    ],
)
def test_patch_validation_names_the_field_and_changes_nothing(
    api: Client, connection: dict[str, Any], body: Any, field: str
) -> None:
    reply = _patch(api, connection["id"], body)
    assert reply.status == 400, reply.body
    assert set(reply.body) == {"error"}
    assert field in reply.body["error"], reply.body
    assert api.get(f"/api/calendar-connections/{connection['id']}").body == connection


def test_patch_malformed_or_missing_body_is_400(api: Client, connection: dict[str, Any]) -> None:
    path = f"/api/calendar-connections/{connection['id']}"
    for raw in (b"{", b'{"displayName": "x",}', b"\xff\xfe", b'{"displayName": "\\ud800"}'):
        reply = api.request("PATCH", path, raw=raw)
        assert reply.status == 400, (raw, reply.body)
        assert set(reply.body) == {"error"}
    reply = api.request("PATCH", path)
    assert reply.status == 400 and set(reply.body) == {"error"}
    for content_type, raw in (
        ("text/plain", b'{"enabled": false}'),
        ("application/x-www-form-urlencoded", b"enabled=false"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="enabled"\r\n\r\nfalse\r\n--x--',
        ),
    ):
        reply = api.request("PATCH", path, raw=raw, headers={"content-type": content_type})
        assert (reply.status, reply.body) == (400, {"error": "Content-Type must be application/json"})
    reply = api.request(
        "PATCH", path, raw=b'{"enabled": false}', headers={"content-type": "application/json; charset=utf-8"}
    )
    assert (reply.status, reply.body["enabled"]) == (200, False)
    assert api.get(path).body == {**connection, "enabled": False}


def test_unknown_ids_and_bad_paths(api: Client) -> None:
    reply = api.get("/api/calendar-connections/" + "x" * 200)
    assert reply.status == 400 and "connectionId" in reply.body["error"]


# -- OAuth ------------------------------------------------------------------------------------


def test_oauth_connect_pick_a_calendar_and_reauthorize(
    api: Client, tenant: Tenant, google: FakeGoogle
) -> None:
    started = api.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google")
    assert started.status == 201
    assert set(started.body) == {"authorizationUrl", "state", "expiresAt"}
    assert started.body["authorizationUrl"].startswith(google.auth_url + "?")
    assert started.body["expiresAt"] == "2027-03-01T08:10:00.000Z"

    created = authorize(
        api, tenant.location_id, google, {"displayName": "Erik's calendar", "userId": "host-1"}
    )
    assert created.status == 200, created.body
    connection = created.body
    assert_shape({**connection, "calendarId": "x"}, SEED_CONNECTION, CONNECTION_EXTRAS)
    assert connection["provider"] == "google"
    assert connection["displayName"] == "Erik's calendar"
    assert connection["calendarId"] is None  # picked next
    assert (connection["accountEmail"], connection["userId"], connection["status"]) == (
        "erik@nordic-parts.dk",
        "host-1",
        "active",
    )
    assert connection["workspaceId"] == tenant.location_id
    listed = api.get(f"/api/workspaces/{tenant.location_id}/calendar-connections").body
    assert listed == {"items": [connection], "total": 1}

    picked = _patch(api, connection["id"], {"calendarId": "support@nordic-parts.dk"})
    assert (picked.status, picked.body["calendarId"]) == (200, "support@nordic-parts.dk")
    unknown = _patch(api, connection["id"], {"calendarId": "nobody@example.com"})
    assert unknown.status == 400 and "calendarId" in unknown.body["error"]

    # Re-authorising the same connection keeps it (and what was picked)
    again = authorize(api, tenant.location_id, google, {"connectionId": connection["id"]})
    assert again.status == 200, again.body
    assert (again.body["id"], again.body["calendarId"]) == (connection["id"], "support@nordic-parts.dk")
    assert api.get(f"/api/workspaces/{tenant.location_id}/calendar-connections").body["total"] == 1

    # Deleting it removes it (and its credentials: the calendars can no longer be read)
    assert api.delete(f"/api/calendar-connections/{connection['id']}").status == 204
    assert api.get(f"/api/calendar-connections/{connection['id']}/calendars").status == 404


@pytest.mark.parametrize(
    ("provider", "body", "status", "needle"),
    [
        ("yahoo", None, 400, "provider"),
        ("Google", None, 400, "provider"),
        ("google", {"foo": 1}, 400, "unknown field 'foo'"),
        (
            "google",
            {"connectionId": "00000000-0000-4000-8000-000000000000"},
            404,
            "Calendar connection not found",
        ),
        ("google", {"userId": ""}, 400, "userId"),
        ("google", {"displayName": ""}, 400, "displayName"),
    ],
)
def test_oauth_start_refusals(
    api: Client, tenant: Tenant, google: FakeGoogle, provider: str, body: Any, status: int, needle: str
) -> None:
    reply = api.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/{provider}", body)
    assert reply.status == status, reply.body
    assert set(reply.body) == {"error"} and needle in reply.body["error"]


def test_oauth_start_for_another_workspaces_connection_is_404(
    api: Client, tenant: Tenant, google: FakeGoogle
) -> None:
    theirs = put_connection(other_tenant().location_id)
    reply = api.post(
        f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google", {"connectionId": theirs.id}
    )
    assert (reply.status, reply.body) == (404, {"error": "Calendar connection not found"})


def test_oauth_callback_refusals_are_400_and_create_nothing(
    api: Client, tenant: Tenant, google: FakeGoogle
) -> None:
    public = ohallo(None)
    denied = authorize(api, tenant.location_id, google, allow=False)
    assert denied.status == 400 and set(denied.body) == {"error"}
    for params in ({}, {"state": "forged", "code": "x"}, {"code": "x"}):
        reply = public.get(CALLBACK, params=params)
        assert reply.status == 400, (params, reply.body)
        assert set(reply.body) == {"error"}
    # A state is single-use
    started = api.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google")
    import urllib.parse

    redirect = google.consent(started.body["authorizationUrl"], account="erik@nordic-parts.dk")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    assert public.get(CALLBACK, params=query).status == 200
    replay = public.get(CALLBACK, params=query)
    assert replay.status == 400 and set(replay.body) == {"error"}
    assert api.get(f"/api/workspaces/{tenant.location_id}/calendar-connections").body["total"] == 1


# -- invariant 4 by fuzzing ---------------------------------------------------------------------


def test_generated_requests_never_5xx_and_refusals_change_nothing(
    aws: str, api: Client, tenant: Tenant, connection: dict[str, Any]
) -> None:
    """Generated requests to every oHallo route (real and random ids, known and random query
    parameters, valid bodies with one field replaced by arbitrary JSON, arbitrary JSON, raw
    bytes) never answer 5xx; every 4xx is ``{"error": str}`` and writes nothing."""
    from urllib.parse import quote, urlencode

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from localdev.template import load_template, routes
    from tests.integration.test_fuzz import _item_count, json_values, query_values

    booking = api.post(
        f"/api/workspaces/{tenant.location_id}/bookings",
        {"calendarConnectionId": connection["id"], "startTime": "2027-03-02T10:00:00Z"},
    ).body
    ids = {
        "workspaceId": tenant.location_id,
        "connectionId": connection["id"],
        "bookingId": booking["id"],
        "provider": "google",
    }
    valid_bodies = {
        ("PATCH", "/api/calendar-connections/{connectionId}"): {
            "displayName": "n",
            "enabled": True,
            "bookingConfig": {"bufferMinutes": 5, "timezone": "Europe/Copenhagen"},
        },
        ("POST", "/api/workspaces/{workspaceId}/calendar-connections/oauth/{provider}"): {"displayName": "n"},
        ("POST", "/api/workspaces/{workspaceId}/bookings"): {
            "calendarConnectionId": connection["id"],
            "startTime": "2027-03-03T10:00:00Z",
            "endTime": "2027-03-03T10:30:00Z",
            "contactEmail": "a@b.c",
        },
        ("PATCH", "/api/bookings/{bookingId}"): {"startTime": "2027-03-04T10:00:00Z"},
    }
    query_names = [
        "startDate",
        "endDate",
        "duration",
        "interval",
        "calendarConnectionId",
        "state",
        "code",
        "error",
    ]
    ohallo_routes = [r for r in routes(load_template()) if r.path.startswith("/api/")]

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
        route = draw(st.sampled_from(ohallo_routes))
        path = route.path
        for name, real in ids.items():
            if "{" + name + "}" in path:
                value = draw(st.one_of(st.just(real), st.text(min_size=1, max_size=25)))
                path = path.replace("{" + name + "}", quote(value, safe=""))
        query = draw(st.dictionaries(st.sampled_from(query_names), query_values, max_size=5))
        if draw(st.booleans()):
            query |= {
                "startDate": "2027-03-02",
                "endDate": "2027-03-03",
                "calendarConnectionId": connection["id"],
            }
        target = path + ("?" + urlencode(query) if query else "")
        base = valid_bodies.get((route.method, route.path))
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

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=requests())
    def probe(request: tuple[str, str, bytes]) -> None:
        method, target, raw = request
        before = (_item_count(aws), api.get(f"/api/calendar-connections/{connection['id']}").body)
        reply = api.request(method, target, raw=raw)
        assert reply.status < 500, (method, target, raw, reply.status, reply.body)
        if reply.status >= 400:
            assert isinstance(reply.body, dict) and set(reply.body) == {"error"}, reply.body
            assert isinstance(reply.body["error"], str) and reply.body["error"]
            after = (_item_count(aws), api.get(f"/api/calendar-connections/{connection['id']}").body)
            assert after == before, (method, target, raw, reply.status, reply.body)

    probe()
