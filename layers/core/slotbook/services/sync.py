"""Provider sync: busy time in, bookings out (issue 4, "Sync (the hard part)").

Entry points, each idempotent and safe on at-least-once infrastructure (invariant 5):

* **Webhooks** (:meth:`SyncService.google_notification`, :meth:`SyncService.graph_notifications`):
  a callback is checked against the channel it names (Google: channel id + the
  ``X-Goog-Channel-Token`` we set; Graph: subscription id + ``clientState``) and then only
  *schedules* a sync message. Unknown channels raise NotFound, wrong tokens Unauthenticated;
  neither changes anything. Duplicate and out-of-order notifications are harmless: a sync reads
  the provider's changes since the stored cursor, whatever the notification said.
* **Messages** (:meth:`SyncService.handle`, from the SQS FIFO sync queue; group = connection id for
  ``sync``, booking id for ``push``, so each is processed in order):

  - ``{"type": "sync", "locationId", "connectionId"}``: incremental sync (Google ``syncToken``,
    Graph delta link; an expired cursor — 410 — falls back to a full sync that replaces the stored
    busy time), then make sure a watch channel / subscription exists and is not about to expire.
    One sync per connection at a time (a lease on its sync item; a notification arriving during a
    sync makes it run once more). A changed ``calendarId`` starts over on the new calendar; a
    disabled or unlinked connection drops its channel and busy time.
  - ``{"type": "push", "locationId", "bookingId"}``: make the provider copies of a booking match
    it — create (idempotency key = booking + connection + calendar: Google event id, Graph
    ``transactionId``), update on reschedule, delete on cancel or delete. Copies are marked as
    Slotbook's own so the sync never reads them back as busy time.
* **Schedule** (:meth:`SyncService.maintain`, EventBridge every 5 minutes): connections whose next
  sync is due — every :data:`SYNC_EVERY` as a safety net for lost notifications, and before their
  channel expires (:data:`RENEW_BEFORE`) — get a sync message.

Token handling: access tokens are refreshed when within a minute of expiry or refused (401); a
rotated refresh token is stored; a refresh the provider refuses (``invalid_grant``) marks the
connection ``reauthorization_required`` — never deletes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from slotbook.domain import Connection, ConnectionStatus, Event
from slotbook.errors import (
    ConcurrentUpdate,
    InvalidRequest,
    NotFound,
    ReauthorizationNeeded,
    SlotbookError,
    Unauthenticated,
)
from slotbook.observability import MetricUnit, logger, metrics
from slotbook.providers.base import (
    AccessTokenRejected,
    BusyChange,
    CalendarProvider,
    EventDraft,
    OAuthTokens,
    ProviderError,
    ReauthorizationRequired,
    SyncCursorExpired,
    WatchChannel,
)
from slotbook.providers.registry import ProviderRegistry
from slotbook.providers.vault import TokenVault
from slotbook.store.connections import ProviderCopy, SyncState
from slotbook.store.dynamo import DynamoStore

SYNC_EVERY = timedelta(minutes=30)
"""Safety-net incremental sync period of every syncing connection."""
RENEW_BEFORE = timedelta(hours=12)
"""A channel or subscription expiring sooner than this is renewed (or replaced)."""
WATCH_TTL = timedelta(days=7)
"""Requested channel lifetime (Google caps it at its own maximum; Graph at ~7 days for events)."""
SYNC_LEASE = timedelta(minutes=5)
"""How long one sync may hold a connection before another may take over."""
RETRY_AFTER_FAILURE = timedelta(minutes=5)
"""Next sweep of a connection whose sync failed in a retryable way."""
REFRESH_MARGIN = timedelta(seconds=60)

T = TypeVar("T")


class SyncQueue(Protocol):
    """Where sync and push messages go: SQS FIFO on AWS, in-process at once locally."""

    def send(self, message: dict[str, Any], group: str) -> None: ...


class SqsSyncQueue:
    """The SQS FIFO queue (``MessageGroupId`` = ``group``; a fresh deduplication id per send, so
    repeated notifications are not collapsed — the lease and cursor make them harmless)."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, message: dict[str, Any], group: str) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(message),
            MessageGroupId=group,
            MessageDeduplicationId=uuid.uuid4().hex,
        )

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


