"""Sync function: the calendar-sync worker, on two triggers.

* **SQS** (the FIFO ``SyncQueue``, ``ReportBatchItemFailures``): each message is one job of
  :meth:`slotbook.services.sync.SyncService.handle` — a connection to sync (message group = the
  connection id) or a booking to write to the provider calendars (group = the booking id). A
  :class:`~slotbook.providers.base.ProviderError` with ``retryable`` (429, 5xx, timeouts) fails the
  record after its visibility is set to the attempt's backoff (30 s, 60 s, ... or the provider's
  ``Retry-After`` when longer), and the records after it in the same message group fail with it and
  come back together, so a group stays in order; other groups of the batch go on. Any other
  exception fails the record too (SQS redelivers it after the queue's visibility timeout); after
  ``maxReceiveCount`` (5) receives SQS moves a message to the FIFO dead-letter queue.
* **EventBridge schedule** (``rate(5 minutes)``): :meth:`~slotbook.services.sync.SyncService.maintain`
  renews channels/subscriptions about to expire and queues the safety-net syncs that are due.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from slotbook.container import services
from slotbook.delivery.service import MAX_ATTEMPTS, backoff_seconds
from slotbook.observability import MetricUnit, logger, metrics, tracer
from slotbook.providers.base import ProviderError, RateLimited
from slotbook.services.sync import SqsSyncQueue

MAX_VISIBILITY_S = 43_200
"""SQS's ceiling for a message's visibility timeout (12 hours)."""

processor = SqsFifoPartialProcessor(skip_group_on_error=True)
processor.raise_on_entire_batch_failure = False
"""An all-failed batch is reported item by item too (not raised), so each record keeps its backoff."""

_group_delays: dict[str, int] = {}
"""Message group -> backoff of its failed record, during one batch (one environment runs one
invocation at a time, as on Lambda)."""
_delayed: set[str] = set()
"""Message ids whose visibility was already set during the batch."""


class RetryLater(Exception):
    """A job that failed in a retryable way: the message must come back after its backoff."""


def _set_visibility(receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again in ``seconds``; no-op without the SQS queue (local
    runs handle messages inline)."""
    queue = services().sync.queue
    if isinstance(queue, SqsSyncQueue):
        queue.retry_after(receipt_handle, seconds)


def retry_delay(error: ProviderError, attempt: int) -> int:
    """Seconds before attempt ``attempt + 1`` of a job that failed with a retryable ``error``:
    the exponential backoff of :func:`slotbook.delivery.service.backoff_seconds`, or the provider's
    ``Retry-After`` when longer; 0 on the last attempt (the message goes to the dead-letter queue
    without waiting)."""
    if attempt >= MAX_ATTEMPTS:
        return 0
    delay = backoff_seconds(attempt)
    if isinstance(error, RateLimited) and error.retry_after_s:
        delay = max(delay, int(error.retry_after_s + 0.999))
    return min(delay, MAX_VISIBILITY_S)


def record_handler(record: SQSRecord) -> None:
    """Run the job of one message. Raises :class:`RetryLater` for a retryable provider failure."""
    message = json.loads(record.body)
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        services().sync.handle(message)
    except ProviderError as exc:
        if not exc.retryable:
            raise
        delay = retry_delay(exc, attempt)
        group = record.attributes.message_group_id
        if group:
            _group_delays[group] = delay
        _set_visibility(record.receipt_handle, delay)
        _delayed.add(record.message_id)
        metrics.add_metric(name="SyncRetries", unit=MetricUnit.Count, value=1)
        raise RetryLater(
            f"message {record.message_id}: retryable provider failure on attempt {attempt}"
        ) from exc


def _hold_back_group_followers(event: dict[str, Any], result: dict[str, Any]) -> None:
    """Records skipped because an earlier record of their group failed come back with it."""
    failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
    for raw in event.get("Records", []):
        group = (raw.get("attributes") or {}).get("MessageGroupId")
        message_id = raw.get("messageId")
        if message_id in failed and message_id not in _delayed and group in _group_delays:
            _set_visibility(raw["receiptHandle"], _group_delays[group])


def _consume(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _group_delays.clear()
    _delayed.clear()
    try:
        result = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        _hold_back_group_followers(event, result)
        return result
    finally:
        _group_delays.clear()
        _delayed.clear()


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS batch: ``{"batchItemFailures": [...]}`` (the messages SQS must deliver again).
    A scheduled event: ``{"queued": n}``, the syncs and renewals the sweep queued."""
    if "Records" in event:
        return _consume(event, context)
    queued = services().sync.maintain()
    (logger.info if queued else logger.debug)("sync sweep done", extra={"queued": queued})
    return {"queued": queued}
