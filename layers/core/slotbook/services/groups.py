"""Calendar groups: CRUD, slug uniqueness, enable/disable (reference/seeds/003, groups).

Rules, once for every dialect:

* a slug is 1-100 lowercase letters, digits and hyphens, not starting or ending with a hyphen
  (:data:`SLUG_PATTERN`); anything else is refused with ValidationFailed (422), on create, on
  update and by the slug check;
* slugs are unique within a location, atomically (the store writes a slug lock in the group's
  transaction): a duplicate on create or update is InvalidRequest (400);
* a disabled group's calendars offer no slots and take no bookings (the scheduling service reads
  the group; nothing to do here beyond storing ``is_active``);
* a group that still has calendars cannot be deleted (400): move or delete them first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from slotbook.domain import Group
from slotbook.errors import ConcurrentUpdate, InvalidRequest, NotFound, ValidationFailed
from slotbook.ids import new_id
from slotbook.store.dynamo import DynamoStore

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
"""A group slug: lowercase letters, digits and hyphens, 1-100 characters, no edge hyphen."""
MAX_ATTEMPTS = 5
"""Read-modify-write attempts before contention on one group becomes ConcurrentUpdate (409)."""

Clock = Callable[[], datetime]


def check_slug(slug: str) -> None:
    """Raise ValidationFailed (422) unless ``slug`` matches :data:`SLUG_PATTERN`."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise ValidationFailed(
            [
                "slug must be 1-100 lowercase letters, digits and hyphens, "
                "and must not start or end with a hyphen"
            ]
        )


class GroupService:
    """Calendar groups over one store. ``clock`` returns an aware UTC ``now``."""

    def __init__(self, store: DynamoStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def list_groups(self, location_id: str) -> list[Group]:
        """The location's groups, oldest first."""
        return sorted(self._store.list_groups(location_id), key=lambda g: (g.created_at, g.id))

    def get_group(self, location_id: str, group_id: str) -> Group:
        """The group, or NotFound (also for another location's group)."""
        group = self._store.get_group(location_id, group_id, consistent=True)
        if group is None:
            raise NotFound("Group", group_id)
        return group

    def slug_available(self, location_id: str, slug: str) -> bool:
        """Whether a new group of the location could take ``slug`` (ValidationFailed if malformed)."""
        check_slug(slug)
        return not self._store.group_slug_taken(location_id, slug)

    def create_group(
        self, location_id: str, name: str, description: str, slug: str, is_active: bool = True
    ) -> Group:
        """Store a new group. ValidationFailed for a malformed slug or blank name, InvalidRequest
        when the slug is taken in the location."""
        check_slug(slug)
        _check_name(name)
        now = self._clock()
        group = Group(
            id=new_id(),
            location_id=location_id,
            name=name.strip(),
            description=description,
            slug=slug,
            is_active=is_active,
            created_at=now,
            updated_at=now,
        )
        self._store.create_group(group)
        return group

    def update_group(self, location_id: str, group_id: str, name: str, description: str, slug: str) -> Group:
        """Replace name, description and slug (all required by the reference). NotFound,
        ValidationFailed, InvalidRequest (slug taken) or ConcurrentUpdate after contention."""
        check_slug(slug)
        _check_name(name)
        return self._change(
            location_id,
            group_id,
            lambda g: g.model_copy(update={"name": name.strip(), "description": description, "slug": slug}),
        )

    def set_active(self, location_id: str, group_id: str, is_active: bool) -> Group:
        """Enable or disable a group (a disabled group's calendars offer no slots). NotFound."""
        return self._change(location_id, group_id, lambda g: g.model_copy(update={"is_active": is_active}))

    def delete_group(self, location_id: str, group_id: str) -> None:
        """Delete a group that has no calendars. NotFound; InvalidRequest (400) while calendars
        still belong to it."""
        for _ in range(MAX_ATTEMPTS):
            group = self.get_group(location_id, group_id)
            members = [c for c in self._store.list_calendars(location_id) if c.group_id == group_id]
            if members:
                raise InvalidRequest(
                    f"The group still has {len(members)} calendar(s); move them to another group "
                    "or delete them before deleting the group."
                )
            try:
                self._store.delete_group(group)
            except ConcurrentUpdate:
                continue
            return
        raise ConcurrentUpdate("The group is being changed by other requests; please retry.")

    def _change(self, location_id: str, group_id: str, change: Callable[[Group], Group]) -> Group:
        for _ in range(MAX_ATTEMPTS):
            current = self.get_group(location_id, group_id)
            updated = change(current).model_copy(update={"updated_at": self._clock()})
            try:
                self._store.update_group(updated, previous=current)
            except ConcurrentUpdate:
                continue
            return updated
        raise ConcurrentUpdate("The group is being changed by other requests; please retry.")


def _check_name(name: str) -> None:
    if not name.strip():
        raise ValidationFailed(["name should not be empty"])
