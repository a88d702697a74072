"""The Google Calendar client (slotbook.providers.google) against the local fake Google
(localdev.fake_providers.google): OAuth with PKCE, refresh, calendars, full and incremental sync,
410 resync, push channels, retries on 429/5xx/timeouts, idempotent event writes, busy-time rules.

No test sleeps for real: the client's ``sleep`` records the waits, and one settable clock drives
both the client and the fake (token expiry, channel expiry, the full-sync window).
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localdev.fake_providers.google import ConsentError, FakeGoogle
from slotbook.providers.base import (
    AccessTokenRejected,
    CalendarProvider,
    EventDraft,
    OAuthTokens,
    ProviderError,
    RateLimited,
    ReauthorizationRequired,
    SyncCursorExpired,
)
from slotbook.providers.google import SCOPES, GoogleCalendar, event_id_for

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
REDIRECT = "https://slotbook.test/oauth/google/callback"
ACCOUNT = "erik@nordic-parts.dk"
VERIFIER = "v" * 20 + "-verifier-0123456789abcdefghijklmnop"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeGoogle]:
    with FakeGoogle(redirect_uris=(REDIRECT,), clock=clock) as server:
        server.add_account(ACCOUNT, time_zone="Europe/Copenhagen")
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(fake: FakeGoogle, clock: Clock, sleeps: list[float], **options: object) -> GoogleCalendar:
    settings: dict[str, object] = {"page_size": 2, "rand": lambda: 0.0, "timeout_s": 2.0}
    settings.update(options)
    return GoogleCalendar(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        auth_url=fake.auth_url,
        token_url=fake.token_url,
        api_url=fake.api_url,
        sleep=sleeps.append,
        clock=clock,
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
def google(fake: FakeGoogle, clock: Clock, sleeps: list[float]) -> GoogleCalendar:
    return make_client(fake, clock, sleeps)


def connect(google: GoogleCalendar, fake: FakeGoogle, account: str = ACCOUNT) -> OAuthTokens:
    url = google.authorization_url(state="st-1", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    code = query_of(fake.consent(url, account=account))["code"]
    return google.exchange_code(code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT)


@pytest.fixture
def token(google: GoogleCalendar, fake: FakeGoogle) -> str:
    return connect(google, fake).access_token


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def event_pages(fake: FakeGoogle) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.method == "GET" and r.path.endswith("/events")]


# ---------------------------------------------------------------- OAuth


def test_the_client_satisfies_the_provider_protocol(google: GoogleCalendar) -> None:
    provider: CalendarProvider = google
    assert provider.name == "google"
    assert "secret" not in repr(google)


def test_authorization_url_asks_for_offline_access_minimal_scopes_and_pkce(
    google: GoogleCalendar, fake: FakeGoogle
) -> None:
    url = google.authorization_url(state="st-1", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)

    assert url.startswith(fake.auth_url + "?")
    params = query_of(url)
    assert params == {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": "st-1",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    assert "https://www.googleapis.com/auth/calendar" not in params["scope"].split()  # not the broad scope


def test_code_exchange_with_pkce_returns_tokens_and_the_account(
    google: GoogleCalendar, fake: FakeGoogle
) -> None:
    # Given the user consented
    url = google.authorization_url(state="st-1", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    redirect = fake.consent(url, account=ACCOUNT)
    assert redirect.startswith(REDIRECT + "?")
    assert query_of(redirect)["state"] == "st-1"

    # When the callback exchanges the code with the verifier
    tokens = google.exchange_code(
        code=query_of(redirect)["code"], code_verifier=VERIFIER, redirect_uri=REDIRECT
    )

    # Then
    assert tokens.access_token and tokens.refresh_token
    assert tokens.expires_at == NOW + timedelta(seconds=3599)
    assert tokens.account_email == ACCOUNT
    assert set(tokens.scope.split()) == set(SCOPES)


def test_a_wrong_code_verifier_is_refused_and_the_code_is_spent(
    google: GoogleCalendar, fake: FakeGoogle
) -> None:
    url = google.authorization_url(state="s", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    code = query_of(fake.consent(url, account=ACCOUNT))["code"]

    with pytest.raises(ReauthorizationRequired):
        google.exchange_code(code=code, code_verifier="x" * 43, redirect_uri=REDIRECT)
    # Codes are single-use: even the right verifier cannot use it any more
    with pytest.raises(ReauthorizationRequired):
        google.exchange_code(code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT)


def test_a_code_is_single_use(google: GoogleCalendar, fake: FakeGoogle) -> None:
    url = google.authorization_url(state="s", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    code = query_of(fake.consent(url, account=ACCOUNT))["code"]
    google.exchange_code(code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT)

    with pytest.raises(ReauthorizationRequired):
        google.exchange_code(code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT)


def test_the_consent_screen_refuses_unregistered_redirects_and_reports_denial(
    google: GoogleCalendar, fake: FakeGoogle
) -> None:
    bad = google.authorization_url(state="s", code_challenge="c" * 43, redirect_uri="https://evil.test/cb")
    with pytest.raises(ConsentError) as refused:
        fake.consent(bad, account=ACCOUNT)
    assert refused.value.error == "redirect_uri_mismatch"

    url = google.authorization_url(state="s", code_challenge="c" * 43, redirect_uri=REDIRECT)
    assert query_of(fake.consent(url, account=ACCOUNT, allow=False)) == {
        "error": "access_denied",
        "state": "s",
    }


def test_a_wrong_client_secret_is_a_non_retryable_error(
    fake: FakeGoogle, clock: Clock, sleeps: list[float]
) -> None:
    google = make_client(fake, clock, sleeps)
    url = google.authorization_url(state="s", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    code = query_of(fake.consent(url, account=ACCOUNT))["code"]
    impostor = GoogleCalendar(
        client_id=fake.client_id, client_secret="wrong", token_url=fake.token_url, sleep=sleeps.append
    )

    with pytest.raises(ProviderError) as failed:
        impostor.exchange_code(code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT)
    assert (failed.value.status, failed.value.retryable) == (401, False)
    assert not isinstance(failed.value, (ReauthorizationRequired, AccessTokenRejected))
    assert sleeps == []


def test_refresh_issues_a_new_access_token_and_keeps_the_refresh_token(
    google: GoogleCalendar, fake: FakeGoogle, clock: Clock
) -> None:
    tokens = connect(google, fake)
    assert tokens.refresh_token is not None
    # Given the access token expired
    clock.now = NOW + timedelta(hours=2)
    with pytest.raises(AccessTokenRejected) as expired:
        google.list_calendars(tokens.access_token)
    assert (expired.value.status, expired.value.retryable) == (401, False)
    assert tokens.access_token not in str(expired.value)  # tokens never reach messages

    refreshed = google.refresh(tokens.refresh_token)

    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token
    assert refreshed.expires_at == clock.now + timedelta(seconds=3599)
    assert refreshed.account_email == ACCOUNT
    assert google.list_calendars(refreshed.access_token)


def test_a_revoked_refresh_token_requires_reauthorization(google: GoogleCalendar, fake: FakeGoogle) -> None:
    tokens = connect(google, fake)
    assert tokens.refresh_token is not None
    fake.revoke_refresh_tokens(ACCOUNT)

    with pytest.raises(ReauthorizationRequired) as refused:
        google.refresh(tokens.refresh_token)
    assert refused.value.retryable is False
    assert tokens.refresh_token not in str(refused.value)


def test_the_browser_consent_page_redirects_with_a_code_on_allow(
    google: GoogleCalendar, fake: FakeGoogle
) -> None:
    # make dev: GET shows a page with an Allow button; submitting it redirects to the callback
    url = google.authorization_url(state="st-9", code_challenge=challenge(VERIFIER), redirect_uri=REDIRECT)
    with urllib.request.urlopen(url, timeout=5) as page:
        html = page.read().decode()
    assert 'value="allow"' in html and "calendar.events" in html

    form = {**query_of(url), "account": ACCOUNT, "decision": "allow"}
    response = _no_redirect_post(fake.auth_url, urllib.parse.urlencode(form).encode())
    assert response.status == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT) and query_of(location)["state"] == "st-9"
    tokens = google.exchange_code(
        code=query_of(location)["code"], code_verifier=VERIFIER, redirect_uri=REDIRECT
    )
    assert tokens.account_email == ACCOUNT


def _no_redirect_post(url: str, body: bytes) -> urllib.error.HTTPError:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as stopped:
        opener.open(urllib.request.Request(url, data=body, method="POST"), timeout=5)
    return stopped.value


# ------------------------------------------------------------ calendars


def test_list_calendars_follows_pages_and_marks_the_primary(
    google: GoogleCalendar, fake: FakeGoogle, token: str
) -> None:
    fake.add_calendar(ACCOUNT, "sales@nordic-parts.dk", summary="Sales Team Calendar")
    fake.add_calendar(
        ACCOUNT, "holidays@group.v.calendar.google.com", summary="Holidays", access_role="reader"
    )
    fake.add_calendar(
        ACCOUNT, "busy-only@example.com", summary="Free/busy only", access_role="freeBusyReader"
    )
    fake.add_account("someone.else@example.com")

    calendars = google.list_calendars(token)

    assert [(c.calendar_id, c.name, c.primary) for c in calendars] == [
        (ACCOUNT, ACCOUNT, True),
        ("sales@nordic-parts.dk", "Sales Team Calendar", False),
        ("holidays@group.v.calendar.google.com", "Holidays", False),
    ]
    assert len([r for r in fake.requests if r.path.endswith("/calendarList")]) == 2  # page size 2


# ----------------------------------------------------------------- sync


def test_full_sync_follows_every_page_and_returns_a_cursor(
    google: GoogleCalendar, fake: FakeGoogle, token: str
) -> None:
    # Given five events now and one that ended two days ago (outside the full-sync window)
    ids = [fake.add_event(ACCOUNT, start=at(9 + i), end=at(9 + i, 30)) for i in range(5)]
    fake.add_event(ACCOUNT, start=at(9, day=1) - timedelta(days=2), end=at(10, day=1) - timedelta(days=2))

    page = google.sync(token, ACCOUNT, None)

    assert page.full is True and page.cursor
    assert [c.event_id for c in page.changes] == ids
    assert all(c.busy for c in page.changes)
    assert (page.changes[0].start, page.changes[0].end) == (at(9), at(9, 30))
    queries = event_pages(fake)
    assert len(queries) == 3  # 2 + 2 + 1
    assert queries[0]["timeMin"] == "2027-02-28T08:00:00Z" and queries[0]["singleEvents"] == "true"
    assert "pageToken" in queries[1] and "timeMin" in queries[1]  # the same query plus the page token


def test_incremental_sync_returns_only_changes_including_deletions(
    google: GoogleCalendar, fake: FakeGoogle, token: str
) -> None:
    kept = fake.add_event(ACCOUNT, start=at(9), end=at(10))
    moved = fake.add_event(ACCOUNT, start=at(11), end=at(12))
    deleted = fake.add_event(ACCOUNT, start=at(13), end=at(14))
    first = google.sync(token, ACCOUNT, None)

    # When events change on the provider side
    fake.move_event(ACCOUNT, moved, start=at(15), end=at(16))
    fake.delete_event(ACCOUNT, deleted)
    added = [fake.add_event(ACCOUNT, start=at(17, day=2), end=at(18, day=2)) for _ in range(2)]
    second = google.sync(token, ACCOUNT, first.cursor)

    # Then only the changes come back (over two pages), deletions as not busy
    assert second.full is False and second.cursor not in (None, first.cursor)
    by_id = {c.event_id: c for c in second.changes}
    assert set(by_id) == {moved, deleted, *added}
    assert kept not in by_id
    assert (by_id[moved].start, by_id[moved].end, by_id[moved].busy) == (at(15), at(16), True)
    assert by_id[deleted].busy is False
    assert all("timeMin" not in q for q in event_pages(fake) if "syncToken" in q)

    # And nothing changed since: an empty incremental sync
    third = google.sync(token, ACCOUNT, second.cursor)
    assert third.changes == [] and third.cursor


def test_an_expired_sync_cursor_raises_then_a_full_resync_works(
    google: GoogleCalendar, fake: FakeGoogle, token: str, sleeps: list[float]
) -> None:
    event = fake.add_event(ACCOUNT, start=at(9), end=at(10))
    cursor = google.sync(token, ACCOUNT, None).cursor
    fake.expire_sync_tokens(ACCOUNT)

    with pytest.raises(SyncCursorExpired) as gone:
        google.sync(token, ACCOUNT, cursor)
    assert gone.value.status == 410 and gone.value.retryable is False
    assert sleeps == []  # 410 is not retried

    again = google.sync(token, ACCOUNT, None)
    assert again.full is True and [c.event_id for c in again.changes] == [event]
    assert google.sync(token, ACCOUNT, again.cursor).changes == []


def test_busy_rules_transparent_cancelled_declined_and_all_day(
    google: GoogleCalendar, fake: FakeGoogle, token: str
) -> None:
    busy = fake.add_event(ACCOUNT, start=at(9), end=at(10))
    free = fake.add_event(ACCOUNT, start=at(10), end=at(11), transparency="transparent")
    declined = fake.add_event(
        ACCOUNT,
        start=at(11),
        end=at(12),
        attendees=[{"email": ACCOUNT, "self": True, "responseStatus": "declined"}],
    )
    offset = fake.add_event(ACCOUNT, start=at(12), end=at(13), event_id="offset1")
    fake.update_event(
        ACCOUNT,
        offset,
        start={"dateTime": "2027-03-02T14:00:00+01:00", "timeZone": "Europe/Copenhagen"},
        end={"dateTime": "2027-03-02T15:00:00+01:00", "timeZone": "Europe/Copenhagen"},
    )
    all_day = fake.add_event(ACCOUNT, start=date(2027, 3, 3), end=date(2027, 3, 5))  # two days
    cursor = google.sync(token, ACCOUNT, None).cursor

    fake.update_event(ACCOUNT, busy, status="cancelled")
    changes = {c.event_id: c for c in google.sync(token, ACCOUNT, None).changes}
    incremental = {c.event_id: c for c in google.sync(token, ACCOUNT, cursor).changes}

    assert changes[free].busy is False and (changes[free].start, changes[free].end) == (at(10), at(11))
    assert changes[declined].busy is False
    assert (changes[offset].start, changes[offset].end, changes[offset].busy) == (
        at(13, day=2),
        at(14, day=2),
        True,
    )
    # All-day: midnight to midnight in the calendar's zone (Europe/Copenhagen, UTC+1 in March)
    assert changes[all_day].busy is True
    assert changes[all_day].start == datetime(2027, 3, 2, 23, 0, tzinfo=UTC)
    assert changes[all_day].end == datetime(2027, 3, 4, 23, 0, tzinfo=UTC)
    # Cancelled: absent from a full sync, not busy in an incremental one
    assert busy not in changes
    assert incremental[busy].busy is False


def test_all_day_events_fall_back_to_utc_when_the_calendar_zone_is_utc(
    google: GoogleCalendar, fake: FakeGoogle, token: str
) -> None:
    fake.add_calendar(ACCOUNT, "utc-cal@example.com", summary="UTC", time_zone="UTC")
    fake.add_event("utc-cal@example.com", start=date(2027, 3, 3), end=date(2027, 3, 4))

    [change] = google.sync(token, "utc-cal@example.com", None).changes

    assert (change.start, change.end) == (datetime(2027, 3, 3, tzinfo=UTC), datetime(2027, 3, 4, tzinfo=UTC))


def test_another_accounts_calendar_is_a_non_retryable_404(
    google: GoogleCalendar, fake: FakeGoogle, token: str, sleeps: list[float]
) -> None:
    fake.add_account("other@example.com")

    with pytest.raises(ProviderError) as missing:
        google.sync(token, "other@example.com", None)

    assert (missing.value.status, missing.value.retryable) == (404, False)
    assert sleeps == []


# ---------------------------------------------------------------- watch


class Receiver:
    """A tiny webhook receiver: records every POST's headers and answers 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/google"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_watch_delivers_sync_then_change_notifications_with_the_token(
    google: GoogleCalendar, fake: FakeGoogle, token: str, receiver: Receiver, clock: Clock
) -> None:
    channel = google.watch(token, ACCOUNT, address=receiver.url, token="chan-secret-1", ttl_s=3600)

    assert channel.token == "chan-secret-1" and channel.resource_id
    assert channel.expires_at == NOW + timedelta(hours=1)
    [live] = fake.channels(ACCOUNT)
    assert (live["id"], live["address"], live["token"]) == (channel.channel_id, receiver.url, "chan-secret-1")

    # The sync message first, then one per provider-side change
    fake.add_event(ACCOUNT, start=at(9), end=at(10))
    deliveries = fake.wait_for_deliveries(2)
    assert [(d.state, d.message_number, d.status) for d in deliveries] == [
        ("sync", 1, 200),
        ("exists", 2, 200),
    ]
    headers = {k.lower(): v for k, v in receiver.received[1].items()}
    assert headers["x-goog-channel-id"] == channel.channel_id
    assert headers["x-goog-channel-token"] == "chan-secret-1"
    assert headers["x-goog-resource-id"] == channel.resource_id
    assert headers["x-goog-resource-state"] == "exists"
    assert headers["x-goog-message-number"] == "2"
    assert headers["x-goog-channel-expiration"] == format_datetime(channel.expires_at, usegmt=True)


