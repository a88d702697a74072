"""HTTP concerns of the GoHighLevel (LeadConnector) dialect, shared by its functions.

:class:`GhlApi` wraps a Powertools ``APIGatewayHttpResolver`` (request validation on) with the
gate every route passes *before* body validation, in this order:

1. ``Authorization: Bearer <api key>`` → the key's location and scopes; missing or unknown → 401;
2. ``Version`` header: ``2021-07-28``, ``2021-04-15`` or ``v3`` (the official SDK) → else 400;
3. the route's scope (declared with the route, as the reference lists it) → else 401
   "The token is not authorized for this scope.".

A ``locationId`` the request names is checked against the token's by :meth:`GhlApi.tenant`
(403), and ids of another location answer 404 because every read is keyed by the token's
location. Domain errors become responses in :mod:`slotbook.http.ghl_errors`, the one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from slotbook.container import services
from slotbook.domain import Principal
from slotbook.errors import Forbidden, InvalidRequest, SlotbookError, Unauthenticated
from slotbook.http.common import check_body
from slotbook.http.ghl_errors import error_result, register_error_handlers
from slotbook.observability import Handler, instrument, logger
from slotbook.services.tenancy import authorize

API_VERSIONS = frozenset({"2021-07-28", "2021-04-15", "v3"})


def route_key(method: str, path: str) -> str:
    """``"GET /calendars/{calendarId}"``: method plus path in API Gateway's ``{param}`` form,
    without a trailing slash (``/calendars/`` and ``/calendars`` are one route)."""
    path = re.sub(r"<(\w+)>", r"{\1}", path)
    return f"{method.upper()} {path.rstrip('/') or '/'}"


class GhlApi:
    """One GoHighLevel-dialect Lambda function: declare routes with their scope, export
    :attr:`handler` as ``lambda_handler``."""

    def __init__(self) -> None:
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self._scopes: dict[str, str] = {}
        register_error_handlers(self.app)
        self.handler: Handler = instrument(self._handle)

    # -- route declaration --------------------------------------------------------------------

    def route(self, method: str, path: str, scope: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        """Register ``method path`` requiring ``scope`` (also reachable with a trailing slash)."""

        def decorate(fn: Callable) -> Callable:
            self._scopes[route_key(method, path)] = scope
            paths = {path.rstrip("/") or "/", path}
            for p in paths:
                fn = self.app.route(p, method, **kwargs)(fn)
            return fn

        return decorate

    def get(self, path: str, scope: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self.route("GET", path, scope, **kwargs)

    def post(self, path: str, scope: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self.route("POST", path, scope, **kwargs)

    def put(self, path: str, scope: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self.route("PUT", path, scope, **kwargs)

    def delete(self, path: str, scope: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        return self.route("DELETE", path, scope, **kwargs)

    @property
    def scopes(self) -> dict[str, str]:
        """Route key → required scope (read by the route-coverage tests)."""
        return dict(self._scopes)

    # -- request context ----------------------------------------------------------------------

    @property
    def principal(self) -> Principal:
        principal = self.app.context.get("principal")
        if principal is None:  # a route reached without passing the gate
            raise Unauthenticated("Invalid token: access token is invalid")
        return principal

    def tenant(self, location_id: str | None = None) -> str:
        """The token's location id; ``location_id`` named by the request must equal it (403)."""
        principal = self.principal
        if location_id is not None and location_id != principal.location_id:
            raise Forbidden("The token does not have access to this location.")
        return principal.location_id

    # -- the gate -----------------------------------------------------------------------------

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            check_body(event)
        except SlotbookError as exc:
            return error_result(exc)
        # API Gateway names the matched route ("GET /calendars/{calendarId}"); a route without a
        # declared scope never gets a principal, so its handler answers 401 (see `principal`).
        method, _, path = (event.get("routeKey") or "").partition(" ")
        scope = self._scopes.get(route_key(method, path)) if path else None
        if scope is not None:
            headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
            try:
                principal = services().tenancy.authenticate(headers.get("authorization"))
                if headers.get("version") not in API_VERSIONS:
                    raise InvalidRequest("Version header is missing or not supported (use 2021-07-28 or v3)")
                authorize(principal, scope)
            except SlotbookError as exc:
                return error_result(exc)
            logger.append_keys(location_id=principal.location_id, api_key_id=principal.key_id)
            self.app.append_context(principal=principal)
        return self.app.resolve(event, context)
