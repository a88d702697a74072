"""Resources function (GoHighLevel dialect): rooms and equipments mapped to calendars.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the
resource service, shape the reference's response. ``resourceType`` is ``equipments`` or
``rooms``; any other value answers 400 (the service decides, so every route agrees).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.container import services
from slotbook.http import ghl_resources as m
from slotbook.http.ghl import GhlApi
from slotbook.services.resources import MAX_LIST_LIMIT, resource_type

api = GhlApi()
app = api.app

ResourceTypeParam = Annotated[str, Path(min_length=1, max_length=64)]
ResourceId = Annotated[str, Path(min_length=1, max_length=128)]


@api.get("/calendars/resources/<resourceType>", scope="calendars/resources.readonly")
def fetch_calendar_resources(
    resourceType: ResourceTypeParam,
    locationId: Annotated[str, Query(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)],
    skip: Annotated[int, Query(ge=0)],
) -> list[dict[str, Any]]:
    """An array of ``CalendarResourceByIdResponseDTO``, oldest first, ``limit`` after ``skip``."""
    kind = resource_type(resourceType)
    found = services().resources.list_resources(api.tenant(locationId), kind, skip, limit)
    return [m.resource_by_id_dto(r) for r in found]


@api.post("/calendars/resources/<resourceType>", scope="calendars/resources.write")
def create_calendar_resource(
    resourceType: ResourceTypeParam, body: m.CreateCalendarResourceDTO
) -> tuple[dict[str, Any], int]:
    """201 ``CalendarResourceByIdResponseDTO``; an unknown calendar, an equipment named for more
    than one calendar or a calendar with three resources already → 400."""
    kind = resource_type(resourceType)
    resource = services().resources.create_resource(api.tenant(body.locationId), kind, body.to_input())
    return m.resource_by_id_dto(resource), 201


@api.get("/calendars/resources/<resourceType>/<id>", scope="calendars/resources.readonly")
def get_calendar_resource(resourceType: ResourceTypeParam, id: ResourceId) -> dict[str, Any]:
    """``CalendarResourceByIdResponseDTO``; 404 for an unknown id (or another location's)."""
    kind = resource_type(resourceType)
    return m.resource_by_id_dto(services().resources.get_resource(api.tenant(), kind, id))


@api.put("/calendars/resources/<resourceType>/<id>", scope="calendars/resources.write")
def update_calendar_resource(
    resourceType: ResourceTypeParam, id: ResourceId, body: m.UpdateCalendarResourceDTO
) -> dict[str, Any]:
    """``CalendarResourceResponseDTO`` of the changed resource (same 400s as create)."""
    kind = resource_type(resourceType)
    location_id = api.tenant(body.locationId)
    resource = services().resources.update_resource(location_id, kind, id, body.to_input())
    return m.resource_response_dto(resource)


@api.delete("/calendars/resources/<resourceType>/<id>", scope="calendars/resources.write")
def delete_calendar_resource(resourceType: ResourceTypeParam, id: ResourceId) -> dict[str, Any]:
    """``ResourceDeleteResponseDTO``: ``{"success": true}``; its calendars lose the mapping."""
    services().resources.delete_resource(api.tenant(), resource_type(resourceType), id)
    return {"success": True}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