def test_stop_watch_ends_notifications_and_is_idempotent(
    google: GoogleCalendar, fake: FakeGoogle, token: str, receiver: Receiver
) -> None:
    channel = google.watch(token, ACCOUNT, address=receiver.url, token="t", ttl_s=3600)
    fake.wait_for_deliveries(1)

    google.stop_watch(token, channel)
    google.stop_watch(token, channel)  # already stopped: harmless
    fake.add_event(ACCOUNT, start=at(9), end=at(10))

    assert fake.channels() == []
    with pytest.raises(TimeoutError):
        fake.wait_for_deliveries(2, timeout=0.3)


def test_expired_channels_stop_notifying_and_long_ttls_are_capped(
    google: GoogleCalendar, fake: FakeGoogle, token: str, receiver: Receiver, clock: Clock
) -> None:
    capped = google.watch(token, ACCOUNT, address=receiver.url, token="t", ttl_s=90 * 86400)
    assert capped.expires_at == NOW + timedelta(days=30)  # Google's answer wins over the request
    short = google.watch(token, ACCOUNT, address=receiver.url, token="t2", ttl_s=600)
    fake.wait_for_deliveries(2)

    # One channel expires by time, the other through the control API
    clock.now = NOW + timedelta(minutes=11)
    assert [c["id"] for c in fake.channels()] == [capped.channel_id]
    fake.expire_channel(capped.channel_id)
    fake.add_event(ACCOUNT, start=at(9), end=at(10))

    with pytest.raises(TimeoutError):
        fake.wait_for_deliveries(3, timeout=0.3)
    google.stop_watch(token, short)  # expired: 404 counts as stopped


