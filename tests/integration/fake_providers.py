"""The ``fake_providers`` fixture: fake Google and Microsoft on free ports, wired into ``services()``.

Request it next to the usual fixtures (it needs ``aws`` and ``clock``, so moto and the frozen clock
are already up)::

    def test_connect(fake_providers: FakeProviders, client: Client, tenant: Tenant) -> None:
        started = client.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/google")
        reply = fake_providers.authorize("google", started.body["authorizationUrl"])
        assert reply.status in (200, 302)
        fake_providers.google.add_event(GOOGLE_ACCOUNT, start=..., end=...)   # pushes to /webhooks/google
        fake_providers.wait_for_google(2)                                     # sync + exists delivered

What it sets up, and undoes at teardown (fakes stopped, relay shut down, env restored):

* :class:`~localdev.fake_providers.google.FakeGoogle` and
  :class:`~localdev.fake_providers.microsoft.FakeMicrosoft` on ``127.0.0.1`` free ports, both on
  the test's frozen clock (tokens, channels and subscriptions expire in test time: move
  ``clock.now`` to expire them). Google has the account :data:`GOOGLE_ACCOUNT` (primary calendar =
  the address) with a second calendar :data:`GOOGLE_SECOND_CALENDAR`; Microsoft has its default
  user (``fake.microsoft.default_user_id``, ``megan@contoso.example``) with calendar ``Calendar``.
* A **webhook relay**: a :class:`localdev.server.SlotbookHTTPServer` on a free port serving the
  same in-process :func:`tests.integration.conftest.local_api` the ``Client`` uses, so the fakes'
  pushes (Google ``POST <base>/webhooks/google``, Graph's ``validationToken`` handshake and change
  notifications to ``<base>/webhooks/microsoft``) reach the webhooks function exactly as API
  Gateway would deliver them. ``PUBLIC_BASE_URL`` is the relay's URL, so the redirect URI and the
  webhook addresses the services register point at it.
* Environment (then ``container.reset()`` so ``services()`` rebuilds from it):
  ``PUBLIC_BASE_URL``; ``GOOGLE_CLIENT_ID``, ``GOOGLE_CLIENT_SECRET``, ``GOOGLE_AUTH_URL``,
  ``GOOGLE_TOKEN_URL``, ``GOOGLE_API_URL``; ``MICROSOFT_CLIENT_ID``, ``MICROSOFT_CLIENT_SECRET``,
  ``MICROSOFT_AUTH_URL``, ``MICROSOFT_TOKEN_URL``, ``MICROSOFT_API_URL``. (``TOKEN_KEY_ID`` and
  ``OAUTH_STATE_KEY_ID`` come from ``aws``; ``SYNC_QUEUE_URL`` stays unset, so sync messages are
  handled in-process at once.)
* Registered redirect URIs on both fakes: ``<relay>/api/calendar-connections/oauth/callback`` and
  ``http://127.0.0.1:3000/api/calendar-connections/oauth/callback`` (the ``PUBLIC_BASE_URL`` default).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from localdev.fake_providers.google import Delivery, FakeGoogle
from localdev.fake_providers.microsoft import FakeMicrosoft
from localdev.server import SlotbookHTTPServer
from slotbook import container
from tests.conftest import FrozenClock

if TYPE_CHECKING:
    from tests.integration.conftest import Reply

CALLBACK_PATH = "/api/calendar-connections/oauth/callback"
DEFAULT_REDIRECT_URI = f"http://127.0.0.1:3000{CALLBACK_PATH}"
GOOGLE_ACCOUNT = "erik@nordic-parts.dk"
"""The seeded Google account; its primary calendar id is the address itself."""
GOOGLE_SECOND_CALENDAR = "team-nordic-parts@group.calendar.google.com"
"""A second (secondary, owner) calendar of :data:`GOOGLE_ACCOUNT`."""


@dataclass
class FakeProviders:
    """What the ``fake_providers`` fixture yields.

    :ivar google: the running fake Google (control API: ``add_event``, ``move_event``,
        ``delete_event``, ``expire_sync_tokens``, ``expire_channel``, ``revoke_refresh_tokens``,
        ``fail_next``, ``channels()``, ``deliveries``, ...).
    :ivar microsoft: the running fake Microsoft (``add_event``, ``inject_fault``,
        ``expire_subscription``, ``expire_sync_cursors``, ``subscriptions()``, ``validations``, ...).
    :ivar base_url: the webhook relay's URL, e.g. ``http://127.0.0.1:49152`` (= ``PUBLIC_BASE_URL``).
    :ivar redirect_uri: the OAuth redirect URI the services send (``base_url`` + callback path).
    """

    google: FakeGoogle
    microsoft: FakeMicrosoft
    base_url: str
    redirect_uri: str

    def consent(
        self, provider: str, authorization_url: str, *, account: str | None = None, allow: bool = True
    ) -> str:
        """The URL the provider's consent page redirects the browser to after *Allow* (or *Deny*).

        :param provider: ``"google"`` or ``"microsoft"``.
        :param authorization_url: the ``authorizationUrl`` Slotbook answered.
        :param account: Google: the e-mail signing in (default :data:`GOOGLE_ACCOUNT`; created if
            new). Microsoft: a fake user id (default: the default user; see ``microsoft.add_user``).
        :raises ValueError: for an unknown provider; the fakes raise their own errors for an
            authorization request the real consent page would refuse (bad client, redirect URI...).
        """
        if provider == "google":
            return self.google.consent(authorization_url, account=account or GOOGLE_ACCOUNT, allow=allow)
        if provider == "microsoft":
            return self.microsoft.consent(authorization_url, user_id=account, allow=allow)
        raise ValueError(f"unknown provider {provider!r}")

    def follow(self, redirect_url: str) -> Reply:
        """``GET`` the redirect target (our OAuth callback) in-process, as the browser would."""
        from tests.integration.conftest import Reply, local_api  # conftest imports this module

        target = urlsplit(redirect_url)
        path = target.path + (f"?{target.query}" if target.query else "")
        response, _, _ = local_api().handle("GET", path, [("accept", "text/html")], b"", "127.0.0.1")
        text = response.body.decode() if response.body else ""
        return Reply(response.status, text, response.headers)

    def authorize(
        self, provider: str, authorization_url: str, *, account: str | None = None, allow: bool = True
    ) -> Reply:
        """:meth:`consent` then :meth:`follow`: the whole browser round trip; the callback's reply
        (body as text, JSON not parsed)."""
        return self.follow(self.consent(provider, authorization_url, account=account, allow=allow))

    def wait_for_google(self, count: int, *, timeout: float = 5.0) -> list[Delivery]:
        """Block until the fake Google has sent ``count`` push notifications in total, each
        answered by the webhooks function (so the syncs they triggered have run)."""
        return self.google.wait_for_deliveries(count, timeout=timeout)

    def wait_for_microsoft(self, *, timeout: float = 5.0) -> None:
        """Block until every queued Graph change notification has been answered."""
        self.microsoft.flush_notifications(timeout_s=timeout)


@pytest.fixture
def fake_providers(aws: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """Fake Google + Microsoft and a webhook relay wired into ``services()`` (see the module doc)."""
    from tests.integration.conftest import local_api  # conftest imports this module

    with ExitStack() as cleanup:
        cleanup.callback(container.reset)
        relay = SlotbookHTTPServer(("127.0.0.1", 0), local_api(), access_log=False)
        cleanup.callback(relay.server_close)
        relay_thread = threading.Thread(
            target=relay.serve_forever, args=(0.05,), name="webhook-relay", daemon=True
        )
        relay_thread.start()
        cleanup.callback(relay_thread.join, 5)
        cleanup.callback(relay.shutdown)
        host, port = relay.server_address[:2]
        base_url = f"http://{host}:{port}"
        redirect_uri = base_url + CALLBACK_PATH
        redirects = (redirect_uri, DEFAULT_REDIRECT_URI)
        # Stopped before the relay (callbacks run last-in first-out): no pushes into a closed port.
        google = cleanup.enter_context(FakeGoogle(redirect_uris=redirects, clock=clock))
        microsoft = cleanup.enter_context(FakeMicrosoft(redirect_uris=redirects, clock=clock))
        google.add_account(GOOGLE_ACCOUNT, time_zone="Europe/Copenhagen", name="Erik Nordic Parts")
        google.add_calendar(
            GOOGLE_ACCOUNT, GOOGLE_SECOND_CALENDAR, summary="Team calendar", time_zone="Europe/Copenhagen"
        )
        env = {
            "PUBLIC_BASE_URL": base_url,
            "GOOGLE_CLIENT_ID": google.client_id,
            "GOOGLE_CLIENT_SECRET": google.client_secret,
            "GOOGLE_AUTH_URL": google.auth_url,
            "GOOGLE_TOKEN_URL": google.token_url,
            "GOOGLE_API_URL": google.api_url,
            "MICROSOFT_CLIENT_ID": microsoft.client_id,
            "MICROSOFT_CLIENT_SECRET": microsoft.client_secret,
            "MICROSOFT_AUTH_URL": microsoft.auth_url,
            "MICROSOFT_TOKEN_URL": microsoft.token_url,
            "MICROSOFT_API_URL": microsoft.api_url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for name in ("GOOGLE_CLIENT_SECRET_PARAMETER", "MICROSOFT_CLIENT_SECRET_PARAMETER", "SYNC_QUEUE_URL"):
            monkeypatch.delenv(name, raising=False)
        container.reset()
        yield FakeProviders(google=google, microsoft=microsoft, base_url=base_url, redirect_uri=redirect_uri)


__all__ = [
    "CALLBACK_PATH",
    "DEFAULT_REDIRECT_URI",
    "GOOGLE_ACCOUNT",
    "GOOGLE_SECOND_CALENDAR",
    "FakeProviders",
    "fake_providers",
]
