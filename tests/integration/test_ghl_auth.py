"""Auth, scopes, Version header, tenant isolation (invariant 2), bad input (invariant 4),
secrets out of logs (invariant 6) — through the handlers."""

from __future__ import annotations

import logging

import pytest

from slotbook import container
from tests.integration.conftest import Client, make_calendar, ms

APPOINTMENT_PATH = "/calendars/events/appointments"


@pytest.fixture
def other_tenant(aws):
    tenancy = container.services().tenancy
    location = tenancy.create_location("Other", "America/New_York")
    _, token = tenancy.create_api_key(
        location.id,
        "k",
        ["calendars.readonly", "calendars.write", "calendars/events.readonly", "calendars/events.write"],
    )
    return location.id, token


def test_missing_or_unknown_token_is_401(tenant):
    for token in (None, "sb_not_a_real_token"):
        reply = Client(token).get("/calendars/", params={"locationId": tenant.location_id})
        assert reply.status == 401
        assert reply.body["statusCode"] == 401
    malformed = Client(None).get(
        "/calendars/", params={"locationId": tenant.location_id}, headers={"authorization": "Basic abc"}
    )
    assert malformed.status == 401


def test_missing_scope_is_401_with_the_reference_message(tenant):
    tenancy = container.services().tenancy
    _, read_only = tenancy.create_api_key(tenant.location_id, "ro", ["calendars.readonly"])
    client = Client(read_only)
    assert client.get("/calendars/", params={"locationId": tenant.location_id}).status == 200
    denied = client.post("/calendars/", {"locationId": tenant.location_id, "name": "x"})
    assert denied.status == 401
    assert denied.body["message"] == "The token is not authorized for this scope."
    assert (
        client.get(
            "/calendars/events",
            params={"locationId": tenant.location_id, "calendarId": "x", "startTime": 0, "endTime": 1},
        ).status
        == 401
    )


def test_version_header_required_and_checked(tenant):
    for version, status in (
        (None, 400),
        ("1999-01-01", 400),
        ("2021-07-28", 200),
        ("2021-04-15", 200),
        ("v3", 200),
    ):
        reply = Client(tenant.token, version=version).get(
            "/calendars/", params={"locationId": tenant.location_id}
        )
        assert reply.status == status, (version, reply.body)


def test_location_of_another_tenant_is_403_and_its_ids_are_404(client, tenant, other_tenant):
    other_location, other_token = other_tenant
    theirs = make_calendar(Client(other_token), other_location)
    assert client.get("/calendars/", params={"locationId": other_location}).status == 403
    assert client.post("/calendars/", {"locationId": other_location, "name": "x"}).status == 403
    # Another tenant's id answers exactly like an unknown id
    for path in (f"/calendars/{theirs['id']}", "/calendars/does-not-exist"):
        reply = client.get(path)
        assert reply.status == 404
    assert client.get(f"/calendars/{theirs['id']}").body == client.get("/calendars/does-not-exist").body | {
        "message": client.get(f"/calendars/{theirs['id']}").body["message"]
    }
    assert client.put(f"/calendars/{theirs['id']}", {"name": "mine now"}).status == 404
    assert client.delete(f"/calendars/{theirs['id']}").status == 404
    start = ms("2027-03-08T00:00:00+01:00")
    assert (
        client.get(
            f"/calendars/{theirs['id']}/free-slots", params={"startDate": start, "endDate": start + 86400000}
        ).status
        == 404
    )
    booked = client.post(
        APPOINTMENT_PATH,
        {
            "calendarId": theirs["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00-05:00",
        },
    )
    assert booked.status == 404
    # And their calendar is untouched
    assert Client(other_token).get(f"/calendars/{theirs['id']}").body["calendar"]["name"] == "Intro call"


def test_revoked_key_stops_working_at_once(admin, tenant):
    created = admin.post(
        f"/admin/locations/{tenant.location_id}/api-keys", {"name": "temp", "scopes": ["calendars.readonly"]}
    )
    assert created.status == 201
    key = created.body["apiKey"]
    client = Client(key["token"])
    assert client.get("/calendars/", params={"locationId": tenant.location_id}).status == 200
    assert admin.delete(f"/admin/locations/{tenant.location_id}/api-keys/{key['id']}").status == 200
    assert client.get("/calendars/", params={"locationId": tenant.location_id}).status == 401
    assert admin.delete(f"/admin/locations/{tenant.location_id}/api-keys/{key['id']}").status == 404


def test_admin_api_requires_the_admin_token(admin, aws):
    assert (
        Client("wrong", version=None).post("/admin/locations", {"name": "x", "timezone": "UTC"}).status == 401
    )
    assert Client(None, version=None).get("/admin/locations/abc").status == 401
    created = admin.post("/admin/locations", {"name": "Shop", "timezone": "Europe/Copenhagen"})
    assert created.status == 201
    location = created.body["location"]
    assert set(location) == {"id", "name", "timezone", "createdAt"}
    assert admin.get(f"/admin/locations/{location['id']}").body == {"location": location}
    assert admin.get("/admin/locations/nope").status == 404
    assert admin.post("/admin/locations", {"name": "x", "timezone": "Not/AZone"}).status == 422
    bad_scope = admin.post(f"/admin/locations/{location['id']}/api-keys", {"name": "k", "scopes": ["root"]})
    assert bad_scope.status == 422
    key = admin.post(
        f"/admin/locations/{location['id']}/api-keys", {"name": "k", "scopes": ["calendars.readonly"]}
    )
    assert key.status == 201 and key.body["apiKey"]["token"].startswith("sb_")
    # The token is shown once: the stored items hold only its hash
    import boto3

    table = boto3.resource("dynamodb").Table(aws)
    items = table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": f"LOC#{location['id']}"}
    )["Items"]
    assert key.body["apiKey"]["token"] not in repr(items)


