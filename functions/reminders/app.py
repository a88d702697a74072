"""Reminders function: the minute-rate sweep (EventBridge schedule ``rate(1 minute)``).

Reads the due-jobs index for the last minutes, claims each due job with a conditional write (so
overlapping or retried sweeps hand each out once) and puts it on the delivery queue, where the
deliveries function sends it. See :mod:`slotbook.delivery.service`.
"""

from __future__ import annotations

from typing import Any

from slotbook.container import services
from slotbook.observability import logger, metrics, tracer


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """``{"found": n, "handedOut": m}``: due jobs seen, and those this run claimed and queued."""
    result = services().delivery.sweep()
    # An idle minute is not news (and make dev runs this every few seconds).
    log = logger.info if result.found else logger.debug
    log("sweep done", extra={"found": result.found, "handed_out": result.handed_out})
    return {"found": result.found, "handedOut": result.handed_out}
