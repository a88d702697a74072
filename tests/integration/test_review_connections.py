# ruff: noqa: F811 - the fixtures imported from test_connection_sync are parameters here
"""Regressions found reviewing issue 4 (calendar connections, sync, provider pushes).

Service-level, against the fake Google of ``test_connection_sync`` (same fixtures, frozen clock at
2027-03-01T08:00Z). Each test states the expected behaviour; a failure is the defect.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localdev.fake_providers.google import FakeGoogle
from slotbook import container
from slotbook.errors import InvalidRequest
from slotbook.services.connections import BookingInput
from tests.conftest import FrozenClock, Tenant
from tests.integration.test_connection_sync import (  # noqa: F401 - fixtures
    ACCOUNT,
    SALES,
    _connect,
    _pick,
    google,
    listener,
    microsoft,
)

OTHER_ACCOUNT = "mallory@elsewhere.example"


def _live(fake: FakeGoogle, calendar_id: str, title: str) -> list[dict[str, Any]]:
    return [e for e in fake.events(calendar_id) if e.get("summary") == title]


def test_booking_copy_survives_a_calendar_switch_and_back(tenant: Tenant, google: FakeGoogle) -> None:
    """The Google event id is derived from booking + connection + calendar, and a 409 on insert
    is taken as "already created". Google keeps deleted events as tombstones whose ids cannot be
    reused, so once a copy was deleted from a calendar (calendar switched away, booking moved),
    writing the booking to that calendar again answers 409 and the copy is silently lost."""
    svc = container.services().connections
    connection = _connect(tenant, google)
    _pick(tenant, connection.id, SALES)
    booking = svc.create_booking(
        tenant.location_id,
        BookingInput(
            connection_id=connection.id, start=datetime(2027, 3, 2, 11, 0, tzinfo=UTC), title="Demo"
        ),
    )
    assert len(_live(google, SALES, "Demo")) == 1

    # The connection moves to the primary calendar; the next push moves the copy there
    _pick(tenant, connection.id, ACCOUNT)
    svc.reschedule_booking(tenant.location_id, booking.id, datetime(2027, 3, 2, 12, 0, tzinfo=UTC), None)
    assert _live(google, SALES, "Demo") == [] and len(_live(google, ACCOUNT, "Demo")) == 1

    # ... and back to the sales calendar: the booking must be on it again
    _pick(tenant, connection.id, SALES)
    svc.reschedule_booking(tenant.location_id, booking.id, datetime(2027, 3, 2, 13, 0, tzinfo=UTC), None)
    assert _live(google, ACCOUNT, "Demo") == []
    assert len(_live(google, SALES, "Demo")) == 1, "the booking is on no provider calendar at all"


def test_copy_deleted_on_the_provider_is_written_again_on_reschedule(
    tenant: Tenant, google: FakeGoogle
) -> None:
    """_write_copy's comment says a copy deleted on the provider side is "written again"; with
    Google's tombstones the PATCH of a deleted event succeeds (it stays cancelled) or the re-insert
    answers 409 — either way the moved booking never reappears."""
    svc = container.services().connections
    connection = _connect(tenant, google)
    _pick(tenant, connection.id, SALES)
    booking = svc.create_booking(
        tenant.location_id,
        BookingInput(
            connection_id=connection.id, start=datetime(2027, 3, 2, 11, 0, tzinfo=UTC), title="Demo"
        ),
    )
    (copy,) = _live(google, SALES, "Demo")
    google.delete_event(SALES, copy["id"])  # the host deletes it in Google Calendar
    svc.reschedule_booking(tenant.location_id, booking.id, datetime(2027, 3, 2, 12, 0, tzinfo=UTC), None)
    assert len(_live(google, SALES, "Demo")) == 1


def test_reauthorising_with_another_account_does_not_keep_the_old_accounts_calendar(
    tenant: Tenant, google: FakeGoogle
) -> None:
    """Re-authorising a named connection (``connectionId``) with a *different* account swaps the
    tokens and ``accountEmail`` but keeps ``calendarId`` and the sync cursor of the old account's
    calendar: the connection now claims a calendar its tokens cannot reach."""
    svc = container.services().connections
    connection = _connect(tenant, google)
    _pick(tenant, connection.id, SALES)
    google.add_account(OTHER_ACCOUNT, time_zone="UTC")

    import urllib.parse

    start = svc.start_authorization(tenant.location_id, "google", connection_id=connection.id)
    redirect = google.consent(start.authorization_url, account=OTHER_ACCOUNT)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    # The re-authorisation is refused for a different account, and the connection is unchanged
    with pytest.raises(InvalidRequest):
        svc.complete_authorization(state=query["state"], code=query.get("code"), error=None)
    kept = svc.get_connection(tenant.location_id, connection.id)
    assert (kept.account_email, kept.calendar_id) == (ACCOUNT, SALES)
    assert SALES in {c.calendar_id for c in svc.provider_calendars(tenant.location_id, kept.id)}


def test_delete_racing_a_sync_leaves_no_open_provider_channel(tenant: Tenant, google: FakeGoogle) -> None:
    """DELETE doesn't take the sync lease and the sync's writes aren't fenced: a sync already past
    its token read opens (and records) a watch channel for a connection that no longer exists.
    Google keeps pushing to it for up to a week and nothing ever stops it."""
    services = container.services()
    connection = _connect(tenant, google)
    provider = services.sync._providers.get("google")
    original = provider.sync
    fired: list[bool] = []

    def racing_sync(token: str, calendar_id: str, cursor: str | None) -> Any:
        if not fired:
            fired.append(True)
            # The DELETE request lands while this sync is talking to Google
            services.connections.delete_connection(tenant.location_id, connection.id)
        return original(token, calendar_id, cursor)

    provider.sync = racing_sync  # type: ignore[method-assign]
    try:
        _pick(tenant, connection.id, SALES)  # schedules the (inline) sync
    finally:
        provider.sync = original  # type: ignore[method-assign]
    assert fired
    assert google.channels(SALES) == [], "a provider channel stays open for a deleted connection"
    day = datetime(2027, 3, 2, tzinfo=UTC)
    assert (
        services.store.connection_busy(tenant.location_id, connection.id, day, day + timedelta(days=1)) == []
    )


def test_stale_refresh_failure_does_not_undo_a_fresh_reauthorisation(
    tenant: Tenant, google: FakeGoogle, clock: FrozenClock
) -> None:
    """A refresh that fails (``invalid_grant``) with the *old* refresh token marks the connection
    ``reauthorization_required`` even when the user re-authorised in the meantime: the
    unconditional mark in ``_needs_reauthorization`` re-reads the connection (now active, with new
    tokens) and flips it back."""
    services = container.services()
    connection = _connect(tenant, google)
    _pick(tenant, connection.id, SALES)
    provider = services.sync._providers.get("google")
    original = provider.refresh
    google.revoke_refresh_tokens(ACCOUNT)
    clock.now += timedelta(hours=2)

    def refresh_racing_reauthorisation(refresh_token: str) -> Any:
        provider.refresh = original  # type: ignore[method-assign]
        _connect(tenant, google)  # the user consents again while the sync's refresh is in flight
        return original(refresh_token)

    provider.refresh = refresh_racing_reauthorisation  # type: ignore[method-assign]
    try:
        services.sync.handle(
            {"type": "sync", "locationId": tenant.location_id, "connectionId": connection.id}
        )
    finally:
        provider.refresh = original  # type: ignore[method-assign]
    stored = services.connections.get_connection(tenant.location_id, connection.id)
    assert stored.status.value == "active", "fresh tokens stored, but the connection says re-authorise"


def test_ghl_update_of_an_ohallo_booking_is_not_a_5xx(tenant: Tenant, google: FakeGoogle) -> None:
    """A connection booking is an appointment without a GoHighLevel calendar. The GHL dialect reads
    it (GET 200) but ``PUT /calendars/events/appointments/{id}`` hits ``assert calendar_id is not
    None`` in ``_update_plan``: 500 (invariant 4)."""
    from tests.integration.conftest import Client

    svc = container.services().connections
    connection = _connect(tenant, google)
    booking = svc.create_booking(
        tenant.location_id,
        BookingInput(
            connection_id=connection.id, start=datetime(2027, 3, 2, 11, 0, tzinfo=UTC), title="Demo"
        ),
    )
    ghl = Client(tenant.token)
    assert ghl.get(f"/calendars/events/appointments/{booking.id}").status == 200
    reply = ghl.put(f"/calendars/events/appointments/{booking.id}", {"startTime": "2027-03-02T12:00:00Z"})
    assert reply.status < 500, reply.body


def test_graph_subscription_removed_lifecycle_event_replaces_the_subscription(
    tenant: Tenant, microsoft: Any
) -> None:
    """graph_notifications' docstring: lifecycle events (``subscriptionRemoved``,
    ``reauthorizationRequired``) schedule a sync that "renews or replaces the subscription". The
    sync only looks at the *stored* expiry, which is days away, so the removed subscription is
    never replaced: no notifications until the channel would have expired (~7 days)."""
    import urllib.parse

    svc = container.services().connections
    start = svc.start_authorization(tenant.location_id, "microsoft")
    redirect = microsoft.consent(start.authorization_url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    connection = svc.complete_authorization(state=query["state"], code=query["code"], error=None)
    _pick(tenant, connection.id, microsoft.default_calendar_id())
    (sub,) = microsoft.subscriptions()
    microsoft.expire_subscription(sub.id)  # Graph removed it...
    container.services().sync.graph_notifications(  # ...and says so
        {
            "value": [
                {
                    "subscriptionId": sub.id,
                    "clientState": sub.client_state,
                    "lifecycleEvent": "subscriptionRemoved",
                }
            ]
        }
    )
    assert microsoft.subscriptions(), "no live subscription after subscriptionRemoved"


def test_notification_during_the_end_of_a_sync_is_not_lost(
    tenant: Tenant, google: FakeGoogle, clock: FrozenClock
) -> None:
    """claim_sync: when the claim fails it sets ``pending = true`` *unconditionally*. If the holder
    releases the lease between the failed claim and that write (finish_sync saw pending=false),
    the flag lands on an unleased item: nobody syncs again, the change waits for the 30-minute
    safety net."""
    from slotbook.services.sync import SYNC_LEASE

    services = container.services()
    store = services.store
    connection = _connect(tenant, google)
    _pick(tenant, connection.id, SALES)
    loc, cid = tenant.location_id, connection.id
    # Sync "A" holds the lease; it read Google before the event below existed.
    state_a = store.claim_sync(loc, cid, "A", clock.now, SYNC_LEASE)
    assert state_a is not None
    real = store._client

    class Interleave:
        done = False

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def update_item(self, **kw: Any) -> Any:
            if kw.get("UpdateExpression") == "SET pending = :t" and not Interleave.done:
                Interleave.done = True  # A finishes right between B's failed claim and its flag
                store._client = real
                assert not store.finish_sync(
                    loc,
                    cid,
                    "A",
                    calendar_id=SALES,
                    cursor=state_a.cursor,
                    synced_at=clock.now,
                    next_due=clock.now + timedelta(minutes=30),
                )
            return real.update_item(**kw)

    store._client = Interleave()
    try:
        day = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
        google.add_event(SALES, start=day, end=day + timedelta(hours=1))
        google.wait_for_deliveries(2)  # the push reached the webhook: sync "B" was requested
    finally:
        store._client = real
    assert Interleave.done
    assert store.connection_busy(loc, cid, day, day + timedelta(hours=1)), (
        "the notified change is not synced (pending flag left on a released lease)"
    )
