"""DynamoDB access for availability schedules and their calendar associations (patterns 15-16).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._pages``).

Layout
------
* A user schedule's item (pattern 15) holds the :class:`~slotbook.domain.AvailabilitySchedule`
  as JSON ``doc``, and ``GSI1PK``/``GSI1SK`` = its user's partition / creation instant + id
  (pattern 16: a user's schedules, oldest first).
* Each associated calendar's item holds the schedule in its map ``schedules``: user id →
  ``{"id": scheduleId, "doc": <schedule JSON without name and calendarIds>}``, so free slots
  learn a member's hours with the calendar itself (pattern 4). The schedule item and every
  calendar entry it touches change in **one** ``TransactWriteItems`` (at most
  1 + :data:`MAX_CALENDARS_PER_SCHEDULE` items).
* One user has at most one schedule per calendar: setting an entry is conditional on the
  calendar existing and the user's entry being absent or this schedule's.
* An event calendar's own schedule is the calendar item's string attribute
  ``calendarSchedule`` (the schedule's JSON), written with a conditional ``UpdateItem``.

Calendar updates by the calendars function replace only ``doc``, so these attributes survive
them; deleting a calendar deletes its item, entries included (the schedules that listed it are
pruned the next time they are written, and their reads list only calendars that still exist).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from slotbook.domain import AvailabilitySchedule, Calendar
from slotbook.errors import ConcurrentUpdate, NotFound, ValidationFailed
from slotbook.store import keys as k

MAX_CALENDARS_PER_SCHEDULE = 50
"""Calendars one user schedule may apply to: the schedule item and each calendar entry are
written in one transaction (DynamoDB allows 100 items)."""

_SCHEDULES = "schedules"
_CALENDAR_SCHEDULE = "calendarSchedule"
_ENTRY_IS_FREE_OR_OURS = "attribute_exists(PK) AND (attribute_not_exists(#s.#u) OR #s.#u.#id = :sid)"
"""Condition of every entry write: the calendar exists, and the user's entry is absent or this
schedule's (one schedule per user and calendar)."""


@dataclass(frozen=True)
class ScheduleTarget:
    """What a schedule write needs to know about one calendar (read strongly consistent):
    the calendar (None when it does not exist in the location) and the id of the schedule its
    ``schedules`` map holds for the user in question (None when none)."""

    calendar_id: str
    calendar: Calendar | None
    owner: str | None = None


