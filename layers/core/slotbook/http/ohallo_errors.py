"""oHallo error shapes: domain exception → status and body, in one place.

Every failure answers ``{"error": "<message>"}`` (the seed's standard error response). Status
map (reference/seeds/000, 001 and ARCHITECTURE.md invariants 2 and 4):

===========================================================  ======
``InvalidRequest``, ``ValidationFailed``, request validation   400
(body, query or path; malformed JSON; unknown fields)
``Unauthenticated`` (no or unknown bearer token)               401
``MissingScope``, ``Forbidden``                                 403
``NotFound`` (also another workspace's ids)                     404
``SlotUnavailable``, ``BookingConflict``, ``ConcurrentUpdate``,  409
``ReauthorizationNeeded``
``ProviderUnavailable``                                         503
===========================================================  ======

Request validation never answers 422: each bad field becomes one clause naming it in the
request's own spelling (``bookingConfig.bufferMinutes must be >= 0``, ``unknown field 'foo'``),
clauses joined with ``"; "``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    ProviderUnavailable,
    ReauthorizationNeeded,
    SlotbookError,
    SlotUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from slotbook.observability import logger

_STATUS: list[tuple[type[SlotbookError], int]] = [
    (Unauthenticated, 401),
    (MissingScope, 403),
    (Forbidden, 403),
    (NotFound, 404),
    (ValidationFailed, 400),
    (InvalidRequest, 400),
    (SlotUnavailable, 409),
    (BookingConflict, 409),
    (ConcurrentUpdate, 409),
    (ReauthorizationNeeded, 409),
    (ProviderUnavailable, 503),
]
"""Domain error class → status; the first match wins, any other domain error answers 400."""

_SOURCES = ("body", "query", "path", "header")


def _json(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": message})


def status_of(exc: SlotbookError) -> int:
    """The HTTP status this dialect answers for ``exc``."""
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 400)


def error_response(exc: SlotbookError) -> Response:
    """``{"error": message}`` with the status of :data:`_STATUS`.

    A ``NotFound`` names only the kind (``"Calendar connection not found"``), never the id, so
    an id of another workspace reads exactly like one that does not exist.
    """
    status = status_of(exc)
    message = f"{exc.kind} not found" if isinstance(exc, NotFound) else exc.message
    logger.info("request refused", extra={"status": status, "error_type": type(exc).__name__})
    return _json(status, message)


def error_result(exc: SlotbookError) -> dict[str, Any]:
    """:func:`error_response` as a Lambda proxy result, for errors raised before routing."""
    response = error_response(exc)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "bookingConfig", "blockedDates", 0)`` → ``bookingConfig.blockedDates[0]``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe(error: dict[str, Any]) -> str:
    """One pydantic/Powertools error → a clause naming the field (by error *type*, not text)."""
    kind = error.get("type", "")
    field = field_path(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    what = field or "request body"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'"
    if kind == "missing":
        return f"{what} is required"
    if kind == "json_invalid":
        return "Malformed JSON in request body"
    if kind == "value_error":
        return f"{what} {ctx.get('error', 'is invalid')}"
    simple = {
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "dict_type": "must be an object",
        "list_type": "must be an array",
        "string_type": "must be a string",
        "bool_type": "must be a boolean",
        "bool_parsing": "must be a boolean",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "finite_number": "must be a finite number",
        "string_unicode": "must be a string",
        "unsupported_content_type": "must be sent as application/json",
    }
    if kind in simple:
        return f"{what} {simple[kind]}"
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return (
            f"{what} must not be empty" if minimum == 1 else f"{what} must be at least {minimum} characters"
        )
    if kind == "string_too_long":
        return f"{what} must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"{what} must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"{what} must have at least {ctx.get('min_length')} items"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        symbol, key = bounds[kind]
        return f"{what} must be {symbol} {ctx.get(key)}"
    if kind == "literal_error":
        return f"{what} must be one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return f"{what} must match {ctx.get('pattern')}"
    message = str(error.get("msg") or "is invalid")
    return f"{what} {message[:1].lower()}{message[1:]}"


def validation_response(exc: RequestValidationError) -> Response:
    """400 ``{"error": ...}`` naming each bad field; malformed JSON → 400 as well."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return _json(400, "Malformed JSON in request body")
    clauses = list(dict.fromkeys(describe(e) for e in errors)) or ["Invalid request"]
    logger.info("request refused", extra={"status": 400, "error_type": "RequestValidationError"})
    return _json(400, "; ".join(clauses))


def not_found_response(_: Exception) -> Response:
    """A path no route of the function serves."""
    return _json(404, "Not found")


def register_error_handlers(app: ApiGatewayResolver) -> None:
    """Attach the dialect's mapping to a resolver (domain errors, request validation, no route)."""
    app.exception_handler(SlotbookError)(error_response)
    app.exception_handler(RequestValidationError)(validation_response)
    app.not_found(not_found_response)
