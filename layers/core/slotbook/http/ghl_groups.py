"""GoHighLevel calendar-group request bodies and response shaping.

Field names follow ``GroupCreateDTO``, ``GroupUpdateDTO``, ``ValidateGroupSlugPostBody``,
``GroupStatusUpdateParams`` and ``GroupDTO`` of ``reference/ghl-calendars-v3.openapi.json``.
Unknown fields are refused (422). The slug's format is a domain rule
(:func:`slotbook.services.groups.check_slug`), checked there for every dialect.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from slotbook.domain import Group
from slotbook.http.ghl_models import Body, Id

MAX_NAME = 200
"""Longest group name."""
MAX_SLUG = 100
"""Longest group slug."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Slug = Annotated[str, Field(min_length=1, max_length=MAX_SLUG)]


class GroupCreateDTO(Body):
    locationId: Id
    name: Name
    description: str
    slug: Slug
    isActive: bool = True


class GroupUpdateDTO(Body):
    name: Name
    description: str
    slug: Slug


class ValidateGroupSlugPostBody(Body):
    locationId: Id
    slug: Slug


class GroupStatusUpdateParams(Body):
    isActive: bool


def group_dto(group: Group) -> dict[str, Any]:
    """The reference's ``GroupDTO``."""
    return {
        "id": group.id,
        "locationId": group.location_id,
        "name": group.name,
        "description": group.description,
        "slug": group.slug,
        "isActive": group.is_active,
    }
