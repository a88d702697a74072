"""Powertools Logger, Metrics and Tracer shared by every function (service ``slotbook``).

Log lines never carry tokens: handlers do not log events, and the auth layer logs only key ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="slotbook")
metrics = Metrics(namespace="Slotbook", service="slotbook")
tracer = Tracer(service="slotbook")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def instrument(handler: Handler) -> Handler:
    """Wrap an HTTP API (payload 2.0) Lambda handler: X-Ray trace, EMF metrics flushed per
    invocation, structured logs with the request's correlation id. Events are never logged
    (they carry bearer tokens). Keys appended during a request (location, API key) are cleared
    at the start of the next one, so a warm environment never logs a previous caller's."""
    return tracer.capture_lambda_handler(
        metrics.log_metrics(
            logger.inject_lambda_context(
                handler,
                correlation_id_path=correlation_paths.API_GATEWAY_HTTP,
                log_event=False,
                clear_state=True,
            )
        )
    )


__all__ = ["Handler", "MetricUnit", "instrument", "logger", "metrics", "tracer"]
