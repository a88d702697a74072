"""The one door to DynamoDB: a single table, every access pattern below, no Scan.

Access patterns (written before the code; keys are built only in :mod:`slotbook.store.keys`)

==  ==========================================  ===================================================  =======
#   pattern                                     key condition                                        index
==  ==========================================  ===================================================  =======
1   location by id                              PK=LOC#<loc>, SK=LOCATION                            table
2   API key by token (auth, every request)      PK=APIKEY#<sha256(token)>, SK=APIKEY                 table
3   API key record of a location (revoke)       PK=LOC#<loc>, SK=APIKEY#<keyId>                      table
4   calendar by id, with its block slots        PK=LOC#<loc>, SK=CAL#<cal>                           table
    (map on the item; + its location: batch)
5   calendars of a location                     PK=LOC#<loc>, SK begins_with CAL#                    table
6   event (appointment / block slot) by id      PK=LOC#<loc>, SK=EVT#<id>                            table
7   a host's busy time in [a, b] (strongly      PK=TL#<loc>#HOST#<user>,                             table
    consistent: the booking check reads it)     SK BETWEEN <a - MAX_EVENT_SPAN> AND <b>#~
8   a host's booking version (optimistic lock)  PK=TL#<loc>#HOST#<user>, SK=VERSION                  table
9   appointments of a calendar in [a, b]        GSI1PK=CAL#<loc>#<cal>, GSI1SK BETWEEN ...           GSI1
10  block slots of a calendar in [a, b]         GSI1PK=CALBLK#<loc>#<cal>, GSI1SK BETWEEN ...        GSI1
    (listing only; free slots read pattern 4)
11  a host's upcoming bookings of a calendar    pattern 7 from now, Select=COUNT, filter calendarId  table
12  group by id                                 PK=LOC#<loc>, SK=GRP#<group>                         table
13  groups of a location                        PK=LOC#<loc>, SK begins_with GRP#                    table
14  group slug taken? (unique per location)     PK=LOC#<loc>, SK=GRPSLUG#<slug>                      table
15  availability schedule by id                 PK=LOC#<loc>, SK=SCHED#<schedule>                    table
16  a user's schedules, oldest first            GSI1PK=SCHEDUSER#<loc>#<user>,                       GSI1
                                                GSI1SK=<created UTC>#<schedule>
    (a calendar's schedules travel on the calendar item: map ``schedules`` user → schedule,
    attribute ``calendarSchedule``; written with the schedule in one TransactWriteItems,
    read with pattern 4)
17  resource by id                              PK=LOC#<loc>, SK=RES#<type>#<id>                     table
18  resources of a type in a location           PK=LOC#<loc>, SK begins_with RES#<type>#             table
    (a calendar's resources travel on the calendar item: map ``resources`` id →
    ``{type, units}``, written in one transaction with the resource; mapped calendars are read
    with pattern 4 as one consistent BatchGetItem projecting the map)
19  a resource's bookings in [a, b]             PK=TL#<loc>#RES#<id>, SK BETWEEN (as pattern 7)      table
20  a resource's booking version                PK=TL#<loc>#RES#<id>, SK=VERSION                     table
21  notes of an appointment, newest first       PK=LOC#<loc>, SK begins_with NOTE#<appointment>#     table
    (descending; note ids start with their creation instant)
22  notification settings of a calendar         PK=LOC#<loc>, SK begins_with NOTIF#<calendar>#       table
    (filter on the item's ``deleted`` / ``active`` flags; delivery reads active, live ones)
23  recurring series of a calendar (listing)    GSI1PK=CALSERIES#<loc>#<cal>, GSI1SK=<master>        GSI1
    (master = event item of pattern 6, no timeline entries; filter firstTs/lastTs on the window)
24  recurring series occupying a host or a      attributes ``series_<master>`` of pattern 8's (and   table
    room/equipment (+ their versions)           20's) items; one BatchGetItem for hosts + resources
25  directory entry (contact / user) by id      PK=LOC#<loc>, SK=PERSON#<kind>#<id>                  table
    (recipients: one BatchGetItem for several)
26  admin users of a location                   PK=LOC#<loc>, SK begins_with PERSON#user#,           table
    (``selectedUsers: sub_account_admin``)      filter ``admin`` = true
27  webhook endpoint by id (delete)             PK=LOC#<loc>, SK=WEBHOOK#<id>                        table
28  webhook endpoints of a location             PK=LOC#<loc>, SK begins_with WEBHOOK#                table
29  delivery jobs due in the last minutes      GSI1PK=DUE#<UTC minute>#<shard>, GSI1SK <= <now>     GSI1
    (sweep: one Query per minute bucket × shard; sparse: only pending / claimed jobs carry it)
30  jobs of an appointment (cancel / move)      PK=LOC#<loc>, SK begins_with JOB#<appointment>#      table
    (a job's status changes are conditional UpdateItems: claim pending → claimed exactly once)
31  sent marker of (job, channel, recipient)    PK=LOC#<loc>, SK=SENT#<job>#<channel>#<addrHash>     table
    (conditional PutItem before sending: a retried job never re-sends to a served recipient)
32  delivery log of an appointment              PK=LOC#<loc>, SK begins_with DLV#<appointment>#      table
33  in-app items of a user, newest first        PK=LOC#<loc>, SK begins_with INBOX#<user>#           table
34  reschedule counter (.ics SEQUENCE)          PK=LOC#<loc>, SK=JOBSEQ#<appointment>                table
35  calendar connection by id                  PK=LOC#<loc>, SK=CXN#<conn>                          table
36  connections of a workspace                  PK=LOC#<loc>, SK begins_with CXN#                    table
37  a connection's encrypted OAuth tokens       PK=LOC#<loc>, SK=CXNSECRET#<conn>                    table
38  a connection's sync state (cursor, channel, PK=LOC#<loc>, SK=CXNSYNC#<conn>                      table
    lease; conditional UpdateItems)
39  connections due for sync / renewal (sweep)  GSI1PK=CXNDUE#<shard>, GSI1SK <= <now>               GSI1
    (sparse: only syncing connections carry it)
40  watch channel / subscription by id          PK=CHANNEL#<channelId>, SK=CHANNEL                   table
    (webhook callbacks name only the channel)
41  provider busy time of a connection in       PK=CXBUSY#<loc>#<conn>, SK BETWEEN <day a> AND      table
    [a, b] (day items, one attribute per event) <day b> (UTC dates)
42  days a provider event is on; own events     PK=CXBUSY#<loc>#<conn>, SK=EV#<event> / OWN#<event>  table
    (one BatchGetItem per applied sync)
43  provider copy of a booking on a connection  PK=LOC#<loc>, SK=CXCOPY#<booking>#<conn>             table
44  every provider copy of a booking            PK=LOC#<loc>, SK begins_with CXCOPY#<booking>#       table
45  bookings of a connection, by start          GSI1PK=CXNBK#<loc>#<conn>, GSI1SK=<start>#<id>       GSI1
46  connections linked to a host                attributes ``cxn_<conn>`` of pattern 8's item        table
    (read with the versions; + pending OAuth    (OAuth: PK=OAUTH#<nonce>, SK=OAUTH, TTL, deleted
    authorisations)                             conditionally on first use)
==  ==========================================  ===================================================  =======

A free-slots call is therefore one BatchGetItem (location + calendar with its block slots,
schedules and resource capacities), one BatchGetItem of the hosts' and mapped resources' version
items (their recurring series), one strongly consistent Query per host and per mapped resource,
and one GetItem of the calendar's group when it has one, whatever the range.

Timeline sort keys start with the UTC instant (``2026-03-16T08:15:00Z#<eventId>``), so a time
range is one ``Query``. An event never spans more than :data:`MAX_EVENT_SPAN`, which bounds how
far before ``a`` a range read must look for events that started earlier and still overlap.

Invariants enforced here, not by callers:

* **No double booking** — :meth:`DynamoStore.save_booking` writes the event, its timeline
  entries and a version bump of every host and every resource (room, equipment) it occupies
  in one ``TransactWriteItems``; each version update is conditional on the version the caller
  read *before* reading busy time. A concurrent booking of the same host or resource changes
  the version, the transaction is cancelled, and
  the adapter raises :class:`~slotbook.errors.BookingConflict` (the caller re-reads and retries).
* **Tenant isolation** — every key starts with the location id; nothing is read without it.
* **Secrets** — API keys are stored by SHA-256 only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key
from botocore.exceptions import ClientError

from slotbook.domain import ApiKey, AvailabilitySchedule, Calendar, Event, EventKind, Location
from slotbook.errors import BookingConflict, ConcurrentUpdate, NotFound, ValidationFailed
from slotbook.intervals import Interval
from slotbook.store import keys as k
from slotbook.store.connections import ConnectionStore
from slotbook.store.delivery import DeliveryStore
from slotbook.store.directory import DirectoryStore
from slotbook.store.groups import GroupStore
from slotbook.store.notes import NoteStore
from slotbook.store.notifications import NotificationStore
from slotbook.store.resources import ResourceStore
from slotbook.store.schedules import ScheduleStore
from slotbook.store.series import SeriesStore
from slotbook.store.versions import conditioned_on

MAX_EVENT_SPAN = timedelta(days=31)
"""Longest allowed appointment or block slot; range reads look back this far."""
MAX_BUFFER = timedelta(hours=24)
"""Longest allowed pre/post buffer; range reads widen by it."""
MAX_DOC_BYTES = 300_000
"""Largest stored document: DynamoDB items are at most 400 KB, and a calendar item also holds
its block-slot map."""

_CONFLICT_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One busy interval of a host (instants in epoch seconds, buffers in seconds)."""

    event_id: str
    kind: EventKind
    calendar_id: str | None
    start: int
    end: int
    buffer_before: int
    buffer_after: int
    busy: bool


