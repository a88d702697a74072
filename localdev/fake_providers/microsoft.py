"""A fake Microsoft identity platform + Microsoft Graph calendars server for tests and ``make dev``.

It implements, faithfully, the subset :class:`slotbook.providers.microsoft.MicrosoftCalendar`
uses, on one threaded ``http.server`` bound to ``127.0.0.1`` (port 0 by default):

- ``GET|POST /common/oauth2/v2.0/authorize``: a minimal HTML consent page (an account field and
  *Allow* / *Deny*) that redirects to ``redirect_uri`` with ``code`` + ``state`` (or
  ``error=access_denied``). Tests call :meth:`FakeMicrosoft.consent` instead.
- ``POST /common/oauth2/v2.0/token``: ``authorization_code`` (client secret, same
  ``redirect_uri``, PKCE S256 verifier checked, single-use codes living 10 minutes) and
  ``refresh_token`` (rotated on every use, revocable → ``invalid_grant``). Access tokens expire
  after ``access_token_ttl_s``; a refresh token is issued only with ``offline_access``.
- Graph v1.0 (``/v1.0``, bearer token checked, 401/403 like Graph): ``GET /me/calendars`` (``$top``/
  ``$skip`` paging, ``$select``); ``GET /me/calendars/{id}/calendarView/delta`` (window from
  ``startDateTime``/``endDateTime``, ``Prefer: odata.maxpagesize`` paging with ``$skiptoken``
  next links, a ``$deltatoken`` delta link whose rounds return only changes since it, deletions
  as ``@removed``; 410 ``SyncStateNotFound`` once :meth:`FakeMicrosoft.expire_sync_cursors` ran;
  ``Prefer: outlook.timezone``); ``POST /me/calendars/{id}/events`` (deduplicated on
  ``transactionId``), ``GET|PATCH|DELETE /me/events/{id}``; ``POST /subscriptions`` (the
  ``validationToken`` handshake against ``notificationUrl``: the subscription exists only if the
  endpoint answers 200 with the token in ``text/plain`` within ``validation_timeout_s``;
  lifetime at most 10,080 minutes), ``GET|PATCH|DELETE /subscriptions/{id}``.
- Change notifications: every event change (control API or Graph call) is POSTed by a background
  thread to each live subscription on that calendar, as Graph's ``{"value": [...]}`` with
  ``subscriptionId``, ``clientState``, ``changeType``, ``resource`` and ``resourceData``.

Deviations from the real services (all for running on one machine): ``notificationUrl`` may be
plain ``http`` (Graph demands https); failed notification deliveries are recorded, not retried
for hours; no lifecycle notifications; no recurring series (every event is a ``singleInstance``);
only ``S256`` PKCE; a failed redemption does not burn the code; ``transactionId`` deduplicates
against the mailbox's live events.

The Python control API (add/move/delete events, expire cursors and subscriptions, revoke refresh
tokens, expire access tokens, inject 429/5xx/slow answers, inspect events, deliveries and
requests) is the public methods of :class:`FakeMicrosoft`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

AUTHORIZE_PATH = "/common/oauth2/v2.0/authorize"
TOKEN_PATH = "/common/oauth2/v2.0/token"
GRAPH_PREFIX = "/v1.0"

SUBSCRIPTION_MAX_LIFETIME = timedelta(minutes=10_080)
"""Graph's maximum for subscriptions on Outlook events."""
CODE_LIFETIME = timedelta(minutes=10)
DEFAULT_DELTA_PAGE_SIZE = 10
_RESOURCE_SCOPES = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
_CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_SHOW_AS = frozenset({"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"})
_CALENDAR_EVENTS = re.compile(r"^/?me/calendars/([^/]+)/events$", re.IGNORECASE)
_ME_EVENTS = re.compile(r"^/?me/events$", re.IGNORECASE)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_id(prefix: str) -> str:
    """A Graph-looking opaque id (base64url with ``-``/``_`` and ``=`` padding: callers must quote)."""
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(30)).decode() + "="


