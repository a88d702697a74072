"""Groups function (GoHighLevel dialect): calendar groups, slug validation, enable/disable.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the group
service, shape the reference's response.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.container import services
from slotbook.http import ghl_groups as m
from slotbook.http.ghl import GhlApi

api = GhlApi()
app = api.app

GroupId = Annotated[str, Path(min_length=1, max_length=128)]


@api.get("/calendars/groups", scope="calendars/groups.readonly")
def get_groups(locationId: Annotated[str, Query(min_length=1, max_length=128)]) -> dict[str, Any]:
    """``AllGroupsSuccessfulResponseDTO``: the location's groups, oldest first."""
    groups = services().groups.list_groups(api.tenant(locationId))
    return {"groups": [m.group_dto(g) for g in groups]}


@api.post("/calendars/groups", scope="calendars/groups.write")
def create_group(body: m.GroupCreateDTO) -> tuple[dict[str, Any], int]:
    """201 ``GroupCreateSuccessfulResponseDTO``; a slug taken in the location → 400."""
    group = services().groups.create_group(
        api.tenant(body.locationId), body.name, body.description, body.slug, body.isActive
    )
    return {"group": m.group_dto(group)}, 201


@api.post("/calendars/groups/validate-slug", scope="calendars/groups.write")
def validate_slug(body: m.ValidateGroupSlugPostBody) -> dict[str, Any]:
    """``{"available": bool}``; a malformed slug → 422."""
    return {"available": services().groups.slug_available(api.tenant(body.locationId), body.slug)}


@api.put("/calendars/groups/<groupId>", scope="calendars/groups.write")
def edit_group(groupId: GroupId, body: m.GroupUpdateDTO) -> dict[str, Any]:
    """``GroupCreateSuccessfulResponseDTO`` of the changed group."""
    group = services().groups.update_group(api.tenant(), groupId, body.name, body.description, body.slug)
    return {"group": m.group_dto(group)}


@api.delete("/calendars/groups/<groupId>", scope="calendars/groups.write")
def delete_group(groupId: GroupId) -> dict[str, Any]:
    """``{"success": true}``; a group that still has calendars → 400."""
    services().groups.delete_group(api.tenant(), groupId)
    return {"success": True}


@api.put("/calendars/groups/<groupId>/status", scope="calendars/groups.write")
def set_group_status(groupId: GroupId, body: m.GroupStatusUpdateParams) -> dict[str, Any]:
    """``{"success": true}``; a disabled group's calendars offer no slots and take no bookings."""
    services().groups.set_active(api.tenant(), groupId, body.isActive)
    return {"success": True}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
