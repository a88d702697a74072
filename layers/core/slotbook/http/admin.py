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
from pydantic import BaseModel, ConfigDict, Field

from slotbook.container import services
from slotbook.delivery.models import Person, WebhookEndpoint
from slotbook.errors import SlotbookError, Unauthenticated
from slotbook.http.common import check_body
from slotbook.http.ghl_errors import error_result, register_error_handlers
from slotbook.ids import token_hash
from slotbook.observability import Handler, instrument
from slotbook.services.tenancy import check_admin
from slotbook.timeutil import iso_utc_ms


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


# -- recipient directory and webhook endpoints (issue 5) ------------------------------------------


class PersonPut(BaseModel):
    """Body of ``PUT .../contacts/{contactId}``: the whole entry (absent fields become null).
    Formats (e-mail, E.164 phone, IANA zone) are checked by the directory service (422)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)


class UserPut(PersonPut):
    """Body of ``PUT .../users/{userId}``; ``isAdmin`` users are what ``selectedUsers:
    ["sub_account_admin"]`` reaches."""

    isAdmin: bool = False


class WebhookCreate(BaseModel):
    """Body of ``POST .../webhooks``: ``events`` = booking changes to send (empty: all)."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(default_factory=list, max_length=10)


def person_dto(person: Person) -> dict[str, Any]:
    """A directory entry as the admin API shows it (``isAdmin`` for users only)."""
    out: dict[str, Any] = {
        "id": person.id,
        "locationId": person.location_id,
        "name": person.name,
        "email": person.email,
        "phone": person.phone,
        "timezone": person.timezone,
        "updatedAt": iso_utc_ms(person.updated_at),
    }
    if person.kind == "user":
        out["isAdmin"] = person.admin
    return out


def webhook_dto(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """A webhook endpoint; the ``secret`` only when ``with_secret`` (the registration answer)."""
    out: dict[str, Any] = {
        "id": endpoint.id,
        "locationId": endpoint.location_id,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
        "createdAt": iso_utc_ms(endpoint.created_at),
    }
    if with_secret:
        out["secret"] = endpoint.secret
    return out
