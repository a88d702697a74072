"""Deliveries function: consumes the delivery queue (SQS, ``ReportBatchItemFailures``).

Each message names one job (``{"locationId", "appointmentId", "jobId"}``). A job some recipient
failed for in a retryable way (throttling, provider 5xx, a webhook receiver down) is reported as a
batch item failure after its visibility is set to the backoff of its attempt (30 s, 60 s, ...),
so SQS redelivers it then; after the queue's ``maxReceiveCount`` receives SQS moves it to the
dead-letter queue. Recipients already served are never sent to again (sent markers).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from slotbook.container import services
from slotbook.delivery.service import MAX_ATTEMPTS, backoff_seconds
from slotbook.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
"""An all-failed batch is reported item by item too (not raised), so each message keeps its own
backoff."""


class RetryLater(Exception):
    """A job with retryable failures: the message must come back (after its backoff)."""


def record_handler(record: SQSRecord) -> None:
    """Deliver the job of one message; raise :class:`RetryLater` to have it redelivered."""
    body = json.loads(record.body)
    attempt = int(record.attributes.approximate_receive_count or 1)
    delivery = services().delivery
    outcome = delivery.deliver(body["locationId"], body["appointmentId"], body["jobId"], attempt=attempt)
    if outcome.retry:
        if delivery.queue is not None:
            delay = 0 if attempt >= MAX_ATTEMPTS else backoff_seconds(attempt)
            delivery.queue.retry_after(record.receipt_handle, delay)
        raise RetryLater(f"job {body['jobId']}: retryable failure on attempt {attempt}")


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``{"batchItemFailures": [...]}``: the messages SQS must deliver again."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
