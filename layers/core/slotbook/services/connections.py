"""Calendar connections and their bookings: the oHallo "Calendar and Bookings" API
(reference/seeds/000, 001), once, for any dialect.

* **Connections** link a Google or Microsoft account to a workspace by OAuth 2.0 authorization
  code with PKCE (RFC 7636, S256) and a KMS-signed, expiring, single-use ``state`` (RFC 6749
  §10.12). Tokens are stored KMS-encrypted (:mod:`slotbook.providers.vault`). Completing an
  authorisation for an account the workspace already has connected (same provider and account
  e-mail), or naming ``connectionId``, re-authorises that connection instead of adding one.
* **Settings** (``bookingConfig``): weekday working hours in an IANA zone, a buffer kept free
  after every booking and provider event, blocked local dates. PATCH changes only what is sent;
  picking, changing or unlinking ``calendarId`` and ``enabled`` schedule a sync, which starts over
  on the new calendar (or drops busy time and the watch channel).
* **Free slots** of a connection: its working hours minus busy time — the host's bookings (every
  Slotbook appointment of the host, GoHighLevel ones included, padded by their buffers) and the
  provider busy time stored by the sync (never read from the provider in the request path) —
  on a grid of ``interval`` minutes from the start of each working span, from ``now`` on.
* **Bookings** are appointments on the connection's host (:attr:`Connection.host_id`), checked
  against the same free time (any whole-minute start that fits) and written with the host-version
  transaction of every booking (invariant 1: never double-booked), then pushed to the provider
  calendar by the sync service.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slotbook.availability import AvailabilityQuery, HostBusy, Mode, SlotSpec, compute_slots, free_hosts_at
from slotbook.domain import (
    WEEKDAY_NAMES,
    AppointmentStatus,
    BookingConfig,
    CalendarProviderName,
    Connection,
    ConnectionStatus,
    Event,
    EventKind,
    WorkingHours,
)
from slotbook.errors import (
    BookingConflict,
    InvalidRequest,
    NotFound,
    ProviderUnavailable,
    SlotUnavailable,
    ValidationFailed,
)
from slotbook.intervals import Interval
from slotbook.observability import MetricUnit, logger, metrics
from slotbook.providers.base import ProviderCalendar, ProviderError, pkce_pair
from slotbook.providers.registry import ProviderRegistry
from slotbook.providers.vault import StateSigner, TokenVault
from slotbook.services.scheduling import (
    MAX_ATTEMPTS,
    MAX_RANGE,
    RETRY_BASE_SECONDS,
    ChangeHook,
    _expand_entries,
)
from slotbook.services.sync import SyncService
from slotbook.store.dynamo import MAX_BUFFER, DynamoStore
from slotbook.timeutil import is_zone, zone

STATE_TTL = timedelta(minutes=10)
"""How long an authorisation may take between initiation and callback."""
DEFAULT_DURATION_MINUTES = 30
MAX_BOOKING = timedelta(hours=24)
MAX_BLOCKED_DATES = 366
MAX_NAME = 200
MAX_CALENDAR_ID = 1024
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


@dataclass
class ConnectionChanges:
    """A PATCH: ``fields`` names what the request sent (``calendar_id`` None in ``fields`` =
    unlink). ``booking_config`` holds the sent sub-fields of ``bookingConfig`` by domain name
    (``working_hours``, ``buffer_minutes``, ``timezone``, ``blocked_dates``); each replaces that
    sub-field of the stored config."""

    fields: frozenset[str]
    display_name: str | None = None
    calendar_id: str | None = None
    booking_config: dict[str, Any] | None = None
    enabled: bool | None = None


@dataclass
class BookingInput:
    """A new booking on a connection. Instants are aware UTC; ``end`` defaults to 30 minutes
    after ``start``."""

    connection_id: str
    start: datetime
    end: datetime | None = None
    title: str | None = None
    contact_id: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    conversation_id: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the user's browser, and until when the authorisation may complete."""

    authorization_url: str
    state: str
    expires_at: datetime


