"""The Microsoft Graph client against the local fake Graph (localdev.fake_providers.microsoft).

Real HTTP on 127.0.0.1 both ways (client → fake, fake → a tiny notification receiver); the
client's ``sleep`` records waits instead of sleeping, and the fake shares the frozen test clock.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from localdev.fake_providers.microsoft import FakeMicrosoft
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
from slotbook.providers.microsoft import SCOPES, SUBSCRIPTION_MAX_TTL, MicrosoftCalendar, _busy_change

REDIRECT = "https://api.slotbook.test/oauth/microsoft/callback"
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
WINDOW_START = datetime(2027, 1, 30, tzinfo=UTC)  # 30 days before today's UTC midnight
WINDOW_END = datetime(2028, 2, 29, tzinfo=UTC)  # 365 days after it


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class Receiver:
    """A notification endpoint: answers Graph's validation handshake per ``mode`` (``echo`` the
    token in text/plain, ``wrong`` token, ``json`` content type, ``hang`` past the timeout) and
    records the notifications it gets (answering 202 Accepted, as Graph expects)."""

    def __init__(self, mode: str = "echo") -> None:
        self.mode = mode
        self.tokens: list[str] = []
        self.notifications: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if "validationToken" in query:
                    token = query["validationToken"][0]
                    receiver.tokens.append(token)
                    if receiver.mode == "hang":
                        time.sleep(1.5)
                    answer = b"not the token" if receiver.mode == "wrong" else token.encode()
                    kind = "application/json" if receiver.mode == "json" else "text/plain; charset=utf-8"
                    try:
                        self.send_response(200)
                        self.send_header("Content-Type", kind)
                        self.send_header("Content-Length", str(len(answer)))
                        self.end_headers()
                        self.wfile.write(answer)
                    except (BrokenPipeError, ConnectionResetError):  # "hang": the fake gave up
                        pass
                    return
                receiver.notifications.append(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/microsoft"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft(clock=clock, redirect_uris=[REDIRECT], validation_timeout_s=0.5) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def graph(fake: FakeMicrosoft, clock: Clock, sleeps: list[float]) -> MicrosoftCalendar:
    # rand=1.0 makes the jitter factor exactly 1: backoff waits are 0.5, 1, 2 seconds
    return MicrosoftCalendar(
        **fake.client_kwargs(),
        sleep=sleeps.append,
        clock=clock,
        rand=lambda: 1.0,
        timeout_s=2.0,
        page_size=10,
    )


def connect(graph: MicrosoftCalendar, fake: FakeMicrosoft) -> OAuthTokens:
    verifier, challenge = pkce()
    redirect = fake.consent(
        graph.authorization_url(state="st-1", code_challenge=challenge, redirect_uri=REDIRECT)
    )
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))["code"]
    return graph.exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)


@pytest.fixture
def token(graph: MicrosoftCalendar, fake: FakeMicrosoft) -> str:
    return connect(graph, fake).access_token


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def delta_requests(fake: FakeMicrosoft) -> int:
    return sum(1 for _, path in fake.requests if path.endswith("/calendarView/delta"))


# ------------------------------------------------------------------------------ OAuth


def test_the_client_satisfies_the_provider_protocol(graph: MicrosoftCalendar) -> None:
    provider: CalendarProvider = graph
    assert provider.name == "microsoft"
    assert "secret" not in repr(graph)


def test_consent_url_asks_for_offline_calendar_access_with_pkce(
    graph: MicrosoftCalendar, fake: FakeMicrosoft
) -> None:
    url = graph.authorization_url(state="s t&=", code_challenge="abc", redirect_uri=REDIRECT)

    split = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(split.query))
    assert f"{split.scheme}://{split.netloc}{split.path}" == fake.auth_url
    assert query["scope"].split() == list(SCOPES) == ["offline_access", "Calendars.ReadWrite"]
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == "abc"
    assert query["state"] == "s t&="  # encoded, so it survives the round trip
    assert query["redirect_uri"] == REDIRECT
    assert query["client_id"] == fake.client_id


def test_code_exchange_verifies_pkce_and_codes_are_single_use(
    graph: MicrosoftCalendar, fake: FakeMicrosoft
) -> None:
    # Given a consent with a PKCE challenge
    verifier, challenge = pkce()
    redirect = fake.consent(
        graph.authorization_url(state="st-9", code_challenge=challenge, redirect_uri=REDIRECT)
    )
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    assert redirect.startswith(REDIRECT + "?")
    assert answer["state"] == "st-9"

    # When the code is exchanged with a verifier that does not match the challenge: refused
    with pytest.raises(ReauthorizationRequired):
        graph.exchange_code(code=answer["code"], code_verifier=verifier + "x", redirect_uri=REDIRECT)
    # ... or from another redirect_uri
    with pytest.raises(ReauthorizationRequired):
        graph.exchange_code(code=answer["code"], code_verifier=verifier, redirect_uri=REDIRECT + "/other")

    # Then the right verifier gets tokens, once
    tokens = graph.exchange_code(code=answer["code"], code_verifier=verifier, redirect_uri=REDIRECT)
    assert tokens.access_token and tokens.refresh_token
    assert tokens.expires_at == NOW + timedelta(seconds=3600)
    assert "Calendars.ReadWrite" in tokens.scope.split()
    with pytest.raises(ReauthorizationRequired):
        graph.exchange_code(code=answer["code"], code_verifier=verifier, redirect_uri=REDIRECT)


def test_an_expired_code_is_refused(graph: MicrosoftCalendar, fake: FakeMicrosoft, clock: Clock) -> None:
    verifier, challenge = pkce()
    redirect = fake.consent(
        graph.authorization_url(state="s", code_challenge=challenge, redirect_uri=REDIRECT)
    )
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))["code"]
    clock.now += timedelta(minutes=11)
    with pytest.raises(ReauthorizationRequired):
        graph.exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)


def test_a_wrong_client_secret_is_not_a_reauthorization(fake: FakeMicrosoft, clock: Clock) -> None:
    kwargs = {**fake.client_kwargs(), "client_secret": "wrong"}
    bad = MicrosoftCalendar(**kwargs, sleep=lambda s: None, clock=clock)
    verifier, challenge = pkce()
    redirect = fake.consent(bad.authorization_url(state="s", code_challenge=challenge, redirect_uri=REDIRECT))
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))["code"]
    with pytest.raises(ProviderError) as caught:
        bad.exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)
    assert not isinstance(caught.value, (ReauthorizationRequired, AccessTokenRejected))
    assert (caught.value.status, caught.value.retryable) == (401, False)


def test_the_consent_page_redirects_with_code_and_state(
    graph: MicrosoftCalendar, fake: FakeMicrosoft
) -> None:
    # Given the consent page (what `make dev` shows in a browser)
    verifier, challenge = pkce()
    url = urllib.parse.urlsplit(
        graph.authorization_url(state="st-page", code_challenge=challenge, redirect_uri=REDIRECT)
    )
    conn = http.client.HTTPConnection(url.hostname or "", url.port)
    conn.request("GET", f"{url.path}?{url.query}")
    page = conn.getresponse()
    html = page.read().decode()
    assert page.status == 200
    assert "Allow" in html and 'name="code_challenge"' in html

    # When the user clicks Allow (the page's form POST)
    form = dict(urllib.parse.parse_qsl(url.query))
    for decision, expected in (("allow", "code"), ("deny", "error")):
        body = urllib.parse.urlencode({**form, "login": "megan@contoso.example", "decision": decision})
        conn.request("POST", url.path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()
        answer.read()
        # Then the browser is redirected to the callback with the code (or the refusal) and the state
        location = answer.getheader("Location") or ""
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        assert answer.status == 302 and location.startswith(REDIRECT)
        assert expected in params and params["state"] == "st-page"
        if decision == "allow":
            tokens = graph.exchange_code(code=params["code"], code_verifier=verifier, redirect_uri=REDIRECT)
            assert tokens.refresh_token
        else:
            assert params["error"] == "access_denied"
    conn.close()


def test_refresh_rotates_and_a_revoked_refresh_token_needs_reauthorization(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, clock: Clock
) -> None:
    tokens = connect(graph, fake)
    assert tokens.refresh_token is not None

    # An access token stops working when it expires; refreshing gives a new working pair
    clock.now += timedelta(hours=2)
    with pytest.raises(AccessTokenRejected) as caught:
        graph.list_calendars(tokens.access_token)
    assert (caught.value.status, caught.value.retryable) == (401, False)
    renewed = graph.refresh(tokens.refresh_token)
    assert renewed.expires_at == clock.now + timedelta(seconds=3600)
    assert renewed.refresh_token and renewed.refresh_token != tokens.refresh_token  # Microsoft rotates them
    assert graph.list_calendars(renewed.access_token)

    # Once the user's sessions are revoked, refreshing asks for consent again
    fake.revoke_refresh_tokens()
    with pytest.raises(ReauthorizationRequired):
        graph.refresh(renewed.refresh_token)


# -------------------------------------------------------------------------- calendars


def test_list_calendars_follows_every_page(graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str) -> None:
    for n in range(12):
        fake.add_calendar(f"Room {n:02}")

    calendars = graph.list_calendars(token)

    assert len(calendars) == 13  # the default "Calendar" + 12, over two pages of 10
    assert sum(1 for _, path in fake.requests if path.endswith("/me/calendars")) == 2
    assert [c.name for c in calendars if c.primary] == ["Calendar"]
    assert calendars[0].calendar_id == fake.default_calendar_id()
    assert {c.name for c in calendars} >= {"Room 00", "Room 11"}


# ------------------------------------------------------------------------------- sync


def test_full_sync_follows_every_page_within_the_window(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str
) -> None:
    # Given 25 events in the window and two outside it
    cal = fake.default_calendar_id()
    inside = {
        fake.add_event(cal, start=at(2 + n // 8, 9 + n % 8), end=at(2 + n // 8, 9 + n % 8, 30))
        for n in range(25)
    }
    fake.add_event(cal, start=WINDOW_START - timedelta(days=2), end=WINDOW_START - timedelta(days=1))
    fake.add_event(cal, start=WINDOW_END + timedelta(days=1), end=WINDOW_END + timedelta(days=2))
    other = fake.add_calendar("Other")
    fake.add_event(other, start=at(2, 9), end=at(2, 10))

    # When the first sync runs
    page = graph.sync(token, cal, None)

    # Then it is a full sync over three pages of 10, with exactly the window's events, busy, in UTC
    assert page.full is True
    assert delta_requests(fake) == 3
    assert {c.event_id for c in page.changes} == inside
    assert all(c.busy for c in page.changes)
    first = next(c for c in page.changes if c.start == at(2, 9))
    assert first.end == at(2, 9, 30) and first.start.tzinfo is not None
    assert page.cursor and page.cursor.startswith(fake.api_url + "/me/calendars/")
    assert page.cursor.endswith("#slotbook-window=2027-01-30T00:00:00Z/2028-02-29T00:00:00Z")


def test_incremental_sync_reports_only_changes_including_deletions(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str
) -> None:
    cal = fake.default_calendar_id()
    kept = fake.add_event(cal, start=at(2, 9), end=at(2, 10))
    moved = fake.add_event(cal, start=at(3, 9), end=at(3, 10))
    deleted = fake.add_event(cal, start=at(4, 9), end=at(4, 10))
    cancelled = fake.add_event(cal, start=at(5, 9), end=at(5, 10))
    leaving = fake.add_event(cal, start=at(6, 9), end=at(6, 10))
    first = graph.sync(token, cal, None)
    assert len(first.changes) == 5

    # When the provider side changes
    added = fake.add_event(cal, start=at(8, 14), end=at(8, 15))
    fake.move_event(moved, start=at(3, 11), end=at(3, 12))
    fake.delete_event(deleted)
    fake.update_event(cancelled, is_cancelled=True)
    fake.move_event(leaving, start=WINDOW_END + timedelta(days=3), end=WINDOW_END + timedelta(days=4))
    second = graph.sync(token, cal, first.cursor)

    # Then the incremental sync lists exactly those changes
    assert second.full is False
    by_id = {c.event_id: c for c in second.changes}
    assert set(by_id) == {added, moved, deleted, cancelled, leaving}
    assert kept not in by_id
    assert (by_id[added].start, by_id[added].end, by_id[added].busy) == (at(8, 14), at(8, 15), True)
    assert (by_id[moved].start, by_id[moved].end, by_id[moved].busy) == (at(3, 11), at(3, 12), True)
    assert by_id[deleted].busy is False and by_id[deleted].start is None
    assert by_id[cancelled].busy is False
    assert by_id[leaving].busy is False  # moved out of the window: removed

    # And nothing more is reported until something changes again
    third = graph.sync(token, cal, second.cursor)
    assert third.changes == [] and third.full is False and third.cursor != second.cursor


def test_an_expired_cursor_raises_and_a_full_resync_recovers(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str
) -> None:
    cal = fake.default_calendar_id()
    fake.add_event(cal, start=at(2, 9), end=at(2, 10))
    cursor = graph.sync(token, cal, None).cursor
    later = fake.add_event(cal, start=at(9, 9), end=at(9, 10))

    fake.expire_sync_cursors(cal)
    with pytest.raises(SyncCursorExpired) as caught:
        graph.sync(token, cal, cursor)
    assert (caught.value.status, caught.value.retryable) == (410, False)

    resync = graph.sync(token, cal, None)
    assert resync.full is True
    assert later in {c.event_id for c in resync.changes} and len(resync.changes) == 2


def test_an_aged_cursor_rolls_the_window_with_a_full_round(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, clock: Clock
) -> None:
    cal = fake.default_calendar_id()
    fake.add_event(cal, start=at(2, 9), end=at(2, 10))
    cursor = graph.sync(token, cal, None).cursor

    # Two days later the delta link keeps its window and only reports changes
    clock.now = NOW + timedelta(days=2)
    token = connect(graph, fake).access_token
    recent = graph.sync(token, cal, cursor)
    assert recent.full is False and recent.changes == []
    assert recent.cursor and recent.cursor.endswith("2027-01-30T00:00:00Z/2028-02-29T00:00:00Z")

    # A week later a full round over the rolled window replaces it
    clock.now = NOW + timedelta(days=8)
    token = connect(graph, fake).access_token
    rolled = graph.sync(token, cal, recent.cursor)
    assert rolled.full is True and len(rolled.changes) == 1
    assert rolled.cursor and rolled.cursor.endswith("2027-02-07T00:00:00Z/2028-03-08T00:00:00Z")


def test_a_cursor_pointing_elsewhere_is_refused_without_sending_the_token(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str
) -> None:
    forged = "https://evil.example/v1.0/me/calendarView/delta?$deltatoken=x"
    with pytest.raises(ProviderError) as caught:
        graph.sync(token, fake.default_calendar_id(), forged)
    assert caught.value.retryable is False
    assert delta_requests(fake) == 0


def test_busy_rules_free_cancelled_declined_and_all_day(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str
) -> None:
    cal = fake.default_calendar_id()
    ids = {
        "busy": fake.add_event(cal, start=at(2, 9), end=at(2, 10)),
        "tentative": fake.add_event(cal, start=at(2, 10), end=at(2, 11), show_as="tentative"),
        "oof": fake.add_event(cal, start=at(2, 11), end=at(2, 12), show_as="oof"),
        "free": fake.add_event(cal, start=at(2, 12), end=at(2, 13), show_as="free"),
        "elsewhere": fake.add_event(cal, start=at(2, 13), end=at(2, 14), show_as="workingElsewhere"),
        "cancelled": fake.add_event(cal, start=at(2, 14), end=at(2, 15), cancelled=True),
        "declined": fake.add_event(cal, start=at(2, 15), end=at(2, 16), response="declined"),
        "all_day": fake.add_event(cal, start=date(2027, 3, 10), end=date(2027, 3, 12)),
    }

    changes = {c.event_id: c for c in graph.sync(token, cal, None).changes}
    busy = {name for name, event_id in ids.items() if changes[event_id].busy}

    assert busy == {"busy", "tentative", "oof", "all_day"}
    all_day = changes[ids["all_day"]]
    assert (all_day.start, all_day.end) == (
        datetime(2027, 3, 10, tzinfo=UTC),
        datetime(2027, 3, 12, tzinfo=UTC),
    )  # two whole UTC days (Graph names no calendar zone)


def test_busy_mapping_of_graph_items() -> None:
    # Seven fractional digits and a named IANA zone are read exactly
    timed = _busy_change(
        {
            "id": "e1",
            "showAs": "busy",
            "start": {"dateTime": "2027-03-29T09:00:00.0000000", "timeZone": "Europe/Copenhagen"},
            "end": {"dateTime": "2027-03-29T09:30:00.0000000", "timeZone": "Europe/Copenhagen"},
        }
    )
    assert timed is not None and (timed.start, timed.end, timed.busy) == (at(29, 7), at(29, 7, 30), True)
    # An all-day event in a named zone blocks that zone's days
    all_day = _busy_change(
        {
            "id": "e2",
            "isAllDay": True,
            "start": {"dateTime": "2027-03-10T00:00:00.0000000", "timeZone": "Europe/Copenhagen"},
            "end": {"dateTime": "2027-03-11T00:00:00.0000000", "timeZone": "Europe/Copenhagen"},
        }
    )
    assert all_day is not None and (all_day.start, all_day.end) == (at(9, 23), at(10, 23))
    # Removals carry only the id; a series master is skipped (its occurrences come on their own)
    removed = _busy_change({"id": "e3", "@removed": {"reason": "deleted"}})
    assert removed is not None and (removed.busy, removed.start) == (False, None)
    assert _busy_change({"id": "e4", "type": "seriesMaster", "start": {}, "end": {}}) is None
    # A zone Graph should never send (we ask for UTC) cannot block time
    unknown = _busy_change(
        {
            "id": "e5",
            "start": {"dateTime": "2027-03-10T09:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2027-03-10T10:00:00", "timeZone": "W. Europe Standard Time"},
        }
    )
    assert unknown is not None and unknown.busy is False


# ----------------------------------------------------------------------- subscriptions


def test_subscription_handshake_and_notifications_carry_the_client_state(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, receiver: Receiver
) -> None:
    cal = fake.default_calendar_id()

    # When Slotbook subscribes to the calendar's events
    channel = graph.watch(token, cal, address=receiver.url, token="client-state-7", ttl_s=3 * 86400)

    # Then Graph validated the endpoint first (the receiver echoed the decoded token)
    assert len(receiver.tokens) == 1 and receiver.tokens[0].startswith("Validation: Testing client")
    assert fake.validations[-1].passed
    assert channel.expires_at == NOW + timedelta(days=3)
    assert channel.token == "client-state-7"
    assert channel.resource_id == f"me/calendars/{cal}/events"

    # And a provider-side change is notified with the subscription id and clientState
    event_id = fake.add_event(cal, start=at(2, 9), end=at(2, 10))
    fake.add_event(fake.add_calendar("Other"), start=at(2, 9), end=at(2, 10))  # not this calendar
    fake.flush_notifications()
    assert len(receiver.notifications) == 1
    note = receiver.notifications[0]["value"][0]
    assert note["subscriptionId"] == channel.channel_id
    assert note["clientState"] == "client-state-7"
    assert note["changeType"] == "created"
    assert note["resourceData"]["id"] == event_id
    assert fake.deliveries[-1].status == 202


@pytest.mark.parametrize("mode", ["wrong", "json", "hang"])
def test_a_subscription_is_refused_when_the_endpoint_fails_the_handshake(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, mode: str
) -> None:
    bad = Receiver(mode)
    try:
        with pytest.raises(ProviderError) as caught:
            graph.watch(token, fake.default_calendar_id(), address=bad.url, token="cs", ttl_s=3600)
    finally:
        bad.close()
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert fake.subscriptions() == []
    assert fake.validations[-1].passed is False


def test_subscriptions_are_capped_renewed_expire_and_stop(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, receiver: Receiver, clock: Clock
) -> None:
    cal = fake.default_calendar_id()

    # A lifetime beyond Graph's maximum for events is capped under 10,080 minutes
    channel = graph.watch(token, cal, address=receiver.url, token="cs", ttl_s=30 * 86400)
    assert channel.expires_at == NOW + SUBSCRIPTION_MAX_TTL < NOW + timedelta(minutes=10_080)

    # Renewal extends it (PATCH expirationDateTime)
    clock.now = NOW + timedelta(days=5)
    token = connect(graph, fake).access_token
    renewed = graph.renew_watch(token, channel, ttl_s=2 * 86400)
    assert renewed.channel_id == channel.channel_id
    assert renewed.expires_at == clock.now + timedelta(days=2)
    assert renewed.token == "cs"

    # Once expired it no longer notifies and can no longer be renewed, and stopping it is harmless
    fake.expire_subscription(channel.channel_id)
    fake.add_event(cal, start=at(9, 9), end=at(9, 10))
    fake.flush_notifications()
    assert receiver.notifications == []
    with pytest.raises(ProviderError) as caught:
        graph.renew_watch(token, renewed, ttl_s=3600)
    assert (caught.value.status, caught.value.retryable) == (404, False)
    graph.stop_watch(token, renewed)

    # A live subscription stops notifying once deleted
    live = graph.watch(token, cal, address=receiver.url, token="cs2", ttl_s=3600)
    graph.stop_watch(token, live)
    assert fake.subscriptions() == []
    fake.add_event(cal, start=at(9, 11), end=at(9, 12))
    fake.flush_notifications()
    assert receiver.notifications == []


# ------------------------------------------------------------------- retries and faults


def test_429_honours_retry_after_then_succeeds(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, sleeps: list[float], clock: Clock
) -> None:
    cal = fake.default_calendar_id()
    fake.add_event(cal, start=at(2, 9), end=at(2, 10))
    fake.inject_fault(429, count=2, retry_after="3", path_contains="/calendarView/delta")

    page = graph.sync(token, cal, None)

    assert len(page.changes) == 1
    assert sleeps == [3.0, 3.0]
    assert delta_requests(fake) == 3

    # Retry-After as an HTTP date is honoured too
    fake.inject_fault(
        429, count=1, retry_after=format_datetime(clock.now + timedelta(seconds=7), usegmt=True)
    )
    graph.list_calendars(token)
    assert sleeps[-1] == 7.0


def test_429_beyond_the_retry_budget_raises_rate_limited(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, sleeps: list[float]
) -> None:
    fake.inject_fault(429, count=10, retry_after="15")
    with pytest.raises(RateLimited) as caught:
        graph.list_calendars(token)
    assert caught.value.retryable is True and caught.value.retry_after_s == 15.0
    assert sleeps == [15.0]  # a second 15 s wait would pass the 20 s budget


def test_5xx_retries_with_exponential_backoff_then_gives_up_retryable(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, sleeps: list[float]
) -> None:
    fake.inject_fault(503, count=10)
    with pytest.raises(ProviderError) as caught:
        graph.sync(token, fake.default_calendar_id(), None)
    assert (caught.value.status, caught.value.retryable) == (503, True)
    assert not isinstance(caught.value, RateLimited)
    assert sleeps == [0.5, 1.0, 2.0]  # four attempts
    assert delta_requests(fake) == 4


def test_a_timeout_is_retried(fake: FakeMicrosoft, clock: Clock, token: str, sleeps: list[float]) -> None:
    quick = MicrosoftCalendar(
        **fake.client_kwargs(), sleep=sleeps.append, clock=clock, rand=lambda: 0.0, timeout_s=0.3
    )
    fake.inject_fault(None, count=1, delay_s=1.0)
    assert quick.list_calendars(token)
    assert sleeps == [0.25]


def test_a_token_endpoint_5xx_is_retried(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, sleeps: list[float]
) -> None:
    tokens = connect(graph, fake)
    assert tokens.refresh_token
    fake.inject_fault(500, count=1, path_contains="/token")
    assert graph.refresh(tokens.refresh_token).access_token
    assert sleeps == [0.5]


# ------------------------------------------------------------------------------ events


def draft(start: datetime, end: datetime, title: str = "Product demo") -> EventDraft:
    return EventDraft(
        title=title,
        start=start,
        end=end,
        description="Booked via Slotbook",
        location="Room 1",
        attendees=["x@y.z"],
    )


def test_create_event_is_idempotent_on_the_key(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str, receiver: Receiver
) -> None:
    cal = fake.default_calendar_id()
    graph.watch(token, cal, address=receiver.url, token="cs", ttl_s=3600)

    # The same key twice (a retried job), even across a 503, makes one event
    first = graph.create_event(token, cal, draft(at(2, 10), at(2, 11)), idempotency_key="booking-1:create")
    fake.inject_fault(503, count=1, path_contains="/events")
    again = graph.create_event(token, cal, draft(at(2, 10), at(2, 11)), idempotency_key="booking-1:create")
    assert again == first
    created = fake.created_events(cal)
    assert len(created) == 1
    event = created[0]
    assert event["id"] == first
    assert event["transactionId"] == "booking-1:create"
    assert event["subject"] == "Product demo" and event["body"]["content"] == "Booked via Slotbook"
    assert event["start"] == {"dateTime": "2027-03-02T10:00:00.0000000", "timeZone": "UTC"}
    assert event["end"]["dateTime"] == "2027-03-02T11:00:00.0000000"
    assert event["showAs"] == "busy"
    assert event["attendees"] == []  # no Graph invitations unless asked for

    # Another key is another event; the booking shows up in the next sync as busy time
    second = graph.create_event(token, cal, draft(at(3, 10), at(3, 11)), idempotency_key="booking-2:create")
    assert second != first and len(fake.created_events(cal)) == 2
    changes = {c.event_id: c for c in graph.sync(token, cal, None).changes}
    assert changes[first].busy and changes[first].start == at(2, 10)
    fake.flush_notifications()
    assert [n["value"][0]["changeType"] for n in receiver.notifications] == ["created", "created"]


def test_update_and_delete_event(graph: MicrosoftCalendar, fake: FakeMicrosoft, token: str) -> None:
    cal = fake.default_calendar_id()
    event_id = graph.create_event(token, cal, draft(at(2, 10), at(2, 11)), idempotency_key="b-3")

    # Reschedule
    graph.update_event(token, cal, event_id, draft(at(4, 15, 30), at(4, 16), title="Moved demo"))
    event = fake.event(event_id)
    assert event is not None
    assert event["start"]["dateTime"] == "2027-03-04T15:30:00.0000000"
    assert event["subject"] == "Moved demo"

    # Cancel, twice (a retried job is harmless)
    graph.delete_event(token, cal, event_id)
    graph.delete_event(token, cal, event_id)
    assert fake.event(event_id) is None

    # Updating an event that is gone is a clear, non-retryable 404
    with pytest.raises(ProviderError) as caught:
        graph.update_event(token, cal, event_id, draft(at(4, 15), at(4, 16)))
    assert (caught.value.status, caught.value.retryable) == (404, False)


def test_invited_attendees_are_put_on_the_event(fake: FakeMicrosoft, clock: Clock, token: str) -> None:
    inviting = MicrosoftCalendar(
        **fake.client_kwargs(), sleep=lambda s: None, clock=clock, invite_attendees=True
    )
    event_id = inviting.create_event(
        token, fake.default_calendar_id(), draft(at(2, 10), at(2, 11)), idempotency_key="k"
    )
    event = fake.event(event_id)
    assert event is not None
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == ["x@y.z"]


def test_tokens_never_reach_logs_or_errors(
    graph: MicrosoftCalendar, fake: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = connect(graph, fake)
    assert tokens.refresh_token
    caplog.set_level(logging.DEBUG)
    fake.inject_fault(503, count=4)
    with pytest.raises(ProviderError) as caught:
        graph.list_calendars(tokens.access_token)
    fake.revoke_refresh_tokens()
    with pytest.raises(ReauthorizationRequired) as refused:
        graph.refresh(tokens.refresh_token)
    text = caplog.text + str(caught.value) + str(refused.value)
    assert "retrying" in caplog.text  # the retries were logged...
    assert tokens.access_token not in text and tokens.refresh_token not in text  # ...without the tokens
    assert fake.client_secret not in text
