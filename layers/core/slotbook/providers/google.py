"""Google Calendar (API v3) behind :class:`~slotbook.providers.base.CalendarProvider`.

Plain HTTPS with the standard library against the documented REST endpoints:

- OAuth 2.0 for web server apps, authorization-code flow with PKCE (S256):
  ``GET https://accounts.google.com/o/oauth2/v2/auth`` (consent) and
  ``POST https://oauth2.googleapis.com/token`` (``authorization_code`` / ``refresh_token`` grants).
- Calendar API v3 under ``https://www.googleapis.com/calendar/v3``: ``calendarList.list``,
  ``events.list`` (full sync, then incremental with ``syncToken``; every page followed with
  ``pageToken``), ``events.watch`` / ``channels.stop`` (push channels), ``events.insert`` /
  ``events.patch`` / ``events.delete``.

The three base URLs are constructor arguments, so tests and ``make dev`` point them at
:mod:`localdev.fake_providers.google`. Nothing here logs or puts a token in an exception message.

**Retries** (inside every call, by :class:`~slotbook.providers._http.RetryingTransport`): 429,
403 ``rateLimitExceeded``/``userRateLimitExceeded``, 5xx, timeouts and refused connections are
retried up to ``max_attempts`` times. A wait honours ``Retry-After`` (seconds or HTTP date) when the
provider sends one, else exponential backoff with jitter (``backoff_base_s * 2**n``, scaled by a
random factor in [0.5, 1)); the sum of the waits is capped by ``max_total_sleep_s``. When the bound
is reached a rate limit raises :class:`RateLimited` (with the last ``Retry-After``), anything else a
retryable :class:`ProviderError`. Other 4xx raise a non-retryable :class:`ProviderError` at once
(401 on an API call: :class:`AccessTokenRejected`, refresh the token and call again; 410 on a sync:
:class:`SyncCursorExpired`).

**Busy time** (:meth:`GoogleCalendar.sync`): recurring events are expanded by Google
(``singleEvents=true``), so every instance is one :class:`BusyChange` keyed by its instance id.
An event is *not* busy when it is ``status: cancelled`` (deleted), ``transparency: transparent``
("show as available"), a ``workingLocation`` entry, or declined by the calendar's owner
(``attendees[].self`` with ``responseStatus: declined``). All-day events (``start.date``) are busy
from midnight of the start date to midnight of the (exclusive) end date in the calendar's time zone
(the ``timeZone`` of the ``events.list`` response), or in UTC when Google names no zone or an
unknown one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slotbook.providers._http import HttpResponse, RetryingTransport, utcnow
from slotbook.providers._http import quote_segment as _quote
from slotbook.providers._http import utc_z as _rfc3339
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

AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_URL = "https://www.googleapis.com/calendar/v3"

SCOPES: tuple[str, ...] = (
    "openid",
    "email",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    "https://www.googleapis.com/auth/calendar.events",
)
"""The minimal scopes: ``openid email`` (the ID token names the connected account),
``calendar.calendarlist.readonly`` (``calendarList.list``) and ``calendar.events`` (events
list/watch/insert/patch/delete; ``channels.stop`` accepts any calendar scope)."""

_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_B32HEX_TO_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUV", "abcdefghijklmnopqrstuv")


def event_id_for(idempotency_key: str) -> str:
    """The Google event id Slotbook uses for ``idempotency_key``: the SHA-256 of the key in
    lowercase base32hex without padding (52 characters of ``0-9a-v``), which satisfies the
    ``events.insert`` id rules (base32hex alphabet, 5-1024 characters, unique per calendar).
    The same key always gives the same id, so a retried insert answers 409 instead of duplicating."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").translate(_B32HEX_TO_LOWER)


