"""Rooms and equipments (GoHighLevel "calendar resources"), once for every dialect.

Rules (reference/seeds/003, resources; ghl-calendars-v3 ``CreateCalendarResourceDTO``):

* a resource is a room (holds ``capacity`` concurrent bookings) or an equipment (holds
  ``quantity - outOfService``); an inactive one holds none (:meth:`Resource.units`);
* it is mapped to calendars (``calendarIds``): one equipment to at most one calendar, a room to
  many (at most :data:`MAX_CALENDARS_PER_RESOURCE`); a calendar takes at most
  :data:`MAX_RESOURCES_PER_CALENDAR` resources; every mapped calendar must exist in the location;
* **engine effect**: a mapped calendar offers a slot only while each of its resources has a unit
  left, counted over the bookings of every calendar mapped to it (see
  :meth:`SchedulingService._availability`); bookings take a unit under the resource's version
  lock, so capacity is part of the no-double-booking invariant.

The resource item and the mapped calendars' maps change in one transaction; a concurrent change
(lost condition) is re-read and decided again, up to :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slotbook.domain import Resource, ResourceType
from slotbook.errors import BookingConflict, ConcurrentUpdate, InvalidRequest, NotFound
from slotbook.ids import new_id
from slotbook.store.dynamo import DynamoStore
from slotbook.store.resources import MAX_CALENDARS_PER_RESOURCE, MAX_RESOURCES_PER_CALENDAR

MAX_ATTEMPTS = 5
"""Tries (fresh reads each time) before a contended resource write answers ConcurrentUpdate."""
MAX_LIST_LIMIT = 500
"""Largest page of a resource listing."""

Clock = Callable[[], datetime]


@dataclass
class ResourceInput:
    """A new resource, or the changes to one (``None`` = leave unchanged on update).

    Counts are non-negative integers (the dialect validates them); ``calendar_ids`` replaces
    the whole mapping when given.
    """

    name: str | None = None
    description: str | None = None
    quantity: int | None = None
    out_of_service: int | None = None
    capacity: int | None = None
    calendar_ids: list[str] | None = None
    is_active: bool | None = None


def resource_type(value: str) -> ResourceType:
    """The resource type named in a path (``equipments`` | ``rooms``); InvalidRequest (400)
    for any other value, as the reference's ``resourceType`` enum requires."""
    try:
        return ResourceType(value)
    except ValueError:
        raise InvalidRequest(f"resourceType must be one of equipments, rooms; got {value[:40]!r}") from None


