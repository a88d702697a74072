"""Microsoft Graph calendars (v1.0) behind :class:`~slotbook.providers.base.CalendarProvider`.

Plain HTTPS with the standard library against the documented REST endpoints:

- Microsoft identity platform (v2.0 endpoints), OAuth 2.0 authorization-code flow with PKCE (S256):
  ``GET https://login.microsoftonline.com/common/oauth2/v2.0/authorize`` (consent) and
  ``POST https://login.microsoftonline.com/common/oauth2/v2.0/token`` (``authorization_code`` /
  ``refresh_token`` grants), scopes ``offline_access Calendars.ReadWrite`` (:data:`SCOPES`).
- Graph v1.0 under ``https://graph.microsoft.com/v1.0``: ``GET /me/calendars``;
  ``GET /me/calendars/{id}/calendarView/delta`` (full round, every ``@odata.nextLink`` followed,
  then incremental rounds from the ``@odata.deltaLink``); ``POST /subscriptions`` (change
  notifications on ``me/calendars/{id}/events``; Graph validates the ``notificationUrl`` with the
  ``validationToken`` handshake before answering), ``PATCH`` / ``DELETE /subscriptions/{id}``;
  ``POST /me/calendars/{id}/events`` (with ``transactionId``), ``PATCH`` / ``DELETE /me/events/{id}``.

The three base URLs are constructor arguments, so tests and ``make dev`` point them at
:mod:`localdev.fake_providers.microsoft`. Nothing here logs or puts a token in an exception message.

**Sync window.** ``calendarView/delta`` only tracks a fixed window, chosen by the first request of a
round and carried by every link after it. Slotbook's window is :data:`WINDOW_BACK` (30 days) before
to :data:`WINDOW_AHEAD` (365 days) after the current UTC midnight. Because Graph's delta tokens
are opaque, the returned cursor is the ``@odata.deltaLink`` with a fragment Slotbook adds
(``#slotbook-window=<start>/<end>``; fragments are never sent in a request). When a cursor's window
started more than :data:`WINDOW_ROLL` (7 days) before today's window would, :meth:`sync` runs a
fresh full round instead (``full=True``) so the horizon keeps rolling forward.

**Retries** (inside every call, by :class:`~slotbook.providers._http.RetryingTransport`): 429,
500, 502, 503, 504, timeouts and refused connections are retried up to ``max_attempts`` times. A
wait honours ``Retry-After`` (seconds or HTTP date; Graph sends it on 429 and often on 503) when
present, else exponential backoff with jitter (``backoff_base_s * 2**n``, scaled by a random factor
in [0.5, 1)); the sum of the waits is capped by ``max_total_sleep_s``. When the bound is reached a
429 raises :class:`RateLimited` (with the last ``Retry-After``), anything else a retryable
:class:`ProviderError`. Other 4xx raise a non-retryable :class:`ProviderError` at once (401 on an
API call: :class:`AccessTokenRejected`, refresh the token and call again; 410 or a
``syncStateNotFound``/``syncStateInvalid``/``resyncRequired`` error on a sync:
:class:`SyncCursorExpired`). Retrying ``POST .../events`` is safe (``transactionId``); retrying
``POST /subscriptions`` after a lost answer may leave an orphan subscription, which expires on its
own.

**Busy time** (:meth:`MicrosoftCalendar.sync`): a calendar view expands recurring series, so every
occurrence/exception is one :class:`BusyChange` keyed by its own id (a stray ``seriesMaster`` is
ignored). An event is *not* busy when it is ``@removed`` (deleted, or moved out of the window),
``isCancelled``, ``showAs`` ``free`` or ``workingElsewhere`` (a working-location entry, like Google's
``workingLocation``), or declined by the mailbox owner (``responseStatus.response: declined``).
Times are requested in UTC (``Prefer: outlook.timezone="UTC"``); a ``timeZone`` Graph still names is
read as an IANA zone. All-day events (``isAllDay``) are busy from midnight of the start date to
midnight of the (exclusive) end date in the event's ``timeZone`` when it is an IANA zone other than
UTC, else in UTC: Graph's calendar resource has no time zone of its own (the mailbox's is in
``mailboxSettings``, which would need another scope).
"""

from __future__ import annotations

import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from slotbook.providers._http import HttpResponse, RetryingTransport, utcnow
from slotbook.providers._http import quote_segment as _quote
from slotbook.providers._http import utc_z as _iso_z
from slotbook.providers._http import zone as _zone
from slotbook.providers.base import (
    BusyChange,
    EventDraft,
    OAuthTokens,
    ProviderCalendar,
    ProviderError,
    Sleep,
    SyncCursorExpired,
    SyncPage,
    WatchChannel,
)

