"""HTTP concerns of the oHallo dialect (reference/seeds/000, 001), shared by its functions.

:class:`OHalloApi` wraps a Powertools ``APIGatewayHttpResolver`` (request validation on) with the
gate every route passes *before* body validation, in this order:

1. ``Authorization: Bearer <api key>`` (the same keys as GoHighLevel) → the key's location and
   scopes; missing or unknown → 401. There is no ``Version`` header in this dialect.
2. the route's scope: ``calendar:read`` for reads, ``calendar:write`` for writes → else 403;
3. a ``{workspaceId}`` in the path must be the token's location → else 404
   ``Workspace not found`` (another tenant's ids read like ids that do not exist, invariant 2).

A route declared with ``scope=PUBLIC`` skips the gate (the OAuth callback: the user's browser
arrives there from the provider, without a bearer token); its handler must not call
:meth:`OHalloApi.tenant`. Ids a request names (connections, bookings) answer 404 for another
workspace because every read is keyed by the token's location. Domain errors become
``{"error": ...}`` responses in :mod:`slotbook.http.ohallo_errors`, the one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from slotbook.container import services
from slotbook.domain import Principal
from slotbook.errors import InvalidRequest, NotFound, SlotbookError, Unauthenticated
from slotbook.http.common import check_body
from slotbook.http.ghl import route_key
from slotbook.http.ohallo_errors import error_result, register_error_handlers
from slotbook.observability import Handler, instrument, logger
from slotbook.services.tenancy import authorize

READ = "calendar:read"
WRITE = "calendar:write"
PUBLIC: None = None
"""``scope=PUBLIC``: the route is reached without a bearer token (OAuth callback only)."""


class OHalloApi:
    """One oHallo-dialect Lambda function: declare routes with their scope, export
    :attr:`handler` as ``lambda_handler``."""

    def __init__(self) -> None:
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self._scopes: dict[str, str | None] = {}
        register_error_handlers(self.app)
        self.handler: Handler = instrument(self._handle)

    # -- route declaration --------------------------------------------------------------------

    def route(
        self, method: str, path: str, scope: str | None, **kwargs: Any
    ) -> Callable[[Callable], Callable]:
        """Register ``method path`` requiring ``scope`` (``PUBLIC``: no token at all)."""

        def decorate(fn: Callable) -> Callable:
            self._scopes[route_key(method, path)] = scope
            return self.app.route(path, method, **kwargs)(fn)

        return decorate

    def get(self, path: str, scope: str | None = READ, **kwargs: Any) -> Callable[[Callable], Callable]:
        """``GET path``, scope ``READ`` unless given."""
        return self.route("GET", path, scope, **kwargs)

    def post(self, path: str, scope: str | None = WRITE, **kwargs: Any) -> Callable[[Callable], Callable]:
        """``POST path``, scope ``WRITE`` unless given."""
        return self.route("POST", path, scope, **kwargs)

    def patch(self, path: str, scope: str | None = WRITE, **kwargs: Any) -> Callable[[Callable], Callable]:
        """``PATCH path``, scope ``WRITE`` unless given."""
        return self.route("PATCH", path, scope, **kwargs)

    def delete(self, path: str, scope: str | None = WRITE, **kwargs: Any) -> Callable[[Callable], Callable]:
        """``DELETE path``, scope ``WRITE`` unless given."""
        return self.route("DELETE", path, scope, **kwargs)

    @property
    def scopes(self) -> dict[str, str | None]:
        """Route key → required scope, ``None`` for a public route (read by conformance tests)."""
        return dict(self._scopes)

    # -- request context ----------------------------------------------------------------------

    @property
    def principal(self) -> Principal:
        principal = self.app.context.get("principal")
        if principal is None:  # a public route asking for a tenant: a bug, refused as 401
            raise Unauthenticated("Missing or invalid bearer token")
        return principal

    def tenant(self) -> str:
        """The token's location id (= the oHallo workspace id)."""
        return self.principal.location_id

    # -- the gate -----------------------------------------------------------------------------

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A warm container keeps logger keys between invocations: a public or refused request
        # must not log the previous caller's workspace and key.
        logger.remove_keys(["location_id", "api_key_id"])
        try:
            check_body(event)
            _check_content_type(event)
        except SlotbookError as exc:
            return error_result(exc)
        method, _, path = (event.get("routeKey") or "").partition(" ")
        key = route_key(method, path) if path else None
        if key is None or key not in self._scopes:
            return self.app.resolve(event, context)  # no such route: the resolver answers 404
        scope = self._scopes[key]
        if scope is not None:
            headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
            try:
                principal = services().tenancy.authenticate(headers.get("authorization"))
                authorize(principal, scope)
                workspace = (event.get("pathParameters") or {}).get("workspaceId")
                if workspace is not None and workspace != principal.location_id:
                    raise NotFound("Workspace")
            except SlotbookError as exc:
                return error_result(exc)
            logger.append_keys(location_id=principal.location_id, api_key_id=principal.key_id)
            self.app.append_context(principal=principal)
        return self.app.resolve(event, context)


def _check_content_type(event: dict[str, Any]) -> None:
    """A request body must be JSON (``Content-Type`` absent or ``application/json``): a form or
    multipart body would otherwise be parsed into something no oHallo route accepts, or into
    nothing at all (an empty PATCH). Raises InvalidRequest (400)."""
    if not event.get("body"):
        return
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json":
        raise InvalidRequest("Content-Type must be application/json")
