"""Calendar connections end to end at the service layer, against the fake Google server over
real HTTP: OAuth with PKCE, calendars, webhook-driven sync, busy time in both dialects' free
slots, bookings pushed out, 410 resync, expired channels, refresh failure, forged callbacks.

The fake's push notifications reach ``SyncService.google_notification`` through a tiny HTTP
listener standing in for the webhooks function (whose HTTP layer has its own tests).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from localdev.fake_providers.google import FakeGoogle
from localdev.fake_providers.microsoft import FakeMicrosoft
from slotbook import container
from slotbook.domain import ConnectionStatus
from slotbook.errors import InvalidRequest, NotFound, ReauthorizationNeeded, SlotUnavailable, Unauthenticated
from slotbook.providers.base import ProviderError
from slotbook.services.connections import BookingInput, ConnectionChanges
from slotbook.services.scheduling import AppointmentInput
from tests.conftest import FrozenClock, Tenant

ACCOUNT = "erik@nordic-parts.dk"
SALES = "sales@nordic-parts.dk"


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "validationToken" in query:  # Graph's subscription handshake
            payload = query["validationToken"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        try:
            if url.path.endswith("/microsoft"):
                container.services().sync.graph_notifications(json.loads(body))
            else:
                container.services().sync.google_notification(headers)
            status = 200
        except NotFound:
            status = 404
        except Unauthenticated:
            status = 401
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    """The webhook stand-in; yields its base URL (PUBLIC_BASE_URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _keys(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    kms = boto3.client("kms")
    token_key = kms.create_key()["KeyMetadata"]["KeyId"]
    state_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("TOKEN_KEY_ID", token_key)
    monkeypatch.setenv("OAUTH_STATE_KEY_ID", state_key)
    monkeypatch.setenv("PUBLIC_BASE_URL", base)


@pytest.fixture
def microsoft(
    aws: str, clock: FrozenClock, listener: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeMicrosoft]:
    fake = FakeMicrosoft(
        clock=lambda: clock.now, redirect_uris=[f"{listener}/api/calendar-connections/oauth/callback"]
    )
    fake.start()
    _keys(monkeypatch, listener)
    for name, value in fake.client_kwargs().items():
        monkeypatch.setenv(f"MICROSOFT_{name.upper()}", value)
    container.reset()
    yield fake
    fake.stop()


@pytest.fixture
def google(
    aws: str, clock: FrozenClock, listener: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeGoogle]:
    base = listener
    fake = FakeGoogle(
        clock=lambda: clock.now, redirect_uris=(f"{base}/api/calendar-connections/oauth/callback",)
    )
    fake.start()
    kms = boto3.client("kms")
    token_key = kms.create_key()["KeyMetadata"]["KeyId"]
    state_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    for name, value in {
        "TOKEN_KEY_ID": token_key,
        "OAUTH_STATE_KEY_ID": state_key,
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
    fake.add_calendar(ACCOUNT, SALES, summary="Sales Team", time_zone="Europe/Copenhagen")
    yield fake
    fake.stop()


def _connect(tenant: Tenant, fake: FakeGoogle, **kw: Any) -> Any:
    svc = container.services().connections
    start = svc.start_authorization(tenant.location_id, "google", **kw)
    redirect = fake.consent(start.authorization_url, account=ACCOUNT)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    return svc.complete_authorization(state=query["state"], code=query.get("code"), error=query.get("error"))


def _pick(tenant: Tenant, connection_id: str, calendar_id: str = SALES) -> Any:
    return container.services().connections.update_connection(
        tenant.location_id,
        connection_id,
        ConnectionChanges(fields=frozenset({"calendar_id"}), calendar_id=calendar_id),
    )


def _starts(tenant: Tenant, connection_id: str, day: str) -> list[str]:
    lo = datetime.fromisoformat(f"{day}T00:00:00+01:00")
    svc = container.services().connections
    slots = svc.free_slots(svc.get_connection(tenant.location_id, connection_id), lo, lo + timedelta(days=1))
    return [s.astimezone(UTC).strftime("%H:%M") for s, _ in slots]


def test_connect_sync_book_reschedule_cancel(tenant: Tenant, google: FakeGoogle, clock: FrozenClock) -> None:
    # Given a Google account connected by OAuth, with its sales calendar picked
    connection = _connect(tenant, google)
    assert connection.account_email == ACCOUNT and connection.calendar_id is None
    calendars = container.services().connections.provider_calendars(tenant.location_id, connection.id)
    assert {c.calendar_id for c in calendars} == {ACCOUNT, SALES}
    _pick(tenant, connection.id)
    assert google.channels(SALES), "a watch channel was opened on the picked calendar"
    before = _starts(tenant, connection.id, "2027-03-02")
    assert "09:00" in before  # 10:00 Copenhagen

    # When an event is created on the provider side, its push reaches the webhook
    google.add_event(
        SALES, start=datetime(2027, 3, 2, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    )
    google.wait_for_deliveries(2)  # the channel's "sync" handshake, then "exists"

    # Then that hour is gone from the connection's free slots
    after = _starts(tenant, connection.id, "2027-03-02")
    assert "09:00" not in after and "09:30" not in after and "10:00" in after

    # When a booking is made on the connection, it appears on the provider calendar
    booking = container.services().connections.create_booking(
        tenant.location_id,
        BookingInput(
            connection_id=connection.id, start=datetime(2027, 3, 2, 11, 0, tzinfo=UTC), title="Demo"
        ),
    )
    copies = [e for e in google.events(SALES) if e.get("summary") == "Demo"]
    assert len(copies) == 1
    # and the provider copy is not read back as busy time on top of the booking
    assert "11:00" not in _starts(tenant, connection.id, "2027-03-02")

    # Rescheduling moves the provider event; cancelling deletes it
    moved = container.services().connections.reschedule_booking(
        tenant.location_id, booking.id, datetime(2027, 3, 2, 12, 0, tzinfo=UTC), None
    )
    assert moved.start.hour == 12
    (copy,) = [e for e in google.events(SALES) if e.get("summary") == "Demo"]
    assert copy["start"]["dateTime"].startswith("2027-03-02T12:00")
    container.services().connections.cancel_booking(tenant.location_id, booking.id)
    assert not [e for e in google.events(SALES) if e.get("summary") == "Demo"]
    assert "12:00" in _starts(tenant, connection.id, "2027-03-02")


def test_linked_host_blocks_ghl_slots_and_ghl_appointments_are_pushed(
    tenant: Tenant, google: FakeGoogle
) -> None:
    # Given a GoHighLevel calendar whose member "u1" has a connected Google calendar
    svc = container.services()
    from tests.integration.conftest import Client, make_calendar

    client = Client(tenant.token)
    calendar = make_calendar(client, tenant.location_id, teamMembers=[{"userId": "u1", "priority": 0.5}])
    connection = _connect(tenant, google, user_id="u1")
    _pick(tenant, connection.id)
    day = datetime(2027, 3, 2, tzinfo=UTC)

    def ghl_slots() -> list[int]:
        slots, _ = svc.scheduling.free_slots(tenant.location_id, calendar["id"], day, day + timedelta(days=1))
        return slots

    ten = int(datetime(2027, 3, 2, 10, 0, tzinfo=UTC).timestamp())
    assert ten in ghl_slots()
    # When a provider event covers 10:00-11:00 UTC
    google.add_event(
        SALES, start=datetime(2027, 3, 2, 10, 0, tzinfo=UTC), end=datetime(2027, 3, 2, 11, 0, tzinfo=UTC)
    )
    google.wait_for_deliveries(2)
    # Then the GoHighLevel calendar no longer offers it, and a booking there is refused
    assert ten not in ghl_slots()
    with pytest.raises(SlotUnavailable):
        svc.scheduling.create_appointment(
            tenant.location_id,
            AppointmentInput(
                calendar_id=calendar["id"], contact_id="c1", start=datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
            ),
        )
    # And a GoHighLevel appointment of u1 is written to the provider calendar
    appt = svc.scheduling.create_appointment(
        tenant.location_id,
        AppointmentInput(
            calendar_id=calendar["id"],
            contact_id="c1",
            start=datetime(2027, 3, 2, 13, 0, tzinfo=UTC),
            title="GHL visit",
        ),
    )
    assert [e for e in google.events(SALES) if e.get("summary") == "GHL visit"]
    svc.scheduling.delete_event(tenant.location_id, appt.id)
    assert not [e for e in google.events(SALES) if e.get("summary") == "GHL visit"]


def test_410_resync_replaces_busy_time(tenant: Tenant, google: FakeGoogle) -> None:
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    event_id = google.add_event(
        SALES, start=datetime(2027, 3, 2, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    )
    google.wait_for_deliveries(2)
    assert "09:00" not in _starts(tenant, connection.id, "2027-03-02")
    # When the sync token expires and the event is deleted meanwhile
    google.expire_sync_tokens(SALES)
    google.delete_event(SALES, event_id)
    google.wait_for_deliveries(3)
    # Then the 410 leads to a full resync and the time is free again
    assert "09:00" in _starts(tenant, connection.id, "2027-03-02")


def test_forged_and_unknown_callbacks_change_nothing(tenant: Tenant, google: FakeGoogle) -> None:
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    (channel,) = [c for c in google.channels(SALES) if c.get("active", True)]
    sync = container.services().sync
    with pytest.raises(Unauthenticated):
        sync.google_notification(
            {
                "x-goog-channel-id": channel["id"],
                "x-goog-channel-token": "forged",
                "x-goog-resource-state": "exists",
            }
        )
    with pytest.raises(NotFound):
        sync.google_notification({"x-goog-channel-id": "nope", "x-goog-channel-token": "x"})
    with pytest.raises(NotFound):
        sync.graph_notifications({"value": [{"subscriptionId": channel["id"], "clientState": "x"}]})


def test_expired_channel_is_renewed_by_the_sweep(
    tenant: Tenant, google: FakeGoogle, clock: FrozenClock
) -> None:
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    store = container.services().store
    first = store.get_sync_state(tenant.location_id, connection.id).channel
    assert first is not None
    # When time passes to within the renewal margin of the channel's expiry
    clock.now = first.expires_at - timedelta(hours=1)
    assert container.services().sync.maintain() == 1
    # Then a new channel replaced it, and callbacks on the old one answer 404
    second = store.get_sync_state(tenant.location_id, connection.id).channel
    assert second is not None and second.channel_id != first.channel_id and second.expires_at > clock.now
    assert store.get_channel(first.channel_id) is None

    # When the sweep did not run before the new channel expired (Google stopped pushing)
    clock.now = second.expires_at + timedelta(hours=1)
    assert container.services().sync.maintain() == 1
    # Then a fresh channel is opened, and changes reach us through it again
    third = store.get_sync_state(tenant.location_id, connection.id).channel
    assert third is not None and third.expires_at > clock.now
    day = (clock.now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    google.add_event(SALES, start=day, end=day + timedelta(hours=1))
    expected = [(int(day.timestamp()), int((day + timedelta(hours=1)).timestamp()))]
    deadline = time.monotonic() + 10
    while store.connection_busy(tenant.location_id, connection.id, day, day + timedelta(hours=1)) != expected:
        assert time.monotonic() < deadline, "the push on the fresh channel never synced"
        time.sleep(0.05)
    # (through the fresh channel: the old ones are inactive at the fake)
    assert [c["id"] for c in google.channels(SALES)] == [third.channel_id]


def test_refresh_failure_marks_connection_for_reauthorisation(
    tenant: Tenant, google: FakeGoogle, clock: FrozenClock
) -> None:
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    google.revoke_refresh_tokens(ACCOUNT)
    clock.now += timedelta(hours=2)  # the access token expired
    with pytest.raises(ReauthorizationNeeded):
        container.services().connections.provider_calendars(tenant.location_id, connection.id)
    stored = container.services().connections.get_connection(tenant.location_id, connection.id)
    assert stored.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    # Consenting again re-authorises the same connection
    again = _connect(tenant, google)
    assert again.id == connection.id and again.status is ConnectionStatus.ACTIVE


def test_oauth_state_is_single_use_and_signed(tenant: Tenant, google: FakeGoogle) -> None:
    svc = container.services().connections
    start = svc.start_authorization(tenant.location_id, "google")
    redirect = google.consent(start.authorization_url, account=ACCOUNT)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    tampered = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    with pytest.raises(InvalidRequest):
        svc.complete_authorization(state=tampered, code=query["code"], error=None)
    svc.complete_authorization(state=query["state"], code=query["code"], error=None)
    with pytest.raises(InvalidRequest):
        svc.complete_authorization(state=query["state"], code=query["code"], error=None)


def test_microsoft_subscription_delta_and_bookings(tenant: Tenant, microsoft: FakeMicrosoft) -> None:
    # Given an Outlook account connected by OAuth with its default calendar picked
    svc = container.services().connections
    start = svc.start_authorization(tenant.location_id, "microsoft")
    redirect = microsoft.consent(start.authorization_url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    connection = svc.complete_authorization(state=query["state"], code=query["code"], error=None)
    calendar_id = microsoft.default_calendar_id()
    assert calendar_id in {c.calendar_id for c in svc.provider_calendars(tenant.location_id, connection.id)}
    _pick(tenant, connection.id, calendar_id)
    assert microsoft.subscriptions(), "the subscription passed the validationToken handshake"

    # When an Outlook event arrives by change notification (clientState checked)
    microsoft.add_event(
        calendar_id, start=datetime(2027, 3, 3, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
    )
    microsoft.flush_notifications()
    # Then it is busy time
    assert "09:00" not in _starts(tenant, connection.id, "2027-03-03")
    assert "10:00" in _starts(tenant, connection.id, "2027-03-03")

    # A booking is created on Outlook once, even when the push is retried after a 503
    microsoft.inject_fault(503, count=10, retry_after="0", path_contains="/events")
    booking = svc.create_booking(
        tenant.location_id,
        BookingInput(
            connection_id=connection.id, start=datetime(2027, 3, 3, 12, 0, tzinfo=UTC), title="Outlook demo"
        ),
    )
    assert not [e for e in microsoft.events(calendar_id) if e.get("subject") == "Outlook demo"]
    sync = container.services().sync
    with pytest.raises(ProviderError) as failed:
        sync.handle({"type": "push", "locationId": tenant.location_id, "bookingId": booking.id})
    assert failed.value.retryable  # the sync function reports the message for redelivery
    microsoft._faults.clear()
    sync.handle({"type": "push", "locationId": tenant.location_id, "bookingId": booking.id})
    sync.handle({"type": "push", "locationId": tenant.location_id, "bookingId": booking.id})  # a duplicate
    assert len([e for e in microsoft.events(calendar_id) if e.get("subject") == "Outlook demo"]) == 1
    svc.cancel_booking(tenant.location_id, booking.id)
    assert not [e for e in microsoft.events(calendar_id) if e.get("subject") == "Outlook demo"]


def test_rate_limited_sync_keeps_cursor_and_retries(tenant: Tenant, google: FakeGoogle) -> None:
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    google.add_event(
        SALES, start=datetime(2027, 3, 2, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    )
    google.wait_for_deliveries(2)
    store = container.services().store
    cursor = store.get_sync_state(tenant.location_id, connection.id).cursor
    # When Google answers 429 longer than the client's retries last
    google.fail_next(10, status=429, retry_after="0", path="/events")
    sync = container.services().sync
    with pytest.raises(ProviderError) as failed:
        sync.handle({"type": "sync", "locationId": tenant.location_id, "connectionId": connection.id})
    # Then the message must come back, the cursor and busy time are untouched
    assert failed.value.retryable
    assert store.get_sync_state(tenant.location_id, connection.id).cursor == cursor
    assert "09:00" not in _starts(tenant, connection.id, "2027-03-02")
    google._faults.clear()
    sync.handle({"type": "sync", "locationId": tenant.location_id, "connectionId": connection.id})


def test_delete_removes_credentials_channel_and_busy_time(tenant: Tenant, google: FakeGoogle) -> None:
    # Given a synced connection with busy time, tokens and an open channel
    connection = _connect(tenant, google)
    _pick(tenant, connection.id)
    google.add_event(
        SALES, start=datetime(2027, 3, 2, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    )
    google.wait_for_deliveries(2)
    store = container.services().store
    channel = store.get_sync_state(tenant.location_id, connection.id).channel
    assert channel is not None and google.channels(SALES)
    assert store.get_secret(tenant.location_id, connection.id) is not None
    # When it is deleted
    container.services().connections.delete_connection(tenant.location_id, connection.id)
    # Then the provider channel is stopped and nothing of it is left in Slotbook
    assert google.channels(SALES) == []
    assert store.get_secret(tenant.location_id, connection.id) is None
    assert store.get_channel(channel.channel_id) is None
    day = datetime(2027, 3, 2, tzinfo=UTC)
    assert store.connection_busy(tenant.location_id, connection.id, day, day + timedelta(days=1)) == []
    with pytest.raises(NotFound):
        container.services().connections.get_connection(tenant.location_id, connection.id)


def test_pending_pkce_verifier_is_stored_encrypted(tenant: Tenant, google: FakeGoogle, aws: str) -> None:
    import base64
    import hashlib

    start = container.services().connections.start_authorization(tenant.location_id, "google")
    challenge = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start.authorization_url).query))[
        "code_challenge"
    ]
    items = boto3.client("dynamodb").scan(TableName=aws)["Items"]  # test inspection only
    (pending,) = [i for i in items if i["PK"]["S"].startswith("OAUTH#")]
    stored = pending["verifier"]["S"]
    as_verifier = base64.urlsafe_b64encode(hashlib.sha256(stored.encode()).digest()).decode().rstrip("=")
    assert as_verifier != challenge and len(stored) > 100  # KMS ciphertext, not the 43-char verifier