AUTH_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
API_URL = "https://graph.microsoft.com/v1.0"

SCOPES: tuple[str, ...] = ("offline_access", "Calendars.ReadWrite")
"""The minimal scopes: ``offline_access`` (a refresh token is issued) and ``Calendars.ReadWrite``
(list calendars, read the calendar view, subscribe to and write events)."""

WINDOW_BACK = timedelta(days=30)
"""How far before today's UTC midnight a sync round starts (``startDateTime``)."""
WINDOW_AHEAD = timedelta(days=365)
"""How far after today's UTC midnight a sync round ends (``endDateTime``)."""
WINDOW_ROLL = timedelta(days=7)
"""A cursor whose window is this much older than today's is replaced by a full round."""

SUBSCRIPTION_MAX_TTL = timedelta(minutes=10_070)
"""Graph caps subscriptions on Outlook events at 10,080 minutes (under 7 days); Slotbook asks for at
most 10 minutes less, so clock skew never makes Graph refuse the request."""

_WINDOW_FRAGMENT = "#slotbook-window="
_NOT_BUSY_SHOW_AS = frozenset({"free", "workingElsewhere"})
_RESYNC_CODES = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})
_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_MAX_PAGES = 10_000

log = logging.getLogger(__name__)


def _graph_local(instant: datetime) -> dict[str, str]:
    """A Graph ``dateTimeTimeZone`` for an aware instant: the UTC wall time, ``timeZone: UTC``."""
    return {"dateTime": instant.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


class MicrosoftCalendar:
    """A Microsoft Graph calendar client for one app registration (``client_id``/``client_secret``
    from Microsoft Entra; SSM on AWS). Thread-safe: it keeps no per-user state.

    ``sleep`` and ``rand`` are injectable so tests never wait; ``clock`` dates token expiry, the
    sync window and subscription expiry. ``page_size`` is sent as ``Prefer: odata.maxpagesize``.
    ``invite_attendees``: Graph e-mails an invitation to every attendee of an event it creates and
    has no switch to stop it, so by default (``False``: Slotbook sends its own notifications, like
    Google's ``sendUpdates=none``) the draft's attendees are not put on the provider event."""

    name = "microsoft"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        auth_url: str = AUTH_URL,
        token_url: str = TOKEN_URL,
        api_url: str = API_URL,
        scopes: tuple[str, ...] = SCOPES,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        max_total_sleep_s: float = 20.0,
        page_size: int = 50,
        window_back: timedelta = WINDOW_BACK,
        window_ahead: timedelta = WINDOW_AHEAD,
        window_roll: timedelta = WINDOW_ROLL,
        invite_attendees: bool = False,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_url = auth_url
        self._token_url = token_url
        self._api_url = api_url.rstrip("/")
        self._scopes = scopes
        self._clock = clock
        self._page_size = page_size
        self._window_back = window_back
        self._window_ahead = window_ahead
        self._window_roll = window_roll
        self._invite_attendees = invite_attendees
        self._http = RetryingTransport(
            "microsoft",
            sleep=sleep,
            clock=clock,
            rand=rand,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            max_total_sleep_s=max_total_sleep_s,
            is_transient=_is_transient,
            reason=_reason,
            log=log,
        )

    def __repr__(self) -> str:  # never show the secret
        return f"MicrosoftCalendar(client_id={self._client_id!r}, api_url={self._api_url!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """The consent URL to redirect the user to: ``response_type=code``,
        ``response_mode=query``, the minimal :data:`SCOPES` (``offline_access`` makes the token
        endpoint issue a refresh token), ``prompt=select_account``, ``state`` and the PKCE
        ``code_challenge`` (``code_challenge_method=S256``; the caller keeps the verifier)."""
        query = urllib.parse.urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "response_mode": "query",
                "scope": " ".join(self._scopes),
                "prompt": "select_account",
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            },
            quote_via=urllib.parse.quote,
        )
        return f"{self._auth_url}?{query}"

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OAuthTokens:
        """Trade the callback's ``code`` for tokens (``grant_type=authorization_code`` with the PKCE
        ``code_verifier``, the same ``redirect_uri`` and scopes). Raises
        :class:`ReauthorizationRequired` on ``invalid_grant`` (a used, expired or forged code, or
        a verifier that does not match the challenge: AADSTS501481)."""
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self._scopes),
            },
            refresh_token=None,
        )

    def refresh(self, refresh_token: str) -> OAuthTokens:
        """A new access token (``grant_type=refresh_token``). Microsoft rotates refresh tokens: the
        result carries the new one (store it), or the one passed in if none came back. Raises
        :class:`ReauthorizationRequired` on ``invalid_grant`` (revoked or expired refresh token,
        consent withdrawn)."""
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": " ".join(self._scopes)},
            refresh_token=refresh_token,
        )

    def _token_request(self, form: dict[str, str], *, refresh_token: str | None) -> OAuthTokens:
        # no openid/profile scope: Graph names no account here
        return self._http.request_tokens(
            self._token_url,
            form,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=refresh_token,
        )

    # ------------------------------------------------------------ calendars

    def list_calendars(self, access_token: str) -> list[ProviderCalendar]:
        """Every calendar of the signed-in user (``GET /me/calendars``, every ``@odata.nextLink``
        followed). ``primary`` is Graph's ``isDefaultCalendar``."""
        calendars: list[ProviderCalendar] = []
        url = (
            self._api_url
            + "/me/calendars?"
            + urllib.parse.urlencode({"$select": "id,name,isDefaultCalendar", "$top": str(self._page_size)})
        )
        for _ in range(_MAX_PAGES):
            payload = self._api(access_token, "GET", url).json()
            for item in payload.get("value", []):
                calendars.append(
                    ProviderCalendar(
                        calendar_id=str(item["id"]),
                        name=str(item.get("name") or item["id"]),
                        primary=bool(item.get("isDefaultCalendar", False)),
                    )
                )
            next_link = payload.get("@odata.nextLink")
            if not next_link:
                return calendars
            url = self._own_link(str(next_link))
        raise ProviderError("microsoft calendars: too many pages", retryable=False, status=200)

    # ----------------------------------------------------------------- sync

    def sync(self, access_token: str, calendar_id: str, cursor: str | None) -> SyncPage:
        """Busy-time changes since ``cursor``, every page followed (see the module docstring for
        the window and the busy rules).

        ``cursor=None`` (or a cursor whose window has aged by :data:`WINDOW_ROLL`) starts a full
        round over the window: the result has ``full=True`` and lists every event in it. Otherwise
        the cursor's delta link is followed and the result lists only changes, deletions
        included. The returned ``cursor`` is the round's final ``@odata.deltaLink`` (plus the
        window fragment). Raises :class:`SyncCursorExpired` on 410 or a resync error code: the
        caller drops its copy and syncs with ``None``."""
        window_start, window_end = self._window()
        full = True
        if cursor is not None:
            link, cursor_start, cursor_end = _split_cursor(cursor)
            if cursor_start is None or window_start - cursor_start < self._window_roll:
                url = self._own_link(link)
                window_start, window_end = cursor_start or window_start, cursor_end or window_end
                full = False
        if full:
            url = (
                f"{self._api_url}/me/calendars/{_quote(calendar_id)}/calendarView/delta?"
                + urllib.parse.urlencode(
                    {"startDateTime": _iso_z(window_start), "endDateTime": _iso_z(window_end)}
                )
            )
        changes: list[BusyChange] = []
        for _ in range(_MAX_PAGES):
            response = self._api(access_token, "GET", url, prefer_utc=True, accept={410, 400})
            payload = response.json()
            if response.status == 410 or _error_code(payload).lower() in _RESYNC_CODES:
                raise SyncCursorExpired(f"microsoft answered {response.status}: a full sync is required")
            if response.status != 200:
                raise ProviderError(
                    f"microsoft calendarView/delta answered {response.status} ({_error_code(payload)})",
                    retryable=False,
                    status=response.status,
                )
            for item in payload.get("value", []):
                change = _busy_change(item)
                if change is not None:
                    changes.append(change)
            next_link = payload.get("@odata.nextLink")
            if next_link:
                url = self._own_link(str(next_link))
                continue
            delta_link = payload.get("@odata.deltaLink")
            if not delta_link:
                raise ProviderError(
                    "microsoft's last delta page has no deltaLink", retryable=False, status=200
                )
            self._own_link(str(delta_link))
            next_cursor = f"{delta_link}{_WINDOW_FRAGMENT}{_iso_z(window_start)}/{_iso_z(window_end)}"
            return SyncPage(changes=changes, cursor=next_cursor, full=full)
        raise ProviderError("microsoft calendarView/delta: too many pages", retryable=False, status=200)

    def _window(self) -> tuple[datetime, datetime]:
        now = self._clock().astimezone(UTC)
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
        return midnight - self._window_back, midnight + self._window_ahead

    # ---------------------------------------------------------------- watch

    def watch(
        self, access_token: str, calendar_id: str, *, address: str, token: str, ttl_s: int
    ) -> WatchChannel:
        """Subscribe to ``created,updated,deleted`` changes of the calendar's events
        (``POST /subscriptions``, resource ``me/calendars/{id}/events``). Graph first POSTs
        ``address?validationToken=...`` and creates the subscription only if that answers 200 with
        the token in ``text/plain`` within 10 seconds; a failed handshake raises a non-retryable
        :class:`ProviderError` (400). ``token`` becomes the ``clientState`` (at most 128
        characters) echoed on every notification. The lifetime is ``ttl_s`` capped at
        :data:`SUBSCRIPTION_MAX_TTL`; the returned ``expires_at`` is Graph's. Renew with
        :meth:`renew_watch` before it passes."""
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": address,
            "resource": f"me/calendars/{calendar_id}/events",
            "expirationDateTime": _iso_z(self._expiry(ttl_s)),
            "clientState": token,
            "latestSupportedTlsVersion": "v1_2",
        }
        payload = self._api(access_token, "POST", self._api_url + "/subscriptions", json_body=body).json()
        return self._channel(payload, token=token)

    def renew_watch(self, access_token: str, channel: WatchChannel, *, ttl_s: int) -> WatchChannel:
        """Extend a subscription (``PATCH /subscriptions/{id}`` with a new ``expirationDateTime``,
        ``now + ttl_s`` capped at :data:`SUBSCRIPTION_MAX_TTL`). A subscription Graph no longer
        knows (expired or deleted) raises a non-retryable :class:`ProviderError` with status 404:
        create a new one with :meth:`watch`."""
        payload = self._api(
            access_token,
            "PATCH",
            f"{self._api_url}/subscriptions/{_quote(channel.channel_id)}",
            json_body={"expirationDateTime": _iso_z(self._expiry(ttl_s))},
        ).json()
        return self._channel(payload, token=channel.token, fallback=channel)

    def stop_watch(self, access_token: str, channel: WatchChannel) -> None:
        """Delete a subscription (``DELETE /subscriptions/{id}``). One Graph no longer knows
        (expired or already deleted: 404) counts as deleted."""
        self._api(
            access_token,
            "DELETE",
            f"{self._api_url}/subscriptions/{_quote(channel.channel_id)}",
            accept={404},
        )

    def _expiry(self, ttl_s: int) -> datetime:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        return self._clock() + min(timedelta(seconds=ttl_s), SUBSCRIPTION_MAX_TTL)

    def _channel(
        self, payload: Mapping[str, Any], *, token: str, fallback: WatchChannel | None = None
    ) -> WatchChannel:
        try:
            expires_at = datetime.fromisoformat(str(payload["expirationDateTime"])).astimezone(UTC)
            channel_id = str(payload.get("id") or (fallback.channel_id if fallback else ""))
        except (KeyError, ValueError) as exc:
            raise ProviderError("microsoft subscription without expirationDateTime", retryable=False) from exc
        if not channel_id:
            raise ProviderError("microsoft subscription without id", retryable=False)
        resource = payload.get("resource") or (fallback.resource_id if fallback else "")
        return WatchChannel(
            channel_id=channel_id, resource_id=str(resource), expires_at=expires_at, token=token
        )

    # --------------------------------------------------------------- events

    def create_event(
        self, access_token: str, calendar_id: str, draft: EventDraft, *, idempotency_key: str
    ) -> str:
        """Create the event on the calendar (``POST /me/calendars/{id}/events``) with
        ``transactionId = idempotency_key`` and return Graph's event id. Graph uses the
        transactionId to avoid redundant creates when a client retries, so repeating the call with
        the same key answers the event created the first time instead of a second one."""
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        payload = self._api(
            access_token,
            "POST",
            f"{self._api_url}/me/calendars/{_quote(calendar_id)}/events",
            json_body={**self._event_body(draft), "transactionId": idempotency_key},
        ).json()
        event_id = payload.get("id")
        if not event_id:
            raise ProviderError("microsoft created an event without an id", retryable=False, status=201)
        return str(event_id)

    def update_event(self, access_token: str, calendar_id: str, event_id: str, draft: EventDraft) -> None:
        """Rewrite the event's subject, times, body, location (and attendees when invited)
        (``PATCH /me/events/{id}``; Graph event ids are unique in the mailbox, so ``calendar_id``
        is not needed; repeating it is harmless). A missing event raises a non-retryable
        :class:`ProviderError` with status 404."""
        del calendar_id
        self._api(
            access_token,
            "PATCH",
            f"{self._api_url}/me/events/{_quote(event_id)}",
            json_body=self._event_body(draft),
        )

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        """Delete the event (``DELETE /me/events/{id}``; Graph sends attendees a cancellation).
        Unknown (404) counts as deleted, so a retried cancellation is harmless."""
        del calendar_id
        self._api(access_token, "DELETE", f"{self._api_url}/me/events/{_quote(event_id)}", accept={404})

    def _event_body(self, draft: EventDraft) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": draft.title,
            "body": {"contentType": "text", "content": draft.description},
            "start": _graph_local(draft.start),
            "end": _graph_local(draft.end),
            "location": {"displayName": draft.location},
            "showAs": "busy",
            "isReminderOn": False,
        }
        if self._invite_attendees:
            body["attendees"] = [
                {"emailAddress": {"address": address}, "type": "required"} for address in draft.attendees
            ]
        return body

    # ------------------------------------------------------------ transport

    def _own_link(self, link: str) -> str:
        """A ``nextLink``/``deltaLink`` is only followed (with the bearer token) when it points
        under the configured API URL: a forged cursor cannot send the token elsewhere."""
        if not link.startswith(self._api_url + "/"):
            raise ProviderError("microsoft link outside the Graph API URL refused", retryable=False)
        return link

    def _api(
        self,
        access_token: str,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        prefer_utc: bool = False,
        accept: set[int] | None = None,
    ) -> HttpResponse:
        headers: dict[str, str] = {}
        if prefer_utc:
            headers["Prefer"] = f'odata.maxpagesize={self._page_size}, outlook.timezone="UTC"'
        return self._http.call_api(
            access_token,
            method,
            url,
            json_body=json_body,
            headers=headers,
            accept={200, 201, 202, 204, *(accept or ())},
        )


