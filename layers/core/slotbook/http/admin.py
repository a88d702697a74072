"""Slotbook's own tenant-administration dialect (``/admin/...``).

Authorised by ``Authorization: Bearer <admin token>``. The expected token is known only by its
SHA-256: on AWS read from the SSM parameter named by ``ADMIN_TOKEN_HASH_PARAMETER`` (Powertools
Parameters, cached 5 minutes), locally hashed from ``SLOTBOOK_ADMIN_TOKEN``. Error bodies use
the same ``{"statusCode", "message", "error"}`` shape as the GoHighLevel dialect.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities import parameters

from slotbook.container import services
from slotbook.errors import SlotbookError, Unauthenticated
from slotbook.http.common import check_body
from slotbook.http.ghl_errors import error_result, register_error_handlers
from slotbook.ids import token_hash
from slotbook.observability import Handler, instrument
from slotbook.services.tenancy import check_admin


def expected_admin_hash() -> str:
    """Hex SHA-256 of the admin token. Raises Unauthenticated when none is configured."""
    settings = services().settings
    if settings.admin_token_hash_parameter:
        value = parameters.get_parameter(settings.admin_token_hash_parameter, max_age=300, decrypt=True)
        return str(value).strip().lower()
    if settings.admin_token is not None:
        return token_hash(settings.admin_token.get_secret_value())
    raise Unauthenticated("Admin access is not configured")


class AdminApi:
    """The admin function: a Powertools resolver behind the admin-token gate."""

    def __init__(self) -> None:
        self.app = APIGatewayHttpResolver(enable_validation=True)
        register_error_handlers(self.app)
        self.handler: Handler = instrument(self._handle)

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            check_admin(headers.get("authorization"), expected_admin_hash())
            check_body(event)
        except SlotbookError as exc:
            return error_result(exc)
        return self.app.resolve(event, context)