class ResourceService:
    """Calendar resources over one store. ``clock`` returns an aware UTC ``now``."""

    def __init__(self, store: DynamoStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def list_resources(self, location_id: str, kind: ResourceType, skip: int, limit: int) -> list[Resource]:
        """Resources of ``kind`` in creation order, ``limit`` (1..500) of them after ``skip``."""
        if skip < 0 or not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidRequest(f"skip must be >= 0 and limit between 1 and {MAX_LIST_LIMIT}")
        found = sorted(self._store.list_resources(location_id, kind), key=lambda r: (r.created_at, r.id))
        return self._live(location_id, found[skip : skip + limit])

    def get_resource(self, location_id: str, kind: ResourceType, resource_id: str) -> Resource:
        """One resource; NotFound for an unknown id, another location's, or another type's."""
        found = self._store.get_resource(location_id, kind, resource_id)
        if found is None:
            raise NotFound("Calendar resource", resource_id)
        return self._live(location_id, [found])[0]

    def _live(self, location_id: str, resources: list[Resource]) -> list[Resource]:
        """``resources`` listing only calendars that still exist (one batched read), so what a
        client reads it can write back (a deleted calendar id would be refused with 400)."""
        wanted = {cid for r in resources for cid in r.calendar_ids}
        if not wanted:
            return resources
        live = self._store.existing_calendars(location_id, wanted)
        return [
            r.model_copy(update={"calendar_ids": [c for c in r.calendar_ids if c in live]}) for r in resources
        ]

    def create_resource(self, location_id: str, kind: ResourceType, data: ResourceInput) -> Resource:
        """Store a new resource and map it to ``data.calendar_ids`` in one transaction.
        Raises InvalidRequest (bad counts, unknown calendar, too many calendars or resources)."""
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            resource = Resource(
                id=new_id(),
                location_id=location_id,
                resource_type=kind,
                name=data.name or "",
                description=data.description or "",
                quantity=data.quantity or 0,
                out_of_service=data.out_of_service or 0,
                capacity=data.capacity or 0,
                calendar_ids=list(dict.fromkeys(data.calendar_ids or [])),
                is_active=True if data.is_active is None else data.is_active,
                created_at=now,
                updated_at=now,
            )
            stored = self._write(resource, None)
            if stored is not None:
                return stored
        raise ConcurrentUpdate("The calendars are being changed by other requests; please retry.")

    def update_resource(
        self, location_id: str, kind: ResourceType, resource_id: str, data: ResourceInput
    ) -> Resource:
        """Apply ``data`` to the stored resource; a new ``calendar_ids`` remaps it (newly named
        calendars gain it, dropped ones lose it) and a change of counts or ``is_active``
        reaches every mapped calendar, all in one transaction. Calendars deleted since they
        were mapped drop out of the mapping. NotFound, InvalidRequest, ConcurrentUpdate."""
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get_resource(location_id, kind, resource_id, consistent=True)
            if current is None:
                raise NotFound("Calendar resource", resource_id)
            changes = {
                name: value
                for name, value in (
                    ("name", data.name),
                    ("description", data.description),
                    ("quantity", data.quantity),
                    ("out_of_service", data.out_of_service),
                    ("capacity", data.capacity),
                    ("is_active", data.is_active),
                )
                if value is not None
            }
            if data.calendar_ids is not None:
                changes["calendar_ids"] = list(dict.fromkeys(data.calendar_ids))
            updated = current.model_copy(update={**changes, "updated_at": self._clock()})
            stored = self._write(updated, current, explicit=data.calendar_ids is not None)
            if stored is not None:
                return stored
        raise ConcurrentUpdate("The resource is being changed by other requests; please retry.")

    def delete_resource(self, location_id: str, kind: ResourceType, resource_id: str) -> None:
        """Delete a resource and unmap it from its calendars (one transaction). Appointments
        already holding it keep their record. NotFound if absent."""
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get_resource(location_id, kind, resource_id, consistent=True)
            if current is None:
                raise NotFound("Calendar resource", resource_id)
            calendars = self._store.mapped_calendars(location_id, current.calendar_ids)
            try:
                self._store.delete_resource(current, unmap=[cid for cid, c in calendars.items() if c.exists])
            except BookingConflict:
                continue
            return
        raise ConcurrentUpdate("The resource is being changed by other requests; please retry.")

    def _write(
        self, resource: Resource, previous: Resource | None, *, explicit: bool = True
    ) -> Resource | None:
        """Validate ``resource`` against the rules and the calendars as they are now, then store
        it with its mapping; returns what was stored, or None when a concurrent change cancelled
        the write (the caller re-reads).

        ``explicit``: the calendar ids were named by this request, so an unknown one is an error;
        otherwise (kept from before) calendars deleted meanwhile silently leave the mapping."""
        _check_counts(resource)
        before = list(previous.calendar_ids) if previous else []
        calendars = self._store.mapped_calendars(resource.location_id, [*resource.calendar_ids, *before])
        missing = [cid for cid in resource.calendar_ids if not calendars[cid].exists]
        if missing and explicit:
            raise InvalidRequest(f"Calendar {missing[0]} not found in this location")
        wanted = [cid for cid in resource.calendar_ids if calendars[cid].exists]
        resource = resource.model_copy(update={"calendar_ids": wanted})
        if resource.resource_type is ResourceType.EQUIPMENTS and len(wanted) > 1:
            raise InvalidRequest("One equipment can only be mapped with one calendar")
        if len(wanted) > MAX_CALENDARS_PER_RESOURCE:
            raise InvalidRequest(
                f"A resource can be mapped to at most {MAX_CALENDARS_PER_RESOURCE} calendars"
            )
        full = [
            cid
            for cid in wanted
            if resource.id not in calendars[cid].resources
            and len(calendars[cid].resources) >= MAX_RESOURCES_PER_CALENDAR
        ]
        if full:
            raise InvalidRequest(
                f"Calendar {full[0]} already has {MAX_RESOURCES_PER_CALENDAR} rooms and equipments"
            )
        unmap = [cid for cid in dict.fromkeys(before) if cid not in wanted and calendars[cid].exists]
        if len(wanted) + len(unmap) > MAX_CALENDARS_PER_RESOURCE:
            raise InvalidRequest(
                f"One change can map and unmap at most {MAX_CALENDARS_PER_RESOURCE} calendars in all"
            )
        try:
            self._store.save_resource(resource, previous, unmap=unmap)
        except BookingConflict:
            return None
        return resource


def _check_counts(resource: Resource) -> None:
    """Counts are non-negative and an equipment cannot have more out of service than it has."""
    if min(resource.quantity, resource.out_of_service, resource.capacity) < 0:
        raise InvalidRequest("quantity, outOfService and capacity must not be negative")
    if resource.out_of_service > resource.quantity:
        raise InvalidRequest("outOfService must not exceed quantity")
