"""End-to-end fixtures: the real local server (``python -m localdev.server``) as a subprocess.

One server per test session (per xdist worker), on an ephemeral loopback port. Its stdout is
drained by a background thread (so the pipe never fills) and kept for failure messages. Every
test gets its own location and API key through the admin API, so tests never see each other's
calendars or bookings.

Unlike the in-process tests, the server runs on the real wall clock: dates are chosen relative
to "now" (see :func:`booking_monday`).
"""

from __future__ import annotations

import collections
import ipaddress
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"  # the server requires at least 16 characters
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 30.0
TIMEZONE = "Europe/Copenhagen"

ALL_SCOPES = (
    "calendars.readonly",
    "calendars.write",
    "calendars/events.readonly",
    "calendars/events.write",
)
"""The GoHighLevel calendar scopes the tested routes need."""

_BANNER = {
    "base_url": re.compile(r"Slotbook local API listening on (http://\S+)", re.IGNORECASE),
    "admin_token": re.compile(r"^\s*admin token\s*:\s*(\S+)", re.IGNORECASE),
    "location_id": re.compile(r"^\s*demo location\s*:\s*(\S+)", re.IGNORECASE),
    "api_key": re.compile(r"^\s*demo API key\s*:\s*(\S+)", re.IGNORECASE),
}


# --------------------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------------------


