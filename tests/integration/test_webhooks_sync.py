"""The webhooks and sync functions as deployed (functions/webhooks, functions/sync), and the
``fake_providers`` wiring: provider pushes from the fakes reach the in-process webhooks function.

The sync domain (what a sync stores, busy time, provider copies) is tested with the services;
here: the HTTP contract of the callbacks (Graph handshake, status codes, error bodies), the SQS
FIFO consumer (retry backoff, message-group ordering, partial batch failures) and the schedule.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from slotbook.providers.base import ProviderError, RateLimited
from slotbook.services.sync import SqsSyncQueue, SyncService
from tests.conftest import Tenant
from tests.integration.conftest import Client, local_api
from tests.integration.fake_providers import GOOGLE_ACCOUNT, FakeProviders


def _post(path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """POST through the template's router, as API Gateway would; (status, content type, body)."""
    hdrs = list((headers or {}).items())
    response, _, function = local_api().handle("POST", path, hdrs, body, "66.249.84.12")
    assert function == "WebhooksFunction"
    return response.status, response.headers.get("Content-Type", ""), response.body.decode()


# --------------------------------------------------------------------------------------------------------
# Webhooks: the HTTP contract
# --------------------------------------------------------------------------------------------------------


def test_graph_validation_handshake_echoes_the_decoded_token_as_plain_text(aws: str) -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id: 9a1b"
    status, content_type, body = _post(
        "/webhooks/microsoft?validationToken=Validation%3A%20Testing%20client%20application%20reachability"
        "%20for%20subscription%20Request-Id%3A%209a1b",
        headers={"content-type": "text/plain; charset=utf-8"},
    )
    assert (status, body) == (200, token)
    assert content_type.startswith("text/plain")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"value": {}}', b'{"values": []}', b'"x"'],
    ids=["not-json", "array", "value-not-a-list", "no-value", "string"],
)
def test_malformed_graph_notifications_are_400(aws: str, body: bytes) -> None:
    status, content_type, text = _post("/webhooks/microsoft", body, {"content-type": "application/json"})
    assert status == 400
    assert content_type == "application/json"
    assert set(json.loads(text)) == {"error"}


def test_unknown_channels_and_subscriptions_are_404_and_change_nothing(aws: str) -> None:
    status, _, text = _post(
        "/webhooks/google",
        headers={
            "x-goog-channel-id": "no-such-channel",
            "x-goog-channel-token": "t",
            "x-goog-resource-state": "exists",
            "x-goog-message-number": "2",
        },
    )
    assert (status, set(json.loads(text))) == (404, {"error"})
    status, _, text = _post("/webhooks/google")  # no headers at all
    assert status == 404
    notification = {"value": [{"subscriptionId": "nope", "clientState": "x", "changeType": "updated"}]}
    status, _, text = _post(
        "/webhooks/microsoft", json.dumps(notification).encode(), {"content-type": "application/json"}
    )
    assert (status, set(json.loads(text))) == (404, {"error"})


# --------------------------------------------------------------------------------------------------------
# The fake providers push into the webhooks function (relay), end to end
# --------------------------------------------------------------------------------------------------------


def _connect(
    fakes: FakeProviders, client: Client, tenant: Tenant, provider: str, calendar_id: str
) -> dict[str, Any]:
    started = client.post(f"/api/workspaces/{tenant.location_id}/calendar-connections/oauth/{provider}", {})
    assert started.status in (200, 201), started.body
    assert started.body["authorizationUrl"].startswith(
        fakes.google.auth_url if provider == "google" else fakes.microsoft.auth_url
    )
    reply = fakes.authorize(provider, started.body["authorizationUrl"])
    assert reply.status == 200, reply.body
    connection = json.loads(reply.body)
    picked = client.request(
        "PATCH", f"/api/calendar-connections/{connection['id']}", json_body={"calendarId": calendar_id}
    )
    assert picked.status == 200, picked.body
    return picked.body