class GoogleCalendar:
    """A Google Calendar client for one OAuth client (``client_id``/``client_secret`` from the
    Google Cloud console; SSM on AWS). Thread-safe: it keeps no per-user state.

    ``sleep`` and ``rand`` are injectable so tests never wait; ``clock`` dates token expiry and the
    full-sync window. ``full_sync_lookback``: a full sync reads events ending after
    ``now - full_sync_lookback`` (``timeMin``; the incremental syncs that follow report every
    change). ``send_updates`` is the ``sendUpdates`` of event writes (``none``: Slotbook sends its
    own notifications; ``all`` to let Google e-mail the attendees)."""

    name = "google"

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
        page_size: int = 250,
        full_sync_lookback: timedelta = timedelta(days=1),
        send_updates: str = "none",
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_url = auth_url
        self._token_url = token_url
        self._api_url = api_url.rstrip("/")
        self._scopes = scopes
        self._clock = clock
        self._page_size = page_size
        self._full_sync_lookback = full_sync_lookback
        self._send_updates = send_updates
        self._http = RetryingTransport(
            "google",
            sleep=sleep,
            clock=clock,
            rand=rand,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            max_total_sleep_s=max_total_sleep_s,
            is_rate_limited=_is_rate_limited,
            reason=_reason,
        )

    def __repr__(self) -> str:  # never show the secret
        return f"GoogleCalendar(client_id={self._client_id!r}, api_url={self._api_url!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """The consent URL to redirect the user to: ``response_type=code``, the minimal
        :data:`SCOPES`, ``access_type=offline`` + ``prompt=consent`` (so a refresh token is issued
        even on re-consent), ``include_granted_scopes=true``, ``state`` and the PKCE
        ``code_challenge`` (``code_challenge_method=S256``; the caller keeps the verifier)."""
        query = urllib.parse.urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(self._scopes),
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            },
            quote_via=urllib.parse.quote,
        )
        return f"{self._auth_url}?{query}"

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OAuthTokens:
        """Trade the callback's ``code`` for tokens (``grant_type=authorization_code`` with the PKCE
        ``code_verifier``). Raises :class:`ReauthorizationRequired` on ``invalid_grant`` (a used,
        expired or forged code, or a verifier that does not match the challenge)."""
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
            },
            refresh_token=None,
        )

    def refresh(self, refresh_token: str) -> OAuthTokens:
        """A new access token (``grant_type=refresh_token``). Google normally keeps the refresh
        token, so the result carries the one passed in unless Google sent a new one. Raises
        :class:`ReauthorizationRequired` on ``invalid_grant`` (revoked or expired refresh token)."""
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, refresh_token=refresh_token
        )

    def _token_request(self, form: dict[str, str], *, refresh_token: str | None) -> OAuthTokens:
        return self._http.request_tokens(
            self._token_url,
            form,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=refresh_token,
            account_email=lambda payload: _id_token_email(payload.get("id_token")),
        )

    # ------------------------------------------------------------ calendars

    def list_calendars(self, access_token: str) -> list[ProviderCalendar]:
        """Every calendar the account can read (``calendarList.list`` with
        ``minAccessRole=reader``, all pages). The name is the user's ``summaryOverride`` if set."""
        calendars: list[ProviderCalendar] = []
        page_token: str | None = None
        while True:
            params = {"minAccessRole": "reader", "maxResults": str(min(self._page_size, 250))}
            if page_token:
                params["pageToken"] = page_token
            payload = self._api(access_token, "GET", "/users/me/calendarList", params=params).json()
            for item in payload.get("items", []):
                calendars.append(
                    ProviderCalendar(
                        calendar_id=item["id"],
                        name=item.get("summaryOverride") or item.get("summary") or item["id"],
                        primary=bool(item.get("primary", False)),
                    )
                )
            page_token = payload.get("nextPageToken")
            if not page_token:
                return calendars

    # ----------------------------------------------------------------- sync

    def sync(self, access_token: str, calendar_id: str, cursor: str | None) -> SyncPage:
        """Busy-time changes since ``cursor`` (a ``nextSyncToken``), all pages followed.

        ``cursor=None`` is a full sync (``timeMin = now - full_sync_lookback``; the result has
        ``full=True`` and lists only live events). Otherwise an incremental sync with
        ``syncToken`` (Google forbids ``timeMin`` with it) that also reports deletions. The
        returned ``cursor`` is the last page's ``nextSyncToken``. Raises :class:`SyncCursorExpired`
        on 410 (Google's ``fullSyncRequired``): the caller drops its copy and syncs with ``None``."""
        base: dict[str, str] = {"singleEvents": "true", "maxResults": str(self._page_size)}
        if cursor is None:
            base["timeMin"] = _rfc3339(self._clock() - self._full_sync_lookback)
        else:
            base["syncToken"] = cursor
        path = f"/calendars/{_quote(calendar_id)}/events"
        changes: list[BusyChange] = []
        page_token: str | None = None
        while True:
            params = dict(base)
            if page_token:
                params["pageToken"] = page_token
            response = self._api(access_token, "GET", path, params=params, accept_gone=True)
            if response.status == 410:
                raise SyncCursorExpired("google answered 410: a full sync is required")
            payload = response.json()
            zone = _zone(payload.get("timeZone"))
            changes.extend(_busy_change(item, zone) for item in payload.get("items", []))
            page_token = payload.get("nextPageToken")
            if page_token:
                continue
            next_cursor = payload.get("nextSyncToken")
            if not next_cursor:
                raise ProviderError(
                    "google's last events page has no nextSyncToken", retryable=False, status=200
                )
            return SyncPage(changes=changes, cursor=next_cursor, full=cursor is None)

    # ---------------------------------------------------------------- watch

    def watch(
        self, access_token: str, calendar_id: str, *, address: str, token: str, ttl_s: int
    ) -> WatchChannel:
        """Open a push channel on the calendar's events (``events.watch``, ``type=web_hook``) with
        a fresh UUID channel id; Google echoes ``token`` in ``X-Goog-Channel-Token`` and may cap
        the requested expiration (``now + ttl_s``): the returned ``expires_at`` is Google's."""
        requested = self._clock() + timedelta(seconds=ttl_s)
        body = {
            "id": str(uuid.uuid4()),
            "type": "web_hook",
            "address": address,
            "token": token,
            "expiration": int(requested.timestamp() * 1000),
        }
        payload = self._api(
            access_token, "POST", f"/calendars/{_quote(calendar_id)}/events/watch", json_body=body
        ).json()
        expiration = payload.get("expiration")
        expires_at = (
            datetime.fromtimestamp(int(expiration) / 1000, tz=UTC) if expiration is not None else requested
        )
        return WatchChannel(
            channel_id=str(payload.get("id", body["id"])),
            resource_id=str(payload["resourceId"]),
            expires_at=expires_at,
            token=token,
        )

    def stop_watch(self, access_token: str, channel: WatchChannel) -> None:
        """Stop a push channel (``channels.stop``). A channel Google no longer knows (expired or
        already stopped: 404) counts as stopped."""
        self._api(
            access_token,
            "POST",
            "/channels/stop",
            json_body={"id": channel.channel_id, "resourceId": channel.resource_id},
            accept_missing=True,
        )

    # --------------------------------------------------------------- events

    def create_event(
        self, access_token: str, calendar_id: str, draft: EventDraft, *, idempotency_key: str
    ) -> str:
        """Insert the event with the id :func:`event_id_for` (``idempotency_key``) and return it.
        A 409 ``duplicate`` means an earlier attempt with the same key already created it: it is
        patched to the draft (and ``confirmed``, reviving it if it was deleted since) — same id,
        no second event."""
        event_id = event_id_for(idempotency_key)
        response = self._api(
            access_token,
            "POST",
            f"/calendars/{_quote(calendar_id)}/events",
            params={"sendUpdates": self._send_updates},
            json_body={"id": event_id, **_event_body(draft)},
            accept_conflict=True,
        )
        if response.status == 409:
            # Created by an earlier attempt — possibly deleted since (a tombstone keeps the id):
            # make sure it is live and current.
            self.update_event(access_token, calendar_id, event_id, draft)
            return event_id
        return str(response.json().get("id", event_id))

    def update_event(self, access_token: str, calendar_id: str, event_id: str, draft: EventDraft) -> None:
        """Rewrite the event's title, times, description, location and attendees
        (``events.patch``; repeating it is harmless). A missing event raises a non-retryable
        :class:`ProviderError` with status 404 (or 410 when it was deleted)."""
        self._api(
            access_token,
            "PATCH",
            f"/calendars/{_quote(calendar_id)}/events/{_quote(event_id)}",
            params={"sendUpdates": self._send_updates},
            json_body=_event_body(draft),
        )

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        """Delete the event (``events.delete``). Already deleted (410) or unknown (404) counts as
        deleted, so a retried cancellation is harmless."""
        self._api(
            access_token,
            "DELETE",
            f"/calendars/{_quote(calendar_id)}/events/{_quote(event_id)}",
            params={"sendUpdates": self._send_updates},
            accept_missing=True,
            accept_gone=True,
        )

    # ------------------------------------------------------------ transport

    def _api(
        self,
        access_token: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        accept_gone: bool = False,
        accept_missing: bool = False,
        accept_conflict: bool = False,
    ) -> HttpResponse:
        url = self._api_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        accept = {200, 201, 204}
        if accept_gone:
            accept.add(410)
        if accept_missing:
            accept.add(404)
        if accept_conflict:
            accept.add(409)
        return self._http.call_api(access_token, method, url, json_body=json_body, accept=accept)