def test_bad_input_is_4xx_in_the_dialect_shape_and_writes_nothing(client, tenant):
    listed_before = client.get("/calendars/", params={"locationId": tenant.location_id}).body
    malformed = client.request("POST", "/calendars/", raw=b'{"locationId": ')
    assert malformed.status == 400
    assert malformed.body["statusCode"] == 400
    missing = client.post("/calendars/", {"locationId": tenant.location_id})
    assert missing.status == 422
    assert missing.body["error"] == "Unprocessable Entity"
    assert any("name" in m for m in missing.body["message"])
    several = client.post(
        "/calendars/",
        {
            "locationId": tenant.location_id,
            "name": "x",
            "slotDuration": -5,
            "slotDurationUnit": "fortnights",
            "bogus": 1,
        },
    )
    assert several.status == 422
    assert len(several.body["message"]) >= 3
    bad_hours = client.post(
        "/calendars/",
        {"locationId": tenant.location_id, "name": "x", "openHours": [{"daysOfTheWeek": [9], "hours": []}]},
    )
    assert bad_hours.status == 422
    reversed_hours = client.post(
        "/calendars/",
        {
            "locationId": tenant.location_id,
            "name": "x",
            "teamMembers": [{"userId": "u"}],
            "openHours": [
                {
                    "daysOfTheWeek": [1],
                    "hours": [{"openHour": 17, "openMinute": 0, "closeHour": 9, "closeMinute": 0}],
                }
            ],
        },
    )
    assert reversed_hours.status == 422
    personal_without_host = client.post(
        "/calendars/", {"locationId": tenant.location_id, "name": "x", "calendarType": "personal"}
    )
    assert personal_without_host.status == 422
    assert client.get("/calendars/", params={"locationId": tenant.location_id}).body == listed_before
    cal = make_calendar(client, tenant.location_id)
    bad_time = client.post(
        APPOINTMENT_PATH,
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "next tuesday",
        },
    )
    assert bad_time.status == 400
    backwards = client.post(
        APPOINTMENT_PATH,
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
            "endTime": "2027-03-08T09:00:00+01:00",
        },
    )
    assert backwards.status == 422
    bad_rrule = client.post(
        APPOINTMENT_PATH,
        {
            "calendarId": cal["id"],
            "locationId": tenant.location_id,
            "contactId": "c",
            "startTime": "2027-03-08T10:00:00+01:00",
            "rrule": "RRULE:FREQ=SOMETIMES",
            "ignoreFreeSlotValidation": True,
        },
    )
    assert bad_rrule.status == 422
    events = client.get(
        "/calendars/events",
        params={
            "locationId": tenant.location_id,
            "calendarId": cal["id"],
            "startTime": 0,
            "endTime": ms("2030-01-01T00:00:00+00:00"),
        },
    )
    assert events.body == {"events": []}


def test_tokens_never_reach_the_logs(client, tenant, admin, capsys, caplog, powertools_logs):
    caplog.set_level(logging.DEBUG)
    key = admin.post(
        f"/admin/locations/{tenant.location_id}/api-keys",
        {"name": "logged?", "scopes": ["calendars.readonly"]},
    ).body["apiKey"]["token"]
    make_calendar(client, tenant.location_id)
    Client(key).get("/calendars/", params={"locationId": tenant.location_id})
    Client("sb_wrong_token_value").get("/calendars/", params={"locationId": tenant.location_id})
    Client(tenant.token).post("/calendars/", {"locationId": tenant.location_id})  # 422 path logs too
    out = capsys.readouterr()
    logs = out.out + out.err + caplog.text + powertools_logs.getvalue()
    assert '"correlation_id"' in powertools_logs.getvalue()
    assert logs, "the handlers are expected to log something"
    for secret in (tenant.token, key, "sb_wrong_token_value", "test-admin-token-0123456789"):
        assert secret not in logs


def test_admin_token_hash_from_ssm_as_on_aws(aws, monkeypatch):
    # Given the admin token's SHA-256 in SSM (what the template wires up) and no local token
    import hashlib

    import boto3

    token = "ssm-held-admin-token-abcdefgh"
    name = "/slotbook/test/admin-token-sha256"
    boto3.client("ssm").put_parameter(
        Name=name, Type="SecureString", Value=hashlib.sha256(token.encode()).hexdigest()
    )
    monkeypatch.setenv("ADMIN_TOKEN_HASH_PARAMETER", name)
    monkeypatch.delenv("SLOTBOOK_ADMIN_TOKEN")
    container.reset()
    # Then the token works and anything else is refused
    ok = Client(token, version=None).post("/admin/locations", {"name": "Shop", "timezone": "UTC"})
    assert ok.status == 201
    assert (
        Client("not-the-token", version=None)
        .post("/admin/locations", {"name": "x", "timezone": "UTC"})
        .status
        == 401
    )
