"""GoHighLevel calendar resources (rooms, equipments): request bodies and response shaping.

Field for field as ``ghl-calendars-v3.openapi.json``: ``CreateCalendarResourceDTO`` (every
field required), ``UpdateCalendarResourceDTO`` (every field optional),
``CalendarResourceByIdResponseDTO`` (list, create, get) and ``CalendarResourceResponseDTO``
(update). Unknown body fields are refused (422). The reference types the counts ``number``;
they are whole, non-negative numbers here (422 otherwise).

The reference's response DTOs carry no id; responses add ``id`` (the path parameter of get,
update and delete), without which a client could not address what it created.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from slotbook.domain import Resource
from slotbook.http.ghl_models import Body, Id
from slotbook.services.resources import ResourceInput

MAX_COUNT = 1_000_000
"""Largest quantity, outOfService or capacity accepted."""
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Name = Annotated[str, Field(min_length=1)]
CalendarIds = Annotated[list[Id], Field(max_length=100)]


class CreateCalendarResourceDTO(Body):
    locationId: Id
    name: Name
    description: str
    quantity: Count
    outOfService: Count
    capacity: Count
    calendarIds: CalendarIds

    def to_input(self) -> ResourceInput:
        return ResourceInput(
            name=self.name,
            description=self.description,
            quantity=self.quantity,
            out_of_service=self.outOfService,
            capacity=self.capacity,
            calendar_ids=list(self.calendarIds),
        )


class UpdateCalendarResourceDTO(Body):
    locationId: Id | None = None
    name: Name | None = None
    description: str | None = None
    quantity: Count | None = None
    outOfService: Count | None = None
    capacity: Count | None = None
    calendarIds: CalendarIds | None = None
    isActive: bool | None = None

    def to_input(self) -> ResourceInput:
        return ResourceInput(
            name=self.name,
            description=self.description,
            quantity=self.quantity,
            out_of_service=self.outOfService,
            capacity=self.capacity,
            calendar_ids=list(self.calendarIds) if self.calendarIds is not None else None,
            is_active=self.isActive,
        )


def resource_response_dto(resource: Resource) -> dict[str, Any]:
    """``CalendarResourceResponseDTO`` (update), plus ``id``."""
    return {
        "id": resource.id,
        "locationId": resource.location_id,
        "name": resource.name,
        "resourceType": resource.resource_type.value,
        "isActive": resource.is_active,
        "description": resource.description,
        "quantity": resource.quantity,
        "outOfService": resource.out_of_service,
        "capacity": resource.capacity,
    }


def resource_by_id_dto(resource: Resource) -> dict[str, Any]:
    """``CalendarResourceByIdResponseDTO`` (list, create, get), plus ``id``."""
    return {**resource_response_dto(resource), "calendarIds": list(resource.calendar_ids)}