# -------------------------------------------------------------- retries


def test_429_with_retry_after_is_honoured_then_succeeds(
    google: GoogleCalendar, fake: FakeGoogle, token: str, sleeps: list[float], clock: Clock
) -> None:
    fake.fail_next(1, status=429, retry_after="7")
    fake.fail_next(1, status=429, retry_after=format_datetime(NOW + timedelta(seconds=3), usegmt=True))
    fake.fail_next(1, status=403, reason="userRateLimitExceeded")  # Google's other rate-limit answer

    calendars = google.list_calendars(token)

    assert [c.calendar_id for c in calendars] == [ACCOUNT]
    assert sleeps == [7.0, 3.0, 0.5 * 2**2 * 0.5]  # Retry-After seconds, HTTP date, then backoff


def test_rate_limit_beyond_the_bound_raises_rate_limited(
    google: GoogleCalendar, fake: FakeGoogle, token: str, sleeps: list[float]
) -> None:
    fake.fail_next(10, status=429, retry_after="2")

    with pytest.raises(RateLimited) as limited:
        google.sync(token, ACCOUNT, None)

    assert limited.value.retryable is True and limited.value.retry_after_s == 2.0
    assert sleeps == [2.0, 2.0, 2.0]  # 4 attempts
    assert len(event_pages(fake)) == 4