@dataclass(frozen=True)
class CalendarState:
    """A calendar with everything that travels on its item (pattern 4).

    ``blocks``: block id → ``(start, end)`` epoch seconds. ``member_schedules``: user id → the
    user availability schedule associated with this calendar. ``calendar_schedule``: the event
    calendar's own schedule. ``resources``: resource id → capacity (concurrent bookings).
    """

    calendar: Calendar
    blocks: dict[str, Interval] = field(default_factory=dict)
    member_schedules: dict[str, AvailabilitySchedule] = field(default_factory=dict)
    calendar_schedule: AvailabilitySchedule | None = None
    resources: dict[str, int] = field(default_factory=dict)


class DynamoStore(
    GroupStore,
    ScheduleStore,
    ResourceStore,
    NoteStore,
    NotificationStore,
    SeriesStore,
    DirectoryStore,
    DeliveryStore,
    ConnectionStore,
):
    """Repository over one DynamoDB table (area-specific methods come from the mixins).

    ``client`` is the *client of a boto3 DynamoDB resource* (``boto3.resource("dynamodb").meta.client``):
    a client that speaks Python types. Its own rendering of condition objects is NOT thread-safe
    (one shared builder), so queries render theirs per call (:func:`_rendered_conditions`) and
    writes use string expressions; resource objects themselves are not thread-safe, so none is
    kept. On Lambda a process serves one request at a time, but ``make dev`` and the tests run
    requests on threads against one client.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._name = table_name

    # -- locations and API keys -------------------------------------------------------------

    def put_location(self, location: Location) -> None:
        self._client.put_item(
            TableName=self._name,
            Item={**k.location(location.id), "doc": location.model_dump_json()},
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_location(self, location_id: str) -> Location | None:
        item = self._client.get_item(TableName=self._name, Key=k.location(location_id)).get("Item")
        return Location.model_validate_json(item["doc"]) if item else None

    def put_api_key(self, key: ApiKey, digest: str) -> None:
        doc = key.model_dump_json()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": self._name,
                        "Key": k.location(key.location_id),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._name,
                        "Item": {**k.api_key_by_hash(digest), "doc": doc},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._name,
                        "Item": {**k.api_key_record(key.location_id, key.id), "doc": doc, "hash": digest},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    def get_api_key_by_hash(self, digest: str) -> ApiKey | None:
        item = self._client.get_item(
            TableName=self._name, Key=k.api_key_by_hash(digest), ConsistentRead=True
        ).get("Item")
        return ApiKey.model_validate_json(item["doc"]) if item else None

    def delete_api_key(self, location_id: str, key_id: str) -> None:
        """Revoke at once: both items go in one transaction. Raises NotFound if absent."""
        record = self._client.get_item(
            TableName=self._name, Key=k.api_key_record(location_id, key_id), ConsistentRead=True
        ).get("Item")
        if record is None:
            raise NotFound("API key", key_id)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._name,
                            "Key": k.api_key_record(location_id, key_id),
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    },
                    {"Delete": {"TableName": self._name, "Key": k.api_key_by_hash(record["hash"])}},
                ]
            )
        except ClientError as exc:
            if _is_cancelled(exc):
                raise NotFound("API key", key_id) from exc
            raise

    # -- calendars ----------------------------------------------------------------------------

    def put_calendar(self, calendar: Calendar, *, previous: Calendar | None = None) -> None:
        """Create a calendar (``previous`` None; fails if the id exists) or replace the state of
        ``previous`` with ``calendar`` — only if nobody changed it meanwhile (ConcurrentUpdate;
        NotFound if it is gone).

        The item also holds the calendar's block slots as a map ``blocks`` (block id →
        ``[start, end]`` epoch seconds), maintained by the block-slot writes; replacing the
        calendar leaves it untouched.
        """
        key = k.calendar(calendar.location_id, calendar.id)
        doc = _doc(calendar)
        if previous is None:
            self._client.put_item(
                TableName=self._name,
                Item={**key, "doc": doc, "blocks": {}, "schedules": {}, "resources": {}},
                ConditionExpression="attribute_not_exists(PK)",
            )
            return
        try:
            self._client.update_item(
                TableName=self._name,
                Key=key,
                UpdateExpression="SET #doc = :doc",
                ConditionExpression="#doc = :prev",
                ExpressionAttributeNames={"#doc": "doc"},
                ExpressionAttributeValues={":doc": doc, ":prev": previous.model_dump_json()},
            )
        except ClientError as exc:
            if _code(exc) == "ValidationException":  # the item (doc + travelling maps) > 400 KB
                raise ValidationFailed(
                    ["the calendar is too large to store with its schedules and blocks"]
                ) from exc
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            if self.get_calendar(calendar.location_id, calendar.id) is None:
                raise NotFound("Calendar", calendar.id) from exc
            raise ConcurrentUpdate("The calendar was changed by another request; read it and retry.") from exc

    def get_calendar(
        self, location_id: str, calendar_id: str, *, consistent: bool = False
    ) -> Calendar | None:
        item = self._client.get_item(
            TableName=self._name, Key=k.calendar(location_id, calendar_id), ConsistentRead=consistent
        ).get("Item")
        return Calendar.model_validate_json(item["doc"]) if item else None

    def get_location_and_calendar(
        self, location_id: str, calendar_id: str
    ) -> tuple[Location | None, CalendarState | None]:
        """Patterns 1 + 4 in a single BatchGetItem: the location and the calendar with its block
        slots, schedules and resource capacities, so free slots need no query for them."""
        wanted = [k.location(location_id), k.calendar(location_id, calendar_id)]
        found = {(i["PK"], i["SK"]): i for i in self._batch_get(wanted, consistent=False)}
        loc_item = found.get((wanted[0]["PK"], wanted[0]["SK"]))
        cal_item = found.get((wanted[1]["PK"], wanted[1]["SK"]))
        return (
            Location.model_validate_json(loc_item["doc"]) if loc_item else None,
            _calendar_state(cal_item) if cal_item else None,
        )

    def get_calendar_and_blocks(
        self, location_id: str, calendar_id: str
    ) -> tuple[Calendar | None, dict[str, Interval]]:
        """Pattern 4, strongly consistent: the calendar and its block-slot map."""
        item = self._client.get_item(
            TableName=self._name, Key=k.calendar(location_id, calendar_id), ConsistentRead=True
        ).get("Item")
        return (Calendar.model_validate_json(item["doc"]) if item else None), _blocks(item)

    def list_calendars(self, location_id: str) -> list[Calendar]:
        cond = Key("PK").eq(k.location_pk(location_id)) & Key("SK").begins_with(k.CALENDAR_PREFIX)
        return [Calendar.model_validate_json(i["doc"]) for i in self._query(KeyConditionExpression=cond)]

    def delete_calendar(self, location_id: str, calendar_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._name,
                Key=k.calendar(location_id, calendar_id),
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise NotFound("Calendar", calendar_id) from exc
            raise

    # -- events: reads ------------------------------------------------------------------------

    def get_event(self, location_id: str, event_id: str, *, consistent: bool = False) -> Event | None:
        item = self._client.get_item(
            TableName=self._name, Key=k.event(location_id, event_id), ConsistentRead=consistent
        ).get("Item")
        return Event.model_validate_json(item["doc"]) if item else None

    def host_versions(
        self, location_id: str, host_ids: Iterable[str], calendar_id: str | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Pattern 8, strongly consistent, one BatchGetItem.

        Returns ``(versions, last_booked)``: host → version (0 if never booked) and host → when
        it was last booked on ``calendar_id`` (epoch s, 0 if never; round-robin fairness).
        """
        ids = list(dict.fromkeys(host_ids))
        versions = dict.fromkeys(ids, 0)
        last_booked = dict.fromkeys(ids, 0)
        prefix = len(k.host_timeline_pk(location_id, ""))
        for item in self._batch_get([k.host_version(location_id, h) for h in ids], consistent=True):
            host = item["PK"][prefix:]
            versions[host] = int(item["version"])
            if calendar_id is not None:
                last_booked[host] = int(item.get(f"lastBooked_{calendar_id}", 0))
        return versions, last_booked

    def host_busy(self, location_id: str, host_id: str, lo: datetime, hi: datetime) -> list[TimelineEntry]:
        """Pattern 7: busy entries of a host that may overlap ``[lo, hi]`` (consistent read).

        Entries starting up to :data:`MAX_EVENT_SPAN` + :data:`MAX_BUFFER` before ``lo`` are
        included, so an earlier long event is not missed; callers may receive a few extra.
        """
        start, end = k.range_bounds(lo - MAX_EVENT_SPAN - MAX_BUFFER, hi + MAX_BUFFER)
        cond = Key("PK").eq(k.host_timeline_pk(location_id, host_id)) & Key("SK").between(start, end)
        floor = int((lo - MAX_BUFFER).timestamp())
        return [
            _entry(i)
            for i in self._query(
                KeyConditionExpression=cond, ConsistentRead=True, FilterExpression=Attr("endTs").gt(floor)
            )
        ]

    def upcoming_count(self, location_id: str, host_id: str, calendar_id: str, now: datetime) -> int:
        """Pattern 11: non-cancelled bookings of ``calendar_id`` the host has from ``now`` on."""
        start, _ = k.range_bounds(now, now)
        cond = Key("PK").eq(k.host_timeline_pk(location_id, host_id)) & Key("SK").between(start, "9999")
        flt = Attr("calendarId").eq(calendar_id) & Attr("busy").eq(True) & Attr("kind").eq("appointment")
        total = 0
        for page in self._pages(KeyConditionExpression=cond, FilterExpression=flt, Select="COUNT"):
            total += page["Count"]
        return total

    def calendar_events(self, location_id: str, calendar_id: str, lo: datetime, hi: datetime) -> list[Event]:
        """Pattern 9: appointments of a calendar overlapping ``[lo, hi)``."""
        return self._gsi_events(k.calendar_appointments_gsi(location_id, calendar_id), lo, hi)

    def calendar_blocks(self, location_id: str, calendar_id: str, lo: datetime, hi: datetime) -> list[Event]:
        """Pattern 10: block slots of a calendar overlapping ``[lo, hi)``."""
        return self._gsi_events(k.calendar_blocks_gsi(location_id, calendar_id), lo, hi)

    def host_events(
        self, location_id: str, host_id: str, lo: datetime, hi: datetime, kind: EventKind
    ) -> list[Event]:
        """Events of ``kind`` occupying a host and overlapping ``[lo, hi)`` (pattern 7 + 6)."""
        lo_ts, hi_ts = int(lo.timestamp()), int(hi.timestamp())
        ids = [
            e.event_id
            for e in self.host_busy(location_id, host_id, lo, hi)
            if e.kind is kind and e.start < hi_ts and e.end > lo_ts
        ]
        items = self._batch_get([k.event(location_id, i) for i in dict.fromkeys(ids)], consistent=False)
        events = [Event.model_validate_json(i["doc"]) for i in items]
        return sorted(events, key=lambda e: (e.start, e.id))

    # -- events: writes -----------------------------------------------------------------------

    def save_booking(
        self,
        event: Event,
        versions: dict[str, int],
        previous: Event | None = None,
        now: datetime | None = None,
        resource_versions: dict[str, int] | None = None,
        active_group: str | None = None,
    ) -> None:
        """Write an appointment (new or changed) atomically with version bumps of ``versions``.

        ``active_group``: the calendar's group must not be disabled (its item's ``active``
        flag, pattern 12), checked in the same transaction. A group deleted under the calendar
        (a calendar joining it raced the delete) disables nothing, as free slots assume.

        ``versions`` maps every host whose availability was checked to the version read before
        that check; ``resource_versions`` likewise every room or equipment whose capacity was
        checked (patterns 8 and 20). Raises :class:`BookingConflict` when any version moved
        (or, for a new event, the id exists; for a changed one, it vanished).
        """
        items: list[dict[str, Any]] = []
        stamp = int((now or datetime.now(UTC)).timestamp())
        for host, version in versions.items():
            update: dict[str, Any] = {
                "TableName": self._name,
                "Key": k.host_version(event.location_id, host),
                "UpdateExpression": "SET version = :next, #lb = :now",
                "ExpressionAttributeNames": {"#lb": f"lastBooked_{event.calendar_id or event.connection_id}"},
                "ExpressionAttributeValues": {":next": version + 1, ":now": stamp},
            }
            items.append({"Update": conditioned_on(update, version)})
        items.extend(self._resource_version_bumps(event.location_id, resource_versions or {}))
        if active_group is not None:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._name,
                        "Key": k.group(event.location_id, active_group),
                        "ConditionExpression": "attribute_not_exists(PK) OR active = :on",
                        "ExpressionAttributeValues": {":on": True},
                    }
                }
            )
        items.extend(self._event_writes(event, previous))
        self._transact(items)

    def save_event(
        self,
        event: Event,
        previous: Event | None = None,
        prune: Iterable[str] = (),
        previous_calendar_exists: bool = True,
    ) -> None:
        """Write a block slot, or an appointment change that frees time (cancel), atomically
        with its timeline entries; no host version check is needed to *free* time.

        A calendar's block slot is also written into that calendar's ``blocks`` map (the
        calendar must exist, else BookingConflict); ``prune`` lists ids of long-past blocks to
        drop from the map in the same write. A block moving off a calendar that no longer exists
        passes ``previous_calendar_exists=False``.
        """
        self._transact(self._event_writes(event, previous, prune, previous_calendar_exists))

    def delete_event(self, event: Event, calendar_exists: bool = True) -> None:
        """Delete an event and its timeline entries atomically. NotFound if already gone.

        A calendar's block slot also leaves the calendar's ``blocks`` map (unless the calendar
        itself is gone: ``calendar_exists=False``)."""
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._name,
                    "Key": k.event(event.location_id, event.id),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        ]
        items.extend({"Delete": {"TableName": self._name, "Key": key}} for key in self._entry_keys(event))
        if _is_calendar_block(event) and calendar_exists:
            items.append(self._block_map_update(event.location_id, event.calendar_id, remove=[event.id]))
        try:
            self._transact(items)
        except BookingConflict as exc:
            raise NotFound("Event", event.id) from exc

    def _block_map_update(
        self,
        location_id: str,
        calendar_id: str | None,
        set_block: Event | None = None,
        remove: Iterable[str] = (),
    ) -> dict[str, Any]:
        """One Update of a calendar's ``blocks`` map (the calendar must exist)."""
        assert calendar_id is not None
        names: dict[str, str] = {"#b": "blocks"}
        values: dict[str, Any] = {}
        clauses: list[str] = []
        if set_block is not None:
            names["#set"] = set_block.id
            values[":iv"] = [int(set_block.start.timestamp()), int(set_block.end.timestamp())]
            clauses.append("SET #b.#set = :iv")
        removals = [r for r in dict.fromkeys(remove) if set_block is None or r != set_block.id]
        for i, block_id in enumerate(removals):
            names[f"#r{i}"] = block_id
        if removals:
            clauses.append("REMOVE " + ", ".join(f"#b.#r{i}" for i in range(len(removals))))
        update: dict[str, Any] = {
            "TableName": self._name,
            "Key": k.calendar(location_id, calendar_id),
            "UpdateExpression": " ".join(clauses),
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": names,
        }
        if values:
            update["ExpressionAttributeValues"] = values
        return {"Update": update}

    def _event_writes(
        self,
        event: Event,
        previous: Event | None,
        prune: Iterable[str] = (),
        previous_calendar_exists: bool = True,
    ) -> list[dict[str, Any]]:
        main: dict[str, Any] = {**k.event(event.location_id, event.id), "doc": _doc(event)}
        gsi = self._gsi_key(event)
        if gsi:
            main[k.GSI1PK] = gsi
            main[k.GSI1SK] = k.timeline_sk(event.start, event.id)
        if previous is None:
            cond: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            # Optimistic check on the main item too: a concurrent edit of the same event loses.
            cond = {
                "ConditionExpression": "#doc = :prev",
                "ExpressionAttributeNames": {"#doc": "doc"},
                "ExpressionAttributeValues": {":prev": previous.model_dump_json()},
            }
        items: list[dict[str, Any]] = [{"Put": {"TableName": self._name, "Item": main, **cond}}]
        new_keys = {(x["PK"], x["SK"]) for x in self._entry_keys(event)}
        if previous is not None:
            for key in self._entry_keys(previous):
                if (key["PK"], key["SK"]) not in new_keys:
                    items.append({"Delete": {"TableName": self._name, "Key": key}})
        for key in self._entry_keys(event):
            items.append({"Put": {"TableName": self._name, "Item": {**key, **_entry_attrs(event)}}})
        # A calendar's block slots also live in the calendar item's map (read with the calendar).
        new_cal = event.calendar_id if _is_calendar_block(event) else None
        old_cal = previous.calendar_id if previous is not None and _is_calendar_block(previous) else None
        if old_cal is not None and old_cal != new_cal and previous_calendar_exists:
            items.append(self._block_map_update(event.location_id, old_cal, remove=[event.id]))
        if new_cal is not None:
            items.append(self._block_map_update(event.location_id, new_cal, set_block=event, remove=prune))
        return items

    @staticmethod
    def _gsi_key(event: Event) -> str | None:
        if event.calendar_id is None:
            if event.connection_id is not None and event.kind is EventKind.APPOINTMENT:
                return k.connection_bookings_gsi(event.location_id, event.connection_id)
            return None
        if event.kind is EventKind.APPOINTMENT:
            return k.calendar_appointments_gsi(event.location_id, event.calendar_id)
        if not event.hosts:
            return k.calendar_blocks_gsi(event.location_id, event.calendar_id)
        return None

    @staticmethod
    def _entry_keys(event: Event) -> list[dict[str, str]]:
        """Timeline entries of an event: one per host (pattern 7) and per resource (pattern 19)."""
        return [k.host_entry(event.location_id, h, event.start, event.id) for h in event.hosts] + [
            k.resource_entry(event.location_id, r, event.start, event.id) for r in event.resources
        ]

    # -- plumbing -----------------------------------------------------------------------------

    def _gsi_events(self, partition: str, lo: datetime, hi: datetime) -> list[Event]:
        start, end = k.range_bounds(lo - MAX_EVENT_SPAN, hi)
        cond = Key(k.GSI1PK).eq(partition) & Key(k.GSI1SK).between(start, end)
        events = [
            Event.model_validate_json(i["doc"])
            for i in self._query(IndexName=k.GSI1, KeyConditionExpression=cond)
        ]
        return [e for e in events if e.start < hi and e.end > lo]

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ValidationError" for r in reasons):
                # e.g. an item that would pass DynamoDB's 400 KB limit: the request, not a race
                raise ValidationFailed(["the change would make a stored item too large"]) from exc
            if _is_cancelled(exc):
                raise BookingConflict("The slot was taken by a concurrent booking.") from exc
            raise

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs = _rendered_conditions(kwargs)
        while True:
            page = self._client.query(TableName=self._name, **kwargs)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [item for page in self._pages(**kwargs) for item in page.get("Items", [])]

    def _batch_get(
        self,
        wanted: list[dict[str, str]],
        *,
        consistent: bool,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The items of ``wanted`` that exist (100 keys per request, unprocessed keys retried),
        optionally projected (``projection`` with its ``names`` placeholders)."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(wanted), 100):
            batch: dict[str, Any] = {"Keys": wanted[i : i + 100], "ConsistentRead": consistent}
            if projection:
                batch["ProjectionExpression"] = projection
                batch["ExpressionAttributeNames"] = names or {}
            request = {self._name: batch}
            while request:
                resp = self._client.batch_get_item(RequestItems=request)
                out.extend(resp.get("Responses", {}).get(self._name, []))
                request = resp.get("UnprocessedKeys") or {}
        return out


def _rendered_conditions(params: dict[str, Any]) -> dict[str, Any]:
    """``KeyConditionExpression`` / ``FilterExpression`` condition objects rendered to strings by a
    builder of this call's own.

    The resource client would render them in a ``before-parameter-build`` hook whose single
    ``ConditionExpressionBuilder`` (placeholder counters reset per call) is shared by every thread
    using the client: concurrent queries swap their ``#n``/``:v`` placeholders, so a query can come
    out well-formed but wrong and match nothing — a busy host read as free, i.e. a double booking —
    or fail validation (boto3 issue 1332). Every Query goes through :meth:`DynamoStore._pages`, so
    this is the one place conditions are built.
    """
    builder = ConditionExpressionBuilder()
    out = dict(params)
    names: dict[str, str] = dict(out.get("ExpressionAttributeNames") or {})
    values: dict[str, Any] = dict(out.get("ExpressionAttributeValues") or {})
    for name, is_key in (("KeyConditionExpression", True), ("FilterExpression", False)):
        condition = out.get(name)
        if isinstance(condition, ConditionBase):
            built = builder.build_expression(condition, is_key_condition=is_key)
            out[name] = built.condition_expression
            clash = (names.keys() & built.attribute_name_placeholders.keys()) | (
                values.keys() & built.attribute_value_placeholders.keys()
            )
            if clash:
                raise ValueError(f"expression placeholders {sorted(clash)} are also given explicitly")
            names.update(built.attribute_name_placeholders)
            values.update(built.attribute_value_placeholders)
    if names:
        out["ExpressionAttributeNames"] = names
    if values:
        out["ExpressionAttributeValues"] = values
    return out


def _doc(model: Calendar | Event) -> str:
    """The stored JSON of a model; ValidationFailed (422) when it would not fit in an item."""
    doc = model.model_dump_json()
    if len(doc.encode("utf-8")) > MAX_DOC_BYTES:
        raise ValidationFailed([f"the {type(model).__name__.lower()} is too large to store"])
    return doc


def _is_calendar_block(event: Event) -> bool:
    return event.kind is EventKind.BLOCK and event.calendar_id is not None and not event.hosts


def _calendar_state(item: dict[str, Any]) -> CalendarState:
    schedules = {
        user_id: AvailabilitySchedule.model_validate_json(entry["doc"])
        for user_id, entry in (item.get("schedules") or {}).items()
    }
    own = item.get("calendarSchedule")
    return CalendarState(
        calendar=Calendar.model_validate_json(item["doc"]),
        blocks=_blocks(item),
        member_schedules=schedules,
        calendar_schedule=AvailabilitySchedule.model_validate_json(own) if own else None,
        resources={rid: int(entry["units"]) for rid, entry in (item.get("resources") or {}).items()},
    )


def _blocks(item: dict[str, Any] | None) -> dict[str, Interval]:
    raw = (item or {}).get("blocks") or {}
    return {block_id: (int(v[0]), int(v[1])) for block_id, v in raw.items()}


def _entry_attrs(event: Event) -> dict[str, Any]:
    return {
        "eventId": event.id,
        "kind": event.kind.value,
        "calendarId": event.calendar_id or "",
        "startTs": int(event.start.timestamp()),
        "endTs": int(event.end.timestamp()),
        "bufferBefore": event.buffer_before,
        "bufferAfter": event.buffer_after,
        "busy": event.occupies_hosts,
    }


def _entry(item: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        event_id=item["eventId"],
        kind=EventKind(item["kind"]),
        calendar_id=item.get("calendarId") or None,
        start=int(item["startTs"]),
        end=int(item["endTs"]),
        buffer_before=int(item.get("bufferBefore", 0)),
        buffer_after=int(item.get("bufferAfter", 0)),
        busy=bool(item.get("busy", True)),
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_cancelled(exc: ClientError) -> bool:
    """A transaction cancelled by a failed condition or a concurrent transaction."""
    if _code(exc) != "TransactionCanceledException":
        return _code(exc) == "ConditionalCheckFailedException"
    reasons = exc.response.get("CancellationReasons") or []
    codes = {r.get("Code") for r in reasons if r.get("Code") not in (None, "None")}
    return not codes or bool(codes & _CONFLICT_CODES)
