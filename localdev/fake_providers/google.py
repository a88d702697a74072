"""A local fake of the Google endpoints Slotbook uses, for tests and ``make dev``.

A threaded :mod:`http.server` on ``127.0.0.1`` (a free port unless one is given) that answers,
faithfully for the subset :mod:`slotbook.providers.google` calls:

- ``GET|POST /o/oauth2/v2/auth`` — the consent screen (an HTML page with an account field and
  *Allow*/*Deny*, redirecting to ``redirect_uri`` with ``code``+``state`` or ``error=access_denied``);
  tests call :meth:`FakeGoogle.consent` instead.
- ``POST /token`` — ``authorization_code`` (client secret, registered ``redirect_uri``, single-use
  codes valid 10 minutes, PKCE ``code_verifier`` checked against the ``code_challenge``, S256 or
  plain) and ``refresh_token`` grants; ``invalid_grant`` for anything used, expired, revoked or
  mismatched; an ``id_token`` (unsigned, ``alg: none``) with the account's ``email`` when ``openid``
  was granted.
- ``/calendar/v3``: ``GET users/me/calendarList``; ``GET calendars/{id}/events`` with
  ``maxResults``/``pageToken`` paging (a consistent snapshot per query), ``timeMin``/``timeMax``,
  ``showDeleted``, and ``syncToken`` incremental sync that returns every change since the token,
  deletions included (``status: cancelled``), 410 ``fullSyncRequired`` for a token expired through
  the control API, 400 when ``syncToken`` is combined with ``timeMin``/``timeMax``/``updatedMin``/
  ``orderBy``/``q``; ``GET|PATCH|DELETE calendars/{id}/events/{eventId}`` (delete of a deleted
  event: 410 ``deleted``); ``POST calendars/{id}/events`` (client ids must be base32hex, 5-1024
  characters; a taken id: 409 ``duplicate``); ``POST calendars/{id}/events/watch`` and
  ``POST channels/stop``. Bearer tokens are checked (401 when unknown or expired) and so are the
  granted scopes (403 ``insufficientPermissions``).
- Push: a channel gets a ``sync`` message (number 1) right after ``events.watch``, then an
  ``exists`` message on every change of the calendar's events, POSTed with the ``X-Goog-Channel-ID``,
  ``-Token``, ``-Expiration``, ``X-Goog-Resource-ID``, ``-URI``, ``-State`` and
  ``X-Goog-Message-Number`` headers by a background sender, until the channel is stopped or expires.

Deliberate differences from Google (documented so nobody relies on them): ``http://`` webhook
addresses are accepted (Google requires HTTPS with a valid certificate); recurring events are not
expanded (``singleEvents`` is accepted, every event is single); notifications are not retried;
a channel's expiration is capped at 30 days and defaults to 7 days.

The control API (plain methods, thread-safe) adds accounts, calendars and provider-side events,
moves and deletes them, expires sync tokens and channels, revokes refresh tokens, injects faults
(429 with ``Retry-After``, 403 ``rateLimitExceeded``, 5xx, stalls) and lets tests inspect events,
channels, requests and deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

CALENDAR = "https://www.googleapis.com/auth/calendar"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
CALENDAR_EVENTS_READONLY = "https://www.googleapis.com/auth/calendar.events.readonly"
CALENDARLIST = "https://www.googleapis.com/auth/calendar.calendarlist"
CALENDARLIST_READONLY = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
KNOWN_SCOPES = frozenset(
    {
        "openid",
        "email",
        "profile",
        CALENDAR,
        CALENDAR_READONLY,
        CALENDAR_EVENTS,
        CALENDAR_EVENTS_READONLY,
        CALENDARLIST,
        CALENDARLIST_READONLY,
    }
)
_LIST_CALENDARS = frozenset({CALENDAR, CALENDAR_READONLY, CALENDARLIST, CALENDARLIST_READONLY})
_READ_EVENTS = frozenset({CALENDAR, CALENDAR_READONLY, CALENDAR_EVENTS, CALENDAR_EVENTS_READONLY})
_WRITE_EVENTS = frozenset({CALENDAR, CALENDAR_EVENTS})
_ANY_CALENDAR = _LIST_CALENDARS | _READ_EVENTS

CODE_TTL = timedelta(minutes=10)
DEFAULT_CHANNEL_TTL = timedelta(days=7)
MAX_CHANNEL_TTL = timedelta(days=30)
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
_SYNC_INCOMPATIBLE = ("timeMin", "timeMax", "updatedMin", "orderBy", "q", "iCalUID")


class ConsentError(Exception):
    """:meth:`FakeGoogle.consent` refused the authorization request the way Google's consent
    screen would (``error`` is Google's code: ``invalid_client``, ``redirect_uri_mismatch``...)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class _Calendar:
    calendar_id: str
    owner: str
    summary: str
    time_zone: str
    primary: bool
    access_role: str = "owner"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    """id → Google event resource plus the private ``_seq`` (the change number of its last write)."""


@dataclass
class _Code:
    client_id: str
    account: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str
    expires_at: datetime
    used: bool = False


@dataclass
class _Grant:
    client_id: str
    account: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None
    revoked: bool = False


@dataclass
class _Channel:
    channel_id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    account: str
    address: str
    token: str | None
    expires_at: datetime
    active: bool = True
    message_number: int = 0


@dataclass(frozen=True)
class Delivery:
    """One push notification the fake sent (``status`` None when the receiver was unreachable)."""

    channel_id: str
    state: str
    message_number: int
    headers: dict[str, str]
    status: int | None


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake answered (no headers, so no tokens)."""

    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class _Fault:
    remaining: int
    status: int
    retry_after: str | None
    reason: str | None
    path: str | None
    stall_s: float = 0.0


class FakeGoogle:
    """The fake server and its control API. Use as a context manager or ``start()``/``stop()``.

    ``clock`` (default: the wall clock) dates codes, tokens, channels and events; tests pass a
    settable one to expire access tokens and channels without waiting. ``redirect_uris`` are the
    OAuth client's registered redirect URIs (``allow_redirect_uri`` adds more)."""

    def __init__(
        self,
        *,
        client_id: str = "fake-google-client.apps.googleusercontent.com",
        client_secret: str = "fake-google-secret",
        redirect_uris: tuple[str, ...] = (),
        clock: Callable[[], datetime] | None = None,
        access_token_ttl_s: int = 3599,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._redirect_uris = set(redirect_uris)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._access_ttl = timedelta(seconds=access_token_ttl_s)
        self._lock = threading.RLock()
        self._accounts: dict[str, list[str]] = {}
        self._calendars: dict[str, _Calendar] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._sync_tokens: dict[str, tuple[str, int, bool]] = {}  # token → (calendar, seq, expired)
        self._pages: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, _Channel] = {}
        self._faults: list[_Fault] = []
        self._seq = itertools.count(1)
        self._last_seq = 0
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self._delivered = threading.Condition(self._lock)
        self._outbox: queue.Queue[tuple[_Channel, str, int] | None] = queue.Queue()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def auth_url(self) -> str:
        """Stands for ``https://accounts.google.com/o/oauth2/v2/auth``."""
        return self.base_url + "/o/oauth2/v2/auth"

    @property
    def token_url(self) -> str:
        """Stands for ``https://oauth2.googleapis.com/token``."""
        return self.base_url + "/token"

    @property
    def api_url(self) -> str:
        """Stands for ``https://www.googleapis.com/calendar/v3``."""
        return self.base_url + "/calendar/v3"

    def start(self) -> FakeGoogle:
        """Serve in background threads; returns self."""
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="fake-google-http", daemon=True
            ),
            threading.Thread(target=self._send_notifications, name="fake-google-push", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and sending; idempotent."""
        if self._threads:
            self._outbox.put(None)
            self._server.shutdown()
            for thread in self._threads:
                thread.join(timeout=5)
            self._threads = []
        self._server.server_close()

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------- control API

    def allow_redirect_uri(self, uri: str) -> None:
        """Register one more redirect URI on the OAuth client."""
        with self._lock:
            self._redirect_uris.add(uri)

    def add_account(self, email: str, *, time_zone: str = "UTC", name: str | None = None) -> str:
        """A Google account with its primary calendar (whose id is the e-mail address, as at
        Google). Returns the primary calendar id. Adding an existing account changes nothing."""
        with self._lock:
            if email not in self._accounts:
                self._accounts[email] = []
                self.add_calendar(email, email, summary=name or email, time_zone=time_zone, primary=True)
            return email

    def add_calendar(
        self,
        account: str,
        calendar_id: str,
        *,
        summary: str,
        time_zone: str = "UTC",
        primary: bool = False,
        access_role: str = "owner",
    ) -> str:
        """Another calendar in ``account``'s calendar list (``access_role``: owner, writer, reader,
        freeBusyReader). Returns its id."""
        with self._lock:
            ZoneInfo(time_zone)  # fail fast on a bad zone
            self._accounts.setdefault(account, [])
            self._calendars[calendar_id] = _Calendar(
                calendar_id, account, summary, time_zone, primary, access_role=access_role
            )
            self._accounts[account].append(calendar_id)
            return calendar_id

    def add_event(
        self,
        calendar_id: str,
        *,
        start: datetime | date,
        end: datetime | date,
        summary: str = "Busy",
        transparency: str | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> str:
        """A provider-side event (as if the user created it in Google Calendar). Datetimes make a
        timed event (stored in UTC), dates an all-day one (``end`` exclusive). ``extra``: any
        other Google event fields (``attendees``, ``eventType``, ``status``...). Returns its id."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            event_id = event_id or secrets.token_hex(13)  # hex digits are base32hex too
            body: dict[str, Any] = {"summary": summary, "start": _when(start), "end": _when(end), **extra}
            if transparency:
                body["transparency"] = transparency
            self._store_new_event(calendar, event_id, body)
            return event_id

    def move_event(
        self, calendar_id: str, event_id: str, *, start: datetime | date, end: datetime | date
    ) -> None:
        """Reschedule a provider-side event."""
        self.update_event(calendar_id, event_id, start=_when(start), end=_when(end))

    def update_event(self, calendar_id: str, event_id: str, **fields: Any) -> None:
        """Overwrite top-level Google fields of an event (e.g. ``transparency="transparent"``)."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            event = calendar.events[event_id]
            event.update(fields)
            self._touch(calendar, event)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete a provider-side event (kept as a ``cancelled`` tombstone for incremental sync)."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            event = calendar.events[event_id]
            event["status"] = "cancelled"
            self._touch(calendar, event)

    def events(self, calendar_id: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The calendar's events as Google resources (copies), oldest write first."""
        with self._lock:
            items = sorted(self._calendars[calendar_id].events.values(), key=lambda e: e["_seq"])
            return [_public(e) for e in items if include_deleted or e.get("status") != "cancelled"]

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """One event (a copy), deleted ones included; None if it never existed."""
        with self._lock:
            event = self._calendars[calendar_id].events.get(event_id)
            return _public(event) if event else None

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Every sync token issued so far (for one calendar or all) now answers 410."""
        with self._lock:
            for token, (cal, seq, _expired) in list(self._sync_tokens.items()):
                if calendar_id is None or cal == calendar_id:
                    self._sync_tokens[token] = (cal, seq, True)

    def expire_channel(self, channel_id: str) -> None:
        """The channel expires now: no more notifications; ``channels.stop`` answers 404."""
        with self._lock:
            self._channels[channel_id].active = False

    def channels(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """Live channels: id, resourceId, calendar, address, token, expiration."""
        with self._lock:
            self._expire_channels()
            return [
                {
                    "id": c.channel_id,
                    "resourceId": c.resource_id,
                    "calendarId": c.calendar_id,
                    "address": c.address,
                    "token": c.token,
                    "expiration": c.expires_at,
                }
                for c in self._channels.values()
                if c.active and (calendar_id is None or c.calendar_id == calendar_id)
            ]

    def revoke_refresh_tokens(self, account: str | None = None) -> None:
        """The user revoked access (or Google expired the grant): refresh tokens of ``account``
        (or all) answer ``invalid_grant``; their access tokens stop working too."""
        with self._lock:
            for grant in (*self._refresh.values(), *self._access.values()):
                if account is None or grant.account == account:
                    grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = self._clock() - timedelta(seconds=1)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: str | None = None,
        reason: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``count`` requests (whose path contains ``path``, if given) answer ``status``
        with Google's error body (``reason`` default: ``rateLimitExceeded`` for 429/403,
        ``backendError`` otherwise) and ``Retry-After: retry_after`` when given."""
        with self._lock:
            self._faults.append(_Fault(count, status, retry_after, reason, path))

    def stall_next(self, count: int = 1, *, seconds: float, path: str | None = None) -> None:
        """The next ``count`` requests wait ``seconds`` before being processed normally (a client
        with a shorter timeout gives up; the request still takes effect, like a slow server)."""
        with self._lock:
            self._faults.append(_Fault(count, 0, None, None, path, stall_s=seconds))

    def wait_for_deliveries(self, count: int, *, timeout: float = 5.0) -> list[Delivery]:
        """Block until at least ``count`` notifications were sent; returns them all."""
        deadline = time.monotonic() + timeout
        with self._delivered:
            while len(self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.deliveries)} of {count} notifications sent")
                self._delivered.wait(left)
            return list(self.deliveries)

    def consent(self, authorization_url: str, *, account: str, allow: bool = True) -> str:
        """What the consent screen does when ``account`` clicks Allow (or Deny): validates the
        authorization request like Google (unknown client / unregistered redirect URI / bad scope
        raise :class:`ConsentError`, no redirect) and returns the redirect URL with ``code`` and
        ``state`` (or ``error=access_denied``). Creates the account if it does not exist."""
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorization_url).query))
        return self._grant_consent(params, account=account, allow=allow)

    # ------------------------------------------------------------- internals

    def _now(self) -> datetime:
        return self._clock()

    def _next_seq(self) -> int:
        self._last_seq = next(self._seq)
        return self._last_seq

    def _store_new_event(self, calendar: _Calendar, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        now = _rfc3339(self._now())
        event = {
            "kind": "calendar#event",
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"{self.base_url}/calendar/event?eid={event_id}",
            "created": now,
            "creator": {"email": calendar.owner, "self": True},
            "organizer": {"email": calendar.calendar_id, "self": True},
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "eventType": "default",
            "reminders": {"useDefault": True},
            **body,
        }
        calendar.events[event_id] = event
        self._touch(calendar, event)
        return event

    def _touch(self, calendar: _Calendar, event: dict[str, Any]) -> None:
        event["_seq"] = self._next_seq()
        event["updated"] = _rfc3339(self._now())
        event["etag"] = f'"{event["_seq"]}"'
        self._notify(calendar.calendar_id)

    def _notify(self, calendar_id: str) -> None:
        self._expire_channels()
        for channel in self._channels.values():
            if channel.active and channel.calendar_id == calendar_id:
                self._enqueue(channel, "exists")

    def _enqueue(self, channel: _Channel, state: str) -> None:
        channel.message_number += 1
        self._outbox.put((channel, state, channel.message_number))

    def _expire_channels(self) -> None:
        now = self._now()
        for channel in self._channels.values():
            if channel.active and channel.expires_at <= now:
                channel.active = False

    def _send_notifications(self) -> None:
        while (item := self._outbox.get()) is not None:
            channel, state, number = item
            with self._lock:
                self._expire_channels()
                if not channel.active:
                    continue
            headers = {
                "X-Goog-Channel-ID": channel.channel_id,
                "X-Goog-Channel-Expiration": format_datetime(channel.expires_at, usegmt=True),
                "X-Goog-Resource-ID": channel.resource_id,
                "X-Goog-Resource-URI": channel.resource_uri,
                "X-Goog-Resource-State": state,
                "X-Goog-Message-Number": str(number),
            }
            if channel.token is not None:
                headers["X-Goog-Channel-Token"] = channel.token
            request = urllib.request.Request(
                channel.address, data=b"", headers={**headers, "Content-Length": "0"}, method="POST"
            )
            status: int | None
            try:
                with _DIRECT.open(request, timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as err:
                status = err.code
            except (urllib.error.URLError, OSError):
                status = None
            with self._delivered:
                self.deliveries.append(Delivery(channel.channel_id, state, number, headers, status))
                self._delivered.notify_all()

    # ----------------------------------------------------- OAuth internals

    def _check_authorization_request(self, params: dict[str, str]) -> tuple[str, tuple[str, ...]]:
        """Validate like Google's authorization endpoint; returns (redirect_uri, scopes). Errors
        that make the redirect URI untrustworthy raise :class:`ConsentError` (Google shows an error
        page); the others raise ``_RedirectError`` (reported to the client by redirect)."""
        if params.get("client_id") != self.client_id:
            raise ConsentError("invalid_client")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self._redirect_uris:
            raise ConsentError("redirect_uri_mismatch")
        scopes = tuple(params.get("scope", "").split())
        if params.get("response_type") != "code":
            raise _RedirectError(redirect_uri, "unsupported_response_type", params.get("state"))
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            raise _RedirectError(redirect_uri, "invalid_scope", params.get("state"))
        method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else "")
        if method not in ("", "plain", "S256"):
            raise _RedirectError(redirect_uri, "invalid_request", params.get("state"))
        return redirect_uri, scopes

    def _grant_consent(self, params: dict[str, str], *, account: str, allow: bool) -> str:
        with self._lock:
            try:
                redirect_uri, scopes = self._check_authorization_request(params)
            except _RedirectError as err:
                return err.url()
            state = params.get("state")
            if not allow:
                return _RedirectError(redirect_uri, "access_denied", state).url()
            self.add_account(account)
            code = "4/0" + secrets.token_urlsafe(24)
            challenge = params.get("code_challenge")
            self._codes[code] = _Code(
                client_id=self.client_id,
                account=account,
                redirect_uri=redirect_uri,
                scopes=scopes,
                challenge=challenge,
                method=params.get("code_challenge_method", "plain") if challenge else "",
                expires_at=self._now() + CODE_TTL,
            )
            query = {"code": code, "scope": " ".join(scopes)}
            if state is not None:
                query = {"state": state, **query}
            return _append_query(redirect_uri, query)

    def _token(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
        client_id = form.get("client_id") or (basic[0] if basic else "")
        secret = form.get("client_secret") or (basic[1] if basic else "")
        if client_id != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}
        if not secrets.compare_digest(secret.encode(), self.client_secret.encode()):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(form)
            if grant_type == "refresh_token":
                grant = self._refresh.get(form.get("refresh_token", ""))
                if grant is None or grant.revoked or grant.client_id != client_id:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    }
                return 200, self._issue(grant.account, grant.scopes, with_refresh=False)
        return 400, {
            "error": "unsupported_grant_type",
            "error_description": f"Invalid grant_type: {grant_type}",
        }

    def _exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        code = self._codes.get(form.get("code", ""))
        if code is None or code.used or code.expires_at <= self._now():
            return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
        code.used = True  # single use, even when the rest of the request is wrong (RFC 6749 §4.1.2)
        if form.get("redirect_uri") != code.redirect_uri:
            return 400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}
        if code.challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                return 400, {"error": "invalid_grant", "error_description": "Missing code verifier."}
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
                derived = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                derived = verifier
            if not secrets.compare_digest(derived.encode(), code.challenge.encode()):
                return 400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
        return 200, self._issue(code.account, code.scopes, with_refresh=True)

    def _issue(self, account: str, scopes: tuple[str, ...], *, with_refresh: bool) -> dict[str, Any]:
        access = "ya29.fake-" + secrets.token_urlsafe(32)
        self._access[access] = _Grant(
            self.client_id, account, scopes, expires_at=self._now() + self._access_ttl
        )
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(self._access_ttl.total_seconds()),
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if with_refresh:
            refresh = "1//fake-" + secrets.token_urlsafe(32)
            self._refresh[refresh] = _Grant(self.client_id, account, scopes)
            body["refresh_token"] = refresh
        if "openid" in scopes:
            body["id_token"] = _id_token(self.client_id, account, self._now(), with_email="email" in scopes)
        return body

    # ------------------------------------------------------- API internals

    def _authenticate(self, authorization: str | None, needed: frozenset[str]) -> _Grant | _ApiError:
        if not authorization or not authorization.startswith("Bearer "):
            return _ApiError(401, "Request is missing required authentication credential.", "required")
        grant = self._access.get(authorization.removeprefix("Bearer ").strip())
        if grant is None or grant.revoked or (grant.expires_at and grant.expires_at <= self._now()):
            return _ApiError(401, "Request had invalid authentication credentials.", "authError")
        if not set(grant.scopes) & needed:
            return _ApiError(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        return grant

    def _calendar_for(self, grant: _Grant, calendar_id: str) -> _Calendar | _ApiError:
        if calendar_id == "primary":
            calendar_id = grant.account
        calendar = self._calendars.get(calendar_id)
        if calendar is None or calendar.owner != grant.account:
            return _ApiError(404, "Not Found", "notFound")
        return calendar

    def _list_calendars(self, grant: _Grant, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        roles = ["freeBusyReader", "reader", "writer", "owner"]
        if (
            query.get("minAccessRole", "freeBusyReader") not in roles
            or not query.get("pageToken", "0").isdigit()
        ):
            return _ApiError(400, "Invalid value", "invalid").reply()
        minimum = roles.index(query.get("minAccessRole", "freeBusyReader"))
        items = [
            {
                "kind": "calendar#calendarListEntry",
                "etag": f'"{cal.calendar_id}"',
                "id": cal.calendar_id,
                "summary": cal.summary,
                "timeZone": cal.time_zone,
                "accessRole": cal.access_role,
                **({"primary": True} if cal.primary else {}),
            }
            for cal in (self._calendars[c] for c in self._accounts.get(grant.account, []))
            if roles.index(cal.access_role) >= minimum
        ]
        start = int(query.get("pageToken") or 0)
        size = max(1, min(int(query.get("maxResults", 100)), 250))
        body: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": '"list"',
            "items": items[start : start + size],
        }
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        else:
            body["nextSyncToken"] = "calendarlist-" + secrets.token_hex(6)
        return 200, body

    def _list_events(self, calendar: _Calendar, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        sync_token = query.get("syncToken")
        page_token = query.get("pageToken")
        try:
            size = int(query.get("maxResults", 250))
        except ValueError:
            return _ApiError(400, "Invalid value for maxResults", "invalid").reply()
        if not 1 <= size <= 2500:
            return _ApiError(400, "Invalid value for maxResults", "invalid").reply()
        if page_token:
            snapshot = self._pages.get(page_token)
            if (
                snapshot is None
                or snapshot["calendar"] != calendar.calendar_id
                or snapshot["sync"] != sync_token
            ):
                return _ApiError(400, "Invalid page token value.", "invalid").reply()
            items, offset, next_sync = snapshot["items"], snapshot["offset"], snapshot["next_sync"]
        else:
            if sync_token:
                if any(query.get(name) for name in _SYNC_INCOMPATIBLE):
                    return _ApiError(
                        400, "Sync token cannot be used with the given query parameters.", "invalid"
                    ).reply()
                known = self._sync_tokens.get(sync_token)
                if known is None or known[0] != calendar.calendar_id:
                    return _ApiError(400, "Invalid sync token value.", "invalid").reply()
                if known[2]:
                    return _ApiError(
                        410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired"
                    ).reply()
                items = [e for e in calendar.events.values() if e["_seq"] > known[1]]
            else:
                try:
                    items = self._full_listing(calendar, query)
                except ValueError:
                    return _ApiError(400, "Bad Request", "badRequest").reply()
            items = [_public(e) for e in sorted(items, key=lambda e: e["_seq"])]
            offset = 0
            next_sync = "sync-" + secrets.token_urlsafe(12)
            self._sync_tokens[next_sync] = (calendar.calendar_id, self._last_seq, False)
        page = items[offset : offset + size]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{self._last_seq}"',
            "summary": calendar.summary,
            "updated": _rfc3339(self._now()),
            "timeZone": calendar.time_zone,
            "accessRole": calendar.access_role,
            "defaultReminders": [],
            "items": page,
        }
        if offset + size < len(items):
            token = "page-" + secrets.token_urlsafe(12)
            self._pages[token] = {
                "calendar": calendar.calendar_id,
                "sync": sync_token,
                "items": items,
                "offset": offset + size,
                "next_sync": next_sync,
            }
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = next_sync
        return 200, body

    def _full_listing(self, calendar: _Calendar, query: dict[str, str]) -> list[dict[str, Any]]:
        show_deleted = query.get("showDeleted") == "true"
        time_min = _parse_rfc3339(query["timeMin"]) if query.get("timeMin") else None
        time_max = _parse_rfc3339(query["timeMax"]) if query.get("timeMax") else None
        zone = ZoneInfo(calendar.time_zone)
        items = []
        for event in calendar.events.values():
            if event.get("status") == "cancelled" and not show_deleted:
                continue
            start, end = _bounds(event, zone)
            if time_min and end is not None and end <= time_min:
                continue
            if time_max and start is not None and start >= time_max:
                continue
            items.append(event)
        return items

    def _insert(self, calendar: _Calendar, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        event_id = body.pop("id", None)
        if event_id is not None and not (isinstance(event_id, str) and _EVENT_ID.match(event_id)):
            return _ApiError(400, "Invalid resource id value.", "invalid").reply()
        if event_id is not None and event_id in calendar.events:
            return _ApiError(409, "The requested identifier already exists.", "duplicate").reply()
        problem = _check_times(body.get("start"), body.get("end"))
        if problem:
            return problem.reply()
        for name in ("kind", "etag", "created", "updated", "htmlLink", "iCalUID", "_seq"):
            body.pop(name, None)
        body["attendees"] = [{**a, "responseStatus": "needsAction"} for a in body.get("attendees") or []]
        event_id = event_id or secrets.token_hex(13)
        return 200, _public(self._store_new_event(calendar, event_id, body))

    def _patch(self, calendar: _Calendar, event_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        event = calendar.events.get(event_id)
        if event is None:
            return _ApiError(404, "Not Found", "notFound").reply()
        for name in ("id", "kind", "etag", "created", "updated", "htmlLink", "iCalUID", "_seq"):
            body.pop(name, None)
        problem = _check_times(body.get("start", event.get("start")), body.get("end", event.get("end")))
        if problem:
            return problem.reply()
        if "start" in body or "end" in body:
            event["sequence"] = event.get("sequence", 0) + 1
        event.update(body)
        self._touch(calendar, event)
        return 200, _public(event)

    def _delete(self, calendar: _Calendar, event_id: str) -> tuple[int, dict[str, Any]]:
        event = calendar.events.get(event_id)
        if event is None:
            return _ApiError(404, "Not Found", "notFound").reply()
        if event.get("status") == "cancelled":
            return _ApiError(410, "Resource has been deleted", "deleted").reply()
        event["status"] = "cancelled"
        self._touch(calendar, event)
        return 204, {}

    def _watch(self, grant: _Grant, calendar: _Calendar, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        channel_id = body.get("id")
        address = body.get("address")
        if body.get("type") not in ("web_hook", "webhook"):
            return _ApiError(400, "Invalid value for: type", "invalid").reply()
        if not isinstance(channel_id, str) or not _CHANNEL_ID.match(channel_id):
            return _ApiError(400, "Invalid channel id", "invalid").reply()
        if not isinstance(address, str) or urllib.parse.urlsplit(address).scheme not in ("http", "https"):
            return _ApiError(400, "Invalid value for: address", "invalid").reply()
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            return _ApiError(400, "Invalid value for: token", "invalid").reply()
        self._expire_channels()
        existing = self._channels.get(channel_id)
        if existing is not None and existing.active:
            return _ApiError(400, f"Channel id {channel_id} not unique", "channelIdNotUnique").reply()
        now = self._now()
        expires_at = now + DEFAULT_CHANNEL_TTL
        if body.get("expiration") is not None:
            try:
                requested = datetime.fromtimestamp(int(body["expiration"]) / 1000, tz=UTC)
            except (TypeError, ValueError):
                return _ApiError(400, "Invalid value for: expiration", "invalid").reply()
            expires_at = min(max(requested, now + timedelta(seconds=1)), now + MAX_CHANNEL_TTL)
        resource_id = hashlib.sha256(calendar.calendar_id.encode()).hexdigest()[:27]
        resource_uri = (
            f"{self.api_url}/calendars/{urllib.parse.quote(calendar.calendar_id, safe='')}/events?alt=json"
        )
        channel = _Channel(
            channel_id,
            resource_id,
            resource_uri,
            calendar.calendar_id,
            grant.account,
            address,
            token,
            expires_at,
        )
        self._channels[channel_id] = channel
        self._enqueue(channel, "sync")
        reply = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": resource_uri,
            "expiration": str(int(expires_at.timestamp() * 1000)),
        }
        if token is not None:
            reply["token"] = token
        return 200, reply

    def _stop(self, grant: _Grant, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._expire_channels()
        channel = self._channels.get(str(body.get("id")))
        if (
            channel is None
            or not channel.active
            or channel.resource_id != body.get("resourceId")
            or channel.account != grant.account
        ):
            return _ApiError(404, f"Channel '{body.get('id')}' not found for project", "notFound").reply()
        channel.active = False
        return 204, {}

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path is None or fault.path in path):
                    fault.remaining -= 1
                    return fault
            return None

    def _route(self, method: str, path: str, query: dict[str, str], headers: Any, raw: bytes) -> _Reply:
        """Dispatch one request; returns (status, headers, body bytes)."""
        if path == "/o/oauth2/v2/auth":
            return self._consent_page(method, query, raw)
        fault = self._take_fault(path)
        if fault is not None and fault.stall_s:
            time.sleep(fault.stall_s)
        elif fault is not None:
            reason = fault.reason or ("rateLimitExceeded" if fault.status in (403, 429) else "backendError")
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            status, body = _ApiError(fault.status, "Injected fault", reason).reply()
            return status, extra, _json(body)
        if path == "/token" and method == "POST":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            status, body = self._token(form, _basic(headers.get("Authorization")))
            return status, {"Cache-Control": "no-store"}, _json(body)
        if not path.startswith("/calendar/v3/"):
            return _ApiError(404, "Not Found", "notFound").http()
        parts = [urllib.parse.unquote(p) for p in path.removeprefix("/calendar/v3/").split("/")]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _ApiError(400, "Parse Error", "parseError").http()
        with self._lock:
            return self._api(method, parts, query, headers.get("Authorization"), body)

    def _api(
        self,
        method: str,
        parts: list[str],
        query: dict[str, str],
        authorization: str | None,
        body: dict[str, Any],
    ) -> _Reply:
        if parts == ["users", "me", "calendarList"] and method == "GET":
            grant = self._authenticate(authorization, _LIST_CALENDARS)
            return _http(grant) if isinstance(grant, _ApiError) else _pack(self._list_calendars(grant, query))
        if parts == ["channels", "stop"] and method == "POST":
            grant = self._authenticate(authorization, _ANY_CALENDAR)
            return _http(grant) if isinstance(grant, _ApiError) else _pack(self._stop(grant, body))
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            return _ApiError(404, "Not Found", "notFound").http()
        reading = method == "GET" or parts[3:] == ["watch"]
        grant = self._authenticate(authorization, _READ_EVENTS if reading else _WRITE_EVENTS)
        if isinstance(grant, _ApiError):
            return grant.http()
        calendar = self._calendar_for(grant, parts[1])
        if isinstance(calendar, _ApiError):
            return calendar.http()
        if not reading and calendar.access_role not in ("owner", "writer"):
            return _ApiError(
                403, "You need to have writer access to this calendar.", "requiredAccessLevel"
            ).http()
        rest = parts[3:]
        if rest == [] and method == "GET":
            return _pack(self._list_events(calendar, query))
        if rest == [] and method == "POST":
            return _pack(self._insert(calendar, body))
        if rest == ["watch"] and method == "POST":
            return _pack(self._watch(grant, calendar, body))
        if len(rest) == 1 and method == "GET":
            event = calendar.events.get(rest[0])
            return (
                (200, {}, _json(_public(event))) if event else _ApiError(404, "Not Found", "notFound").http()
            )
        if len(rest) == 1 and method in ("PATCH", "PUT"):
            return _pack(self._patch(calendar, rest[0], body))
        if len(rest) == 1 and method == "DELETE":
            return _pack(self._delete(calendar, rest[0]))
        return _ApiError(404, "Not Found", "notFound").http()

    def _consent_page(self, method: str, query: dict[str, str], raw: bytes) -> _Reply:
        """The browser consent screen for ``make dev``: GET shows it, POST (the form) decides."""
        params = dict(urllib.parse.parse_qsl(raw.decode())) if method == "POST" else query
        if method == "POST":
            decision = params.pop("decision", "deny")
            account = params.pop("account", "").strip() or "dev.user@example.com"
            try:
                location = self._grant_consent(params, account=account, allow=decision == "allow")
            except ConsentError as err:
                return 400, {"Content-Type": "text/html; charset=utf-8"}, _error_page(err.error)
            return 302, {"Location": location}, b""
        with self._lock:
            try:
                self._check_authorization_request(params)
            except ConsentError as err:
                return 400, {"Content-Type": "text/html; charset=utf-8"}, _error_page(err.error)
            except _RedirectError as err:
                return 302, {"Location": err.url()}, b""
            accounts = sorted(self._accounts)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        options = "".join(f'<option value="{html.escape(a)}">' for a in accounts)
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Sign in (fake Google)</title>
</head><body><h1>Fake Google</h1><p>{html.escape(params.get("client_id", ""))} wants to access your Google
Account:</p><ul>{scopes}</ul><form method="post" action="/o/oauth2/v2/auth">{hidden}
<label>Account <input name="account" list="accounts" value="{html.escape(accounts[0] if accounts else "")}"
placeholder="you@example.com"></label><datalist id="accounts">{options}</datalist>
<button name="decision" value="deny">Deny</button> <button name="decision" value="allow">Allow</button>
</form></body></html>"""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


_Reply = tuple[int, dict[str, str], bytes]
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Notifications go straight to the receiver, never through an HTTP(S)_PROXY from the environment."""


class _RedirectError(Exception):
    """An authorization error Google reports to the client by redirecting (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, error: str, state: str | None) -> None:
        super().__init__(error)
        self.redirect_uri, self.error, self.state = redirect_uri, error, state

    def url(self) -> str:
        query = {"error": self.error}
        if self.state is not None:
            query["state"] = self.state
        return _append_query(self.redirect_uri, query)


@dataclass(frozen=True)
class _ApiError:
    status: int
    message: str
    reason: str

    def body(self) -> dict[str, Any]:
        status_text = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            409: "ALREADY_EXISTS",
            410: "FAILED_PRECONDITION",
            429: "RESOURCE_EXHAUSTED",
        }.get(self.status, "UNAVAILABLE" if self.status >= 500 else "UNKNOWN")
        domain = "usageLimits" if self.reason in ("rateLimitExceeded", "userRateLimitExceeded") else "global"
        return {
            "error": {
                "errors": [{"domain": domain, "reason": self.reason, "message": self.message}],
                "code": self.status,
                "message": self.message,
                "status": status_text,
            }
        }

    def reply(self) -> tuple[int, dict[str, Any]]:
        return self.status, self.body()

    def http(self) -> _Reply:
        headers = (
            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if self.status == 401 else {}
        )
        return self.status, headers, _json(self.body())


def _http(error: _ApiError) -> _Reply:
    return error.http()


def _pack(result: tuple[int, dict[str, Any]]) -> _Reply:
    status, body = result
    return status, {}, (b"" if status == 204 else _json(body))


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGoogle/1.0"

    def _handle(self) -> None:
        fake: FakeGoogle = self.server.fake  # type: ignore[attr-defined]
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, body = fake._route(self.command, split.path, query, self.headers, raw)
        with fake._lock:
            fake.requests.append(RecordedRequest(self.command, split.path, _redact(query), status))
        try:
            self.send_response(status)
            if body and "Content-Type" not in headers:
                headers = {"Content-Type": "application/json; charset=UTF-8", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stalled request); the request already took effect

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        return None


# ------------------------------------------------------------------ helpers


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_rfc3339(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("RFC 3339 needs an offset")
    return instant


def _when(value: datetime | date) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": _rfc3339(value).replace(".000Z", "Z"), "timeZone": "UTC"}
    return {"date": value.isoformat()}


def _bounds(event: dict[str, Any], zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    def one(value: dict[str, Any] | None) -> datetime | None:
        if not value:
            return None
        if value.get("dateTime"):
            instant = datetime.fromisoformat(value["dateTime"])
            return (
                instant
                if instant.tzinfo
                else instant.replace(tzinfo=ZoneInfo(value.get("timeZone") or "UTC"))
            )
        day = date.fromisoformat(value["date"])
        return datetime(day.year, day.month, day.day, tzinfo=zone)

    return one(event.get("start")), one(event.get("end"))


def _check_times(start: Any, end: Any) -> _ApiError | None:
    if not isinstance(start, dict) or not (start.get("dateTime") or start.get("date")):
        return _ApiError(400, "Missing start time.", "required")
    if not isinstance(end, dict) or not (end.get("dateTime") or end.get("date")):
        return _ApiError(400, "Missing end time.", "required")
    if bool(start.get("date")) != bool(end.get("date")):
        return _ApiError(400, "Start and end times must either both be date or both be dateTime.", "invalid")
    try:
        begin, finish = _bounds({"start": start, "end": end}, ZoneInfo("UTC"))
    except (ValueError, KeyError):
        return _ApiError(400, "Invalid start or end time.", "invalid")
    if begin is None or finish is None or finish <= begin:
        return _ApiError(400, "The specified time range is empty.", "timeRangeEmpty")
    return None


def _public(event: dict[str, Any]) -> dict[str, Any]:
    """The resource as Google returns it: no private fields; a deleted event only says so."""
    if event.get("status") == "cancelled":
        keep = ("kind", "etag", "id", "status", "updated")
        return {k: event[k] for k in keep if k in event}
    return json.loads(json.dumps({k: v for k, v in event.items() if not k.startswith("_")}))


def _append_query(url: str, params: dict[str, str]) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + separator + urllib.parse.urlencode(params)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return urllib.parse.unquote(user), urllib.parse.unquote(password)


def _redact(query: dict[str, str]) -> dict[str, str]:
    """The query without credentials (an ``access_token`` query parameter is legal at Google)."""
    return {k: ("<redacted>" if k == "access_token" else v) for k, v in query.items()}


def _id_token(client_id: str, account: str, now: datetime, *, with_email: bool) -> str:
    def segment(payload: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    claims: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": client_id,
        "sub": hashlib.sha256(account.encode()).hexdigest()[:21],
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 3600,
    }
    if with_email:
        claims |= {"email": account, "email_verified": True}
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."


def _error_page(error: str) -> bytes:
    return (
        f"<!doctype html><html><body><h1>Access blocked: authorization error</h1>"
        f"<p>Error 400: {html.escape(error)}</p></body></html>"
    ).encode()