def test_a_retry_after_longer_than_the_budget_is_not_waited_for(
    google: GoogleCalendar, fake: FakeGoogle, token: str, sleeps: list[float]
) -> None:
    fake.fail_next(1, status=429, retry_after="3600")

    with pytest.raises(RateLimited) as limited:
        google.list_calendars(token)

    assert limited.value.retry_after_s == 3600.0 and sleeps == []


def test_5xx_is_retried_with_exponential_backoff_then_gives_up_retryable(
    fake: FakeGoogle, clock: Clock, sleeps: list[float], token: str
) -> None:
    google = make_client(fake, clock, sleeps, rand=lambda: 1.0, backoff_base_s=0.25)
    fake.fail_next(2, status=500)

    assert google.sync(token, ACCOUNT, None).full is True  # recovered on the third attempt
    assert sleeps == [0.25, 0.5]

    sleeps.clear()
    fake.fail_next(10, status=503)
    with pytest.raises(ProviderError) as down:
        google.sync(token, ACCOUNT, None)
    assert (down.value.status, down.value.retryable) == (503, True)
    assert not isinstance(down.value, RateLimited)
    assert sleeps == [0.25, 0.5, 1.0]


def test_a_timed_out_insert_is_retried_without_creating_a_second_event(
    fake: FakeGoogle, clock: Clock, sleeps: list[float], token: str
) -> None:
    # Given Google is slow on the first insert (it still creates the event)
    google = make_client(fake, clock, sleeps, timeout_s=0.2)
    fake.stall_next(1, seconds=0.6, path="/events")
    draft = EventDraft(title="Demo", start=at(10), end=at(10, 30))

    # When the client times out and retries (whichever attempt lands second gets 409 for the same id)
    event_id = google.create_event(token, ACCOUNT, draft, idempotency_key="booking-1:create")

    # Then one event, under the id derived from the key
    assert len(sleeps) == 1
    assert event_id == event_id_for("booking-1:create")
    assert [e["id"] for e in fake.events(ACCOUNT)] == [event_id]


