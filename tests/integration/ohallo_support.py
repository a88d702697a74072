"""Shared pieces of the oHallo-dialect tests: the seed's example JSON (reference/seeds/000, 001)
as expected shapes, a client without the GoHighLevel Version header, connections stored
directly (no provider needed) and the fake Google account behind the OAuth tests."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from localdev.fake_providers.google import FakeGoogle
from slotbook import container
from slotbook.domain import BookingConfig, CalendarProviderName, Connection, WorkingHours
from tests.conftest import FROZEN_NOW, FrozenClock, Tenant
from tests.integration.conftest import Client, Reply

SEED_CONNECTION: dict[str, Any] = {
    "id": "11223344-5566-4788-89aa-bbccddeeff00",
    "workspaceId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "provider": "google",
    "displayName": "Sales Team Calendar",
    "calendarId": "sales@nordic-parts.dk",
    "enabled": True,
    "bookingConfig": {
        "workingHours": {
            "monday": {"start": "09:00", "end": "17:00"},
            "tuesday": {"start": "09:00", "end": "17:00"},
            "wednesday": {"start": "09:00", "end": "17:00"},
            "thursday": {"start": "09:00", "end": "17:00"},
            "friday": {"start": "09:00", "end": "16:00"},
        },
        "bufferMinutes": 15,
        "timezone": "Europe/Copenhagen",
        "blockedDates": ["2026-12-24", "2026-12-25", "2026-12-31"],
    },
    "createdAt": "2026-03-10T08:00:00.000Z",
    "updatedAt": "2026-03-12T14:20:00.000Z",
}
"""seeds/000 "Retrieve a single calendar connection" response (also each item of the list)."""

SEED_CONNECTION_LIST: dict[str, Any] = {"items": [SEED_CONNECTION], "total": 1}

SEED_PATCH_BODY: dict[str, Any] = {
    "displayName": "Sales and Support Calendar",
    "bookingConfig": {
        "workingHours": {
            "monday": {"start": "08:00", "end": "17:00"},
            "tuesday": {"start": "08:00", "end": "17:00"},
            "wednesday": {"start": "08:00", "end": "17:00"},
            "thursday": {"start": "08:00", "end": "17:00"},
            "friday": {"start": "08:00", "end": "15:00"},
        },
        "bufferMinutes": 10,
        "timezone": "Europe/Copenhagen",
        "blockedDates": ["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"],
    },
}
"""seeds/000 "Update an existing calendar connection" request body, as the curl sends it."""

SEED_CALENDARS: dict[str, Any] = {
    "items": [
        {"calendarId": "sales@nordic-parts.dk", "name": "Sales Team", "primary": False},
        {"calendarId": "support@nordic-parts.dk", "name": "Support Team", "primary": False},
        {"calendarId": "erik@nordic-parts.dk", "name": "Erik Andersen", "primary": True},
    ]
}
"""seeds/000 "returns the calendars available on the connected account" response."""

SEED_BOOKING: dict[str, Any] = {
    "id": "aabbccdd-eeff-4011-2233-445566778899",
    "calendarConnectionId": "11223344-5566-4788-89aa-bbccddeeff00",
    "conversationId": "c9f8e7d6-b5a4-3210-fedc-ba9876543210",
    "contactId": "f7e8d9c0-b1a2-3456-7890-abcdef123456",
    "contactName": "Henrik Larsen",
    "contactEmail": "henrik@nordic-parts.dk",
    "title": "Product demo -- Nordic Parts",
    "startTime": "2026-03-20T10:00:00.000Z",
    "endTime": "2026-03-20T10:30:00.000Z",
    "timezone": "Europe/Copenhagen",
    "status": "confirmed",
    "createdAt": "2026-03-15T14:00:00.000Z",
}
"""seeds/000 "Retrieve bookings for a specific calendar connection": one item."""

SEED_BOOKING_LIST: dict[str, Any] = {"items": [SEED_BOOKING], "total": 1}

SEED_ERROR: dict[str, Any] = {"error": "Conversation not found"}
"""seeds/001 "Standard error response returned by all endpoints on failure"."""

CONNECTION_EXTRAS = {"status", "accountEmail", "userId"}
"""Fields a connection carries beyond the seed's (what a client needs for re-authorisation)."""

ACCOUNT = "erik@nordic-parts.dk"