# ------------------------------------------------------------------ helpers


def _google_error(response: HttpResponse) -> dict[str, Any]:
    error = response.json_or_empty().get("error")
    return error if isinstance(error, dict) else {}


def _reasons(response: HttpResponse) -> set[str]:
    errors = _google_error(response).get("errors") or []
    return {str(e.get("reason")) for e in errors if isinstance(e, dict)}


def _reason(response: HttpResponse) -> str:
    reasons = sorted(_reasons(response))
    return f" ({', '.join(reasons)})" if reasons else ""


def _is_rate_limited(response: HttpResponse) -> bool:
    """429, or Google's 403 with reason ``rateLimitExceeded``/``userRateLimitExceeded``."""
    return response.status == 429 or (
        response.status == 403 and bool(_reasons(response) & _RATE_LIMIT_REASONS)
    )


def _id_token_email(id_token: object) -> str | None:
    """The ``email`` claim of the ID token. The token comes straight from Google's token endpoint
    over TLS, so (OpenID Connect Core §3.1.3.7) its signature need not be checked for this use."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    segment = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return None
    email_claim = claims.get("email") if isinstance(claims, dict) else None
    return email_claim if isinstance(email_claim, str) else None


def _instant(value: Mapping[str, Any] | None, zone: ZoneInfo | None) -> datetime | None:
    """An event boundary in UTC: ``dateTime`` (RFC 3339 with offset; a naive one is read in
    ``timeZone``, else the calendar's zone) or an all-day ``date`` at local midnight."""
    if not value:
        return None
    if value.get("dateTime"):
        instant = datetime.fromisoformat(str(value["dateTime"]))
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=_zone(value.get("timeZone")) or zone or UTC)
        return instant.astimezone(UTC)
    if value.get("date"):
        day = date.fromisoformat(str(value["date"]))
        return datetime(day.year, day.month, day.day, tzinfo=zone or UTC).astimezone(UTC)
    return None


