"""Plumbing shared by the provider clients (:mod:`.google`, :mod:`.microsoft`): plain HTTPS with the
standard library, bounded retries honouring ``Retry-After``, bearer-token API calls, the OAuth 2.0
token endpoint and a few small parsing helpers. Nothing here puts a token in a log line or an
exception message (messages name the method and the URL path, never the query: it may carry a
sync token or a delta token)."""

from __future__ import annotations

import email.utils
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotbook.providers.base import (
    AccessTokenRejected,
    OAuthTokens,
    ProviderError,
    RateLimited,
    ReauthorizationRequired,
    Sleep,
)

_NETWORK_ERRORS = (TimeoutError, urllib.error.URLError, ConnectionError)


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP answer as received (any status): ``status``, ``headers`` and the raw ``body``.
    ``provider`` (``google``/``microsoft``) names the client in error messages."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    provider: str = "provider"

    def json(self) -> dict[str, Any]:
        """The body as a JSON object: ``{}`` when it is empty or JSON but not an object. Raises a
        non-retryable :class:`ProviderError` (with this ``status``) when it is not JSON."""
        if not self.body:
            return {}
        try:
            parsed = json.loads(self.body)
        except ValueError as exc:
            raise ProviderError(
                f"{self.provider} answered {self.status} with a body that is not JSON",
                retryable=False,
                status=self.status,
            ) from exc
        return parsed if isinstance(parsed, dict) else {}

    def json_or_empty(self) -> dict[str, Any]:
        """Like :meth:`json`, but ``{}`` for a body that is not JSON either (for reading error
        details, which must not mask the status)."""
        try:
            return self.json()
        except ProviderError:
            return {}


def _is_429(response: HttpResponse) -> bool:
    return response.status == 429


def _is_5xx(response: HttpResponse) -> bool:
    return response.status >= 500


def _no_reason(response: HttpResponse) -> str:
    return ""


