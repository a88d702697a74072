"""Calendars function (GoHighLevel dialect): calendar CRUD and free slots.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the
scheduling service, shape the reference's response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.availability import group_by_local_date
from slotbook.container import services
from slotbook.domain import Calendar
from slotbook.http import ghl_models as m
from slotbook.http.ghl import GhlApi
from slotbook.timeutil import parse_epoch_ms

api = GhlApi()
app = api.app


@api.get("/calendars/", scope="calendars.readonly")
def get_calendars(
    locationId: Annotated[str, Query(min_length=1, max_length=128)],
    groupId: Annotated[str | None, Query(max_length=128)] = None,
    showDrafted: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    location_id = api.tenant(locationId)
    calendars = services().scheduling.list_calendars(location_id, groupId, showDrafted)
    return {"calendars": [m.calendar_dto(c) for c in calendars]}


@api.post("/calendars/", scope="calendars.write")
def create_calendar(body: m.CalendarCreateDTO) -> tuple[dict[str, Any], int]:
    location_id = api.tenant(body.locationId)
    epoch = datetime.fromtimestamp(0, UTC)
    draft = Calendar(
        id="-",
        location_id=location_id,
        name=body.name,
        attributes=m.new_calendar_attributes(),
        created_at=epoch,
        updated_at=epoch,
    )
    calendar = services().scheduling.create_calendar(m.apply_calendar_body(body, draft))
    return {"calendar": m.calendar_dto(calendar)}, 200


@api.get("/calendars/<calendarId>", scope="calendars.readonly")
def get_calendar(calendarId: Annotated[str, Path(max_length=128)]) -> dict[str, Any]:
    calendar = services().scheduling.get_calendar(api.tenant(), calendarId)
    return {"calendar": m.calendar_dto(calendar)}


@api.put("/calendars/<calendarId>", scope="calendars.write")
def update_calendar(
    calendarId: Annotated[str, Path(max_length=128)], body: m.CalendarUpdateDTO
) -> dict[str, Any]:
    calendar = services().scheduling.update_calendar(
        api.tenant(), calendarId, lambda current: m.apply_calendar_body(body, current)
    )
    return {"calendar": m.calendar_dto(calendar)}


@api.delete("/calendars/<calendarId>", scope="calendars.write")
def delete_calendar(calendarId: Annotated[str, Path(max_length=128)]) -> dict[str, Any]:
    services().scheduling.delete_calendar(api.tenant(), calendarId)
    return {"success": True}


@api.get("/calendars/<calendarId>/free-slots", scope="calendars.readonly")
def get_free_slots(
    calendarId: Annotated[str, Path(max_length=128)],
    startDate: Annotated[float, Query(description="epoch milliseconds")],
    endDate: Annotated[float, Query(description="epoch milliseconds")],
    timezone: Annotated[str | None, Query()] = None,
    userId: Annotated[str | None, Query(max_length=128)] = None,
    userIds: Annotated[list[str] | None, Query(max_length=30)] = None,
) -> dict[str, Any]:
    """``{"YYYY-MM-DD": {"slots": [ISO with offset, ...]}, ...}`` keyed by local date."""
    users = [u for part in (userIds or []) for u in part.split(",") if u]
    if userId:
        users.insert(0, userId)
    starts, zone = services().scheduling.free_slots(
        api.tenant(),
        calendarId,
        parse_epoch_ms(startDate, "startDate"),
        parse_epoch_ms(endDate, "endDate"),
        timezone=timezone,
        user_ids=users or None,
    )
    return {day: {"slots": slots} for day, slots in group_by_local_date(starts, zone).items()}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
