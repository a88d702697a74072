"""Schedules function (GoHighLevel dialect): user availability schedules, their calendar
associations, and event calendars' own schedules.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the
schedule service (:mod:`slotbook.services.schedules`), shape the reference's response
(:mod:`slotbook.http.ghl_schedules`).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.container import services
from slotbook.http import ghl_schedules as m
from slotbook.http.ghl import GhlApi
from slotbook.services.schedules import SEARCH_LIMIT_MAX

api = GhlApi()
app = api.app

PathId = Annotated[str, Path(min_length=1, max_length=128)]


@api.get("/calendars/schedules/search", scope="calendars.readonly")
def search_schedules(
    locationId: Annotated[str, Query(min_length=1, max_length=128)],
    userId: Annotated[str, Query(min_length=1, max_length=128)],
    calendarId: Annotated[str | None, Query(max_length=128)] = None,
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT_MAX)] = 50,
) -> dict[str, Any]:
    """``GetAllSchedulesResponseDTO``: the user's schedules, oldest first."""
    found = services().schedules.search(api.tenant(locationId), userId, calendarId, skip, limit)
    return {"schedules": [m.schedule_dto(s) for s in found]}


@api.post("/calendars/schedules", scope="calendars.write")
def create_schedule(body: m.CreateScheduleDTO) -> tuple[dict[str, Any], int]:
    """201 ``ScheduleResponseDTO``."""
    schedule = services().schedules.create(
        api.tenant(body.locationId),
        user_id=body.userId,
        name=body.name,
        timezone=body.timezone,
        rules=m.domain_rules(body.rules) or [],
        calendar_ids=body.calendarIds,
    )
    return {"schedule": m.schedule_dto(schedule)}, 201


@api.get("/calendars/schedules/<id>", scope="calendars.readonly")
def get_schedule(id: PathId) -> dict[str, Any]:
    """``ScheduleResponseDTO``."""
    return {"schedule": m.schedule_dto(services().schedules.get(api.tenant(), id))}


@api.put("/calendars/schedules/<id>", scope="calendars.write")
def update_schedule(id: PathId, body: m.UpdateScheduleDTO) -> dict[str, Any]:
    """``ScheduleResponseDTO`` after the change."""
    schedule = services().schedules.update(
        api.tenant(), id, name=body.name, timezone=body.timezone, rules=m.domain_rules(body.rules)
    )
    return {"schedule": m.schedule_dto(schedule)}


@api.delete("/calendars/schedules/<id>", scope="calendars.write")
def delete_schedule(id: PathId) -> dict[str, Any]:
    """``{"success": true}``."""
    services().schedules.delete(api.tenant(), id)
    return {"success": True}


@api.put("/calendars/schedules/<id>/associations/<calendarId>", scope="calendars.write")
def add_calendar_to_schedule(id: PathId, calendarId: PathId) -> dict[str, Any]:
    """``{"success": true}`` once the schedule applies to the calendar."""
    services().schedules.associate(api.tenant(), id, calendarId)
    return {"success": True}


@api.delete("/calendars/schedules/<id>/associations/<calendarId>", scope="calendars.write")
def remove_calendar_from_schedule(id: PathId, calendarId: PathId) -> dict[str, Any]:
    """``{"success": true}`` once the schedule no longer applies to the calendar."""
    services().schedules.dissociate(api.tenant(), id, calendarId)
    return {"success": True}


@api.post("/calendars/schedules/event-calendar/<calendarId>", scope="calendars.write")
def create_calendar_schedule(
    calendarId: PathId, body: m.CreateEventCalendarScheduleDTO
) -> tuple[dict[str, Any], int]:
    """201 ``EventCalendarScheduleWrapperDTO``."""
    schedule = services().schedules.create_calendar_schedule(
        api.tenant(), calendarId, timezone=body.timezone, rules=m.domain_rules(body.rules) or []
    )
    return {"schedule": m.calendar_schedule_dto(schedule)}, 201


@api.get("/calendars/schedules/event-calendar/<calendarId>", scope="calendars.readonly")
def get_calendar_schedule(calendarId: PathId) -> dict[str, Any]:
    """``EventCalendarScheduleWrapperDTO``."""
    schedule = services().schedules.get_calendar_schedule(api.tenant(), calendarId)
    return {"schedule": m.calendar_schedule_dto(schedule)}


@api.put("/calendars/schedules/event-calendar/<calendarId>", scope="calendars.write")
def update_calendar_schedule(calendarId: PathId, body: m.UpdateEventCalendarScheduleDTO) -> dict[str, Any]:
    """``EventCalendarScheduleWrapperDTO`` after the change."""
    schedule = services().schedules.update_calendar_schedule(
        api.tenant(), calendarId, timezone=body.timezone, rules=m.domain_rules(body.rules)
    )
    return {"schedule": m.calendar_schedule_dto(schedule)}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
