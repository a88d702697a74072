"""DynamoDB access for recurring appointment series (patterns 23-24).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).

Layout
------
* The **master** of a series is an event item (pattern 6, ``EVT#<masterId>``) whose ``doc`` is
  the master :class:`~slotbook.domain.Event` (``rrule`` set). It has no timeline entries (a
  series is not one time range); its GSI1 key lists it under its calendar (pattern 23:
  ``GSI1PK=CALSERIES#<loc>#<cal>``, ``GSI1SK=<masterId>``), with ``firstTs``/``lastTs`` (epoch s;
  no ``lastTs`` for an infinite series) so a listing filters out series outside its window.
* **Busy time:** every host of the series carries a map ``series_<masterId>`` on its VERSION
  item (pattern 24; :class:`HostSeries`): what expanding the occurrences needs; so does the
  VERSION item of every room or equipment the series occupies (pattern 20's item). It is written
  in the same ``TransactWriteItems`` as the master, and every series write bumps those versions
  conditionally on the versions read, so a booking that read a version before the series
  changed fails its own version condition and re-reads (invariant 1).
* A **detached instance** (one occurrence edited on its own) is an ordinary appointment item
  with timeline entries, id ``<masterId>_<startMs>_<durationSeconds>``; the master lists it in
  ``detached`` and its original start in ``exdates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from slotbook.domain import Event
from slotbook.errors import ValidationFailed
from slotbook.store import keys as k
from slotbook.store.connections import connections_on
from slotbook.store.versions import conditioned_on

MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit of actions in one TransactWriteItems."""


@dataclass
class LockRead:
    """What :meth:`SeriesStore.read_locks` read from the VERSION items of a booking's hosts and
    resources: versions (for the transaction's conditions), round-robin ``last_booked`` (epoch s)
    and the recurring series occupying each (busy time)."""

    host_versions: dict[str, int]
    last_booked: dict[str, int]
    resource_versions: dict[str, int]
    host_series: dict[str, list[HostSeries]] = field(default_factory=dict)
    resource_series: dict[str, list[HostSeries]] = field(default_factory=dict)
    host_connections: dict[str, list[str]] = field(default_factory=dict)
    """Host → calendar connections linked to them (pattern 46): their provider busy time."""


@dataclass(frozen=True, slots=True)
class HostSeries:
    """One recurring series occupying a host or a resource (attribute ``series_<masterId>`` of
    its VERSION item). Instants in epoch seconds, lengths in seconds; ``rule`` is the canonical RRULE line
    expanded in ``timezone`` from ``start``; ``exdates`` are excluded original starts."""

    master_id: str
    calendar_id: str | None
    rule: str
    start: int
    duration: int
    buffer_before: int
    buffer_after: int
    timezone: str
    exdates: tuple[int, ...]
    busy: bool


def series_attribute(master: Event) -> dict[str, Any]:
    """The ``series_<masterId>`` map written on each host's VERSION item."""
    assert master.rrule is not None
    return {
        "rule": master.rrule,
        "calendarId": master.calendar_id or "",
        "start": int(master.start.timestamp()),
        "duration": int((master.end - master.start).total_seconds()),
        "before": master.buffer_before,
        "after": master.buffer_after,
        "tz": master.rrule_timezone or "UTC",
        "exdates": sorted({int(d.timestamp()) for d in master.exdates}),
        "busy": master.occupies_hosts,
    }


def _host_series(master_id: str, raw: dict[str, Any]) -> HostSeries:
    return HostSeries(
        master_id=master_id,
        calendar_id=raw.get("calendarId") or None,
        rule=str(raw["rule"]),
        start=int(raw["start"]),
        duration=int(raw["duration"]),
        buffer_before=int(raw.get("before", 0)),
        buffer_after=int(raw.get("after", 0)),
        timezone=str(raw.get("tz") or "UTC"),
        exdates=tuple(int(x) for x in raw.get("exdates") or ()),
        busy=bool(raw.get("busy", True)),
    )


