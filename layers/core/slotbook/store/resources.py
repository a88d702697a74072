"""DynamoDB access for rooms and equipments, their calendar mapping and timelines (patterns 17-20).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).

Layout
------
* The resource item (pattern 17) holds the :class:`~slotbook.domain.Resource` as JSON ``doc``.
* Each mapped calendar's item holds the resource in its map ``resources``: resource id →
  ``{"type": "rooms"|"equipments", "units": n}`` (``n`` = :meth:`Resource.units`), so free
  slots learn a calendar's resources and their capacity with the calendar itself (pattern 4).
  The resource item and every calendar map it touches change in **one** transaction.
* A resource's timeline partition (pattern 19) holds one entry per appointment occupying it
  (same attributes as a host's entries, written by the booking transaction) and its VERSION
  item (pattern 20), bumped conditionally by every booking that checked its capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key

from slotbook.domain import Resource, ResourceType
from slotbook.store import keys as k
from slotbook.store.versions import conditioned_on

if TYPE_CHECKING:
    from slotbook.store.dynamo import TimelineEntry

MAX_RESOURCES_PER_CALENDAR = 3
"""Rooms and equipments one calendar may be mapped to: a booking transaction holds the event,
three items per host (at most 30) and three per resource (version, new and old entry) ≤ 100."""
MAX_CALENDARS_PER_RESOURCE = 99
"""Calendars one resource may be mapped to: the resource item and every calendar map it touches
are written in one transaction (at most 100 items)."""


@dataclass(frozen=True)
class MappedCalendar:
    """What a resource write needs to know about one calendar (read strongly consistent):
    whether it exists in the location and which resources its map holds."""

    calendar_id: str
    exists: bool
    resources: frozenset[str] = frozenset()


class ResourceStore:
    """Rooms and equipments, their calendar mapping and timelines (mixed into DynamoStore)."""

    if TYPE_CHECKING:  # provided by DynamoStore
        _client: Any
        _name: str
        _query: Callable[..., list[dict[str, Any]]]
        _batch_get: Callable[..., list[dict[str, Any]]]
        _transact: Callable[[list[dict[str, Any]]], None]

    # -- resource items (patterns 17-18) -------------------------------------------------------

    def get_resource(
        self, location_id: str, resource_type: ResourceType, resource_id: str, *, consistent: bool = False
    ) -> Resource | None:
        """Pattern 17: one resource of ``resource_type``, or None (also for another location's)."""
        item = self._client.get_item(
            TableName=self._name,
            Key=k.resource(location_id, resource_type.value, resource_id),
            ConsistentRead=consistent,
        ).get("Item")
        return Resource.model_validate_json(item["doc"]) if item else None

    def list_resources(self, location_id: str, resource_type: ResourceType) -> list[Resource]:
        """Pattern 18: every resource of a type in a location, in id order."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(
            k.resource_prefix(resource_type.value)
        )
        return [Resource.model_validate_json(i["doc"]) for i in self._query(KeyConditionExpression=cond)]

    def mapped_calendars(self, location_id: str, calendar_ids: Iterable[str]) -> dict[str, MappedCalendar]:
        """Pattern 4 for many calendars, strongly consistent, projecting only the resource map
        (BatchGetItem): calendar id → :class:`MappedCalendar` (``exists=False`` when absent)."""
        ids = list(dict.fromkeys(calendar_ids))
        found = {cid: MappedCalendar(cid, exists=False) for cid in ids}
        prefix = len(k.calendar(location_id, "")[k.SK])
        for item in self._batch_get(
            [k.calendar(location_id, cid) for cid in ids],
            consistent=True,
            projection="#sk, #res",
            names={"#sk": k.SK, "#res": "resources"},
        ):
            cid = item[k.SK][prefix:]
            found[cid] = MappedCalendar(cid, True, frozenset(item.get("resources") or {}))
        return found

    def save_resource(
        self,
        resource: Resource,
        previous: Resource | None,
        *,
        unmap: Iterable[str] = (),
    ) -> None:
        """Create (``previous`` None; the id must be new) or replace ``previous`` (only if nobody
        changed it meanwhile) in one transaction with the calendar maps:
        ``resources.<id> = {type, units}`` on every calendar of ``resource.calendar_ids`` (each
        must exist and stay within :data:`MAX_RESOURCES_PER_CALENDAR`), and the entry removed
        from each calendar of ``unmap`` (calendars that still exist).

        Raises :class:`~slotbook.errors.BookingConflict` when any condition fails (a calendar
        vanished or filled up, the resource changed): the caller re-reads and decides again.
        """
        key = k.resource(resource.location_id, resource.resource_type.value, resource.id)
        put: dict[str, Any] = {"TableName": self._name, "Item": {**key, "doc": resource.model_dump_json()}}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "#doc = :prev"
            put["ExpressionAttributeNames"] = {"#doc": "doc"}
            put["ExpressionAttributeValues"] = {":prev": previous.model_dump_json()}
        items: list[dict[str, Any]] = [{"Put": put}]
        entry = {"type": resource.resource_type.value, "units": resource.units()}
        for cid in dict.fromkeys(resource.calendar_ids):
            items.append(self._calendar_map_update(resource.location_id, cid, resource.id, entry))
        for cid in dict.fromkeys(unmap):
            if cid not in resource.calendar_ids:
                items.append(self._calendar_map_update(resource.location_id, cid, resource.id, None))
        self._transact(items)

    def delete_resource(self, resource: Resource, *, unmap: Iterable[str]) -> None:
        """Delete ``resource`` (only if unchanged since read) and remove it from the maps of the
        calendars in ``unmap`` (those of its calendars that still exist), in one transaction.
        Its timeline stays: the appointments it holds keep their history. Raises
        :class:`~slotbook.errors.BookingConflict` when a condition fails (re-read and retry)."""
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._name,
                    "Key": k.resource(resource.location_id, resource.resource_type.value, resource.id),
                    "ConditionExpression": "#doc = :prev",
                    "ExpressionAttributeNames": {"#doc": "doc"},
                    "ExpressionAttributeValues": {":prev": resource.model_dump_json()},
                }
            }
        ]
        for cid in dict.fromkeys(unmap):
            items.append(self._calendar_map_update(resource.location_id, cid, resource.id, None))
        self._transact(items)

    def _calendar_map_update(
        self, location_id: str, calendar_id: str, resource_id: str, entry: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Set (``entry``) or remove (None) one resource in a calendar's ``resources`` map. The
        calendar must exist; a set that adds a resource also needs room under the cap."""
        update: dict[str, Any] = {
            "TableName": self._name,
            "Key": k.calendar(location_id, calendar_id),
            "ExpressionAttributeNames": {"#res": "resources", "#rid": resource_id},
        }
        if entry is None:
            update["UpdateExpression"] = "REMOVE #res.#rid"
            update["ConditionExpression"] = "attribute_exists(PK)"
        else:
            update["UpdateExpression"] = "SET #res.#rid = :entry"
            update["ConditionExpression"] = (
                "attribute_exists(PK) AND (attribute_exists(#res.#rid) OR size(#res) < :cap)"
            )
            update["ExpressionAttributeValues"] = {":entry": entry, ":cap": MAX_RESOURCES_PER_CALENDAR}
        return {"Update": update}

    # -- timelines (patterns 19-20) --------------------------------------------------------------

    def resource_versions(self, location_id: str, resource_ids: Iterable[str]) -> dict[str, int]:
        """Pattern 20, strongly consistent, one BatchGetItem: resource id → booking version (0 if
        never booked). Read *before* the resource's busy time, like host versions."""
        ids = list(dict.fromkeys(resource_ids))
        versions = dict.fromkeys(ids, 0)
        if not ids:
            return versions
        prefix = len(k.resource_timeline_pk(location_id, ""))
        for item in self._batch_get([k.resource_version(location_id, r) for r in ids], consistent=True):
            versions[item[k.PK][prefix:]] = int(item["version"])
        return versions

    def resource_busy(
        self, location_id: str, resource_id: str, lo: datetime, hi: datetime
    ) -> list[TimelineEntry]:
        """Pattern 19: entries of the appointments occupying a resource that may overlap
        ``[lo, hi]`` — one strongly consistent Query, with the same look-back as
        :meth:`DynamoStore.host_busy`. Cancelled appointments' entries come with ``busy=False``."""
        from slotbook.store.dynamo import MAX_BUFFER, MAX_EVENT_SPAN, _entry

        start, end = k.range_bounds(lo - MAX_EVENT_SPAN - MAX_BUFFER, hi + MAX_BUFFER)
        cond = Key(k.PK).eq(k.resource_timeline_pk(location_id, resource_id)) & Key(k.SK).between(start, end)
        floor = int((lo - MAX_BUFFER).timestamp())
        return [
            _entry(i)
            for i in self._query(
                KeyConditionExpression=cond, ConsistentRead=True, FilterExpression=Attr("endTs").gt(floor)
            )
        ]

    def _resource_version_bumps(self, location_id: str, versions: dict[str, int]) -> list[dict[str, Any]]:
        """Transaction items bumping each resource's version, conditional on the version read
        (0 = the item must not exist yet): the optimistic lock of a resource's capacity."""
        items: list[dict[str, Any]] = []
        for resource_id, version in versions.items():
            update: dict[str, Any] = {
                "TableName": self._name,
                "Key": k.resource_version(location_id, resource_id),
                "UpdateExpression": "SET version = :next",
                "ExpressionAttributeValues": {":next": version + 1},
            }
            items.append({"Update": conditioned_on(update, version)})
        return items