class InlineSyncQueue:
    """No queue (``make dev``, tests): a message is handled at once in the sender's thread. A
    provider failure is logged (there is no redelivery; the sweep's next sync repairs busy time)."""

    def __init__(self) -> None:
        self.handler: Callable[[dict[str, Any]], None] | None = None

    def send(self, message: dict[str, Any], group: str) -> None:
        if self.handler is None:
            return
        try:
            self.handler(message)
        except ProviderError as exc:
            logger.warning(
                "provider call failed (no queue to retry from)",
                extra={
                    "message_type": message.get("type"),
                    "status": exc.status,
                    "retryable": exc.retryable,
                    "detail": str(exc),
                },
            )
        except SlotbookError as exc:  # e.g. a provider no longer configured: nothing to do now
            logger.warning(
                "sync message not handled", extra={"message_type": message.get("type"), "reason": exc.message}
            )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SyncService:
    """Sync and push over one store (see the module docstring). ``clock`` returns aware UTC."""

    def __init__(
        self,
        store: DynamoStore,
        clock: Callable[[], datetime],
        providers: ProviderRegistry,
        vault: TokenVault | None,
        queue: SyncQueue,
        public_url: str,
    ) -> None:
        self._store = store
        self._clock = clock
        self._providers = providers
        self._vault = vault
        self.queue = queue
        self._public_url = public_url.rstrip("/")

    # -- scheduling messages --------------------------------------------------------------------

    def request_sync(self, location_id: str, connection_id: str, *, renew: bool = False) -> None:
        """Queue a sync of the connection; ``renew``: also renew (or replace) its channel now,
        whatever its expiry says (a Graph lifecycle notification asked for it)."""
        message: dict[str, Any] = {"type": "sync", "locationId": location_id, "connectionId": connection_id}
        if renew:
            message["renew"] = True
        self.queue.send(message, group=connection_id)

    def on_booking_change(self, before: Event | None, after: Event | None) -> None:
        """After an appointment write: schedule a push when it is (or was) written to any
        connection. Never fails the request: a queue failure is logged and counted."""
        subject = after or before
        if subject is None or subject.is_series or subject.master_id is not None:
            return  # recurring series are not copied to provider calendars
        targets = set(
            (before.provider_connections if before else []) + (after.provider_connections if after else [])
        )
        if not targets:
            return
        try:
            self.queue.send(
                {"type": "push", "locationId": subject.location_id, "bookingId": subject.id}, group=subject.id
            )
        except ClientError:
            logger.exception("scheduling a provider push failed", extra={"event_id": subject.id})
            metrics.add_metric(name="ProviderPushSchedulingFailed", unit=MetricUnit.Count, value=1)

    # -- webhooks ---------------------------------------------------------------------------------

    def google_notification(self, headers: Mapping[str, str]) -> None:
        """A Google push notification (``X-Goog-Channel-ID``, ``X-Goog-Channel-Token``,
        ``X-Goog-Resource-State``; lower-case names). Raises NotFound for a channel we don't have
        (expired and replaced, stopped, forged), Unauthenticated for a wrong token."""
        channel_id = headers.get("x-goog-channel-id") or ""
        record = self._store.get_channel(channel_id) if channel_id else None
        if record is None or record.provider != "google":
            raise NotFound("Channel")
        if not hmac.compare_digest(
            token_digest(headers.get("x-goog-channel-token") or ""), record.token_hash
        ):
            metrics.add_metric(name="ForgedProviderNotifications", unit=MetricUnit.Count, value=1)
            raise Unauthenticated("The channel token does not match.")
        if headers.get("x-goog-resource-state") == "sync":
            return  # the handshake message Google sends when a channel opens
        self.request_sync(record.location_id, record.connection_id)

    def graph_notifications(self, body: Mapping[str, Any]) -> None:
        """A Microsoft Graph change (or lifecycle) notification batch. Each item's
        ``subscriptionId`` must be ours and its ``clientState`` match; valid items schedule one
        sync per connection (lifecycle events — ``reauthorizationRequired``, ``missed``,
        ``subscriptionRemoved`` — too: the sync renews or replaces the subscription). Raises
        Unauthenticated when no item was valid and one had a wrong ``clientState``, else NotFound."""
        items = body.get("value")
        if not isinstance(items, list):
            raise NotFound("Subscription")
        wanted: dict[str, tuple[str, bool]] = {}
        forged = False
        for item in items:
            if not isinstance(item, Mapping):
                continue
            subscription = str(item.get("subscriptionId") or "")
            record = self._store.get_channel(subscription) if subscription else None
            if record is None or record.provider != "microsoft":
                continue
            if not hmac.compare_digest(token_digest(str(item.get("clientState") or "")), record.token_hash):
                forged = True
                continue
            # reauthorizationRequired / subscriptionRemoved: the subscription must be renewed or
            # replaced now; missed: a plain sync catches up.
            lifecycle = str(item.get("lifecycleEvent") or "")
            renew = lifecycle in ("reauthorizationRequired", "subscriptionRemoved")
            renew = renew or wanted.get(record.connection_id, ("", False))[1]
            wanted[record.connection_id] = (record.location_id, renew)
        if not wanted:
            if forged:
                metrics.add_metric(name="ForgedProviderNotifications", unit=MetricUnit.Count, value=1)
                raise Unauthenticated("The clientState does not match.")
            raise NotFound("Subscription")
        for connection_id, (location_id, renew) in wanted.items():
            self.request_sync(location_id, connection_id, renew=renew)

    # -- the scheduled sweep ----------------------------------------------------------------------

    def maintain(self) -> int:
        """Send a sync message for every connection due (pattern 39) and push its due time past
        the lease, so the next sweep doesn't send it again while the sync runs. Returns the count."""
        now = self._clock()
        due = self._store.due_connections(now)
        for location_id, connection_id in due:
            self._store.schedule_sync(location_id, connection_id, now + SYNC_LEASE)
            self.request_sync(location_id, connection_id)
        return len(due)

    # -- messages -----------------------------------------------------------------------------

    def handle(self, message: Mapping[str, Any]) -> None:
        """One queue message (see the module docstring). Raises ProviderError when a retryable
        provider failure should bring the message back."""
        kind = message.get("type")
        location_id = str(message.get("locationId") or "")
        if kind == "sync":
            self.sync_connection(
                location_id, str(message.get("connectionId") or ""), renew=bool(message.get("renew"))
            )
        elif kind == "push":
            self.push_booking(location_id, str(message.get("bookingId") or ""))
        else:
            logger.warning("unknown sync message ignored", extra={"message_type": kind})

    # -- busy time in -----------------------------------------------------------------------------

    def sync_connection(self, location_id: str, connection_id: str, *, renew: bool = False) -> None:
        """Bring the connection's stored busy time up to date (see the module docstring);
        ``renew`` forces a channel renewal."""
        if self._store.get_connection(location_id, connection_id) is None:
            return  # deleted (a late notification or message): leave no sync state behind
        owner = uuid.uuid4().hex
        state = self._store.claim_sync(location_id, connection_id, owner, self._clock(), SYNC_LEASE)
        if state is None:
            return  # another sync holds it and will run again (pending)
        while True:
            connection = self._store.get_connection(location_id, connection_id)
            if connection is None:
                self._store.drop_sync_state(location_id, connection_id)
                return
            try:
                cursor, next_due, calendar_id = self._sync_once(connection, state, renew=renew)
            except NotFound:  # deleted while this sync ran (its new channel was stopped)
                self._store.drop_sync_state(location_id, connection_id)
                return
            except (ReauthorizationNeeded, InvalidRequest):  # no tokens / provider not configured
                self._store.finish_sync(
                    location_id,
                    connection_id,
                    owner,
                    calendar_id=state.calendar_id,
                    cursor=state.cursor,
                    synced_at=None,
                    next_due=None,
                )
                return
            except ProviderError as exc:
                self._store.finish_sync(
                    location_id,
                    connection_id,
                    owner,
                    calendar_id=state.calendar_id,
                    cursor=state.cursor,
                    synced_at=None,
                    next_due=self._clock() + RETRY_AFTER_FAILURE,
                )
                metrics.add_metric(name="ProviderSyncFailures", unit=MetricUnit.Count, value=1)
                logger.warning(
                    "provider sync failed",
                    extra={"connection_id": connection_id, "status": exc.status, "retryable": exc.retryable},
                )
                if exc.retryable:
                    raise
                return
            rerun = self._store.finish_sync(
                location_id,
                connection_id,
                owner,
                calendar_id=calendar_id,
                cursor=cursor,
                synced_at=self._clock() if calendar_id else None,
                next_due=next_due,
                lease_until=self._clock() + SYNC_LEASE,
            )
            if not rerun:
                return
            state = self._store.get_sync_state(location_id, connection_id)

    def _sync_once(
        self, connection: Connection, state: SyncState, *, renew: bool = False
    ) -> tuple[str | None, datetime | None, str | None]:
        """One pass: returns ``(cursor, next_due, calendar_id)`` to store."""
        loc, cid = connection.location_id, connection.id
        provider = self._providers.get(connection.provider.value)
        if state.calendar_id != connection.calendar_id or not connection.syncing:
            # Another calendar (or none, or the connection is off): what we knew no longer applies.
            if state.channel is not None:
                self._stop_channel(connection, provider, state.channel)
            if (
                connection.status is not ConnectionStatus.REAUTHORIZATION_REQUIRED
                or state.calendar_id != connection.calendar_id
            ):
                # Own-event marks stay: a push may already have written to the new calendar.
                self._store.clear_busy(loc, cid, keep_own=True)
            state = SyncState()
        if not connection.syncing:
            return None, None, None
        assert connection.calendar_id is not None
        calendar_id = connection.calendar_id

        def run(token: str) -> tuple[str | None, WatchChannel]:
            try:
                page = provider.sync(token, calendar_id, state.cursor)
            except SyncCursorExpired:
                metrics.add_metric(name="ProviderFullResyncs", unit=MetricUnit.Count, value=1)
                page = provider.sync(token, calendar_id, None)
            self._store.apply_busy(loc, cid, page.changes, full=page.full)
            channel = self._ensure_channel(connection, provider, token, state.channel, force=renew)
            return page.cursor, channel

        cursor, channel = self._with_token(connection, provider, run)
        next_due = min(self._clock() + SYNC_EVERY, channel.expires_at - RENEW_BEFORE)
        return cursor, max(next_due, self._clock() + timedelta(minutes=1)), calendar_id

    def _ensure_channel(
        self,
        connection: Connection,
        provider: CalendarProvider,
        token: str,
        channel: WatchChannel | None,
        *,
        force: bool = False,
    ) -> WatchChannel:
        """The connection's channel, renewed or replaced when it expires within RENEW_BEFORE (or
        at once with ``force``). Raises NotFound when the connection was deleted meanwhile
        (a channel opened here is stopped first)."""
        now = self._clock()
        if channel is not None and channel.expires_at - now > RENEW_BEFORE and not force:
            return channel
        loc, cid = connection.location_id, connection.id
        renew = getattr(provider, "renew_watch", None)
        if channel is not None and renew is not None:
            record = self._store.get_channel(channel.channel_id)
            if record is not None:
                try:
                    renewed: WatchChannel = renew(token, channel, ttl_s=int(WATCH_TTL.total_seconds()))
                except ProviderError as exc:
                    if exc.retryable or exc.status not in (404, 410):
                        raise
                else:
                    self._store.save_channel(
                        loc, cid, provider.name, renewed, record.token_hash, replaces=channel
                    )
                    return renewed
        secret = secrets.token_urlsafe(32)
        fresh = provider.watch(
            token,
            connection.calendar_id or "",
            address=f"{self._public_url}/webhooks/{provider.name}",
            token=secret,
            ttl_s=int(WATCH_TTL.total_seconds()),
        )
        try:
            self._store.save_channel(loc, cid, provider.name, fresh, token_digest(secret), replaces=channel)
        except NotFound:
            self._stop_quietly(provider, token, fresh)  # the connection was deleted meanwhile
            raise
        if channel is not None and channel.channel_id != fresh.channel_id:
            self._stop_quietly(provider, token, channel)
        metrics.add_metric(name="ProviderChannelsOpened", unit=MetricUnit.Count, value=1)
        return fresh

    def _stop_channel(
        self, connection: Connection, provider: CalendarProvider, channel: WatchChannel
    ) -> None:
        """Stop the channel at the provider (best effort) and forget it."""
        # No way to reach the provider: the channel expires on its own; we forget it now.
        with contextlib.suppress(ReauthorizationNeeded, ProviderError):
            self._with_token(connection, provider, lambda token: self._stop_quietly(provider, token, channel))
        self._store.drop_channel(connection.location_id, connection.id, channel)

    @staticmethod
    def _stop_quietly(provider: CalendarProvider, token: str, channel: WatchChannel) -> None:
        try:
            provider.stop_watch(token, channel)
        except AccessTokenRejected:
            raise
        except ProviderError as exc:
            logger.info("stopping a provider channel failed; it will expire", extra={"status": exc.status})

    def delete_connection(self, location_id: str, connection_id: str) -> None:
        """Delete a connection: its item, encrypted tokens, sync state and host link in one
        transaction that fails if a sync opened another channel meanwhile (then read again and
        retry), after which the channel it had is stopped at the provider (best effort, with a
        token obtained before the tokens were deleted) and its busy time dropped. A sync still
        running finds the connection gone: its channel write fails and it stops what it opened.
        Raises NotFound, ConcurrentUpdate (after 3 tries)."""
        for _ in range(3):
            connection = self._store.get_connection(location_id, connection_id)
            if connection is None:
                raise NotFound("Calendar connection", connection_id)
            state = self._store.get_sync_state(location_id, connection_id)
            provider = (
                self._providers.get(connection.provider.value)
                if self._providers.configured(connection.provider.value)
                else None
            )
            token: str | None = None
            if state.channel is not None and provider is not None:
                with contextlib.suppress(ReauthorizationNeeded, ProviderError):
                    token = self.tokens(connection, provider).access_token
            try:
                self._store.delete_connection(
                    connection, channel_id=state.channel.channel_id if state.channel else None
                )
            except ConcurrentUpdate:
                continue
            break
        else:
            raise ConcurrentUpdate("The connection kept changing; retry the delete.")
        if state.channel is not None:
            if token is not None and provider is not None:
                with contextlib.suppress(ProviderError):
                    self._stop_quietly(provider, token, state.channel)
            self._store.drop_channel(location_id, connection_id, state.channel)
        self._store.clear_busy(location_id, connection_id)

    # -- tokens -------------------------------------------------------------------------------------

    def _with_token(self, connection: Connection, provider: CalendarProvider, call: Callable[[str], T]) -> T:
        """``call(access_token)``; a refused access token is refreshed once and the call repeated.
        Raises ReauthorizationNeeded when the connection can't get a token."""
        tokens = self.tokens(connection, provider)
        try:
            return call(tokens.access_token)
        except AccessTokenRejected:
            tokens = self._refresh(connection, provider, tokens)
            return call(tokens.access_token)

    def with_token(self, connection: Connection, call: Callable[[str], T]) -> T:
        """Public form of :meth:`_with_token` for the connection service (listing calendars)."""
        return self._with_token(connection, self._providers.get(connection.provider.value), call)

    def tokens(self, connection: Connection, provider: CalendarProvider) -> OAuthTokens:
        """The connection's tokens, refreshed when they expire within a minute."""
        if connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED or self._vault is None:
            raise ReauthorizationNeeded("The calendar connection must be authorised again.")
        blob = self._store.get_secret(connection.location_id, connection.id)
        if blob is None:
            raise ReauthorizationNeeded("The calendar connection must be authorised again.")
        tokens = self._vault.open(connection.location_id, connection.id, blob)
        if tokens.expires_at - self._clock() <= REFRESH_MARGIN:
            tokens = self._refresh(connection, provider, tokens)
        return tokens

    def store_tokens(self, connection: Connection, tokens: OAuthTokens) -> None:
        if self._vault is None:
            raise ReauthorizationNeeded("Token encryption is not configured (TOKEN_KEY_ID).")
        self._store.put_secret(
            connection.location_id,
            connection.id,
            self._vault.seal(connection.location_id, connection.id, tokens),
        )

    def _stored_tokens(self, connection: Connection) -> OAuthTokens | None:
        blob = self._store.get_secret(connection.location_id, connection.id)
        if blob is None or self._vault is None:
            return None
        return self._vault.open(connection.location_id, connection.id, blob)

    def _refresh(
        self, connection: Connection, provider: CalendarProvider, tokens: OAuthTokens
    ) -> OAuthTokens:
        if not tokens.refresh_token:
            self._needs_reauthorization(connection)
        assert tokens.refresh_token is not None
        try:
            fresh = provider.refresh(tokens.refresh_token)
        except ReauthorizationRequired:
            # A consent given since we read the tokens replaced them: use those, don't mark.
            current = self._stored_tokens(connection)
            if current is not None and current.refresh_token not in (None, tokens.refresh_token):
                if current.expires_at - self._clock() > REFRESH_MARGIN:
                    return current
                return self._refresh(connection, provider, current)
            self._needs_reauthorization(connection)
            raise  # unreachable: _needs_reauthorization raises
        if not fresh.refresh_token:  # Google omits it on refresh: keep the one we have
            fresh = replace(fresh, refresh_token=tokens.refresh_token)
        if not fresh.account_email and tokens.account_email:
            fresh = replace(fresh, account_email=tokens.account_email)
        self.store_tokens(connection, fresh)
        return fresh

    def _needs_reauthorization(self, connection: Connection) -> None:
        """Mark the connection (kept, not deleted) and raise ReauthorizationNeeded."""
        for _ in range(3):
            current = self._store.get_connection(connection.location_id, connection.id)
            if current is None or current.status is ConnectionStatus.REAUTHORIZATION_REQUIRED:
                break
            try:
                self._store.put_connection(
                    current.model_copy(
                        update={
                            "status": ConnectionStatus.REAUTHORIZATION_REQUIRED,
                            "updated_at": self._clock(),
                        }
                    ),
                    previous=current,
                )
                break
            except ConcurrentUpdate:
                continue
        metrics.add_metric(name="ProviderReauthorizationsRequired", unit=MetricUnit.Count, value=1)
        logger.warning("calendar connection needs re-authorisation", extra={"connection_id": connection.id})
        raise ReauthorizationNeeded(
            "The provider refused the connection's refresh token; authorise it again."
        )

    # -- bookings out -------------------------------------------------------------------------------

    def push_booking(self, location_id: str, booking_id: str) -> None:
        """Make every provider copy of the booking match its stored state (module docstring)."""
        event = self._store.get_event(location_id, booking_id, consistent=True)
        wanted = set(event.provider_connections) if event is not None and event.occupies_hosts else set()
        copies = {c.connection_id: c for c in self._store.copies_of(location_id, booking_id)}
        for connection_id in sorted(wanted | set(copies)):
            connection = self._store.get_connection(location_id, connection_id)
            copy = copies.get(connection_id)
            live = copy if copy is not None and copy.provider_event_id else None
            if connection is None:
                if copy is not None:
                    self._store.delete_copy(location_id, booking_id, connection_id)
                continue
            try:
                provider = self._providers.get(connection.provider.value)
                keep = connection_id in wanted and connection.syncing
                if keep:
                    assert event is not None
                    self._with_token(
                        connection,
                        provider,
                        lambda t, c=connection, p=provider, cp=copy: self._write_copy(t, c, p, event, cp),
                    )
                elif live is not None:
                    self._with_token(
                        connection,
                        provider,
                        lambda t, c=connection, p=provider, cp=live: self._delete_copy(t, c, p, cp),
                    )
            except (ReauthorizationNeeded, InvalidRequest):
                continue  # no tokens, or the provider is no longer configured: the booking stands
            except ProviderError as exc:
                if exc.retryable:
                    raise  # the message comes back after its backoff
                metrics.add_metric(name="ProviderPushFailures", unit=MetricUnit.Count, value=1)
                logger.warning(
                    "provider refused a booking copy",
                    extra={"connection_id": connection_id, "event_id": booking_id, "status": exc.status},
                )

    def _write_copy(
        self,
        token: str,
        connection: Connection,
        provider: CalendarProvider,
        event: Event,
        copy: ProviderCopy | None,
    ) -> None:
        """Make the booking's copy on the connection's calendar match ``event``: update the live
        copy, or create one (a moved calendar first loses its old copy; a copy deleted at the
        provider is written anew). The create's idempotency key is booking + connection +
        calendar + generation, so a retried create never duplicates and a re-create after a
        delete is a new event."""
        loc = connection.location_id
        draft = _draft(event)
        generation = copy.generation if copy is not None else 0
        if copy is not None and copy.provider_event_id:
            if copy.calendar_id == connection.calendar_id:
                try:
                    provider.update_event(token, copy.calendar_id, copy.provider_event_id, draft)
                    metrics.add_metric(name="ProviderEventsUpdated", unit=MetricUnit.Count, value=1)
                    logger.info(
                        "provider event updated", extra={"event_id": event.id, "connection_id": connection.id}
                    )
                    return
                except ProviderError as exc:
                    if exc.retryable or exc.status not in (404, 410):
                        raise
                    # deleted at the provider for good: write it again as a new event
                    self._store.retire_copy(loc, copy)
                    generation += 1
            else:  # the connection moved to another calendar: leave the old one
                self._delete_copy(token, connection, provider, copy)
                generation += 1
        assert connection.calendar_id is not None
        key = f"slotbook:{event.id}:{connection.id}:{connection.calendar_id}:{generation}"
        event_id = provider.create_event(token, connection.calendar_id, draft, idempotency_key=key)
        self._store.put_copy(
            loc,
            ProviderCopy(
                booking_id=event.id,
                connection_id=connection.id,
                calendar_id=connection.calendar_id,
                provider_event_id=event_id,
                generation=generation,
            ),
        )
        self._store.mark_own(loc, connection.id, event_id, event.id)
        metrics.add_metric(name="ProviderEventsCreated", unit=MetricUnit.Count, value=1)
        logger.info(
            "provider event created",
            extra={"event_id": event.id, "connection_id": connection.id, "provider": provider.name},
        )

    def _delete_copy(
        self, token: str, connection: Connection, provider: CalendarProvider, copy: ProviderCopy
    ) -> None:
        provider.delete_event(token, copy.calendar_id, copy.provider_event_id)
        # The own-event mark stays: a sync that read the event before this delete must still
        # not store it as busy time (marks go with the connection's busy time).
        self._store.retire_copy(connection.location_id, copy)
        metrics.add_metric(name="ProviderEventsDeleted", unit=MetricUnit.Count, value=1)
        logger.info(
            "provider event deleted", extra={"event_id": copy.booking_id, "connection_id": connection.id}
        )


def _draft(event: Event) -> EventDraft:
    description = event.description or ""
    attendees = [event.contact_email] if event.contact_email else []
    return EventDraft(
        title=event.title or "Appointment",
        start=event.start.astimezone(UTC),
        end=event.end.astimezone(UTC),
        description=description,
        location=event.address or "",
        attendees=attendees,
    )


__all__ = ["BusyChange", "InlineSyncQueue", "SqsSyncQueue", "SyncQueue", "SyncService", "token_digest"]