class ServerProcess:
    """A running ``localdev.server`` and everything its banner told us."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self._lines: collections.deque[str] = collections.deque(maxlen=20_000)
        self._seen = 0  # lines read so far (the deque keeps only the latest)
        self._lock = threading.Lock()
        self._banner: dict[str, str] = {}
        self._banner_complete = threading.Event()
        self._reader = threading.Thread(target=self._drain, name="localdev-server-stdout", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            with self._lock:
                self._lines.append(line)
                self._seen += 1
                if not self._banner_complete.is_set():
                    for key, pattern in _BANNER.items():
                        match = pattern.search(line)
                        if match and key not in self._banner:
                            self._banner[key] = match.group(1)
                    if len(self._banner) == len(_BANNER):
                        self._banner_complete.set()
        self._banner_complete.set()  # EOF: the process is gone; wake the waiter

    def wait_for_banner(self, timeout_s: float) -> dict[str, str]:
        """The parsed banner; fails the session with the server's output if it never came."""
        self._banner_complete.wait(timeout_s)
        with self._lock:
            banner = dict(self._banner)
        if len(banner) != len(_BANNER):
            state = "exited" if self.proc.poll() is not None else f"no banner within {timeout_s:.0f}s"
            self.stop()
            pytest.fail(f"localdev.server did not start ({state}).\n{self.describe()}", pytrace=False)
        return banner

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def line_count(self) -> int:
        """How many lines the server has printed so far (a mark for :meth:`lines_since`)."""
        with self._lock:
            return self._seen

    def lines_since(self, mark: int) -> list[str]:
        """Lines printed after :meth:`line_count` returned ``mark`` (as far as still kept)."""
        with self._lock:
            keep = self._seen - mark
            return list(self._lines)[-keep:] if keep > 0 else []

    def describe(self) -> str:
        tail = self.output().splitlines()[-200:]
        return f"exit code: {self.proc.poll()}\n--- server output (last {len(tail)} lines) ---\n" + "\n".join(
            tail
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> tuple[int | None, bool]:
        """SIGTERM, then SIGKILL after :data:`SHUTDOWN_TIMEOUT_S`. Returns ``(exit code, was killed)``."""
        if self.proc.poll() is not None:
            self._reader.join(timeout=5)
            return self.proc.returncode, False
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            killed = False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            killed = True
        self._reader.join(timeout=5)
        return code, killed


@dataclass(frozen=True)
class LocalServer:
    """What the e2e tests know about the server: its base URL and the banner's credentials."""

    base_url: str
    admin_token: str
    demo_location_id: str
    demo_api_key: str
    process: ServerProcess

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _assert_loopback(base_url: str) -> None:
    split = urlsplit(base_url)
    assert split.scheme == "http" and split.hostname is not None and split.port, base_url
    assert ipaddress.ip_address(split.hostname).is_loopback, f"server is not on loopback: {base_url}"


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """Start ``python -m localdev.server`` (PORT=0, loopback) for the session; stop it with SIGTERM."""
    env = dict(os.environ)
    env.update(
        PORT="0",
        HOST="127.0.0.1",
        SLOTBOOK_ADMIN_TOKEN=ADMIN_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev.server"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    process = ServerProcess(proc)
    try:
        banner = process.wait_for_banner(STARTUP_TIMEOUT_S)
        _assert_loopback(banner["base_url"])
        assert banner["admin_token"] == ADMIN_TOKEN, banner
        server = LocalServer(
            base_url=banner["base_url"].rstrip("/"),
            admin_token=banner["admin_token"],
            demo_location_id=banner["location_id"],
            demo_api_key=banner["api_key"],
            process=process,
        )
        # The banner is trustworthy only if the server answers with it: the demo key reads its location.
        with http_session() as session:
            ready = session.get(
                server.url("/calendars/"),
                params={"locationId": server.demo_location_id},
                headers={"Authorization": f"Bearer {server.demo_api_key}", "Version": "2021-07-28"},
                timeout=REQUEST_TIMEOUT_S,
            )
        assert ready.status_code == 200, (ready.status_code, ready.text)
        assert ready.json() == {"calendars": []}, ready.text
    except (AssertionError, requests.RequestException, ValueError) as exc:
        process.stop()
        pytest.fail(
            f"localdev.server started but is not usable: {exc!r}\n{process.describe()}", pytrace=False
        )
    except BaseException:
        process.stop()
        raise
    # The SDK's httpx client and requests honour *_PROXY variables: keep loopback traffic direct.
    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_PROXY", "no_proxy"):
            current = os.environ.get(name)
            mp.setenv(name, f"{current},127.0.0.1,localhost" if current else "127.0.0.1,localhost")
        yield server

    died_during_session = not process.alive()
    code, killed = process.stop()
    if died_during_session:
        pytest.fail(f"localdev.server died during the e2e session.\n{process.describe()}", pytrace=False)
    if killed or code != 0:
        pytest.fail(
            f"localdev.server did not shut down cleanly on SIGTERM (killed={killed}, exit code={code}).\n"
            f"{process.describe()}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _server_health(local_server: LocalServer) -> Iterator[None]:
    """Fail fast, with the server's output, if an earlier test killed the server; fail a test during
    which the server logged a traceback (a handler crashed), even if the test accepted the answer
    (best effort: lines the reader thread has not read yet when the test ends are not checked)."""
    if not local_server.process.alive():
        pytest.fail(f"localdev.server is not running.\n{local_server.process.describe()}", pytrace=False)
    mark = local_server.process.line_count()
    yield
    printed = local_server.process.lines_since(mark)
    if any("Traceback (most recent call last)" in line for line in printed):
        pytest.fail("localdev.server logged a traceback during this test:\n" + "\n".join(printed[-200:]))
    if not local_server.process.alive():
        pytest.fail(
            f"localdev.server died during this test.\n{local_server.process.describe()}", pytrace=False
        )


# --------------------------------------------------------------------------------------------------------
# HTTP helpers, tenants
# --------------------------------------------------------------------------------------------------------


def http_session() -> requests.Session:
    """A ``requests`` session that never goes through a proxy (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    return session


def admin_post(server: LocalServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with http_session() as session:
        reply = session.post(
            server.url(path),
            json=body,
            headers={"Authorization": f"Bearer {server.admin_token}"},
            timeout=REQUEST_TIMEOUT_S,
        )
    assert reply.status_code == 201, (path, reply.status_code, reply.text)
    return reply.json()


@dataclass(frozen=True)
class Tenant:
    """A location of its own and an API key for it."""

    location_id: str
    api_key: str
    timezone: str
    scopes: tuple[str, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


TenantFactory = Callable[..., Tenant]


@pytest.fixture
def new_tenant(local_server: LocalServer, request: pytest.FixtureRequest) -> TenantFactory:
    """Create a fresh location (admin API) and a key with ``scopes`` for it."""
    counter = iter(range(1, 1000))

    def make(scopes: tuple[str, ...] = ALL_SCOPES, timezone: str = TIMEZONE) -> Tenant:
        label = f"e2e {request.node.name[:150]} #{next(counter)}"
        location = admin_post(local_server, "/admin/locations", {"name": label, "timezone": timezone})[
            "location"
        ]
        assert location["timezone"] == timezone, location
        key = admin_post(
            local_server,
            f"/admin/locations/{location['id']}/api-keys",
            {"name": label, "scopes": list(scopes)},
        )["apiKey"]
        assert sorted(key["scopes"]) == sorted(scopes), key
        assert key["token"], key
        return Tenant(location_id=location["id"], api_key=key["token"], timezone=timezone, scopes=scopes)

    return make


@pytest.fixture
def tenant(new_tenant: TenantFactory) -> Tenant:
    """This test's own location (Europe/Copenhagen) with a key carrying every calendar scope."""
    return new_tenant()


# --------------------------------------------------------------------------------------------------------
# Dates on the real clock
# --------------------------------------------------------------------------------------------------------


def booking_monday(timezone: str = TIMEZONE, min_days_ahead: int = 14) -> date:
    """The first Monday at least ``min_days_ahead`` days from today (local) whose week (Monday
    00:00 to the next Monday 00:00) has no UTC-offset change, so local hours map to UTC simply."""
    tz = ZoneInfo(timezone)
    day = datetime.now(tz).date() + timedelta(days=min_days_ahead)
    day += timedelta(days=(7 - day.weekday()) % 7)
    while local(day, 0, tz=tz).utcoffset() != local(day + timedelta(days=7), 0, tz=tz).utcoffset():
        day += timedelta(days=7)
    return day


def local(day: date, hour: int, minute: int = 0, *, tz: ZoneInfo | None = None) -> datetime:
    """``day`` at ``hour:minute`` wall time in ``tz`` (default: :data:`TIMEZONE`)."""
    return datetime.combine(day, dtime(hour, minute), tz or ZoneInfo(TIMEZONE))


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, seconds precision: the dialect's slot format."""
    return moment.isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 instant that must carry an explicit UTC offset."""
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, f"no UTC offset in {text!r}"
    return parsed
