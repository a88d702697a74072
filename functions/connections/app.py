"""Connections function (oHallo dialect): calendar connections, their OAuth flow, free slots and
bookings (reference/seeds/000, 001).

Routes and scopes: ``calendar:read`` for GET, ``calendar:write`` for writes; the OAuth callback
is public (the user's browser arrives from the provider without a token). Thin: validate,
authorise (the gate of :class:`slotbook.http.ohallo.OHalloApi`), call the connection service,
shape the seed's response.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from slotbook.container import services
from slotbook.http import ohallo_models as m
from slotbook.http.ohallo import PUBLIC, OHalloApi
from slotbook.services.connections import DEFAULT_DURATION_MINUTES
from slotbook.timeutil import iso_utc_ms

api = OHalloApi()
app = api.app

WorkspaceId = Annotated[str, Path(min_length=1, max_length=128)]
ConnectionId = Annotated[str, Path(min_length=1, max_length=128)]
BookingId = Annotated[str, Path(min_length=1, max_length=128)]
Minutes = Annotated[int | None, Query(ge=5, le=1440, description="minutes (5-1440)")]


# -- calendar connections ---------------------------------------------------------------------


@api.get("/api/workspaces/<workspaceId>/calendar-connections")
def list_connections(workspaceId: WorkspaceId) -> dict[str, Any]:
    """``{"items": [connection...], "total": n}``."""
    connections = services().connections.list_connections(api.tenant())
    return {"items": [m.connection_dto(c) for c in connections], "total": len(connections)}


@api.get("/api/calendar-connections/<connectionId>")
def get_connection(connectionId: ConnectionId) -> dict[str, Any]:
    """The connection; 404 ``Calendar connection not found``."""
    return m.connection_dto(services().connections.get_connection(api.tenant(), connectionId))


@api.patch("/api/calendar-connections/<connectionId>")
def update_connection(connectionId: ConnectionId, body: m.ConnectionPatch) -> dict[str, Any]:
    """Only the fields sent change; 200 with the full connection."""
    connection = services().connections.update_connection(api.tenant(), connectionId, body.changes())
    return m.connection_dto(connection)


@api.delete("/api/calendar-connections/<connectionId>")
def delete_connection(connectionId: ConnectionId) -> Response[None]:
    """204, empty body; the stored OAuth credentials and the provider channel go with it."""
    services().connections.delete_connection(api.tenant(), connectionId)
    return Response(status_code=204, body=None)


@api.get("/api/calendar-connections/<connectionId>/calendars")
def list_calendars(connectionId: ConnectionId) -> dict[str, Any]:
    """``{"items": [{"calendarId", "name", "primary"}]}`` of the connected account."""
    calendars = services().connections.provider_calendars(api.tenant(), connectionId)
    return {"items": [m.calendar_dto(c) for c in calendars]}


# -- OAuth ------------------------------------------------------------------------------------


@api.post("/api/workspaces/<workspaceId>/calendar-connections/oauth/<provider>")
def start_authorization(
    workspaceId: WorkspaceId,
    provider: Annotated[m.Provider, Path()],
    body: Annotated[m.AuthorizationRequest | None, Body()] = None,
) -> tuple[dict[str, Any], int]:
    """201 ``{"authorizationUrl", "state", "expiresAt"}``: send the user's browser to the URL."""
    request = body or m.AuthorizationRequest()
    started = services().connections.start_authorization(
        api.tenant(),
        provider,
        connection_id=request.connectionId,
        user_id=request.userId,
        display_name=request.displayName,
    )
    return {
        "authorizationUrl": started.authorization_url,
        "state": started.state,
        "expiresAt": iso_utc_ms(started.expires_at),
    }, 201


@api.get("/api/calendar-connections/oauth/callback", scope=PUBLIC)
def authorization_callback(
    state: Annotated[str, Query(min_length=1, max_length=4096)],
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """The provider's redirect (public): 200 with the created or re-authorised connection."""
    connection = services().connections.complete_authorization(state=state, code=code, error=error)
    return m.connection_dto(connection)


# -- free slots -------------------------------------------------------------------------------


@api.get("/api/calendar-connections/<connectionId>/free-slots")
def free_slots(
    connectionId: ConnectionId,
    startDate: Annotated[str, Query(min_length=1, max_length=64)],
    endDate: Annotated[str, Query(min_length=1, max_length=64)],
    duration: Minutes = None,
    interval: Minutes = None,
) -> dict[str, Any]:
    """``{"items": [{"startTime", "endTime"}], "total": n, "timezone": zone}``. Dates
    ``YYYY-MM-DD`` are read in the connection's ``bookingConfig.timezone`` (``endDate``
    included); full ISO 8601 instants are taken as given."""
    connections = services().connections
    location = api.tenant()
    connection = connections.get_connection(location, connectionId)
    tz = connections.slot_zone(connection)
    start = m.range_bound(startDate, tz, "startDate")
    end = m.range_bound(endDate, tz, "endDate", end=True)
    slots = connections.free_slots(connection, start, end, duration or DEFAULT_DURATION_MINUTES, interval)
    return {"items": [m.slot_dto(s) for s in slots], "total": len(slots), "timezone": tz.key}


# -- bookings ---------------------------------------------------------------------------------


@api.get("/api/workspaces/<workspaceId>/bookings")
def list_bookings(
    workspaceId: WorkspaceId,
    calendarConnectionId: Annotated[str, Query(min_length=1, max_length=128)],
) -> dict[str, Any]:
    """``{"items": [booking...], "total": n}`` of one connection (cancelled ones included)."""
    bookings = services().connections.list_bookings(api.tenant(), calendarConnectionId)
    return {"items": [m.booking_dto(b) for b in bookings], "total": len(bookings)}


@api.post("/api/workspaces/<workspaceId>/bookings")
def create_booking(workspaceId: WorkspaceId, body: m.BookingCreate) -> tuple[dict[str, Any], int]:
    """201 with the booking; 409 when the time is not free (outside working hours, a blocked
    date, taken) or a concurrent booking won."""
    booking = services().connections.create_booking(api.tenant(), body.to_input())
    return m.booking_dto(booking), 201


@api.get("/api/bookings/<bookingId>")
def get_booking(bookingId: BookingId) -> dict[str, Any]:
    """The booking (any status); 404 ``Booking not found``, also for another workspace's."""
    return m.booking_dto(services().connections.get_booking(api.tenant(), bookingId))


@api.patch("/api/bookings/<bookingId>")
def reschedule_booking(bookingId: BookingId, body: m.BookingReschedule) -> dict[str, Any]:
    """Move the booking (same length without ``endTime``); 409 when the new time is not free."""
    booking = services().connections.reschedule_booking(api.tenant(), bookingId, body.startTime, body.endTime)
    return m.booking_dto(booking)


@api.post("/api/bookings/<bookingId>/cancel")
def cancel_booking(bookingId: BookingId) -> dict[str, Any]:
    """200 with the booking, ``status: "cancelled"``; its time is free again at once."""
    return m.booking_dto(services().connections.cancel_booking(api.tenant(), bookingId))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return api.handler(event, context)
