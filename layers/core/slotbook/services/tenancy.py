"""Tenants (locations), API keys and authentication.

API keys are shown once at creation and stored only as SHA-256 hashes (invariant 6). A token
resolves to exactly one location and its scopes; revocation deletes the hash item at once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from slotbook.domain import ApiKey, Location, Principal
from slotbook.errors import Forbidden, MissingScope, NotFound, Unauthenticated, ValidationFailed
from slotbook.ids import new_api_token, new_id, token_hash
from slotbook.store.dynamo import DynamoStore
from slotbook.timeutil import is_zone

SCOPES = frozenset(
    {
        "calendars.readonly",
        "calendars.write",
        "calendars/events.readonly",
        "calendars/events.write",
        "calendars/groups.readonly",
        "calendars/groups.write",
        "calendars/resources.readonly",
        "calendars/resources.write",
        "calendar:read",
        "calendar:write",
    }
)
"""Scopes an API key may carry: GoHighLevel's calendar scopes and oHallo's calendar scopes."""


class TenancyService:
    """Locations, keys and token resolution. ``clock`` returns an aware UTC datetime."""

    def __init__(self, store: DynamoStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._clock = clock

    def create_location(self, name: str, timezone: str) -> Location:
        """New tenant. Raises ValidationFailed for an empty name or a non-IANA ``timezone``."""
        errors = []
        if not name.strip():
            errors.append("name should not be empty")
        if not is_zone(timezone):
            errors.append("timezone must be a valid IANA time zone")
        if errors:
            raise ValidationFailed(errors)
        location = Location(id=new_id(), name=name.strip(), timezone=timezone, created_at=self._clock())
        self._store.put_location(location)
        return location

    def get_location(self, location_id: str) -> Location:
        location = self._store.get_location(location_id)
        if location is None:
            raise NotFound("Location", location_id)
        return location

    def create_api_key(self, location_id: str, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
        """Issue a key; returns ``(record, token)``. The token is not recoverable afterwards."""
        location = self.get_location(location_id)
        unknown = sorted(set(scopes) - SCOPES)
        errors = [f"scopes contains unknown scope {s!r}" for s in unknown]
        if not scopes:
            errors.append("scopes should not be empty")
        if not name.strip():
            errors.append("name should not be empty")
        if errors:
            raise ValidationFailed(errors)
        token = new_api_token()
        key = ApiKey(
            id=new_id(),
            location_id=location_id,
            name=name.strip(),
            scopes=sorted(set(scopes)),
            created_at=self._clock(),
            location_timezone=location.timezone,
        )
        self._store.put_api_key(key, token_hash(token))
        return key, token

    def revoke_api_key(self, location_id: str, key_id: str) -> None:
        self._store.delete_api_key(location_id, key_id)

    def authenticate(self, authorization: str | None) -> Principal:
        """``Authorization: Bearer <token>`` → Principal. Raises Unauthenticated."""
        token = _bearer(authorization)
        key = self._store.get_api_key_by_hash(token_hash(token))
        if key is None:
            raise Unauthenticated("Invalid token: access token is invalid")
        return Principal(
            location_id=key.location_id,
            key_id=key.id,
            scopes=frozenset(key.scopes),
            timezone=key.location_timezone,
        )


def authorize(principal: Principal, scope: str, location_id: str | None = None) -> None:
    """Check ``scope`` and, when the request names one, that ``location_id`` is the token's.

    Raises MissingScope (401 in GoHighLevel) or Forbidden (403) — ARCHITECTURE.md invariant 2.
    """
    if scope not in principal.scopes:
        raise MissingScope(scope)
    if location_id is not None and location_id != principal.location_id:
        raise Forbidden("The token does not have access to this location.")


def check_admin(authorization: str | None, expected_hash: str) -> None:
    """Constant-time check of an admin bearer token against the stored hex SHA-256."""
    token = _bearer(authorization)
    if not hmac.compare_digest(token_hash(token), expected_hash):
        raise Unauthenticated("Invalid admin token")


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Authorization header is missing")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()