# ------------------------------------------------------------------ helpers


def _split_cursor(cursor: str) -> tuple[str, datetime | None, datetime | None]:
    """``deltaLink#slotbook-window=<start>/<end>`` → the link and the window (``None`` when the
    cursor is a bare delta link)."""
    link, marker, window = cursor.partition(_WINDOW_FRAGMENT)
    if not marker:
        return cursor, None, None
    start, _, end = window.partition("/")
    try:
        return link, datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return link, None, None


def _error_code(payload: Mapping[str, Any]) -> str:
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or "")
    return str(error or "")


def _reason(response: HttpResponse) -> str:
    code = _error_code(response.json_or_empty())
    return f" ({code})" if code else ""


def _is_transient(response: HttpResponse) -> bool:
    """500, 502, 503 or 504 (429 is a rate limit, retried too)."""
    return response.status in _TRANSIENT_STATUSES


def _instant(value: Mapping[str, Any] | None, *, all_day: bool) -> datetime | None:
    """A Graph ``dateTimeTimeZone`` in UTC. Timed: the wall time read in ``timeZone`` (UTC when
    asked for with ``Prefer``). All-day: midnight of the date in ``timeZone`` unless it is UTC or
    unknown, then in UTC (module docstring). ``None`` when it cannot be read."""
    if not value or not value.get("dateTime"):
        return None
    wall = datetime.fromisoformat(str(value["dateTime"]))
    zone_name = value.get("timeZone") or "UTC"
    zone = UTC if zone_name in ("UTC", "Etc/UTC") else _zone(zone_name)
    if all_day:
        wall = datetime(wall.year, wall.month, wall.day)
        zone = zone or UTC
    if zone is None:
        return None
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=zone)
    return wall.astimezone(UTC)


def _busy_change(item: Mapping[str, Any]) -> BusyChange | None:
    """One ``calendarView/delta`` item as busy time (rules in the module docstring); ``None`` for
    a series master, whose occurrences come as items of their own."""
    event_id = str(item["id"])
    if "@removed" in item:
        return BusyChange(event_id=event_id, start=None, end=None, busy=False)
    if item.get("type") == "seriesMaster":
        return None
    all_day = bool(item.get("isAllDay"))
    try:
        start = _instant(item.get("start"), all_day=all_day)
        end = _instant(item.get("end"), all_day=all_day)
    except ValueError:  # an unreadable boundary cannot block time
        return BusyChange(event_id=event_id, start=None, end=None, busy=False)
    if all_day and start is not None and (end is None or end <= start):
        end = start + timedelta(days=1)
    response = item.get("responseStatus")
    declined = isinstance(response, dict) and response.get("response") == "declined"
    busy = (
        not item.get("isCancelled")
        and item.get("showAs") not in _NOT_BUSY_SHOW_AS
        and not declined
        and start is not None
        and end is not None
        and end > start
    )
    return BusyChange(event_id=event_id, start=start, end=end, busy=busy)