def test_an_unreachable_provider_is_a_retryable_error(clock: Clock, sleeps: list[float]) -> None:
    google = GoogleCalendar(
        client_id="c", client_secret="s", api_url="http://127.0.0.1:9/calendar/v3", sleep=sleeps.append
    )

    with pytest.raises(ProviderError) as unreachable:
        google.list_calendars("token-value")

    assert unreachable.value.retryable is True and len(sleeps) == 3
    assert "token-value" not in str(unreachable.value)


# --------------------------------------------------------------- events


def test_create_event_is_idempotent_per_key(google: GoogleCalendar, fake: FakeGoogle, token: str) -> None:
    draft = EventDraft(
        title="Product demo -- Nordic Parts",
        start=at(10),
        end=at(10, 30),
        description="Booked via Slotbook",
        location="Online",
        attendees=["henrik@nordic-parts.dk"],
    )

    first = google.create_event(token, ACCOUNT, draft, idempotency_key="appt-42")
    again = google.create_event(token, ACCOUNT, draft, idempotency_key="appt-42")
    other = google.create_event(token, ACCOUNT, draft, idempotency_key="appt-43")

    assert first == again != other
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
    assert [e["id"] for e in fake.events(ACCOUNT)] == [first, other]
    stored = fake.event(ACCOUNT, first)
    assert stored is not None
    assert stored["summary"] == "Product demo -- Nordic Parts"
    assert stored["start"] == {"dateTime": "2027-03-01T10:00:00Z", "timeZone": "UTC"}
    assert [a["email"] for a in stored["attendees"]] == ["henrik@nordic-parts.dk"]
    inserts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/events")]
    assert {r.query["sendUpdates"] for r in inserts} == {"none"}


