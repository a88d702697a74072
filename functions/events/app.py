"""Events function (GoHighLevel dialect): appointments, block slots, event listings, deletion.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, translate the
body into a service call, shape the reference's response in the location's time zone.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.container import services
from slotbook.domain import EventKind
from slotbook.http import ghl_models as m
from slotbook.http.ghl import GhlApi
from slotbook.services.scheduling import AppointmentInput, BlockInput
from slotbook.timeutil import parse_epoch_ms, parse_instant, zone

api = GhlApi()
app = api.app


def _zone() -> ZoneInfo:
    """The zone responses are shown in: the location of the token (the request's tenant)."""
    return zone(api.principal.timezone)


def _appointment_input(
    body: m.AppointmentCreateSchema | m.AppointmentEditSchema, tz: Any
) -> AppointmentInput:
    return AppointmentInput(
        calendar_id=body.calendarId,
        contact_id=getattr(body, "contactId", None),
        start=parse_instant(body.startTime, tz, "startTime") if body.startTime else None,
        end=parse_instant(body.endTime, tz, "endTime") if body.endTime else None,
        title=body.title,
        status=body.appointmentStatus,
        assigned_user_id=body.assignedUserId,
        description=body.description,
        address=body.address,
        meeting_location_type=body.meetingLocationType,
        meeting_location_id=body.meetingLocationId,
        to_notify=body.toNotify,
        ignore_free_slot_validation=bool(body.ignoreFreeSlotValidation),
        ignore_date_range=bool(body.ignoreDateRange),
        rrule=body.rrule,
    )


@api.post("/calendars/events/appointments", scope="calendars/events.write")
def create_appointment(body: m.AppointmentCreateSchema) -> dict[str, Any]:
    location_id = api.tenant(body.locationId)
    tz = _zone()
    event = services().scheduling.create_appointment(location_id, _appointment_input(body, tz))
    return m.appointment_dto(event, tz)


@api.get("/calendars/events/appointments/<eventId>", scope="calendars/events.readonly")
def get_appointment(eventId: Annotated[str, Path(max_length=128)]) -> dict[str, Any]:
    location_id = api.tenant()
    event = services().scheduling.get_event(location_id, eventId, EventKind.APPOINTMENT)
    return {"event": m.event_dto(event, _zone())}


@api.put("/calendars/events/appointments/<eventId>", scope="calendars/events.write")
def edit_appointment(
    eventId: Annotated[str, Path(max_length=128)], body: m.AppointmentEditSchema
) -> dict[str, Any]:
    location_id = api.tenant()
    tz = _zone()
    event = services().scheduling.update_appointment(location_id, eventId, _appointment_input(body, tz))
    return m.appointment_dto(event, tz)


def _list(
    kind: EventKind,
    location_id: str,
    start: str,
    end: str,
    calendar_id: str | None,
    user_id: str | None,
    group_id: str | None,
) -> dict[str, Any]:
    location = api.tenant(location_id)
    events = services().scheduling.list_events(
        location,
        kind,
        parse_epoch_ms(start, "startTime"),
        parse_epoch_ms(end, "endTime"),
        calendar_id=calendar_id,
        user_id=user_id,
        group_id=group_id,
    )
    tz = _zone()
    return {"events": [m.event_dto(e, tz) for e in events]}


@api.get("/calendars/events", scope="calendars/events.readonly")
def get_calendar_events(
    locationId: Annotated[str, Query(min_length=1, max_length=128)],
    startTime: Annotated[str, Query(min_length=1, description="epoch milliseconds")],
    endTime: Annotated[str, Query(min_length=1, description="epoch milliseconds")],
    userId: Annotated[str | None, Query(max_length=128)] = None,
    calendarId: Annotated[str | None, Query(max_length=128)] = None,
    groupId: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    return _list(EventKind.APPOINTMENT, locationId, startTime, endTime, calendarId, userId, groupId)


@api.get("/calendars/blocked-slots", scope="calendars/events.readonly")
def get_blocked_slots(
    locationId: Annotated[str, Query(min_length=1, max_length=128)],
    startTime: Annotated[str, Query(min_length=1, description="epoch milliseconds")],
    endTime: Annotated[str, Query(min_length=1, description="epoch milliseconds")],
    userId: Annotated[str | None, Query(max_length=128)] = None,
    calendarId: Annotated[str | None, Query(max_length=128)] = None,
    groupId: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    return _list(EventKind.BLOCK, locationId, startTime, endTime, calendarId, userId, groupId)


def _block_input(body: m.BlockSlotRequestDTO, tz: Any) -> BlockInput:
    return BlockInput(
        calendar_id=body.calendarId or None,
        assigned_user_id=body.assignedUserId or None,
        start=parse_instant(body.startTime, tz, "startTime"),
        end=parse_instant(body.endTime, tz, "endTime"),
        title=body.title or "",
    )


@api.post("/calendars/events/block-slots", scope="calendars/events.write")
def create_block_slot(body: m.BlockSlotRequestDTO) -> tuple[dict[str, Any], int]:
    location_id = api.tenant(body.locationId)
    tz = _zone()
    event = services().scheduling.create_block(location_id, _block_input(body, tz))
    return m.block_slot_dto(event, tz), 201


@api.put("/calendars/events/block-slots/<eventId>", scope="calendars/events.write")
def edit_block_slot(
    eventId: Annotated[str, Path(max_length=128)], body: m.BlockSlotRequestDTO
) -> tuple[dict[str, Any], int]:
    location_id = api.tenant(body.locationId)
    tz = _zone()
    event = services().scheduling.update_block(location_id, eventId, _block_input(body, tz))
    return m.block_slot_dto(event, tz), 201


@api.delete("/calendars/events/<eventId>", scope="calendars/events.write")
def delete_event(eventId: Annotated[str, Path(max_length=128)]) -> tuple[dict[str, Any], int]:
    services().scheduling.delete_event(api.tenant(), eventId)
    return {"succeeded": True}, 201


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