class SeriesStore:
    """Recurring appointment series (patterns 23-24) (mixed into DynamoStore)."""

    if TYPE_CHECKING:  # provided by DynamoStore
        _client: Any
        _name: str
        _query: Callable[..., list[dict[str, Any]]]
        _batch_get: Callable[..., list[dict[str, Any]]]
        _transact: Callable[[list[dict[str, Any]]], None]
        _event_writes: Callable[..., list[dict[str, Any]]]
        _entry_keys: Callable[[Event], list[dict[str, str]]]

    def host_series(self, location_id: str, host_ids: Iterable[str]) -> dict[str, list[HostSeries]]:
        """Pattern 24, strongly consistent, one BatchGetItem of the hosts' VERSION items: host →
        the recurring series occupying it (hosts without any are absent)."""
        return self._series_on(
            [k.host_version(location_id, h) for h in dict.fromkeys(host_ids)],
            len(k.host_timeline_pk(location_id, "")),
        )

    def read_locks(
        self,
        location_id: str,
        host_ids: Iterable[str],
        resource_ids: Iterable[str],
        calendar_id: str | None = None,
    ) -> LockRead:
        """Patterns 8, 20 and 24 in ONE strongly consistent BatchGetItem of the hosts' and the
        resources' VERSION items: their booking versions (0 if never booked), when each host was
        last booked on ``calendar_id`` (round-robin fairness), and the recurring series occupying
        each. A booking reads this *before* busy time (the optimistic lock of invariant 1)."""
        hosts = list(dict.fromkeys(host_ids))
        resources = list(dict.fromkeys(resource_ids))
        lock = LockRead(
            host_versions=dict.fromkeys(hosts, 0),
            last_booked=dict.fromkeys(hosts, 0),
            resource_versions=dict.fromkeys(resources, 0),
        )
        host_pk = k.host_timeline_pk(location_id, "")
        resource_pk = k.resource_timeline_pk(location_id, "")
        keys = [k.host_version(location_id, h) for h in hosts]
        keys += [k.resource_version(location_id, r) for r in resources]
        for item in self._batch_get(keys, consistent=True) if keys else []:
            pk = item[k.PK]
            found = [
                _host_series(name[len(k.SERIES_ATTR_PREFIX) :], value)
                for name, value in item.items()
                if name.startswith(k.SERIES_ATTR_PREFIX)
            ]
            if pk.startswith(host_pk):
                host = pk[len(host_pk) :]
                lock.host_versions[host] = int(item.get("version", 0))
                if calendar_id is not None:
                    lock.last_booked[host] = int(item.get(f"lastBooked_{calendar_id}", 0))
                if found:
                    lock.host_series[host] = found
                linked = connections_on(item)
                if linked:
                    lock.host_connections[host] = linked
            elif pk.startswith(resource_pk):
                resource = pk[len(resource_pk) :]
                lock.resource_versions[resource] = int(item.get("version", 0))
                if found:
                    lock.resource_series[resource] = found
        return lock

    def occupying_series(
        self, location_id: str, host_ids: Iterable[str], resource_ids: Iterable[str]
    ) -> tuple[dict[str, list[HostSeries]], dict[str, list[HostSeries]], dict[str, list[str]]]:
        """Patterns 24, 20 and 46 in one strongly consistent BatchGetItem: the recurring series
        occupying each host and each room or equipment (from their VERSION items) and the
        calendar connections linked to each host, as
        ``(host → series, resource → series, host → connection ids)``."""
        host_pk = k.host_timeline_pk(location_id, "")
        resource_pk = k.resource_timeline_pk(location_id, "")
        keys = [k.host_version(location_id, h) for h in dict.fromkeys(host_ids)]
        keys += [k.resource_version(location_id, r) for r in dict.fromkeys(resource_ids)]
        hosts: dict[str, list[HostSeries]] = {}
        resources: dict[str, list[HostSeries]] = {}
        linked: dict[str, list[str]] = {}
        if not keys:
            return hosts, resources, linked
        for item in self._batch_get(keys, consistent=True):
            found = [
                _host_series(name[len(k.SERIES_ATTR_PREFIX) :], value)
                for name, value in item.items()
                if name.startswith(k.SERIES_ATTR_PREFIX)
            ]
            pk = item[k.PK]
            if pk.startswith(host_pk):
                if found:
                    hosts[pk[len(host_pk) :]] = found
                connections = connections_on(item)
                if connections:
                    linked[pk[len(host_pk) :]] = connections
            elif pk.startswith(resource_pk) and found:
                resources[pk[len(resource_pk) :]] = found
        return hosts, resources, linked

    def _series_on(self, keys: list[dict[str, str]], prefix: int) -> dict[str, list[HostSeries]]:
        if not keys:
            return {}
        out: dict[str, list[HostSeries]] = {}
        for item in self._batch_get(keys, consistent=True):
            found = [
                _host_series(name[len(k.SERIES_ATTR_PREFIX) :], value)
                for name, value in item.items()
                if name.startswith(k.SERIES_ATTR_PREFIX)
            ]
            if found:
                out[item[k.PK][prefix:]] = found
        return out

    def calendar_series(self, location_id: str, calendar_id: str, lo: datetime, hi: datetime) -> list[Event]:
        """Pattern 23: masters of the calendar's series that may have occurrences in ``[lo, hi)``
        (first start before ``hi``, not ended before ``lo``)."""
        cond = Key(k.GSI1PK).eq(k.calendar_series_gsi(location_id, calendar_id))
        flt = Attr("firstTs").lt(int(hi.timestamp())) & (
            Attr("lastTs").not_exists() | Attr("lastTs").gt(int(lo.timestamp()))
        )
        items = self._query(IndexName=k.GSI1, KeyConditionExpression=cond, FilterExpression=flt)
        return [Event.model_validate_json(i["doc"]) for i in items]

    def get_events(self, location_id: str, event_ids: Iterable[str]) -> list[Event]:
        """Pattern 6 for several ids in one BatchGetItem (missing ids are left out)."""
        wanted = [k.event(location_id, i) for i in dict.fromkeys(event_ids)]
        return [Event.model_validate_json(i["doc"]) for i in self._batch_get(wanted, consistent=False)]

    def save_series(
        self,
        master: Event | None,
        previous: Event | None,
        versions: dict[str, int],
        *,
        last_end: datetime | None = None,
        instances: Iterable[Event] = (),
        resource_versions: dict[str, int] | None = None,
        now: datetime | None = None,
        active_group: str | None = None,
    ) -> None:
        """Create, change or delete a series master in one transaction.

        ``master`` is the new state (``None`` deletes ``previous``); ``previous`` the stored state
        it replaces (``None`` creates: the id must be free), checked on its ``doc`` so a concurrent
        edit loses. ``versions``: every host of ``previous`` or ``master`` (and of ``instances``)
        → the version read; ``resource_versions`` likewise for their rooms and equipments. Each
        VERSION item is bumped conditionally and gets the master's ``series_<id>`` map (while the
        master occupies it) or loses it (when it no longer does). An appointment ``previous``
        that becomes a series loses its timeline entries. ``last_end``: no occurrence ends after
        it (``None``: infinite). ``instances``: new detached instances, written with their
        timeline entries. ``active_group``: that group must still be enabled (as in
        :meth:`DynamoStore.save_booking`). Raises BookingConflict when any condition fails;
        ValidationFailed when the whole write does not fit one transaction.
        """
        current = master or previous
        assert current is not None
        location_id = current.location_id
        items: list[dict[str, Any]] = []
        stamp = int((now or datetime.now(UTC)).timestamp())
        for host, version in versions.items():
            booked = {f"lastBooked_{current.calendar_id}": stamp} if master and previous is None else {}
            items.append(
                self._version_update(
                    k.host_version(location_id, host),
                    version,
                    current.id,
                    _membership(host, master, previous, "hosts"),
                    master,
                    booked,
                )
            )
        for resource, version in (resource_versions or {}).items():
            items.append(
                self._version_update(
                    k.resource_version(location_id, resource),
                    version,
                    current.id,
                    _membership(resource, master, previous, "resources"),
                    master,
                    {},
                )
            )
        key = k.event(location_id, current.id)
        unchanged: dict[str, Any] = {}
        if previous is not None:
            unchanged = {
                "ConditionExpression": "#doc = :prev",
                "ExpressionAttributeNames": {"#doc": "doc"},
                "ExpressionAttributeValues": {":prev": previous.model_dump_json()},
            }
        if master is None:
            items.append({"Delete": {"TableName": self._name, "Key": key, **unchanged}})
        else:
            item: dict[str, Any] = {
                **key,
                "doc": master.model_dump_json(),
                k.GSI1PK: k.calendar_series_gsi(location_id, master.calendar_id or ""),
                k.GSI1SK: master.id,
                "firstTs": int(master.start.timestamp()),
            }
            if last_end is not None:
                item["lastTs"] = int(last_end.timestamp())
            if previous is None:
                unchanged = {"ConditionExpression": "attribute_not_exists(PK)"}
            items.append({"Put": {"TableName": self._name, "Item": item, **unchanged}})
        if previous is not None and not previous.is_series:
            # An appointment becoming a series: its own timeline entries go (the series'
            # occurrences live on the VERSION items instead).
            items.extend(
                {"Delete": {"TableName": self._name, "Key": key}} for key in self._entry_keys(previous)
            )
        for instance in instances:
            items.extend(self._event_writes(instance, None))
        if active_group is not None:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._name,
                        "Key": k.group(location_id, active_group),
                        "ConditionExpression": "attribute_not_exists(PK) OR active = :on",
                        "ExpressionAttributeValues": {":on": True},
                    }
                }
            )
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValidationFailed(
                ["this recurring booking changes too many items at once (fewer occurrences or team members)"]
            )
        try:
            self._transact(items)
        except ClientError as exc:
            if _too_large(exc):  # the series maps no longer fit a VERSION item (400 KB)
                raise ValidationFailed(
                    ["a team member or resource of this series holds too many recurring series"]
                ) from exc
            raise

    def _version_update(
        self,
        key: dict[str, str],
        version: int,
        master_id: str,
        membership: str,
        master: Event | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        """One conditional bump of a VERSION item (0 = must not exist yet) that also sets
        (``membership`` "set"), removes ("remove") or leaves ("keep") the series attribute."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":next": version + 1}
        sets = ["version = :next"]
        removes: list[str] = []
        if membership == "set":
            assert master is not None
            names["#s"] = k.SERIES_ATTR_PREFIX + master_id
            values[":series"] = series_attribute(master)
            sets.append("#s = :series")
        elif membership == "remove":
            names["#s"] = k.SERIES_ATTR_PREFIX + master_id
            removes.append("#s")
        for i, (name, value) in enumerate(extra.items()):
            names[f"#x{i}"] = name
            values[f":x{i}"] = value
            sets.append(f"#x{i} = :x{i}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        update: dict[str, Any] = {
            "TableName": self._name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": conditioned_on(update, version)}


def _too_large(exc: ClientError) -> bool:
    """A write refused because an item would exceed DynamoDB's 400 KB: a ValidationException, or
    (TransactWriteItems on AWS) a cancellation with a ValidationError reason."""
    error = exc.response.get("Error", {})
    reasons = exc.response.get("CancellationReasons") or []
    messages = [str(error.get("Message", ""))] if error.get("Code") == "ValidationException" else []
    messages += [str(r.get("Message", "")) for r in reasons if r.get("Code") == "ValidationError"]
    return any("size" in m.lower() for m in messages)


def _membership(ident: str, master: Event | None, previous: Event | None, field: str) -> str:
    """What a series write does to the attribute on ``ident``'s VERSION item: "set" while the
    master occupies it, "remove" when it no longer does, "keep" otherwise (a bump only)."""
    if master is not None and ident in getattr(master, field):
        return "set"
    if previous is not None and previous.is_series and ident in getattr(previous, field):
        return "remove"
    return "keep"
