"""Give each local Lambda environment its own Powertools "current event".

Powertools' ``ApiGatewayResolver.resolve`` stores the event being handled on the ``BaseRouter``
*class* (``BaseRouter.current_event = ...``), which is fine on Lambda: one process serves one
invocation at a time. ``make dev`` runs many environments as threads of one interpreter, so every
resolver would read whichever request was stored last — routing, path, body validation, query
parameters and headers of one request answered with another's (seen in the 24-way booking races:
bookings made for the wrong contact). :func:`install` pins the event on the resolver instance that
is handling it (an instance attribute wins over the class attribute); each environment's resolver
serves one request at a time, exactly as on AWS. Production code is untouched.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_MARKER = "__slotbook_isolated__"
_LOCK = threading.Lock()


def install() -> None:
    """Patch ``ApiGatewayResolver.resolve`` (idempotent, thread-safe)."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    with _LOCK:
        original = ApiGatewayResolver.resolve
        if getattr(original, _MARKER, False):
            return

        @functools.wraps(original)
        def resolve(self: Any, event: dict[str, Any], context: Any) -> Any:
            self.current_event = self._to_proxy_event(event)
            self.lambda_context = context
            return original(self, event, context)

        setattr(resolve, _MARKER, True)
        ApiGatewayResolver.resolve = resolve  # type: ignore[method-assign]


def is_installed() -> bool:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    return bool(getattr(ApiGatewayResolver.resolve, _MARKER, False))