def _busy_change(item: Mapping[str, Any], zone: ZoneInfo | None) -> BusyChange:
    """One ``events.list`` item as busy time (rules in the module docstring)."""
    event_id = str(item["id"])
    try:
        start = _instant(item.get("start"), zone)
        end = _instant(item.get("end"), zone)
    except ValueError:  # an unreadable boundary cannot block time
        return BusyChange(event_id=event_id, start=None, end=None, busy=False)
    declined = any(
        a.get("self") and a.get("responseStatus") == "declined"
        for a in item.get("attendees") or []
        if isinstance(a, dict)
    )
    busy = (
        item.get("status") != "cancelled"
        and item.get("transparency") != "transparent"
        and item.get("eventType") != "workingLocation"
        and not declined
        and start is not None
        and end is not None
        and end > start
    )
    return BusyChange(event_id=event_id, start=start, end=end, busy=busy)


def _event_body(draft: EventDraft) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": draft.title,
        "description": draft.description,
        "location": draft.location,
        "start": {"dateTime": _rfc3339(draft.start), "timeZone": "UTC"},
        "end": {"dateTime": _rfc3339(draft.end), "timeZone": "UTC"},
        "attendees": [{"email": address} for address in draft.attendees],
        # A write always leaves the event live: a PATCH of an event deleted in Google (a
        # "cancelled" tombstone, whose id can't be reused) brings it back.
        "status": "confirmed",
    }
    return body