def shape(value: Any) -> Any:
    """The JSON type skeleton of ``value``: keys kept, leaves replaced by their type name."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def assert_shape(actual: Any, expected: Any, extras: set[str] = frozenset(), path: str = "$") -> None:
    """``actual`` has exactly the keys and JSON types of the seed example ``expected`` (plus
    ``extras`` keys on objects that carry a connection's ``displayName``)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        allowed = set(expected) | (extras if "displayName" in expected else set())
        assert set(actual) == allowed, f"{path}: keys {sorted(actual)} != {sorted(allowed)}"
        for key, sub in expected.items():
            assert_shape(actual[key], sub, extras, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not an array"
        for i, item in enumerate(actual):
            assert_shape(item, expected[0], extras, f"{path}[{i}]")
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not a {type(expected).__name__}"


def ohallo(token: str | None) -> Client:
    """A client as the seed's curl examples call the API: bearer token, no Version header."""
    return Client(token, version=None)


def seed_config() -> BookingConfig:
    return BookingConfig(
        working_hours={
            **{
                d: WorkingHours(start="09:00", end="17:00")
                for d in ("monday", "tuesday", "wednesday", "thursday")
            },
            "friday": WorkingHours(start="09:00", end="16:00"),
        },
        buffer_minutes=15,
        timezone="Europe/Copenhagen",
        blocked_dates=[date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31)],
    )


def put_connection(location_id: str, **fields: Any) -> Connection:
    """A connection stored directly (as an authorised one would be), seed values by default."""
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "location_id": location_id,
        "provider": CalendarProviderName.GOOGLE,
        "display_name": "Sales Team Calendar",
        "calendar_id": "sales@nordic-parts.dk",
        "enabled": True,
        "booking_config": seed_config(),
        "account_email": ACCOUNT,
        "created_at": FROZEN_NOW,
        "updated_at": FROZEN_NOW,
        **fields,
    }
    connection = Connection(**values)
    container.services().store.put_connection(connection)
    return connection


def other_tenant() -> Tenant:
    """A second workspace with an all-scopes key."""
    from slotbook.services.tenancy import SCOPES

    tenancy = container.services().tenancy
    location = tenancy.create_location("Other workspace", "Europe/Copenhagen")
    _, token = tenancy.create_api_key(location.id, "all", sorted(SCOPES))
    return Tenant(location.id, token)


def key_with(location_id: str, scopes: list[str]) -> str:
    _, token = container.services().tenancy.create_api_key(location_id, "limited", scopes)
    return token


CALLBACK = "/api/calendar-connections/oauth/callback"


@pytest.fixture(name="google")
def google_fixture(aws: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """The fake Google with the seed's account (Erik, primary) and its Sales and Support
    calendars; the OAuth client and endpoints configured for this deployment."""
    base = "http://127.0.0.1:9"  # nothing listens: the fake's push notifications go nowhere
    fake = FakeGoogle(clock=lambda: clock.now, redirect_uris=(f"{base}{CALLBACK}",))
    fake.start()
    for name, value in {
        "PUBLIC_BASE_URL": base,
        "GOOGLE_CLIENT_ID": fake.client_id,
        "GOOGLE_CLIENT_SECRET": fake.client_secret,
        "GOOGLE_AUTH_URL": fake.auth_url,
        "GOOGLE_TOKEN_URL": fake.token_url,
        "GOOGLE_API_URL": fake.api_url,
    }.items():
        monkeypatch.setenv(name, value)
    container.reset()
    fake.add_account(ACCOUNT, time_zone="Europe/Copenhagen", name="Erik Andersen")
    fake.add_calendar(ACCOUNT, "sales@nordic-parts.dk", summary="Sales Team", time_zone="Europe/Copenhagen")
    fake.add_calendar(
        ACCOUNT, "support@nordic-parts.dk", summary="Support Team", time_zone="Europe/Copenhagen"
    )
    yield fake
    fake.stop()


def authorize(client: Client, location_id: str, fake: FakeGoogle, body: Any = None, **consent: Any) -> Reply:
    """Start the OAuth flow over HTTP, consent at the fake, land on the public callback."""
    started = client.post(f"/api/workspaces/{location_id}/calendar-connections/oauth/google", body)
    assert started.status == 201, started.body
    redirect = fake.consent(
        started.body["authorizationUrl"], account=consent.pop("account", ACCOUNT), **consent
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    return ohallo(None).get(CALLBACK, params=query)


def connect_seed(client: Client, location_id: str, fake: FakeGoogle) -> dict[str, Any]:
    """The seed's connection made the way a user makes it: OAuth at the fake Google, then a
    PATCH picking the sales calendar with the seed's ``bookingConfig``. Returns it as shown."""
    created = authorize(client, location_id, fake, {"displayName": "Sales Team Calendar"})
    assert created.status == 200, created.body
    reply = client.request(
        "PATCH",
        f"/api/calendar-connections/{created.body['id']}",
        json_body={"calendarId": "sales@nordic-parts.dk", "bookingConfig": SEED_CONNECTION["bookingConfig"]},
    )
    assert reply.status == 200, reply.body
    return reply.body
