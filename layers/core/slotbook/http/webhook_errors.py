"""Error responses of the provider-webhook endpoints (``/webhooks/google``, ``/webhooks/microsoft``),
in one place: domain exception -> status and a small ``{"error": "..."}`` body.

Providers read only the status: 2xx acknowledges a notification; Google and Graph retry some
5xx answers and give up on 4xx, which is what a forged or unknown callback should get.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from slotbook.errors import (
    InvalidRequest,
    NotFound,
    ProviderUnavailable,
    SlotbookError,
    Unauthenticated,
    ValidationFailed,
)
from slotbook.observability import logger

_STATUS: list[tuple[type[SlotbookError], int]] = [
    (Unauthenticated, 401),  # channel token / clientState mismatch
    (NotFound, 404),  # unknown channel or subscription
    (InvalidRequest, 400),
    (ValidationFailed, 400),
    (ProviderUnavailable, 503),
]


def error_response(exc: SlotbookError) -> Response:
    """``exc`` as a webhook response (unlisted domain errors answer 400)."""
    status = next((st for cls, st in _STATUS if isinstance(exc, cls)), 400)
    logger.info("webhook refused", extra={"status": status, "error_type": type(exc).__name__})
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": exc.message}),
    )


def register_error_handlers(app: ApiGatewayResolver) -> None:
    """Map every :class:`SlotbookError` raised by a route of ``app`` through :func:`error_response`."""

    @app.exception_handler(SlotbookError)
    def _domain_error(exc: SlotbookError) -> Response:
        return error_response(exc)

    @app.not_found
    def _not_found(_: Any) -> Response:
        return error_response(NotFound("route"))
