"""Domain exceptions. Each dialect maps them to a status and body in exactly one place
(``slotbook.http.ghl_errors`` for GoHighLevel, ``slotbook.http.admin`` for tenant admin).

No handler matches on message text: the class says what happened, the message is for humans.
"""

from __future__ import annotations


class SlotbookError(Exception):
    """Base of every domain error. ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(SlotbookError):
    """No credentials, or credentials that resolve to nothing (unknown or revoked token)."""


class MissingScope(SlotbookError):
    """The token is valid but lacks the scope the operation requires."""

    def __init__(self, scope: str) -> None:
        super().__init__("The token is not authorized for this scope.")
        self.scope = scope


class Forbidden(SlotbookError):
    """The caller named a tenant (location) other than the one its token belongs to."""


class NotFound(SlotbookError):
    """The resource does not exist *for this tenant* (another tenant's id looks the same)."""

    def __init__(self, kind: str, ident: str | None = None) -> None:
        super().__init__(f"{kind} not found" if ident is None else f"{kind} {ident} not found")
        self.kind = kind


class InvalidRequest(SlotbookError):
    """Well-formed input that breaks a business rule (bad range, unknown time zone, ...): 400."""


class ValidationFailed(SlotbookError):
    """Input that violates the request schema; ``errors`` lists one message per bad field: 422."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class SlotUnavailable(SlotbookError):
    """The requested time is not an offered slot (taken, outside hours, notice or horizon)."""


class BookingConflict(SlotbookError):
    """A concurrent write won the race for the same host or seat, and retrying did not help."""


class ConcurrentUpdate(SlotbookError):
    """Another request changed the same resource between this request's read and its write."""


class ReauthorizationNeeded(SlotbookError):
    """A calendar connection's provider refused its refresh token: the user must authorise the
    connection again (it is kept, marked ``reauthorization_required``)."""


class ProviderUnavailable(SlotbookError):
    """A calendar provider kept failing (429 or 5xx after bounded retries) during a request that
    needs it now (listing the account's calendars, completing an authorisation)."""
