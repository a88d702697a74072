"""What Slotbook needs from a calendar provider, independent of Google or Microsoft.

Instants are aware UTC datetimes. A *cursor* is the provider's incremental-sync handle: Google's
``nextSyncToken``, Graph's ``@odata.deltaLink``; ``None`` asks for a full sync.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ProviderError(Exception):
    """A provider call failed. ``retryable``: 429, 5xx, timeouts — worth another attempt later."""

    def __init__(self, detail: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(detail)
        self.retryable = retryable
        self.status = status


class RateLimited(ProviderError):
    """429 (or 403 rateLimitExceeded) still failing after the client's own bounded retries."""

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail, retryable=True, status=429)
        self.retry_after_s = retry_after_s


class SyncCursorExpired(ProviderError):
    """Google 410 Gone on a sync token, Graph 410 / resyncRequired on a delta link: start over
    with a full sync."""

    def __init__(self, detail: str = "sync cursor expired") -> None:
        super().__init__(detail, retryable=False, status=410)


class ReauthorizationRequired(ProviderError):
    """The refresh token was revoked or expired (``invalid_grant``): the user must consent again."""

    def __init__(self, detail: str = "the provider refused the refresh token") -> None:
        super().__init__(detail, retryable=False, status=400)


class AccessTokenRejected(ProviderError):
    """The provider answered 401 to an API call (not the token endpoint): the access token expired
    or was revoked. Not retryable as is: the caller refreshes the tokens and calls again (a refresh
    that fails raises :class:`ReauthorizationRequired`)."""

    def __init__(self, detail: str = "the provider refused the access token") -> None:
        super().__init__(detail, retryable=False, status=401)


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE ``(code_verifier, code_challenge)`` pair (RFC 7636 §4.1-4.2, method ``S256``).

    The verifier is 43 characters of the unreserved base64url alphabet (``secrets.token_urlsafe``
    of 32 random octets, the RFC's recommendation; the RFC allows 43-128); the challenge is
    ``BASE64URL(SHA256(ASCII(code_verifier)))`` without ``=`` padding (43 characters). The caller
    sends the challenge in :meth:`CalendarProvider.authorization_url` and keeps the verifier for
    :meth:`CalendarProvider.exchange_code`."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return verifier, challenge


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str = ""
    account_email: str | None = None
    """The connected account (from the ID token or a profile call), when the provider says."""


@dataclass(frozen=True)
class ProviderCalendar:
    """One calendar of the connected account (the oHallo ``/calendars`` item)."""

    calendar_id: str
    name: str
    primary: bool = False


@dataclass(frozen=True)
class BusyChange:
    """One provider event as busy time: ``busy`` False when it was deleted/cancelled or is marked
    free/transparent (then it removes any busy interval stored under ``event_id``)."""

    event_id: str
    start: datetime | None
    end: datetime | None
    busy: bool


@dataclass(frozen=True)
class SyncPage:
    """The result of a (full or incremental) sync, all pages followed: the changes and the cursor
    for the next incremental sync. ``full`` tells the caller to replace, not merge, its copy."""

    changes: list[BusyChange] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False


@dataclass(frozen=True)
class WatchChannel:
    """A push channel (Google ``events.watch``) or subscription (Graph) on one calendar."""

    channel_id: str
    resource_id: str
    expires_at: datetime
    token: str
    """What the provider echoes on every notification (Google ``X-Goog-Channel-Token``, Graph
    ``clientState``): the webhook checks it."""


@dataclass(frozen=True)
class EventDraft:
    """An event Slotbook writes on the provider calendar for a booking."""

    title: str
    start: datetime
    end: datetime
    description: str = ""
    location: str = ""
    attendees: list[str] = field(default_factory=list)


class CalendarProvider(Protocol):
    """One provider. Every method takes a valid access token (callers refresh first) and raises
    :class:`ProviderError` (or a subclass) on failure: :class:`AccessTokenRejected` when the
    provider refuses the access token (refresh, then call again)."""

    name: str

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OAuthTokens: ...

    def refresh(self, refresh_token: str) -> OAuthTokens: ...

    def list_calendars(self, access_token: str) -> list[ProviderCalendar]: ...

    def sync(self, access_token: str, calendar_id: str, cursor: str | None) -> SyncPage: ...

    def watch(
        self, access_token: str, calendar_id: str, *, address: str, token: str, ttl_s: int
    ) -> WatchChannel: ...

    def stop_watch(self, access_token: str, channel: WatchChannel) -> None: ...

    def create_event(
        self, access_token: str, calendar_id: str, draft: EventDraft, *, idempotency_key: str
    ) -> str: ...

    def update_event(self, access_token: str, calendar_id: str, event_id: str, draft: EventDraft) -> None: ...

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None: ...


Sleep = Callable[[float], None]