def _relay_post(fakes: FakeProviders, path: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(fakes.base_url + path, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_google_pushes_reach_the_webhooks_function(fake_providers: FakeProviders, tenant: Tenant) -> None:
    from datetime import UTC, datetime

    client = Client(tenant.token, version=None)
    _connect(fake_providers, client, tenant, "google", GOOGLE_ACCOUNT)
    (channel,) = fake_providers.google.channels(GOOGLE_ACCOUNT)
    assert channel["address"] == f"{fake_providers.base_url}/webhooks/google"
    (handshake,) = fake_providers.wait_for_google(1)
    # Google's "sync" message leaves right after events.watch answers, so it may arrive before the
    # channel is stored (404, as at Google); it carries no change either way.
    assert handshake.state == "sync" and handshake.status in (200, 404)

    fake_providers.google.add_event(
        GOOGLE_ACCOUNT, start=datetime(2027, 3, 2, 9, tzinfo=UTC), end=datetime(2027, 3, 2, 10, tzinfo=UTC)
    )
    change = fake_providers.wait_for_google(2)[-1]
    assert (change.state, change.status) == ("exists", 200)

    # A forged push to the same public address: right channel, wrong token.
    forged = {
        "X-Goog-Channel-ID": channel["id"],
        "X-Goog-Channel-Token": "forged",
        "X-Goog-Resource-ID": channel["resourceId"],
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "99",
    }
    assert _relay_post(fake_providers, "/webhooks/google", forged) == 401


def test_graph_subscription_handshake_and_notifications_reach_the_webhooks_function(
    fake_providers: FakeProviders, tenant: Tenant
) -> None:
    from datetime import UTC, datetime

    microsoft = fake_providers.microsoft
    client = Client(tenant.token, version=None)
    _connect(fake_providers, client, tenant, "microsoft", microsoft.default_calendar_id())
    (validation,) = microsoft.validations
    assert validation.url == f"{fake_providers.base_url}/webhooks/microsoft"
    assert validation.passed
    assert len(microsoft.subscriptions()) == 1

    microsoft.add_event(
        microsoft.default_calendar_id(),
        start=datetime(2027, 3, 2, 9, tzinfo=UTC),
        end=datetime(2027, 3, 2, 10, tzinfo=UTC),
    )
    fake_providers.wait_for_microsoft()
    assert [d.status for d in microsoft.deliveries] == [202]


# --------------------------------------------------------------------------------------------------------
# The sync function: SQS FIFO consumer and schedule
# --------------------------------------------------------------------------------------------------------


def _record(message_id: str, group: str, body: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1804320000000",
            "MessageGroupId": group,
            "MessageDeduplicationId": f"d-{message_id}",
            "SequenceNumber": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:slotbook-test-sync.fifo",
        "awsRegion": "us-east-1",
    }


@pytest.fixture
def sync_queue(aws: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """A moto FIFO sync queue in SYNC_QUEUE_URL; returns the visibility changes made on it."""
    import boto3

    from slotbook import container

    url = boto3.client("sqs").create_queue(
        QueueName="slotbook-test-sync.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", url)
    container.reset()
    changes: list[tuple[str, int]] = []

    def retry_after(self: SqsSyncQueue, receipt_handle: str, seconds: int) -> None:
        changes.append((receipt_handle, seconds))

    monkeypatch.setattr(SqsSyncQueue, "retry_after", retry_after)
    return changes


def test_a_retryable_failure_brings_back_its_record_and_the_rest_of_its_group(
    sync_queue: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    handled: list[str] = []

    def handle(self: SyncService, message: dict[str, Any]) -> None:
        if message["id"] == "a1":
            raise RateLimited("throttled", retry_after_s=90.0)
        handled.append(message["id"])

    monkeypatch.setattr(SyncService, "handle", handle)
    records = [
        _record("a1", "conn-a", {"id": "a1"}),
        _record("b1", "conn-b", {"id": "b1"}),
        _record("a2", "conn-a", {"id": "a2"}),
        _record("b2", "conn-b", {"id": "b2"}),
    ]
    result = local_api().functions.invoke("SyncFunction", {"Records": records})
    assert result == {"batchItemFailures": [{"itemIdentifier": "a1"}, {"itemIdentifier": "a2"}]}
    assert handled == ["b1", "b2"]  # group b went on, in order; a2 never ran before a1
    # Retry-After (90 s) beats the first backoff (30 s); a2 comes back together with a1.
    assert sorted(sync_queue) == [("rh-a1", 90), ("rh-a2", 90)]


def test_backoff_grows_per_attempt_and_the_last_attempt_goes_straight_to_the_dlq(
    sync_queue: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handle(self: SyncService, message: dict[str, Any]) -> None:
        raise ProviderError("503 from the provider", retryable=True, status=503)

    monkeypatch.setattr(SyncService, "handle", handle)
    for attempt, delay in ((1, 30), (2, 60), (4, 240), (5, 0)):
        sync_queue.clear()
        event = {"Records": [_record(f"m{attempt}", "g", {"id": "x"}, receive_count=attempt)]}
        result = local_api().functions.invoke("SyncFunction", event)
        assert result == {"batchItemFailures": [{"itemIdentifier": f"m{attempt}"}]}
        assert sync_queue == [(f"rh-m{attempt}", delay)]


def test_other_failures_fail_the_record_without_changing_its_visibility(
    sync_queue: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handle(self: SyncService, message: dict[str, Any]) -> None:
        if message["id"] == "bad":
            raise ProviderError("400 from the provider", retryable=False, status=400)

    monkeypatch.setattr(SyncService, "handle", handle)
    event = {"Records": [_record("bad", "g1", {"id": "bad"}), _record("ok", "g2", {"id": "ok"})]}
    result = local_api().functions.invoke("SyncFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert sync_queue == []  # redelivered after the queue's visibility timeout, DLQ after 5


def test_the_schedule_runs_the_sweep(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def maintain(self: SyncService) -> int:
        calls.append(1)
        return 3

    monkeypatch.setattr(SyncService, "maintain", maintain)
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert local_api().functions.invoke("SyncFunction", scheduled) == {"queued": 3}
    assert calls == [1]