def test_update_and_delete_event(google: GoogleCalendar, fake: FakeGoogle, token: str) -> None:
    event_id = google.create_event(
        token, ACCOUNT, EventDraft(title="Demo", start=at(10), end=at(11)), idempotency_key="k1"
    )
    cursor = google.sync(token, ACCOUNT, None).cursor

    google.update_event(token, ACCOUNT, event_id, EventDraft(title="Demo (moved)", start=at(14), end=at(15)))
    stored = fake.event(ACCOUNT, event_id)
    assert stored is not None and stored["summary"] == "Demo (moved)"
    [moved] = google.sync(token, ACCOUNT, cursor).changes
    assert (moved.event_id, moved.start, moved.end, moved.busy) == (event_id, at(14), at(15), True)

    google.delete_event(token, ACCOUNT, event_id)
    google.delete_event(token, ACCOUNT, event_id)  # already deleted (410): harmless
    google.delete_event(token, ACCOUNT, "neverexisted")  # unknown (404): harmless
    assert fake.events(ACCOUNT) == []

    with pytest.raises(ProviderError) as missing:
        google.update_event(token, ACCOUNT, "neverexisted", EventDraft(title="x", start=at(9), end=at(10)))
    assert (missing.value.status, missing.value.retryable) == (404, False)


def test_writes_need_write_access(google: GoogleCalendar, fake: FakeGoogle, token: str) -> None:
    fake.add_calendar(ACCOUNT, "holidays@example.com", summary="Holidays", access_role="reader")

    with pytest.raises(ProviderError) as refused:
        google.create_event(
            token, "holidays@example.com", EventDraft(title="x", start=at(9), end=at(10)), idempotency_key="k"
        )

    assert (refused.value.status, refused.value.retryable) == (403, False)


def test_event_ids_follow_googles_rules() -> None:
    ids = {event_id_for(f"key-{n}") for n in range(200)}

    assert len(ids) == 200
    assert all(re.fullmatch(r"[a-v0-9]{52}", i) for i in ids)
    assert event_id_for("key-1") == event_id_for("key-1")