class ConnectionService:
    """Connections, OAuth, connection free slots and bookings (module docstring)."""

    def __init__(
        self,
        store: DynamoStore,
        clock: Callable[[], datetime],
        providers: ProviderRegistry,
        sync: SyncService,
        signer: StateSigner | None,
        public_url: str,
        vault: TokenVault | None = None,
        on_change: ChangeHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._providers = providers
        self._sync = sync
        self._signer = signer
        self._vault = vault
        self._redirect_uri = public_url.rstrip("/") + "/api/calendar-connections/oauth/callback"
        self._on_change = on_change
        self._sleep = sleep

    # -- connections --------------------------------------------------------------------------

    def list_connections(self, location_id: str) -> list[Connection]:
        return self._store.list_connections(location_id)

    def get_connection(self, location_id: str, connection_id: str) -> Connection:
        """Raises NotFound (also for another workspace's id)."""
        connection = self._store.get_connection(location_id, connection_id) if connection_id else None
        if connection is None:
            raise NotFound("Calendar connection", connection_id)
        return connection

    def update_connection(
        self, location_id: str, connection_id: str, changes: ConnectionChanges
    ) -> Connection:
        """Apply a PATCH (only sent fields). Raises NotFound, ValidationFailed naming each bad
        field, ReauthorizationNeeded / ProviderUnavailable when a new ``calendarId`` can't be
        checked against the account, ConcurrentUpdate on a racing PATCH."""
        current = self.get_connection(location_id, connection_id)
        update: dict[str, Any] = {}
        errors: list[str] = []
        if "display_name" in changes.fields:
            name = (changes.display_name or "").strip()
            if not name or len(name) > MAX_NAME:
                errors.append(f"displayName must be 1-{MAX_NAME} characters")
            update["display_name"] = name
        if "enabled" in changes.fields:
            if changes.enabled is None:
                errors.append("enabled must be a boolean")
            update["enabled"] = changes.enabled
        if "booking_config" in changes.fields:
            base = current.booking_config or self._default_config(location_id)
            config, config_errors = _merged_config(base, changes.booking_config or {})
            errors += config_errors
            update["booking_config"] = config
        if "calendar_id" in changes.fields:
            calendar_id = changes.calendar_id
            if calendar_id is not None and not (0 < len(calendar_id) <= MAX_CALENDAR_ID):
                errors.append(f"calendarId must be 1-{MAX_CALENDAR_ID} characters or null")
            update["calendar_id"] = calendar_id
        if errors:
            raise ValidationFailed(errors)
        new_calendar = update.get("calendar_id")
        if new_calendar is not None and new_calendar != current.calendar_id:
            ids = {c.calendar_id for c in self.provider_calendars(location_id, connection_id)}
            if new_calendar not in ids:
                raise ValidationFailed(["calendarId is not a calendar of the connected account"])
        if not update:
            return current
        updated = current.model_copy(update={**update, "updated_at": self._clock()})
        self._store.put_connection(updated, previous=current)
        if updated.calendar_id != current.calendar_id or updated.enabled != current.enabled:
            self._sync.request_sync(location_id, connection_id)
        return updated

    def delete_connection(self, location_id: str, connection_id: str) -> None:
        """Stop the provider channel (best effort), drop busy time, then delete the connection
        and its stored OAuth credentials. Bookings made on it stay (they keep their time)."""
        self._sync.delete_connection(location_id, connection_id)
        logger.info("calendar connection deleted", extra={"connection_id": connection_id})

    def provider_calendars(self, location_id: str, connection_id: str) -> list[ProviderCalendar]:
        """The connected account's calendars (a provider call). Raises NotFound,
        ReauthorizationNeeded (409), ProviderUnavailable (503)."""
        connection = self.get_connection(location_id, connection_id)
        provider = self._providers.get(connection.provider.value)
        try:
            return self._sync.with_token(connection, provider.list_calendars)
        except ProviderError as exc:
            raise ProviderUnavailable(
                f"The {connection.provider.value} calendar API is not answering; retry later."
            ) from exc

    # -- OAuth ----------------------------------------------------------------------------------

    def start_authorization(
        self,
        location_id: str,
        provider: str,
        *,
        connection_id: str | None = None,
        user_id: str | None = None,
        display_name: str | None = None,
    ) -> AuthorizationStart:
        """Begin an authorisation: a PKCE pair (verifier kept server-side, KMS-encrypted, single
        use), a signed state expiring in :data:`STATE_TTL`, and the provider's consent URL.
        Raises InvalidRequest
        (unknown/unconfigured provider, no signing key), NotFound (``connection_id``), ValidationFailed."""
        client = self._providers.get(provider)
        if self._signer is None or self._vault is None:
            raise InvalidRequest(
                "Calendar connections are not configured here (OAUTH_STATE_KEY_ID, TOKEN_KEY_ID)."
            )
        errors = []
        if user_id is not None and not (0 < len(user_id) <= 128):
            errors.append("userId must be 1-128 characters")
        if display_name is not None and not (0 < len(display_name.strip()) <= MAX_NAME):
            errors.append(f"displayName must be 1-{MAX_NAME} characters")
        if errors:
            raise ValidationFailed(errors)
        if connection_id is not None:
            existing = self.get_connection(location_id, connection_id)
            if existing.provider.value != provider:
                raise InvalidRequest(f"Connection {connection_id} is a {existing.provider.value} connection")
        now = self._clock()
        expires = now + STATE_TTL
        verifier, challenge = pkce_pair()
        nonce = uuid.uuid4().hex
        self._store.put_oauth_state(
            nonce,
            {
                "verifier": self._vault.seal_text(verifier, {"slotbook:oauth": nonce}),
                "locationId": location_id,
                "provider": provider,
                "connectionId": connection_id or "",
                "userId": user_id or "",
                "displayName": (display_name or "").strip(),
            },
            expires,
        )
        state = self._signer.sign({"n": nonce, "w": location_id, "p": provider}, expires)
        url = client.authorization_url(state=state, code_challenge=challenge, redirect_uri=self._redirect_uri)
        return AuthorizationStart(authorization_url=url, state=state, expires_at=expires)

    def complete_authorization(self, *, state: str, code: str | None, error: str | None) -> Connection:
        """The provider's redirect: verify the state (signature, expiry, first use), exchange the
        code with the PKCE verifier, store the tokens encrypted, and create or re-authorise the
        connection. Raises InvalidRequest for a bad, expired or reused state, a denied consent or
        a refused code; ProviderUnavailable when the provider keeps failing."""
        if self._signer is None or self._vault is None:
            raise InvalidRequest("Calendar connections are not configured on this deployment.")
        if not state:
            raise InvalidRequest("state is required")
        payload = self._signer.verify(state, self._clock())
        pending = self._store.take_oauth_state(str(payload.get("n", "")))
        if pending is None or pending.get("locationId") != payload.get("w"):
            raise InvalidRequest(
                "The OAuth state was already used or is unknown; start the authorisation again."
            )
        if error:
            raise InvalidRequest(f"The authorisation was not granted ({error[:100]}).")
        if not code:
            raise InvalidRequest("code is required")
        location_id, provider_name = pending["locationId"], pending["provider"]
        provider = self._providers.get(provider_name)
        try:
            tokens = provider.exchange_code(
                code=code,
                code_verifier=self._vault.open_text(
                    pending["verifier"], {"slotbook:oauth": str(payload["n"])}
                ),
                redirect_uri=self._redirect_uri,
            )
        except ProviderError as exc:
            if exc.retryable:
                raise ProviderUnavailable(
                    "The provider is not answering; start the authorisation again."
                ) from exc
            raise InvalidRequest("The provider refused the authorisation code.") from exc
        now = self._clock()
        connection = self._reauthorised(
            location_id, provider_name, pending.get("connectionId") or None, tokens.account_email
        )
        if (
            connection is not None
            and connection.account_email
            and tokens.account_email
            and connection.account_email.lower() != tokens.account_email.lower()
        ):
            # Its calendar, cursor and channel belong to the other account: not this connection.
            raise InvalidRequest(
                f"The connection belongs to {connection.account_email}; the consent was given as "
                f"{tokens.account_email}. Connect that account as a new connection."
            )
        if connection is not None:
            updated = connection.model_copy(
                update={
                    "status": ConnectionStatus.ACTIVE,
                    "account_email": tokens.account_email or connection.account_email,
                    "updated_at": now,
                }
            )
            self._sync.store_tokens(updated, tokens)
            self._store.put_connection(updated, previous=connection)
            if updated.syncing:
                self._sync.request_sync(location_id, updated.id)
            metrics.add_metric(name="ConnectionsReauthorised", unit=MetricUnit.Count, value=1)
            return updated
        label = "Google Calendar" if provider_name == "google" else "Outlook Calendar"
        created = Connection(
            id=str(uuid.uuid4()),
            location_id=location_id,
            provider=CalendarProviderName(provider_name),
            display_name=pending.get("displayName") or tokens.account_email or label,
            calendar_id=None,
            enabled=True,
            booking_config=self._default_config(location_id),
            user_id=pending.get("userId") or None,
            account_email=tokens.account_email,
            status=ConnectionStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        self._store.put_connection(created)
        self._sync.store_tokens(created, tokens)
        metrics.add_metric(name="ConnectionsCreated", unit=MetricUnit.Count, value=1)
        logger.info(
            "calendar connection created", extra={"connection_id": created.id, "provider": provider_name}
        )
        return created

    def _reauthorised(
        self, location_id: str, provider: str, connection_id: str | None, account: str | None
    ) -> Connection | None:
        if connection_id:
            return self._store.get_connection(location_id, connection_id)
        if not account:
            return None
        for existing in self._store.list_connections(location_id):
            if existing.provider.value == provider and existing.account_email == account:
                return existing
        return None

    def _config(self, connection: Connection) -> BookingConfig:
        return connection.booking_config or self._default_config(connection.location_id)

    def _default_config(self, location_id: str) -> BookingConfig:
        location = self._store.get_location(location_id)
        hours = {day: WorkingHours(start="09:00", end="17:00") for day in WEEKDAY_NAMES[:5]}
        return BookingConfig(
            working_hours=hours, buffer_minutes=0, timezone=location.timezone if location else "UTC"
        )

    # -- free slots -----------------------------------------------------------------------------

    def slot_zone(self, connection: Connection) -> ZoneInfo:
        """The zone a connection's working hours, blocked dates and free-slot dates are read in:
        its ``bookingConfig.timezone`` (the workspace's for a connection without a config)."""
        return zone(self._config(connection).timezone)

    def free_slots(
        self,
        connection: Connection,
        start: datetime,
        end: datetime,
        duration_minutes: int = DEFAULT_DURATION_MINUTES,
        interval_minutes: int | None = None,
    ) -> list[tuple[datetime, datetime]]:
        """Offered ``(start, end)`` pairs (aware UTC) with starts in ``[start, end]`` for a
        connection read with :meth:`get_connection`. Raises InvalidRequest (end before start,
        range over 31 days, duration/interval outside 5-1440 minutes)."""
        if end < start:
            raise InvalidRequest("endDate must not be before startDate")
        if end - start > MAX_RANGE:
            raise InvalidRequest("Date range cannot be more than 31 days")
        interval_minutes = interval_minutes or duration_minutes
        for name, value in (("duration", duration_minutes), ("interval", interval_minutes)):
            if not 5 <= value <= 1440:
                raise InvalidRequest(f"{name} must be between 5 and 1440 minutes")
        if not connection.enabled:
            return []
        duration = duration_minutes * 60
        query, _, _ = self._query(
            connection, self._config(connection), start, end, duration, interval_minutes * 60, exclude=None
        )
        step = timedelta(seconds=duration)
        return [(instant, instant + step) for instant in map(_utc, compute_slots(query))]

    def _query(
        self,
        connection: Connection,
        config: BookingConfig,
        start: datetime,
        end: datetime,
        duration: int,
        interval: int,
        exclude: str | None,
    ) -> tuple[AvailabilityQuery, dict[str, int], list[str]]:
        """The engine query for a connection (one host), the host version read *before* busy
        time (the booking transaction's lock) and the connections a booking is written to.
        Reads: one BatchGetItem (version, recurring series, linked connections), one Query of
        the host's timeline, one Query per connection's busy days."""
        loc, host = connection.location_id, connection.host_id
        buffer = config.buffer_minutes * 60
        locks = self._store.read_locks(loc, [host], [])
        lo = start - timedelta(seconds=buffer) - MAX_BUFFER
        hi = end + timedelta(seconds=duration + buffer) + MAX_BUFFER
        busy: list[Interval] = []
        series = _expand_entries(locks.host_series, lo, hi).get(host, [])
        for entry in [*self._store.host_busy(loc, host, lo, hi), *series]:
            if entry.busy and entry.event_id != exclude:
                busy.append((entry.start - entry.buffer_before, entry.end + entry.buffer_after))
        linked = sorted({connection.id, *locks.host_connections.get(host, [])})
        for cid in linked:
            busy.extend((s, e + buffer) for s, e in self._store.connection_busy(loc, cid, lo, hi))
        query = AvailabilityQuery(
            open_hours=config.open_hours(),
            slot=SlotSpec(duration=duration, interval=interval, post_buffer=buffer),
            hosts=[HostBusy(host_id=host, busy=busy)],
            mode=Mode.SINGLE,
            window_start=int(start.timestamp()),
            window_end=int(end.timestamp()),
            earliest=int(self._clock().timestamp()),
        )
        return query, {host: locks.host_versions.get(host, 0)}, linked

    # -- bookings -----------------------------------------------------------------------------------

    def list_bookings(self, location_id: str, connection_id: str) -> list[Event]:
        """Every booking made on the connection (cancelled ones included), by start."""
        self.get_connection(location_id, connection_id)
        return sorted(
            self._store.connection_bookings(location_id, connection_id), key=lambda e: (e.start, e.id)
        )

    def get_booking(self, location_id: str, booking_id: str) -> Event:
        event = self._store.get_event(location_id, booking_id, consistent=True) if booking_id else None
        if event is None or event.connection_id is None or event.kind is not EventKind.APPOINTMENT:
            raise NotFound("Booking", booking_id)
        return event

    def create_booking(self, location_id: str, data: BookingInput) -> Event:
        """Book ``[start, end)`` on the connection. Raises NotFound, ValidationFailed,
        SlotUnavailable (not free: outside working hours, blocked date, busy, in the past, the
        connection disabled) or BookingConflict (lost every retry)."""
        end = data.end or data.start + timedelta(minutes=DEFAULT_DURATION_MINUTES)
        _check_booking(data.start, end, data.timezone)

        def attempt() -> Event:
            connection = self.get_connection(location_id, data.connection_id)
            if not connection.enabled:
                raise SlotUnavailable("The calendar connection is disabled; it takes no bookings.")
            config = self._config(connection)
            versions, linked = self._check_free(connection, config, data.start, end, exclude=None)
            now = self._clock()
            event = Event(
                id=str(uuid.uuid4()),
                location_id=location_id,
                kind=EventKind.APPOINTMENT,
                connection_id=connection.id,
                assigned_user_id=connection.user_id,
                hosts=[connection.host_id],
                contact_id=data.contact_id,
                contact_name=data.contact_name,
                contact_email=data.contact_email,
                conversation_id=data.conversation_id,
                title=data.title or "Booking",
                status=AppointmentStatus.CONFIRMED,
                start=data.start,
                end=end,
                buffer_after=config.buffer_minutes * 60,
                timezone=data.timezone or config.timezone,
                provider_connections=linked,
                created_at=now,
                updated_at=now,
            )
            self._store.save_booking(event, versions, None, now=now)
            return event

        event = self._retrying(attempt)
        metrics.add_metric(name="ConnectionBookingsCreated", unit=MetricUnit.Count, value=1)
        self._changed(None, event)
        return event

    def reschedule_booking(
        self, location_id: str, booking_id: str, start: datetime, end: datetime | None
    ) -> Event:
        """Move a booking (it doesn't count against itself). Raises NotFound, InvalidRequest (a
        cancelled booking), SlotUnavailable, BookingConflict."""
        holder: list[Event] = []

        def attempt() -> Event:
            previous = self.get_booking(location_id, booking_id)
            if previous.status is AppointmentStatus.CANCELLED:
                raise InvalidRequest("A cancelled booking cannot be rescheduled.")
            new_end = end or start + (previous.end - previous.start)
            _check_booking(start, new_end, None)
            connection = self.get_connection(location_id, previous.connection_id or "")
            config = self._config(connection)
            versions, linked = self._check_free(connection, config, start, new_end, exclude=previous.id)
            now = self._clock()
            event = previous.model_copy(
                update={
                    "start": start,
                    "end": new_end,
                    "buffer_after": config.buffer_minutes * 60,
                    "provider_connections": sorted(set(linked) | set(previous.provider_connections)),
                    "updated_at": now,
                }
            )
            self._store.save_booking(event, versions, previous, now=now)
            holder[:] = [previous]
            return event

        event = self._retrying(attempt)
        self._changed(holder[0], event)
        return event

    def cancel_booking(self, location_id: str, booking_id: str) -> Event:
        """Cancel a booking (its time is free at once; cancelling again changes nothing)."""
        previous = self.get_booking(location_id, booking_id)
        if previous.status is AppointmentStatus.CANCELLED:
            return previous
        event = previous.model_copy(
            update={"status": AppointmentStatus.CANCELLED, "updated_at": self._clock()}
        )
        self._store.save_event(event, previous)
        self._changed(previous, event)
        return event

    def _check_free(
        self,
        connection: Connection,
        config: BookingConfig,
        start: datetime,
        end: datetime,
        exclude: str | None,
    ) -> tuple[dict[str, int], list[str]]:
        """Raise SlotUnavailable unless ``[start, end)`` is free for the connection; return the
        host version read before busy time and the connections the booking is written to."""
        duration = int((end - start).total_seconds())
        query, versions, linked = self._query(connection, config, start, start, duration, 60, exclude=exclude)
        if not free_hosts_at(query, int(start.timestamp())):
            raise SlotUnavailable("The requested time is not available on this calendar connection.")
        return versions, linked

    def _retrying(self, attempt: Callable[[], Event]) -> Event:
        for n in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except BookingConflict:
                metrics.add_metric(name="BookingConflicts", unit=MetricUnit.Count, value=1)
                if n + 1 < MAX_ATTEMPTS:
                    self._sleep(random.uniform(0, RETRY_BASE_SECONDS * 2**n))
        raise BookingConflict("The time was taken by a concurrent booking; please pick another.")

    def _changed(self, before: Event | None, after: Event | None) -> None:
        if self._on_change is not None:
            self._on_change(before, after)


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _check_booking(start: datetime, end: datetime, timezone: str | None) -> None:
    errors = []
    if start.second or start.microsecond:
        errors.append("startTime must be on a whole minute")
    if end.second or end.microsecond:
        errors.append("endTime must be on a whole minute")
    if end <= start:
        errors.append("endTime must be after startTime")
    elif end - start > MAX_BOOKING:
        errors.append("a booking lasts at most 24 hours")
    if timezone is not None and not is_zone(timezone):
        errors.append("timezone must be a valid IANA time zone")
    if errors:
        raise ValidationFailed(list(dict.fromkeys(errors)))


def _merged_config(base: BookingConfig, sent: dict[str, Any]) -> tuple[BookingConfig, list[str]]:
    """``base`` with the sent sub-fields replaced, and the errors naming each bad field."""
    errors: list[str] = []
    values = base.model_dump()
    if "working_hours" in sent:
        hours = sent["working_hours"]
        checked: dict[str, WorkingHours] = {}
        if not isinstance(hours, dict):
            errors.append("bookingConfig.workingHours must be an object")
        else:
            for day, span in hours.items():
                field = f"bookingConfig.workingHours.{day}"
                if day not in WEEKDAY_NAMES:
                    errors.append(f"{field} is not a weekday name ({', '.join(WEEKDAY_NAMES)})")
                    continue
                span = span if isinstance(span, WorkingHours) else _hours(span)
                if (
                    span is None
                    or not _HHMM.match(span.start)
                    or not _HHMM.match(span.end)
                    or span.start == "24:00"
                ):
                    errors.append(f"{field} start and end must be HH:mm")
                elif span.start >= span.end:
                    errors.append(f"{field}.start must be before end")
                else:
                    checked[day] = span
        values["working_hours"] = checked
    if "buffer_minutes" in sent:
        buffer = sent["buffer_minutes"]
        if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 0:
            errors.append("bookingConfig.bufferMinutes must be an integer >= 0")
        elif buffer > 1440:
            errors.append("bookingConfig.bufferMinutes must be at most 1440")
        values["buffer_minutes"] = buffer
    if "timezone" in sent:
        tz = sent["timezone"]
        if not isinstance(tz, str) or not is_zone(tz):
            errors.append("bookingConfig.timezone must be a valid IANA time zone")
        values["timezone"] = tz
    if "blocked_dates" in sent:
        dates = sent["blocked_dates"]
        parsed: list[date] = []
        if not isinstance(dates, list) or len(dates) > MAX_BLOCKED_DATES:
            errors.append(f"bookingConfig.blockedDates must be a list of at most {MAX_BLOCKED_DATES} dates")
        else:
            for i, value in enumerate(dates):
                day = value if isinstance(value, date) else _date(value)
                if day is None:
                    errors.append(f"bookingConfig.blockedDates[{i}] must be a YYYY-MM-DD date")
                else:
                    parsed.append(day)
        values["blocked_dates"] = sorted(set(parsed))
    if errors:
        return base, errors
    return BookingConfig.model_validate(values), []


def _hours(span: Any) -> WorkingHours | None:
    if isinstance(span, dict) and isinstance(span.get("start"), str) and isinstance(span.get("end"), str):
        return WorkingHours(start=span["start"], end=span["end"])
    return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