class RetryingTransport:
    """The HTTPS transport of one provider client (it keeps no per-user state, so it is as
    thread-safe as the client).

    :meth:`send` is one logical call with bounded retries: a timeout or refused connection, and an
    answer that ``is_rate_limited`` (default: 429) or ``is_transient`` (default: 5xx), are retried up
    to ``max_attempts`` times in all. A wait honours ``Retry-After`` (seconds or HTTP date, see
    :func:`retry_after_s`) when the answer has one, else exponential backoff with jitter
    (``backoff_base_s * 2**n`` for the ``n``-th retry, scaled by ``0.5 + rand() / 2``, a factor in
    [0.5, 1)). The sum of the waits is capped by ``max_total_sleep_s``: a wait that would pass it is
    not taken. When the bound is reached a rate limit raises :class:`RateLimited` (with the last
    ``Retry-After``), anything else a retryable :class:`ProviderError`. Any other status not in
    ``accept`` raises a non-retryable :class:`ProviderError` at once, with ``reason(response)``
    (e.g. ``" (notFound)"``) in the message. ``sleep``/``rand``/``clock`` are injectable so tests
    never wait; ``log``, when given, gets a warning before every retry."""

    def __init__(
        self,
        provider: str,
        *,
        sleep: Sleep,
        clock: Callable[[], datetime],
        rand: Callable[[], float],
        timeout_s: float,
        max_attempts: int,
        backoff_base_s: float,
        max_total_sleep_s: float,
        is_rate_limited: Callable[[HttpResponse], bool] = _is_429,
        is_transient: Callable[[HttpResponse], bool] = _is_5xx,
        reason: Callable[[HttpResponse], str] = _no_reason,
        log: logging.Logger | None = None,
    ) -> None:
        self.provider = provider
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._timeout_s = timeout_s
        self._max_attempts = max(1, max_attempts)
        self._backoff_base_s = backoff_base_s
        self._max_total_sleep_s = max_total_sleep_s
        self._is_rate_limited = is_rate_limited
        self._is_transient = is_transient
        self._reason = reason
        self._log = log

    def send(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], accept: set[int]
    ) -> HttpResponse:
        """One logical call with bounded retries (class docstring). ``accept``: the statuses
        returned to the caller; any other raises."""
        slept = 0.0
        what = f"{method} {urllib.parse.urlsplit(url).path}"  # no query: it may carry a token
        for attempt in range(self._max_attempts):
            last = attempt == self._max_attempts - 1
            try:
                response = self._once(method, url, body=body, headers=headers)
            except _NETWORK_ERRORS as exc:
                wait = self._backoff(attempt)
                if last or slept + wait > self._max_total_sleep_s:
                    raise ProviderError(
                        f"{self.provider} {what} unreachable after {attempt + 1} attempts: "
                        f"{type(exc).__name__}",
                        retryable=True,
                    ) from exc
                if self._log:
                    self._log.warning(
                        "%s %s failed (%s); retrying in %.2fs", self.provider, what, type(exc).__name__, wait
                    )
                self._sleep(wait)
                slept += wait
                continue
            if response.status in accept:
                return response
            rate_limited = self._is_rate_limited(response)
            if not (rate_limited or self._is_transient(response)):
                raise ProviderError(
                    f"{self.provider} {what} answered {response.status}{self._reason(response)}",
                    retryable=False,
                    status=response.status,
                )
            retry_after = retry_after_s(response.headers.get("Retry-After"), self._clock())
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            if last or slept + wait > self._max_total_sleep_s:
                detail = f"{self.provider} {what} answered {response.status} after {attempt + 1} attempts"
                if rate_limited:
                    raise RateLimited(detail, retry_after_s=retry_after)
                raise ProviderError(detail, retryable=True, status=response.status)
            if self._log:
                self._log.warning(
                    "%s %s answered %s; retrying in %.2fs", self.provider, what, response.status, wait
                )
            self._sleep(wait)
            slept += wait
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def call_api(
        self,
        access_token: str,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: set[int],
    ) -> HttpResponse:
        """An API call with ``Authorization: Bearer``, ``Accept: application/json`` and, when
        given, ``json_body`` sent as JSON (plus any extra ``headers``), through :meth:`send`.
        A 401 raises :class:`AccessTokenRejected` (the access token was refused: refresh it)."""
        sent = {"Authorization": f"Bearer {access_token}", "Accept": "application/json", **(headers or {})}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        response = self.send(method, url, body=body, headers=sent, accept={*accept, 401})
        if response.status == 401 and 401 not in accept:
            what = f"{method} {urllib.parse.urlsplit(url).path}"
            raise AccessTokenRejected(f"{self.provider} {what} answered 401{self._reason(response)}")
        return response

    def request_tokens(
        self,
        token_url: str,
        form: Mapping[str, str],
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        account_email: Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> OAuthTokens:
        """POST ``form`` (a grant, with ``client_id``/``client_secret`` added) to the OAuth 2.0
        token endpoint as ``application/x-www-form-urlencoded`` and read the answer (RFC 6749 §5).
        The result keeps ``refresh_token`` unless the provider sent a new one; ``expires_at`` is
        ``clock() + expires_in`` (3600 s when absent); ``account_email(payload)`` names the account.
        Raises :class:`ReauthorizationRequired` on ``invalid_grant``, a non-retryable
        :class:`ProviderError` on any other refusal (e.g. 401 ``invalid_client``) or an answer
        without ``access_token``; 5xx and 429 are retried like any call."""
        body = urllib.parse.urlencode(
            {**form, "client_id": client_id, "client_secret": client_secret}
        ).encode()
        response = self.send(
            "POST",
            token_url,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            accept={200, 400, 401},
        )
        payload = response.json()
        if response.status != 200:
            error = str(payload.get("error", "unknown_error"))
            if error == "invalid_grant":
                raise ReauthorizationRequired(f"{self.provider} refused the grant: {error}")
            raise ProviderError(
                f"{self.provider} token endpoint answered {response.status} {error}",
                retryable=False,
                status=response.status,
            )
        access_token = payload.get("access_token")
        if not isinstance(access_token, str):
            raise ProviderError(
                f"{self.provider} token response without access_token", retryable=False, status=200
            )
        expires_in = int(payload.get("expires_in", 3600))
        return OAuthTokens(
            access_token=access_token,
            refresh_token=payload.get("refresh_token") or refresh_token,
            expires_at=self._clock() + timedelta(seconds=expires_in),
            scope=str(payload.get("scope", "")),
            account_email=account_email(payload) if account_email else None,
        )

    def _backoff(self, attempt: int) -> float:
        return self._backoff_base_s * (2**attempt) * (0.5 + self._rand() / 2)

    def _once(self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str]) -> HttpResponse:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as raw:
                return HttpResponse(raw.status, raw.headers, raw.read(), self.provider)
        except urllib.error.HTTPError as err:
            with err:
                return HttpResponse(err.code, err.headers, err.read(), self.provider)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date (RFC 9110 §10.2.3; a
    date in the past is 0). ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def utcnow() -> datetime:
    """The current instant, aware UTC (the clients' default ``clock``)."""
    return datetime.now(UTC)


def utc_z(instant: datetime) -> str:
    """An aware instant as RFC 3339 / ISO 8601 in UTC with ``Z`` (``2027-03-01T09:00:00Z``)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def quote_segment(segment: str) -> str:
    """One URL path segment percent-encoded (``/`` included), e.g. a calendar or event id."""
    return urllib.parse.quote(segment, safe="")


def zone(name: object) -> ZoneInfo | None:
    """An IANA zone by name; ``None`` for a missing or unknown name (e.g. a Windows zone name)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
