"""Handler-level fixtures: requests routed by template.yaml to the real function modules, as
API Gateway HTTP API (payload 2.0) events, on the per-test moto stack of ``aws``."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from localdev.server import LocalApi
from localdev.template import load_template
from tests.conftest import ADMIN_TOKEN, Tenant
from tests.integration.fake_providers import fake_providers  # noqa: F401  (fixture)

_API: LocalApi | None = None


def local_api() -> LocalApi:
    """One LocalApi per test process (function modules load once, like warm Lambdas)."""
    global _API
    if _API is None:
        _API = LocalApi(load_template(), "us-east-1")
    return _API


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class Client:
    """A tiny HTTP-ish client over the handlers. ``token``/``version`` are sent on every call."""

    def __init__(self, token: str | None, version: str | None = "2021-07-28") -> None:
        self.token = token
        self.version = version

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw: bytes | None = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        hdrs = {"content-type": "application/json"}
        if self.token is not None:
            hdrs["authorization"] = f"Bearer {self.token}"
        if self.version is not None:
            hdrs["version"] = self.version
        hdrs.update(headers or {})
        body = raw if raw is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        target = path + (f"?{urlencode(params, doseq=True)}" if params else "")
        response, _, _ = local_api().handle(method, target, list(hdrs.items()), body, "127.0.0.1")
        text = response.body.decode() if response.body else ""
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = text
        return Reply(response.status, parsed, response.headers)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("DELETE", path, json_body=body, **kw)


@pytest.fixture
def powertools_logs() -> Iterator[io.StringIO]:
    """Every log line the functions write, formatted exactly as in CloudWatch (JSON)."""
    from slotbook.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def admin(aws: str) -> Client:
    return Client(ADMIN_TOKEN, version=None)


@pytest.fixture
def client(tenant: Tenant) -> Client:
    return Client(tenant.token)


SEED_000_HOURS = [
    {
        "daysOfTheWeek": [1, 2, 3, 4],
        "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
    },
    {"daysOfTheWeek": [5], "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 16, "closeMinute": 0}]},
]
"""Working hours of seeds/000: Mon–Thu 09:00–17:00, Fri 09:00–16:00 (GoHighLevel 0 = Sunday)."""


def make_calendar(client: Client, location_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "locationId": location_id,
        "name": "Intro call",
        "calendarType": "event",
        "teamMembers": [{"userId": "host-1"}],
        "openHours": SEED_000_HOURS,
        **fields,
    }
    reply = client.post("/calendars/", body)
    assert reply.status == 200, reply.body
    return reply.body["calendar"]


def ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def free_slots(client: Client, calendar_id: str, start: str, end: str, **params: Any) -> dict[str, list[str]]:
    reply = client.get(
        f"/calendars/{calendar_id}/free-slots", params={"startDate": ms(start), "endDate": ms(end), **params}
    )
    assert reply.status == 200, reply.body
    return {day: value["slots"] for day, value in reply.body.items()}


def all_slots(slots: dict[str, list[str]]) -> list[str]:
    return [s for day in sorted(slots) for s in slots[day]]