class ScheduleStore:
    """Availability schedules and their calendar associations (patterns 15-16) (mixed into
    DynamoStore)."""

    if TYPE_CHECKING:  # provided by DynamoStore
        _client: Any
        _name: str
        _pages: Callable[..., Iterator[dict[str, Any]]]

    # -- user schedules (patterns 15-16) --------------------------------------------------------

    def get_schedule(
        self, location_id: str, schedule_id: str, *, consistent: bool = False
    ) -> AvailabilitySchedule | None:
        """Pattern 15: one user schedule, or None (also for another location's id)."""
        item = self._client.get_item(
            TableName=self._name, Key=k.schedule(location_id, schedule_id), ConsistentRead=consistent
        ).get("Item")
        return AvailabilitySchedule.model_validate_json(item["doc"]) if item else None

    def user_schedules(
        self,
        location_id: str,
        user_id: str,
        *,
        calendar_id: str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> list[AvailabilitySchedule]:
        """Pattern 16: a user's schedules, oldest first; only those applied to ``calendar_id``
        when given; the ``limit`` after the first ``skip``. Reads pages until it has enough."""
        cond = Key(k.GSI1PK).eq(k.user_schedules_gsi(location_id, user_id))
        wanted = skip + limit
        out: list[AvailabilitySchedule] = []
        for page in self._pages(IndexName=k.GSI1, KeyConditionExpression=cond):
            for item in page.get("Items", []):
                schedule = AvailabilitySchedule.model_validate_json(item["doc"])
                if calendar_id is None or calendar_id in schedule.calendar_ids:
                    out.append(schedule)
            if len(out) >= wanted:
                break
        return out[skip:wanted]

    def schedule_targets(
        self, location_id: str, calendar_ids: Iterable[str], user_id: str
    ) -> dict[str, ScheduleTarget]:
        """Pattern 4 for several calendars, strongly consistent, in BatchGetItem calls that
        project the calendar and the user's entry of its ``schedules`` map: calendar id →
        :class:`ScheduleTarget` (``calendar`` None when absent from the location)."""
        ids = list(dict.fromkeys(calendar_ids))
        found = {cid: ScheduleTarget(cid, None) for cid in ids}
        names = {"#doc": "doc", "#s": _SCHEDULES, "#u": user_id}
        for cid, item in self._calendar_items(location_id, ids, "#doc, #s.#u", names, consistent=True):
            entry = (item.get(_SCHEDULES) or {}).get(user_id)
            owner = entry["id"] if entry else None
            found[cid] = ScheduleTarget(cid, Calendar.model_validate_json(item["doc"]), owner)
        return found

    def existing_calendars(
        self, location_id: str, calendar_ids: Iterable[str], *, consistent: bool = False
    ) -> set[str]:
        """Which of ``calendar_ids`` exist in the location (pattern 4 projected to the key,
        BatchGetItem): reads list only live associations, writes prune the others."""
        ids = list(dict.fromkeys(calendar_ids))
        return {cid for cid, _ in self._calendar_items(location_id, ids, None, {}, consistent=consistent)}

    def _calendar_items(
        self,
        location_id: str,
        ids: list[str],
        projection: str | None,
        names: dict[str, str],
        *,
        consistent: bool,
    ) -> Iterable[tuple[str, dict[str, Any]]]:
        """``(calendar id, item)`` of each existing calendar of ``ids``, projected to the sort key
        plus ``projection`` (attribute names in ``names``)."""
        prefix = len(k.calendar(location_id, "")[k.SK])
        for item in self._batch_get(
            [k.calendar(location_id, cid) for cid in ids],
            consistent=consistent,
            projection="#sk" + (f", {projection}" if projection else ""),
            names={"#sk": k.SK, **names},
        ):
            yield item[k.SK][prefix:], item

    def save_schedule(
        self,
        schedule: AvailabilitySchedule,
        previous: AvailabilitySchedule | None,
        *,
        detach: Iterable[str] = (),
    ) -> None:
        """Create (``previous`` None; the id must be new) or replace ``previous`` (only if nobody
        changed it meanwhile), in one transaction with the calendar entries: the user's entry
        set to this schedule on every calendar of ``schedule.calendar_ids`` (each must exist and
        hold no other schedule of the user) and removed from every calendar of ``detach`` (ids
        the caller knows still exist; those also in ``calendar_ids`` are ignored).

        Raises :class:`~slotbook.errors.ConcurrentUpdate` when a condition fails (a calendar
        vanished or took another schedule of the user, the schedule changed): the caller
        re-reads, re-checks and retries. :class:`~slotbook.errors.ValidationFailed` when
        DynamoDB refuses an item (a calendar item would exceed its size limit).
        """
        assert schedule.user_id is not None
        item: dict[str, Any] = {
            **k.schedule(schedule.location_id, schedule.id),
            "doc": schedule.model_dump_json(),
            k.GSI1PK: k.user_schedules_gsi(schedule.location_id, schedule.user_id),
            k.GSI1SK: k.user_schedule_sk(schedule.created_at, schedule.id),
        }
        put: dict[str, Any] = {"TableName": self._name, "Item": item}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "#doc = :prev"
            put["ExpressionAttributeNames"] = {"#doc": "doc"}
            put["ExpressionAttributeValues"] = {":prev": previous.model_dump_json()}
        items: list[dict[str, Any]] = [{"Put": put}]
        for cid in dict.fromkeys(schedule.calendar_ids):
            items.append(self._entry_update(schedule, cid, remove=False))
        for cid in dict.fromkeys(detach):
            if cid not in schedule.calendar_ids:
                items.append(self._entry_update(schedule, cid, remove=True))
        self._commit_schedule(items)

    def delete_schedule(self, schedule: AvailabilitySchedule, *, detach: Iterable[str]) -> None:
        """Delete ``schedule`` (only if unchanged since read) and remove its entry from the
        calendars of ``detach`` (those of its calendars that still exist), in one transaction.
        Raises :class:`~slotbook.errors.ConcurrentUpdate` when a condition fails."""
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._name,
                    "Key": k.schedule(schedule.location_id, schedule.id),
                    "ConditionExpression": "#doc = :prev",
                    "ExpressionAttributeNames": {"#doc": "doc"},
                    "ExpressionAttributeValues": {":prev": schedule.model_dump_json()},
                }
            }
        ]
        for cid in dict.fromkeys(detach):
            items.append(self._entry_update(schedule, cid, remove=True))
        self._commit_schedule(items)

    def _entry_update(
        self, schedule: AvailabilitySchedule, calendar_id: str, *, remove: bool
    ) -> dict[str, Any]:
        """Set or remove the schedule's user entry in one calendar's ``schedules`` map. The
        calendar must exist, and the entry must be absent or this schedule's (never another
        schedule of the same user)."""
        assert schedule.user_id is not None
        update: dict[str, Any] = {
            "TableName": self._name,
            "Key": k.calendar(schedule.location_id, calendar_id),
            "ConditionExpression": _ENTRY_IS_FREE_OR_OURS,
            "ExpressionAttributeNames": {"#s": _SCHEDULES, "#u": schedule.user_id, "#id": "id"},
            "ExpressionAttributeValues": {":sid": schedule.id},
        }
        if remove:
            update["UpdateExpression"] = "REMOVE #s.#u"
        else:
            update["UpdateExpression"] = "SET #s.#u = :entry"
            update["ExpressionAttributeValues"][":entry"] = {"id": schedule.id, "doc": _entry_doc(schedule)}
        return {"Update": update}

    def _commit_schedule(self, items: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            if error not in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise
            reasons = {r.get("Code") for r in exc.response.get("CancellationReasons") or []}
            if "ValidationError" in reasons:
                raise ValidationFailed(
                    ["the schedule cannot be stored on its calendars (a calendar item would be too large)"]
                ) from exc
            raise ConcurrentUpdate(
                "The schedule or one of its calendars was changed by another request; retry."
            ) from exc

    # -- event-calendar schedules ----------------------------------------------------------------

    def get_calendar_schedule(
        self, location_id: str, calendar_id: str, *, consistent: bool = False
    ) -> tuple[bool, AvailabilitySchedule | None]:
        """Pattern 4 projected to ``calendarSchedule``: ``(calendar exists, its own schedule)``."""
        item = self._client.get_item(
            TableName=self._name,
            Key=k.calendar(location_id, calendar_id),
            ConsistentRead=consistent,
            ProjectionExpression="#sk, #cs",
            ExpressionAttributeNames={"#sk": k.SK, "#cs": _CALENDAR_SCHEDULE},
        ).get("Item")
        if item is None:
            return False, None
        own = item.get(_CALENDAR_SCHEDULE)
        return True, AvailabilitySchedule.model_validate_json(own) if own else None

    def put_calendar_schedule(
        self, schedule: AvailabilitySchedule, previous: AvailabilitySchedule | None
    ) -> None:
        """Set an event calendar's own schedule: create (``previous`` None; the calendar must have
        none) or replace ``previous`` (only if unchanged since read). Raises
        :class:`~slotbook.errors.NotFound` if the calendar is gone,
        :class:`~slotbook.errors.ConcurrentUpdate` if its schedule changed meanwhile,
        :class:`~slotbook.errors.ValidationFailed` if the calendar item would grow past
        DynamoDB's item size limit (its members' schedules travel on it too)."""
        assert schedule.calendar_id is not None
        values: dict[str, Any] = {":doc": schedule.model_dump_json()}
        if previous is None:
            cond = "attribute_exists(PK) AND attribute_not_exists(#cs)"
        else:
            cond = "attribute_exists(PK) AND #cs = :prev"
            values[":prev"] = previous.model_dump_json()
        try:
            self._client.update_item(
                TableName=self._name,
                Key=k.calendar(schedule.location_id, schedule.calendar_id),
                UpdateExpression="SET #cs = :doc",
                ConditionExpression=cond,
                ExpressionAttributeNames={"#cs": _CALENDAR_SCHEDULE},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ValidationException":  # the calendar item would exceed 400 KB
                raise ValidationFailed(
                    ["the schedule cannot be stored on its calendar (the calendar item would be too large)"]
                ) from exc
            if code != "ConditionalCheckFailedException":
                raise
            exists, _ = self.get_calendar_schedule(
                schedule.location_id, schedule.calendar_id, consistent=True
            )
            if not exists:
                raise NotFound("Calendar", schedule.calendar_id) from exc
            raise ConcurrentUpdate("The calendar's schedule was changed by another request; retry.") from exc


def _entry_doc(schedule: AvailabilitySchedule) -> str:
    """The schedule as a calendar entry: what free slots need (zone and rules), without the
    name and calendar list, so the calendar item stays small."""
    return schedule.model_copy(update={"name": "", "calendar_ids": []}).model_dump_json(exclude_defaults=True)
