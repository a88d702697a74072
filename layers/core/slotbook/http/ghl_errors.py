"""GoHighLevel error shapes: domain exception → status and body, in one place.

Bodies follow ``reference/ghl-common-schemas.json``: ``BadRequestDTO`` (400),
``UnauthorizedDTO`` (401), ``ForbiddenDTO`` (403), ``NotFoundDTO`` (404) and
``UnprocessableDTO`` (422, ``message`` lists one entry per bad field). A lost booking race
after retries answers 409 with the same shape.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from slotbook.errors import (
    BookingConflict,
    ConcurrentUpdate,
    Forbidden,
    InvalidRequest,
    MissingScope,
    NotFound,
    SlotbookError,
    SlotUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from slotbook.observability import logger

_STATUS: list[tuple[type[SlotbookError], int, str | None]] = [
    (Unauthenticated, 401, "Unauthorized"),
    (MissingScope, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not Found"),
    (ValidationFailed, 422, "Unprocessable Entity"),
    (SlotUnavailable, 400, "Bad Request"),
    (InvalidRequest, 400, "Bad Request"),
    (BookingConflict, 409, "Conflict"),
    (ConcurrentUpdate, 409, "Conflict"),
]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def error_response(exc: SlotbookError) -> Response:
    """The dialect's response for a domain error (unknown subclasses answer 400)."""
    status, error = next(
        ((st, err) for cls, st, err in _STATUS if isinstance(exc, cls)), (400, "Bad Request")
    )
    message: Any = exc.errors if isinstance(exc, ValidationFailed) else exc.message
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if error:
        body["error"] = error
    if status >= 400:
        logger.info("request refused", extra={"status": status, "error_type": type(exc).__name__})
    return _json(status, body)


def error_result(exc: SlotbookError) -> dict[str, Any]:
    """:func:`error_response` as a Lambda proxy result, for errors raised before routing."""
    response = error_response(exc)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }


def validation_response(exc: RequestValidationError) -> Response:
    """422 ``UnprocessableDTO`` listing each bad field; malformed JSON → 400."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _json(
            400, {"statusCode": 400, "message": "Malformed JSON in request body", "error": "Bad Request"}
        )
    messages = []
    for e in errors:
        # Drop only the leading source ("body", "query", ...): a field may itself be named "body".
        parts = list(e.get("loc", ()))
        if parts and parts[0] in ("body", "query", "path", "header"):
            parts = parts[1:]
        loc = [str(p) for p in parts]
        field = ".".join(loc)
        msg = e.get("msg", "is invalid")
        messages.append(f"{field} {msg}" if field else msg)
    return _json(
        422,
        {"statusCode": 422, "message": messages or ["Unprocessable Entity"], "error": "Unprocessable Entity"},
    )


def register_error_handlers(app: ApiGatewayResolver) -> None:
    """Attach the dialect's mapping to a resolver (domain errors and request validation)."""
    app.exception_handler(SlotbookError)(error_response)
    app.exception_handler(RequestValidationError)(validation_response)