def _graph_time(instant: datetime) -> str:
    """Graph's ``dateTime`` wall-clock form: ``2027-03-01T09:00:00.0000000``."""
    return instant.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def _iso_z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _parse_instant(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


class GraphError(Exception):
    """A Graph (or identity platform) error answer raised inside the fake's handlers."""

    def __init__(self, status: int, code: str, message: str, *, oauth: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.oauth = oauth

    def body(self) -> dict[str, Any]:
        if self.oauth:
            return {"error": self.code, "error_description": self.message, "error_codes": []}
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class User:
    id: str
    email: str
    name: str


@dataclass
class Calendar:
    id: str
    user_id: str
    name: str
    is_default: bool = False
    can_edit: bool = True


@dataclass
class Event:
    id: str
    calendar_id: str
    user_id: str
    subject: str
    start: datetime
    end: datetime
    is_all_day: bool = False
    show_as: str = "busy"
    is_cancelled: bool = False
    response: str = "organizer"
    body: str = ""
    location: str = ""
    attendees: list[str] = field(default_factory=list)
    transaction_id: str | None = None
    created_via_api: bool = False
    created: datetime = field(default_factory=_utcnow)
    modified: datetime = field(default_factory=_utcnow)
    change_key: str = ""
    seq: int = 0


@dataclass
class Subscription:
    id: str
    user_id: str
    resource: str
    calendar_id: str | None
    change_types: frozenset[str]
    notification_url: str
    client_state: str | None
    expires_at: datetime
    client_id: str
    deleted: bool = False


@dataclass(frozen=True)
class Delivery:
    """One notification POST: the body sent and the receiver's status (``None``: unreachable)."""

    url: str
    body: dict[str, Any]
    status: int | None


@dataclass(frozen=True)
class Validation:
    """One ``validationToken`` handshake and whether the endpoint passed it."""

    url: str
    token: str
    passed: bool


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    user_id: str
    expires_at: datetime
    used: bool = False


@dataclass
class _AccessToken:
    user_id: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class _RefreshToken:
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class _Fault:
    status: int | None
    remaining: int
    retry_after: str | None
    path_contains: str | None
    delay_s: float


@dataclass
class _DeltaState:
    """What a ``$deltatoken`` stands for: changes after ``seq`` in the window of one calendar."""

    user_id: str
    calendar_id: str
    window: tuple[datetime, datetime]
    seq: int
    expired: bool = False


@dataclass
class _SkipState:
    """A round in progress (``$skiptoken``): the rows snapshotted at its first request."""

    user_id: str
    calendar_id: str
    window: tuple[datetime, datetime]
    rows: list[tuple[str, Event | None]]
    seq: int
    expired: bool = False


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


class FakeMicrosoft:
    """The fake server and its control API. Use as a context manager (or :meth:`start` /
    :meth:`stop`); :meth:`client_kwargs` gives the URLs and credentials to build a
    :class:`~slotbook.providers.microsoft.MicrosoftCalendar` against it.

    ``clock`` dates codes, tokens, subscriptions and event timestamps (tests share theirs with the
    client). A default user with a default calendar (``Calendar``) exists from the start."""

    def __init__(
        self,
        *,
        client_id: str = "fake-ms-client-id",
        client_secret: str = "fake-ms-client-secret",
        redirect_uris: Iterable[str] | None = None,
        clock: Callable[[], datetime] = _utcnow,
        access_token_ttl_s: int = 3600,
        validation_timeout_s: float = 10.0,
        notification_timeout_s: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
        user_email: str = "megan@contoso.example",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris) if redirect_uris is not None else None
        self.clock = clock
        self.access_token_ttl_s = access_token_ttl_s
        self.validation_timeout_s = validation_timeout_s
        self.notification_timeout_s = notification_timeout_s
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._calendars: dict[str, Calendar] = {}
        self._events: dict[str, Event] = {}
        self._tombstones: dict[str, tuple[str, int]] = {}  # event id -> (calendar id, seq)
        self._seq = 0
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._delta: dict[str, _DeltaState] = {}
        self._skip: dict[str, tuple[_SkipState, int]] = {}  # token -> (round, offset)
        self._faults: list[_Fault] = []
        self.requests: list[tuple[str, str]] = []
        """Every request received, as (method, path without query)."""
        self.deliveries: list[Delivery] = []
        self.validations: list[Validation] = []
        self._outbox: list[tuple[str, dict[str, Any]]] = []
        self._outbox_ready = threading.Condition(self._lock)
        self._in_flight = 0
        self._stopping = False
        self.default_user_id = self.add_user(user_email, name="Megan Bowen")
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # ----------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def auth_url(self) -> str:
        return self.base_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def api_url(self) -> str:
        return self.base_url + GRAPH_PREFIX

    def client_kwargs(self) -> dict[str, str]:
        """``client_id``, ``client_secret``, ``auth_url``, ``token_url``, ``api_url`` for the client."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "auth_url": self.auth_url,
            "token_url": self.token_url,
            "api_url": self.api_url,
        }

    def start(self) -> FakeMicrosoft:
        for target in (self._serve_forever, self._deliver_forever):
            thread = threading.Thread(target=target, name=f"fake-microsoft{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)  # a quick shutdown keeps tests fast

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._outbox_ready.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeMicrosoft:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------- control API

    def add_user(self, email: str, *, name: str | None = None) -> str:
        """A mailbox with a default calendar named ``Calendar``; returns the user id."""
        with self._lock:
            user = User(id=secrets.token_hex(8), email=email, name=name or email.split("@")[0])
            self._users[user.id] = user
            self.add_calendar("Calendar", user_id=user.id, default=True)
            return user.id

    def add_calendar(
        self, name: str, *, user_id: str | None = None, default: bool = False, can_edit: bool = True
    ) -> str:
        with self._lock:
            calendar = Calendar(
                id=_new_id("AAMkAGI2TG93AAA"),
                user_id=user_id or self.default_user_id,
                name=name,
                is_default=default,
                can_edit=can_edit,
            )
            self._calendars[calendar.id] = calendar
            return calendar.id

    def default_calendar_id(self, user_id: str | None = None) -> str:
        with self._lock:
            owner = user_id or self.default_user_id
            return next(c.id for c in self._calendars.values() if c.user_id == owner and c.is_default)

    def add_event(
        self,
        calendar_id: str,
        *,
        start: datetime | date,
        end: datetime | date,
        subject: str = "Busy",
        show_as: str = "busy",
        cancelled: bool = False,
        response: str = "organizer",
    ) -> str:
        """A provider-side event (as if the user made it in Outlook); ``date`` bounds make an
        all-day event (end exclusive). Notifies ``created``. Returns the event id."""
        all_day = not isinstance(start, datetime)
        with self._lock:
            calendar = self._calendars[calendar_id]
            now = self.clock()
            event = Event(
                id=_new_id("AAMkAGI2THVSAAA"),
                calendar_id=calendar_id,
                user_id=calendar.user_id,
                subject=subject,
                start=_bound(start),
                end=_bound(end),
                is_all_day=all_day,
                show_as=show_as,
                is_cancelled=cancelled,
                response=response,
                created=now,
            )
            self._store(event, "created")
            return event.id

    def update_event(self, event_id: str, **changes: Any) -> None:
        """Change a provider-side event: ``start``/``end`` (datetime, or date for all-day),
        ``subject``, ``show_as``, ``is_cancelled``, ``response``. Notifies ``updated``."""
        with self._lock:
            event = self._events[event_id]
            for name, value in changes.items():
                if name in ("start", "end"):
                    event.is_all_day = not isinstance(value, datetime)
                    value = _bound(value)
                if not hasattr(event, name):
                    raise AttributeError(name)
                setattr(event, name, value)
            self._store(event, "updated")

    def move_event(self, event_id: str, *, start: datetime | date, end: datetime | date) -> None:
        self.update_event(event_id, start=start, end=end)

    def delete_event(self, event_id: str) -> None:
        """Delete a provider-side event. Notifies ``deleted``."""
        with self._lock:
            self._remove(self._events[event_id])

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The event as Graph shows it (times in UTC), or ``None`` once deleted."""
        with self._lock:
            event = self._events.get(event_id)
            return self._event_json(event, zone_name="UTC") if event else None

    def events(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                self._event_json(e, zone_name="UTC")
                for e in self._events.values()
                if calendar_id is None or e.calendar_id == calendar_id
            ]

    def created_events(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """The live events created through ``POST .../events`` (what Slotbook wrote)."""
        with self._lock:
            return [
                self._event_json(e, zone_name="UTC")
                for e in self._events.values()
                if e.created_via_api and (calendar_id is None or e.calendar_id == calendar_id)
            ]

    def expire_sync_cursors(self, calendar_id: str | None = None) -> None:
        """Every delta/skip link issued so far (for one calendar, or all) answers 410 from now on."""
        with self._lock:
            for state in (*self._delta.values(), *(round_ for round_, _ in self._skip.values())):
                if calendar_id is None or state.calendar_id == calendar_id:
                    state.expired = True

    def subscription(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(subscription_id)

    def subscriptions(self) -> list[Subscription]:
        """The live (not deleted, not expired) subscriptions."""
        with self._lock:
            return [s for s in self._subscriptions.values() if self._live(s)]

    def expire_subscription(self, subscription_id: str | None = None) -> None:
        """Make one subscription (or all) expire now: no more notifications, PATCH/DELETE → 404."""
        with self._lock:
            for sub in self._subscriptions.values():
                if subscription_id is None or sub.id == subscription_id:
                    sub.expires_at = min(sub.expires_at, self.clock())

    def revoke_refresh_tokens(self, user_id: str | None = None) -> None:
        """Revoke every refresh token of a user (default: all users), like
        ``revokeSignInSessions`` or withdrawn consent: refreshing answers ``invalid_grant``."""
        with self._lock:
            for token in self._refresh.values():
                if user_id is None or token.user_id == user_id:
                    token.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused (401) from now on."""
        with self._lock:
            for token in self._access.values():
                token.expires_at = min(token.expires_at, self.clock())

    def inject_fault(
        self,
        status: int | None = 429,
        *,
        count: int = 1,
        retry_after: str | None = None,
        path_contains: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """The next ``count`` requests (whose path contains ``path_contains``, if given) answer
        ``status`` with a Graph error body and ``Retry-After: retry_after`` when given (seconds or
        an HTTP date). ``delay_s`` first stalls the answer (with ``status=None`` the request then
        proceeds normally: a slow provider, i.e. a client timeout)."""
        with self._lock:
            self._faults.append(_Fault(status, count, retry_after, path_contains, delay_s))

    def consent(self, authorization_url: str, *, user_id: str | None = None, allow: bool = True) -> str:
        """What the consent page does when the user signs in as ``user_id`` (default user) and
        clicks *Allow* (or *Deny*): the redirect URL (``redirect_uri?code=...&state=...``).
        Invalid authorize parameters raise :class:`GraphError` (the page would show an error)."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorization_url).query))
        return self._decide(query, user_id=user_id or self.default_user_id, allow=allow)

    def flush_notifications(self, timeout_s: float = 5.0) -> None:
        """Wait until every queued notification has been delivered (or failed)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._outbox or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("notifications still pending")
                self._outbox_ready.wait(remaining)

    # ----------------------------------------------------------- routing

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        split = urllib.parse.urlsplit(raw_path)
        path = split.path
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        with self._lock:
            self.requests.append((method, path))
            fault = self._take_fault(path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.status is not None:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
                if path.startswith(GRAPH_PREFIX):
                    return _json_reply(fault.status, {"error": {"code": code, "message": "injected"}}, extra)
                return _json_reply(fault.status, {"error": "temporarily_unavailable"}, extra)
        try:
            if path == AUTHORIZE_PATH and method in ("GET", "POST"):
                params = query if method == "GET" else dict(urllib.parse.parse_qsl(body.decode()))
                return self._authorize(method, params)
            if path == TOKEN_PATH and method == "POST":
                return self._token(dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)))
            if path.startswith(GRAPH_PREFIX + "/"):
                segments = [urllib.parse.unquote(s) for s in path[len(GRAPH_PREFIX) + 1 :].split("/")]
                return self._graph(method, segments, query, headers, body)
            raise GraphError(404, "NotFound", f"no route for {method} {path}")
        except GraphError as err:
            extra = {"WWW-Authenticate": 'Bearer realm=""'} if err.status == 401 and not err.oauth else {}
            return _json_reply(err.status, err.body(), extra)

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and (fault.path_contains is None or fault.path_contains in path):
                fault.remaining -= 1
                return fault
        return None

    # ------------------------------------------------------------- OAuth

    def _check_authorize(self, params: dict[str, str]) -> None:
        if params.get("client_id") != self.client_id:
            raise GraphError(400, "unauthorized_client", "AADSTS700016: Application not found.", oauth=True)
        if params.get("response_type") != "code":
            raise GraphError(400, "unsupported_response_type", "AADSTS70005: response_type", oauth=True)
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris):
            raise GraphError(
                400, "invalid_request", "AADSTS50011: The redirect URI does not match.", oauth=True
            )
        if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            raise GraphError(
                400, "invalid_request", "the fake supports only S256 code challenges", oauth=True
            )
        if not params.get("scope", "").split():
            raise GraphError(400, "invalid_scope", "AADSTS900144: scope is required", oauth=True)

    def _decide(self, params: dict[str, str], *, user_id: str, allow: bool) -> str:
        self._check_authorize(params)
        answer: dict[str, str] = {}
        if allow:
            code = secrets.token_urlsafe(32)
            with self._lock:
                self._codes[code] = _Code(
                    client_id=params["client_id"],
                    redirect_uri=params["redirect_uri"],
                    scopes=tuple(params["scope"].split()),
                    challenge=params.get("code_challenge") or None,
                    user_id=user_id,
                    expires_at=self.clock() + CODE_LIFETIME,
                )
            answer["code"] = code
        else:
            answer["error"] = "access_denied"
            answer["error_description"] = "AADSTS65004: User declined to consent to access the app."
        if "state" in params:
            answer["state"] = params["state"]
        separator = "&" if urllib.parse.urlsplit(params["redirect_uri"]).query else "?"
        return params["redirect_uri"] + separator + urllib.parse.urlencode(answer)

    def _authorize(self, method: str, params: dict[str, str]) -> _Reply:
        if method == "POST":
            email = params.get("login", "")
            with self._lock:
                user = next((u for u in self._users.values() if u.email == email), None)
                if user is None and email:
                    user = self._users[self.add_user(email)]
            location = self._decide(
                params,
                user_id=user.id if user else self.default_user_id,
                allow=params.get("decision") == "allow",
            )
            return _Reply(302, b"", {"Location": location})
        try:
            self._check_authorize(params)
        except GraphError as err:
            return _Reply(400, _page(f"<p>{html.escape(err.message)}</p>"), {"Content-Type": "text/html"})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        default = html.escape(self._users[self.default_user_id].email)
        form = (
            f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
            f'<p>Sign in as <input name="login" value="{default}"></p>'
            f"<p>The app asks for: {html.escape(params.get('scope', ''))}</p>"
            '<button name="decision" value="allow">Allow</button> '
            '<button name="decision" value="deny">Deny</button></form>'
        )
        return _Reply(200, _page(form), {"Content-Type": "text/html; charset=utf-8"})

    def _token(self, form: dict[str, str]) -> _Reply:
        if form.get("client_id") != self.client_id:
            raise GraphError(400, "unauthorized_client", "AADSTS700016: Application not found.", oauth=True)
        if not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            raise GraphError(
                401, "invalid_client", "AADSTS7000215: Invalid client secret provided.", oauth=True
            )
        grant = form.get("grant_type")
        with self._lock:
            if grant == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if code is None or code.client_id != self.client_id or code.expires_at <= self.clock():
                    raise GraphError(400, "invalid_grant", "AADSTS70008: The code has expired.", oauth=True)
                if code.used:
                    raise GraphError(400, "invalid_grant", "AADSTS54005: Code already redeemed.", oauth=True)
                if form.get("redirect_uri") != code.redirect_uri:
                    raise GraphError(
                        400, "invalid_grant", "AADSTS500112: Reply address mismatch.", oauth=True
                    )
                if code.challenge is not None and not secrets.compare_digest(
                    _s256(form.get("code_verifier", "")), code.challenge
                ):
                    raise GraphError(
                        400,
                        "invalid_grant",
                        "AADSTS501481: The Code_Verifier does not match the code_challenge.",
                        oauth=True,
                    )
                code.used = True
                return _json_reply(200, self._issue(code.user_id, code.scopes))
            if grant == "refresh_token":
                refresh = self._refresh.get(form.get("refresh_token", ""))
                if refresh is None or refresh.revoked or refresh.client_id != self.client_id:
                    raise GraphError(
                        400,
                        "invalid_grant",
                        "AADSTS70008: The refresh token has expired or been revoked.",
                        oauth=True,
                    )
                return _json_reply(200, self._issue(refresh.user_id, refresh.scopes))
        raise GraphError(400, "unsupported_grant_type", "AADSTS70003: unsupported grant_type", oauth=True)

    def _issue(self, user_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        granted = frozenset(s for s in scopes if s in _RESOURCE_SCOPES)
        access = "fake-ms-at-" + secrets.token_urlsafe(24)
        self._access[access] = _AccessToken(
            user_id, granted, self.clock() + timedelta(seconds=self.access_token_ttl_s)
        )
        payload: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(sorted(granted)),
            "expires_in": self.access_token_ttl_s,
            "ext_expires_in": self.access_token_ttl_s,
            "access_token": access,
        }
        if "offline_access" in scopes:
            refresh = "fake-ms-rt-" + secrets.token_urlsafe(32)
            self._refresh[refresh] = _RefreshToken(user_id, self.client_id, scopes)
            payload["refresh_token"] = refresh
        return payload

    # ------------------------------------------------------------- Graph

    def _caller(self, headers: Any, *, write: bool) -> str:
        value = headers.get("Authorization", "")
        if not value.startswith("Bearer ") or not value[7:].strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = self._access.get(value[7:].strip())
        if token is None:
            raise GraphError(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
        if token.expires_at <= self.clock():
            raise GraphError(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            )
        needed = {"Calendars.ReadWrite"} if write else _RESOURCE_SCOPES
        if not token.scopes & needed:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        return token.user_id

    def _graph(
        self, method: str, segs: list[str], query: dict[str, str], headers: Any, body: bytes
    ) -> _Reply:
        prefer = _prefer(headers)
        write = method in ("POST", "PATCH", "DELETE")
        with self._lock:
            if segs[0] == "subscriptions":
                user_id = self._caller(headers, write=False)
            else:
                user_id = self._caller(headers, write=write)
        if segs == ["subscriptions"] and method == "POST":
            return self._create_subscription(user_id, _json_body(body))
        with self._lock:
            match segs:
                case ["me", "calendars"] if method == "GET":
                    return self._list_calendars(user_id, query)
                case ["me", "calendars", calendar_id, "calendarView", "delta"] if method == "GET":
                    return self._delta_page(user_id, calendar_id, query, prefer)
                case ["me", "calendars", calendar_id, "events"] if method == "POST":
                    return self._create_event(user_id, calendar_id, _json_body(body))
                case ["me", "events", event_id]:
                    return self._event_call(user_id, method, event_id, body, prefer)
                case ["subscriptions", subscription_id]:
                    return self._subscription_call(user_id, method, subscription_id, body)
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segs[-1]}'.")

    def _list_calendars(self, user_id: str, query: dict[str, str]) -> _Reply:
        mine = [c for c in self._calendars.values() if c.user_id == user_id]
        top = int(query.get("$top") or 10)
        skip = int(query.get("$skip") or 0)
        select = [s for s in query.get("$select", "").split(",") if s]
        rows = []
        for calendar in mine[skip : skip + top]:
            user = self._users[calendar.user_id]
            row = {
                "id": calendar.id,
                "name": calendar.name,
                "color": "auto",
                "isDefaultCalendar": calendar.is_default,
                "changeKey": "fake",
                "canShare": calendar.can_edit,
                "canViewPrivateItems": True,
                "canEdit": calendar.can_edit,
                "isRemovable": not calendar.is_default,
                "owner": {"name": user.name, "address": user.email},
            }
            if select:
                row = {k: v for k, v in row.items() if k in select or k == "id"}
            rows.append(row)
        payload: dict[str, Any] = {"@odata.context": f"{self.api_url}/$metadata#users('{user_id}')/calendars"}
        payload["value"] = rows
        if skip + top < len(mine):
            next_query = {**query, "$top": str(top), "$skip": str(skip + top)}
            payload["@odata.nextLink"] = f"{self.api_url}/me/calendars?{urllib.parse.urlencode(next_query)}"
        return _json_reply(200, payload)

    def _calendar(self, user_id: str, calendar_id: str) -> Calendar:
        calendar = self._calendars.get(calendar_id)
        if calendar is None or calendar.user_id != user_id:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return calendar

    # ------------------------------------------------------------- delta

    def _delta_page(
        self, user_id: str, calendar_id: str, query: dict[str, str], prefer: dict[str, str]
    ) -> _Reply:
        self._calendar(user_id, calendar_id)
        page_size = int(prefer.get("odata.maxpagesize") or DEFAULT_DELTA_PAGE_SIZE)
        zone_name = prefer.get("outlook.timezone") or "UTC"
        if "$skiptoken" in query:
            skip, offset = self._skip.get(query["$skiptoken"], (None, 0))
            if skip is None or skip.user_id != user_id or skip.calendar_id != calendar_id:
                raise GraphError(400, "ErrorInvalidUrlQuery", "The skip token is invalid.")
            if skip.expired:
                raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        else:
            if "$deltatoken" in query:
                state = self._delta.get(query["$deltatoken"])
                if state is None or state.user_id != user_id or state.calendar_id != calendar_id:
                    raise GraphError(400, "ErrorInvalidUrlQuery", "The delta token is invalid.")
                if state.expired:
                    raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
                window, since = state.window, state.seq
            else:
                window, since = self._window(query), 0
            skip, offset = (
                _SkipState(user_id, calendar_id, window, self._rows(calendar_id, window, since), self._seq),
                0,
            )
        rows = skip.rows[offset : offset + page_size]
        offset += len(rows)
        link = f"{self.api_url}/me/calendars/{urllib.parse.quote(calendar_id, safe='')}/calendarView/delta"
        value = [
            self._event_json(event, zone_name=zone_name)
            if event is not None
            else {"@odata.type": "#microsoft.graph.event", "id": event_id, "@removed": {"reason": "deleted"}}
            for event_id, event in rows
        ]
        payload: dict[str, Any] = {
            "@odata.context": f"{self.api_url}/$metadata#Collection(event)",
            "value": value,
        }
        if offset < len(skip.rows):
            token = secrets.token_urlsafe(16)
            self._skip[token] = (skip, offset)
            payload["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            token = secrets.token_urlsafe(16)
            self._delta[token] = _DeltaState(user_id, calendar_id, skip.window, skip.seq)
            payload["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        return _json_reply(200, payload, {"Preference-Applied": f"odata.maxpagesize={page_size}"})

    def _window(self, query: dict[str, str]) -> tuple[datetime, datetime]:
        lowered = {k.lower(): v for k, v in query.items()}
        if not lowered.get("startdatetime") or not lowered.get("enddatetime"):
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        try:
            return _parse_instant(lowered["startdatetime"]), _parse_instant(lowered["enddatetime"])
        except ValueError as exc:
            raise GraphError(
                400, "ErrorInvalidParameter", "StartDateTime/EndDateTime are not dates."
            ) from exc

    def _rows(
        self, calendar_id: str, window: tuple[datetime, datetime], since: int
    ) -> list[tuple[str, Event | None]]:
        """A round's rows: ``since=0`` every event in the window; else every change after
        ``since`` (an event no longer in the window, or deleted, as a removal)."""
        start, end = window
        rows: list[tuple[str, Event | None]] = []
        for event in sorted(self._events.values(), key=lambda e: (e.start, e.id)):
            if event.calendar_id != calendar_id or event.seq <= since:
                continue
            in_window = event.start < end and event.end > start
            if in_window:
                rows.append((event.id, event))
            elif since:
                rows.append((event.id, None))
        if since:
            rows.extend(
                (event_id, None)
                for event_id, (cal, seq) in self._tombstones.items()
                if cal == calendar_id and seq > since
            )
        return rows

    # ------------------------------------------------------------ events

    def _create_event(self, user_id: str, calendar_id: str, payload: dict[str, Any]) -> _Reply:
        calendar = self._calendar(user_id, calendar_id)
        if not calendar.can_edit:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied.")
        transaction_id = payload.get("transactionId")
        if transaction_id:
            for event in self._events.values():
                if event.user_id == user_id and event.transaction_id == transaction_id:
                    return _json_reply(201, self._event_json(event, zone_name="UTC"))
        now = self.clock()
        event = Event(
            id=_new_id("AAMkAGI2TAPIAAA"),
            calendar_id=calendar_id,
            user_id=user_id,
            subject="",
            start=now,
            end=now,
            transaction_id=transaction_id,
            created_via_api=True,
            created=now,
        )
        if "start" not in payload or "end" not in payload:
            raise GraphError(400, "ErrorPropertyValidationFailure", "start and end are required.")
        self._apply(event, payload)
        self._store(event, "created")
        return _json_reply(201, self._event_json(event, zone_name="UTC"))

    def _event_call(
        self, user_id: str, method: str, event_id: str, body: bytes, prefer: dict[str, str]
    ) -> _Reply:
        event = self._events.get(event_id)
        if event is None or event.user_id != user_id:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if method == "GET":
            return _json_reply(
                200, self._event_json(event, zone_name=prefer.get("outlook.timezone") or "UTC")
            )
        if method == "PATCH":
            self._apply(event, _json_body(body))
            self._store(event, "updated")
            return _json_reply(200, self._event_json(event, zone_name="UTC"))
        if method == "DELETE":
            self._remove(event)
            return _Reply(204)
        raise GraphError(405, "BadRequest", "method not allowed")

    def _apply(self, event: Event, payload: dict[str, Any]) -> None:
        """Graph's writable event properties the client sends, validated like Graph."""
        start, end = event.start, event.end
        all_day = bool(payload.get("isAllDay", event.is_all_day))
        if "start" in payload:
            start = _read_time(payload["start"])
        if "end" in payload:
            end = _read_time(payload["end"])
        if end < start:
            raise GraphError(400, "ErrorInvalidRequest", "The end time must not be before the start time.")
        if all_day and any((b.hour, b.minute, b.second, b.microsecond) != (0, 0, 0, 0) for b in (start, end)):
            raise GraphError(
                400, "ErrorPropertyValidationFailure", "All-day events must start and end at midnight."
            )
        show_as = payload.get("showAs", event.show_as)
        if show_as not in _SHOW_AS:
            raise GraphError(400, "ErrorInvalidRequest", f"showAs '{show_as}' is not valid.")
        event.start, event.end, event.is_all_day, event.show_as = start, end, all_day, show_as
        if "subject" in payload:
            event.subject = str(payload["subject"] or "")
        if isinstance(payload.get("body"), dict):
            event.body = str(payload["body"].get("content") or "")
        if isinstance(payload.get("location"), dict):
            event.location = str(payload["location"].get("displayName") or "")
        if isinstance(payload.get("attendees"), list):
            event.attendees = [str(a["emailAddress"]["address"]) for a in payload["attendees"]]

    def _store(self, event: Event, change: str) -> None:
        self._seq += 1
        event.seq = self._seq
        event.modified = self.clock()
        event.change_key = secrets.token_urlsafe(9)
        self._events[event.id] = event
        self._notify(event, change)

    def _remove(self, event: Event) -> None:
        self._seq += 1
        del self._events[event.id]
        self._tombstones[event.id] = (event.calendar_id, self._seq)
        self._notify(event, "deleted")

    def _event_json(self, event: Event, *, zone_name: str) -> dict[str, Any]:
        zone = _zone(zone_name)
        user = self._users[event.user_id]

        def bound(instant: datetime) -> dict[str, str]:
            if event.is_all_day:  # all-day events are floating dates: shown as midnight, not converted
                return {"dateTime": _graph_time(instant), "timeZone": zone_name}
            return {"dateTime": _graph_time(instant.astimezone(zone)), "timeZone": zone_name}

        return {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": f'W/"{event.change_key}"',
            "id": event.id,
            "createdDateTime": _iso_z(event.created),
            "lastModifiedDateTime": _iso_z(event.modified),
            "changeKey": event.change_key,
            "transactionId": event.transaction_id,
            "subject": event.subject,
            "bodyPreview": event.body[:255],
            "body": {"contentType": "text", "content": event.body},
            "isAllDay": event.is_all_day,
            "isCancelled": event.is_cancelled,
            "isOrganizer": event.response == "organizer",
            "showAs": event.show_as,
            "type": "singleInstance",
            "seriesMasterId": None,
            "responseStatus": {"response": event.response, "time": "0001-01-01T00:00:00Z"},
            "start": bound(event.start),
            "end": bound(event.end),
            "originalStartTimeZone": "UTC",
            "originalEndTimeZone": "UTC",
            "location": {"displayName": event.location},
            "attendees": [
                {"type": "required", "emailAddress": {"address": a}, "status": {"response": "none"}}
                for a in event.attendees
            ],
            "organizer": {"emailAddress": {"name": user.name, "address": user.email}},
        }

    # ------------------------------------------------------ subscriptions

    def _create_subscription(self, user_id: str, payload: dict[str, Any]) -> _Reply:
        change_types = frozenset(str(payload.get("changeType", "")).split(","))
        if not change_types or not change_types <= _CHANGE_TYPES:
            raise GraphError(400, "InvalidRequest", "changeType must be created, updated and/or deleted.")
        url = str(payload.get("notificationUrl") or "")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise GraphError(400, "InvalidRequest", "notificationUrl must be an https URL.")
        resource = str(payload.get("resource") or "")
        client_state = payload.get("clientState")
        if client_state is not None and len(str(client_state)) > 128:
            raise GraphError(400, "InvalidRequest", "clientState must be at most 128 characters.")
        with self._lock:
            calendar_id = self._subscription_calendar(user_id, resource)
            expires_at = self._expiration(payload)
        token = (
            f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        )
        passed = self._handshake(url, token)  # outside the lock: the receiver may call us back
        with self._lock:
            self.validations.append(Validation(url, token, passed))
            if not passed:
                raise GraphError(
                    400,
                    "ValidationError",
                    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
                    "to validation request.",
                )
            sub = Subscription(
                id=str(uuid.uuid4()),
                user_id=user_id,
                resource=resource,
                calendar_id=calendar_id,
                change_types=change_types,
                notification_url=url,
                client_state=None if client_state is None else str(client_state),
                expires_at=expires_at,
                client_id=self.client_id,
            )
            self._subscriptions[sub.id] = sub
            return _json_reply(201, self._subscription_json(sub))

    def _subscription_calendar(self, user_id: str, resource: str) -> str | None:
        if _ME_EVENTS.match(resource):
            return None
        match = _CALENDAR_EVENTS.match(resource)
        if match is None:
            raise GraphError(400, "InvalidRequest", f"Unsupported resource '{resource}'.")
        return self._calendar(user_id, match.group(1)).id

    def _expiration(self, payload: dict[str, Any]) -> datetime:
        try:
            expires_at = _parse_instant(str(payload["expirationDateTime"]))
        except (KeyError, ValueError) as exc:
            raise GraphError(400, "InvalidRequest", "expirationDateTime is required.") from exc
        now = self.clock()
        if expires_at <= now:
            raise GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.")
        if expires_at > now + SUBSCRIPTION_MAX_LIFETIME:
            raise GraphError(
                400, "InvalidRequest", "Subscription expiration can only be 10080 minutes in the future."
            )
        return expires_at

    def _handshake(self, url: str, token: str) -> bool:
        separator = "&" if urllib.parse.urlsplit(url).query else "?"
        request = urllib.request.Request(
            f"{url}{separator}validationToken={urllib.parse.quote(token, safe='')}",
            data=b"",
            headers={"Content-Type": "text/plain; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.validation_timeout_s) as answer:
                content_type = answer.headers.get("Content-Type", "")
                return (
                    answer.status == 200
                    and content_type.split(";")[0].strip().lower() == "text/plain"
                    and answer.read().decode() == token
                )
        except (OSError, ValueError):  # HTTPError, URLError, timeouts, refused connections
            return False

    def _subscription_call(self, user_id: str, method: str, subscription_id: str, body: bytes) -> _Reply:
        sub = self._subscriptions.get(subscription_id)
        if sub is None or sub.user_id != user_id or not self._live(sub):
            raise GraphError(404, "ResourceNotFound", "The object was not found.")
        if method == "GET":
            return _json_reply(200, self._subscription_json(sub))
        if method == "PATCH":
            sub.expires_at = self._expiration(_json_body(body))
            return _json_reply(200, self._subscription_json(sub))
        if method == "DELETE":
            sub.deleted = True
            return _Reply(204)
        raise GraphError(405, "BadRequest", "method not allowed")

    def _live(self, sub: Subscription) -> bool:
        return not sub.deleted and sub.expires_at > self.clock()

    def _subscription_json(self, sub: Subscription) -> dict[str, Any]:
        return {
            "@odata.context": f"{self.api_url}/$metadata#subscriptions/$entity",
            "id": sub.id,
            "resource": sub.resource,
            "applicationId": sub.client_id,
            "changeType": ",".join(sorted(sub.change_types)),
            "clientState": sub.client_state,
            "notificationUrl": sub.notification_url,
            "expirationDateTime": sub.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
            "creatorId": sub.user_id,
            "latestSupportedTlsVersion": "v1_2",
        }

    # ------------------------------------------------------ notifications

    def _notify(self, event: Event, change: str) -> None:
        for sub in self._subscriptions.values():
            if not self._live(sub) or sub.user_id != event.user_id or change not in sub.change_types:
                continue
            if sub.calendar_id is not None and sub.calendar_id != event.calendar_id:
                continue
            resource = f"Users/{event.user_id}/Events/{event.id}"
            body = {
                "value": [
                    {
                        "subscriptionId": sub.id,
                        "subscriptionExpirationDateTime": _iso_z(sub.expires_at),
                        "changeType": change,
                        "resource": resource,
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.Event",
                            "@odata.id": resource,
                            "@odata.etag": f'W/"{event.change_key}"',
                            "id": event.id,
                        },
                        "clientState": sub.client_state,
                        "tenantId": "00000000-0000-0000-0000-000000000001",
                    }
                ]
            }
            self._outbox.append((sub.notification_url, body))
        self._outbox_ready.notify_all()

    def _deliver_forever(self) -> None:
        while True:
            with self._lock:
                while not self._outbox and not self._stopping:
                    self._outbox_ready.wait()
                if self._stopping:
                    return
                url, body = self._outbox.pop(0)
                self._in_flight += 1
            status = self._post_json(url, body)
            with self._lock:
                self.deliveries.append(Delivery(url, body, status))
                self._in_flight -= 1
                self._outbox_ready.notify_all()

    def _post_json(self, url: str, body: dict[str, Any]) -> int | None:
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.notification_timeout_s) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except (OSError, ValueError):
            return None


# ----------------------------------------------------------------- helpers


def _bound(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("event bounds must be aware datetimes (or dates for all-day events)")
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _zone(name: str) -> ZoneInfo:
    if name in ("UTC", "Etc/UTC"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{name}'.",
        ) from exc


def _read_time(value: Any) -> datetime:
    """A Graph ``dateTimeTimeZone`` body value as an aware UTC instant."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise GraphError(400, "ErrorPropertyValidationFailure", "start/end need dateTime and timeZone.")
    zone = _zone(str(value.get("timeZone") or ""))
    try:
        wall = datetime.fromisoformat(str(value["dateTime"]))
    except ValueError as exc:
        raise GraphError(400, "ErrorPropertyValidationFailure", "dateTime is not valid.") from exc
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=zone)
    return wall.astimezone(UTC)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(payload, dict):
        raise GraphError(400, "BadRequest", "The request payload must be a JSON object.")
    return payload


def _prefer(headers: Any) -> dict[str, str]:
    """``Prefer`` preferences (repeated headers or comma-separated), e.g.
    ``{"odata.maxpagesize": "50", "outlook.timezone": "UTC"}``."""
    found: dict[str, str] = {}
    for header in headers.get_all("Prefer") or []:
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name:
                found[name.strip().lower()] = value.strip().strip('"')
    return found


def _page(content: str) -> bytes:
    return (
        "<!doctype html><html><head><title>Sign in to your account (fake)</title></head>"
        f"<body><h1>Microsoft (fake)</h1>{content}</body></html>"
    ).encode()


def _handler_for(fake: FakeMicrosoft) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = fake.handle(self.command, self.path, self.headers, body)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.close_connection = True

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tokens ride in queries
            del format, args

    return Handler


def main() -> None:  # pragma: no cover - manual use with make dev
    """``python -m localdev.fake_providers.microsoft [--port N]``: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with FakeMicrosoft(port=args.port) as fake:
        print(json.dumps(fake.client_kwargs(), indent=2), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
