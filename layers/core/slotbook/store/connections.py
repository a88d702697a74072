"""DynamoDB access for calendar connections and provider sync (patterns 35-46 of
:mod:`slotbook.store.dynamo`).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; every
key comes from :mod:`slotbook.store.keys`. Items:

* ``LOC#<loc> / CXN#<id>``: ``doc`` = :class:`~slotbook.domain.Connection` JSON (no secrets);
* ``LOC#<loc> / CXNSECRET#<id>``: ``ciphertext`` = the OAuth tokens encrypted with KMS (binary;
  only :mod:`slotbook.providers.vault` can read it);
* ``LOC#<loc> / CXNSYNC#<id>``: sync state — ``calendarId`` the ``cursor`` belongs to, the watch
  ``channel`` map, a ``lease`` (one sync of a connection at a time) with a ``pending`` flag (a
  notification that arrived during a sync makes it run again), and, while the connection syncs,
  ``GSI1PK=CXNDUE#<shard>`` / ``GSI1SK=<next due UTC>#<loc>#<id>`` (sparse: the sweep's index);
* ``CHANNEL#<channelId> / CHANNEL``: the connection a provider callback belongs to and the
  SHA-256 of the channel token (Google ``X-Goog-Channel-Token``, Graph ``clientState``);
* ``CXBUSY#<loc>#<conn> / <YYYY-MM-DD>``: the provider's busy time on one UTC day, one attribute
  ``e_<eventId>`` = ``[startTs, endTs]`` per event touching the day (an event spanning days is
  on each), so a free-slots read of any range is ONE Query; ``EV#<eventId>`` lists the days an
  event is on; ``OWN#<eventId>`` marks events Slotbook wrote for its own bookings, which are
  never stored as busy time (the booking itself already is);
* ``LOC#<loc> / CXCOPY#<bookingId>#<conn>``: the provider event that copies a booking;
* ``OAUTH#<nonce> / OAUTH``: a pending authorisation (PKCE verifier), deleted on first use,
  expired by TTL (``expiresAt``).

A connection linked to a team member also sets ``cxn_<id>`` on that host's VERSION item
(pattern 46), so free slots and bookings learn the host's connections from the read they make
anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from slotbook.domain import Connection, Event
from slotbook.errors import ConcurrentUpdate, NotFound
from slotbook.intervals import Interval
from slotbook.providers.base import BusyChange, WatchChannel
from slotbook.store import keys as k
from slotbook.timeutil import sort_key

_CHECK_FAILED = "ConditionalCheckFailedException"
MAX_BUSY_SPAN = timedelta(days=366)
"""Provider events longer than this are stored clipped to it (day items are written per day)."""


@dataclass(frozen=True)
class SyncState:
    """A connection's sync state (``CXNSYNC`` item). ``calendar_id``: the calendar ``cursor``
    and ``channel`` belong to (a different linked calendar means start over)."""

    calendar_id: str | None = None
    cursor: str | None = None
    channel: WatchChannel | None = None
    last_synced_at: datetime | None = None


@dataclass(frozen=True)
class ChannelRecord:
    """What a webhook needs to know about a channel id: whose it is and the token's hash."""

    channel_id: str
    location_id: str
    connection_id: str
    provider: str
    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class ProviderCopy:
    """The provider event written for a booking on one connection."""

    booking_id: str
    connection_id: str
    calendar_id: str
    provider_event_id: str
    """Empty once the copy was deleted (the item stays, to count generations)."""
    generation: int = 0
    """How many copies of the booking on this connection were deleted before this one: part of
    the create idempotency key, so a copy written again after a delete is a new provider event
    (Google never reuses the id of a deleted event)."""


class ConnectionStore:
    """Connections, their secrets, sync state, channels and provider busy time (mixed into
    DynamoStore)."""

    # -- connections (patterns 35-36) ---------------------------------------------------------

    def get_connection(self, location_id: str, connection_id: str) -> Connection | None:
        """Pattern 35 (strongly consistent)."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.connection(location_id, connection_id),
            ConsistentRead=True,
        ).get("Item")
        return Connection.model_validate_json(item["doc"]) if item else None

    def list_connections(self, location_id: str) -> list[Connection]:
        """Pattern 36: the workspace's connections, by id."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.CONNECTION_PREFIX)
        items = self._query(KeyConditionExpression=cond, ConsistentRead=True)  # type: ignore[attr-defined]
        return [Connection.model_validate_json(i["doc"]) for i in items]

    def put_connection(self, connection: Connection, previous: Connection | None = None) -> None:
        """Create (``previous`` None: the id must be new) or replace a connection, conditional on
        the stored document still being ``previous`` (ConcurrentUpdate otherwise), together with
        the host link of pattern 46 when ``user_id`` changes."""
        item = {**k.connection(connection.location_id, connection.id), "doc": connection.model_dump_json()}
        if previous is None:
            put: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            put = {
                "ConditionExpression": "#doc = :prev",
                "ExpressionAttributeNames": {"#doc": "doc"},
                "ExpressionAttributeValues": {":prev": previous.model_dump_json()},
            }
        items: list[dict[str, Any]] = [{"Put": {"TableName": self._name, "Item": item, **put}}]  # type: ignore[attr-defined]
        old_user = previous.user_id if previous else None
        if old_user != connection.user_id:
            if old_user is not None:
                items.append(self._host_link(connection.location_id, old_user, connection.id, None))
            if connection.user_id is not None:
                items.append(
                    self._host_link(connection.location_id, connection.user_id, connection.id, connection.id)
                )
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ConcurrentUpdate("The connection was changed concurrently; retry.") from exc
            raise

    def delete_connection(self, connection: Connection, channel_id: str | None = None) -> None:
        """Delete the connection, its encrypted tokens, its sync state and its host link in one
        transaction, provided the sync state still has the channel ``channel_id`` the caller read
        (None: no channel) — a sync that opened another one meanwhile makes it raise
        ConcurrentUpdate (read again and retry). NotFound when already gone. Busy time and the
        channel's lookup item go separately (:meth:`clear_busy`, :meth:`drop_channel`)."""
        loc = connection.location_id
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Key": k.connection(loc, connection.id),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {"Delete": {"TableName": self._name, "Key": k.connection_secret(loc, connection.id)}},  # type: ignore[attr-defined]
            {
                "Delete": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Key": k.connection_sync(loc, connection.id),
                    **(
                        {
                            "ConditionExpression": "#c.#i = :seen",
                            "ExpressionAttributeNames": {"#c": "channel", "#i": "id"},
                            "ExpressionAttributeValues": {":seen": channel_id},
                        }
                        if channel_id is not None
                        else {
                            "ConditionExpression": "attribute_not_exists(#c)",
                            "ExpressionAttributeNames": {"#c": "channel"},
                        }
                    ),
                }
            },
        ]
        if connection.user_id is not None:
            items.append(self._host_link(loc, connection.user_id, connection.id, None))
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            if len(reasons) > 2 and reasons[2].get("Code") == "ConditionalCheckFailed":
                raise ConcurrentUpdate("A sync changed the connection's channel meanwhile; retry.") from exc
            raise NotFound("Calendar connection", connection.id) from exc

    def _host_link(
        self, location_id: str, user_id: str, connection_id: str, value: str | None
    ) -> dict[str, Any]:
        names = {"#c": f"{k.CONNECTION_ATTR_PREFIX}{connection_id}"}
        update: dict[str, Any] = {
            "TableName": self._name,  # type: ignore[attr-defined]
            "Key": k.host_version(location_id, user_id),
            "ExpressionAttributeNames": names,
        }
        if value is None:
            update["UpdateExpression"] = "REMOVE #c"
        else:
            update["UpdateExpression"] = "SET #c = :v"
            update["ExpressionAttributeValues"] = {":v": value}
        return {"Update": update}

    def host_connections(self, location_id: str, host_ids: Iterable[str]) -> dict[str, list[str]]:
        """Pattern 46: host → ids of the calendar connections linked to them (one consistent
        BatchGetItem of the hosts' VERSION items)."""
        hosts = list(dict.fromkeys(host_ids))
        prefix = k.host_timeline_pk(location_id, "")
        out: dict[str, list[str]] = {}
        for item in self._batch_get([k.host_version(location_id, h) for h in hosts], consistent=True):  # type: ignore[attr-defined]
            linked = connections_on(item)
            if linked:
                out[item[k.PK][len(prefix) :]] = linked
        return out

    # -- encrypted OAuth tokens (pattern 37) --------------------------------------------------

    def put_secret(self, location_id: str, connection_id: str, ciphertext: bytes) -> None:
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={**k.connection_secret(location_id, connection_id), "ciphertext": ciphertext},
        )

    def get_secret(self, location_id: str, connection_id: str) -> bytes | None:
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.connection_secret(location_id, connection_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        value = item["ciphertext"]
        return bytes(value.value if hasattr(value, "value") else value)

    # -- sync state, lease and the due index (patterns 38-39) ---------------------------------

    def get_sync_state(self, location_id: str, connection_id: str) -> SyncState:
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.connection_sync(location_id, connection_id),
            ConsistentRead=True,
        ).get("Item")
        return _sync_state(item or {})

    def drop_sync_state(self, location_id: str, connection_id: str) -> None:
        """Delete a connection's sync item (its connection is gone)."""
        self._client.delete_item(TableName=self._name, Key=k.connection_sync(location_id, connection_id))  # type: ignore[attr-defined]

    def claim_sync(
        self, location_id: str, connection_id: str, owner: str, now: datetime, lease: timedelta
    ) -> SyncState | None:
        """Take the connection's sync lease until ``now + lease`` and return the state; when
        another sync holds it, flag ``pending`` (that sync runs once more) and return None."""
        key = k.connection_sync(location_id, connection_id)
        stamp = int(now.timestamp())
        for _ in range(3):
            try:
                resp = self._client.update_item(  # type: ignore[attr-defined]
                    TableName=self._name,  # type: ignore[attr-defined]
                    Key=key,
                    UpdateExpression="SET #l = :o, leaseUntil = :u, pending = :f",
                    ConditionExpression="attribute_not_exists(leaseUntil) OR leaseUntil < :now",
                    ExpressionAttributeNames={"#l": "lease"},
                    ExpressionAttributeValues={
                        ":o": owner,
                        ":u": int((now + lease).timestamp()),
                        ":f": False,
                        ":now": stamp,
                    },
                    ReturnValues="ALL_NEW",
                )
                return _sync_state(resp.get("Attributes") or {})
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != _CHECK_FAILED:
                    raise
            try:  # held: ask the holder to run once more — only while it still holds the lease
                self._client.update_item(  # type: ignore[attr-defined]
                    TableName=self._name,  # type: ignore[attr-defined]
                    Key=key,
                    UpdateExpression="SET pending = :t",
                    ConditionExpression="leaseUntil >= :now",
                    ExpressionAttributeValues={":t": True, ":now": stamp},
                )
                return None
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != _CHECK_FAILED:
                    raise
            # released in between: try to take it again
        return None

    def finish_sync(
        self,
        location_id: str,
        connection_id: str,
        owner: str,
        *,
        calendar_id: str | None,
        cursor: str | None,
        synced_at: datetime | None,
        next_due: datetime | None,
        lease_until: datetime | None = None,
    ) -> bool:
        """Store the new cursor and next due instant and release the lease held by ``owner``.
        Returns True (lease kept, ``pending`` cleared) when a notification arrived during the
        sync: the caller syncs again. Lost lease (expired and taken): nothing stored, False."""
        key = k.connection_sync(location_id, connection_id)
        names: dict[str, str] = {"#l": "lease"}
        values: dict[str, Any] = {":o": owner, ":f": False}
        sets = ["calendarId = :cal", "#cur = :cur"]
        names["#cur"] = "cursor"
        values[":cal"] = calendar_id
        values[":cur"] = cursor
        if synced_at is not None:
            sets.append("lastSynced = :ls")
            values[":ls"] = int(synced_at.timestamp())
        removes = ["#l", "leaseUntil"]
        if next_due is not None:
            sets += [f"{k.GSI1PK} = :gpk", f"{k.GSI1SK} = :gsk"]
            values[":gpk"] = k.sync_due_gsi(_shard(connection_id))
            values[":gsk"] = k.sync_due_sk(next_due, location_id, connection_id)
        else:
            removes += [k.GSI1PK, k.GSI1SK]
        try:
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=key,
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression="#l = :o AND pending = :f",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CHECK_FAILED:
                raise
        try:  # still ours, with a notification pending: keep the cursor and run again
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=key,
                UpdateExpression="SET calendarId = :cal, #cur = :cur, pending = :f, leaseUntil = :u",
                ConditionExpression="#l = :o",
                ExpressionAttributeNames={"#l": "lease", "#cur": "cursor"},
                ExpressionAttributeValues={
                    ":cal": calendar_id,
                    ":cur": cursor,
                    ":f": False,
                    ":o": owner,
                    ":u": int(lease_until.timestamp()) if lease_until else 0,
                },
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CHECK_FAILED:
                raise
            return False

    def schedule_sync(self, location_id: str, connection_id: str, due: datetime | None) -> None:
        """Put the connection in the sync-due index at ``due`` (None: take it out)."""
        key = k.connection_sync(location_id, connection_id)
        if due is None:
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,
                Key=key,
                UpdateExpression=f"REMOVE {k.GSI1PK}, {k.GSI1SK}",  # type: ignore[attr-defined]
            )
            return
        self._client.update_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=key,
            UpdateExpression=f"SET {k.GSI1PK} = :p, {k.GSI1SK} = :s",
            ExpressionAttributeValues={
                ":p": k.sync_due_gsi(_shard(connection_id)),
                ":s": k.sync_due_sk(due, location_id, connection_id),
            },
        )

    def due_connections(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """Pattern 39: ``(location_id, connection_id)`` of connections due by ``now`` (one Query
        per shard of GSI1, oldest first, at most ``limit`` per shard)."""
        out: list[tuple[str, str]] = []
        upper = sort_key(now) + "#\uffff"
        for shard in range(k.SYNC_SHARDS):
            cond = Key(k.GSI1PK).eq(k.sync_due_gsi(shard)) & Key(k.GSI1SK).lte(upper)
            resp = next(self._pages(IndexName=k.GSI1, KeyConditionExpression=cond, Limit=limit))  # type: ignore[attr-defined]
            for item in resp.get("Items", []):
                _, loc, conn = str(item[k.GSI1SK]).rsplit("#", 2)
                out.append((loc, conn))
        return out

    # -- watch channels (pattern 40) ----------------------------------------------------------

    def save_channel(
        self,
        location_id: str,
        connection_id: str,
        provider: str,
        channel: WatchChannel,
        token_hash: str,
        replaces: WatchChannel | None = None,
    ) -> None:
        """Record ``channel`` as the connection's (sync item + channel lookup item) and forget
        the one it ``replaces`` in the same transaction, provided the connection still exists
        (NotFound otherwise: it was deleted meanwhile, and the caller stops the channel)."""
        lookup = {
            **k.channel(channel.channel_id),
            "locationId": location_id,
            "connectionId": connection_id,
            "provider": provider,
            "tokenHash": token_hash,
            "expiresAtTs": int(channel.expires_at.timestamp()),
            "expiresAt": int((channel.expires_at + timedelta(days=1)).timestamp()),
        }
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._name, "Item": lookup}},  # type: ignore[attr-defined]
            {
                "Update": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Key": k.connection_sync(location_id, connection_id),
                    "UpdateExpression": "SET channel = :c",
                    "ExpressionAttributeValues": {":c": _channel_map(channel)},
                }
            },
        ]
        if replaces is not None and replaces.channel_id != channel.channel_id:
            items.append({"Delete": {"TableName": self._name, "Key": k.channel(replaces.channel_id)}})  # type: ignore[attr-defined]
        items.append(
            {
                "ConditionCheck": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Key": k.connection(location_id, connection_id),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        )
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise NotFound("Calendar connection", connection_id) from exc
            raise

    def drop_channel(self, location_id: str, connection_id: str, channel: WatchChannel | None) -> None:
        """Forget the connection's channel (lookup item and sync-state entry)."""
        if channel is not None:
            self._client.delete_item(TableName=self._name, Key=k.channel(channel.channel_id))  # type: ignore[attr-defined]
        try:
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.connection_sync(location_id, connection_id),
                UpdateExpression="REMOVE channel",
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CHECK_FAILED:
                raise

    def get_channel(self, channel_id: str) -> ChannelRecord | None:
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,
            Key=k.channel(channel_id),
            ConsistentRead=True,  # type: ignore[attr-defined]
        ).get("Item")
        if not item:
            return None
        return ChannelRecord(
            channel_id=channel_id,
            location_id=str(item["locationId"]),
            connection_id=str(item["connectionId"]),
            provider=str(item["provider"]),
            token_hash=str(item["tokenHash"]),
            expires_at=datetime.fromtimestamp(int(item["expiresAtTs"]), UTC),
        )

    # -- provider busy time (patterns 41-43) --------------------------------------------------

    def connection_busy(
        self, location_id: str, connection_id: str, lo: datetime, hi: datetime
    ) -> list[Interval]:
        """Pattern 41: the provider's busy intervals (epoch s, sorted, possibly overlapping)
        overlapping ``[lo, hi)``: ONE Query of the UTC day items from ``lo``'s day to ``hi``'s."""
        first, last = lo.astimezone(UTC).date().isoformat(), hi.astimezone(UTC).date().isoformat()
        cond = Key(k.PK).eq(k.busy_pk(location_id, connection_id)) & Key(k.SK).between(first, last)
        lo_ts, hi_ts = int(lo.timestamp()), int(hi.timestamp())
        seen: set[Interval] = set()
        for item in self._query(KeyConditionExpression=cond, ConsistentRead=True):  # type: ignore[attr-defined]
            for name, value in item.items():
                if name.startswith(k.BUSY_ATTR_PREFIX):
                    iv = (int(value[0]), int(value[1]))
                    if iv[0] < hi_ts and iv[1] > lo_ts:
                        seen.add(iv)
        return sorted(seen)

    def apply_busy(
        self, location_id: str, connection_id: str, changes: list[BusyChange], *, full: bool
    ) -> int:
        """Apply a sync's changes (a full sync first clears the stored busy time). Events marked
        as Slotbook's own are skipped. Each event is written to the day items it touches and its
        pointer; a changed or removed event leaves the days it was on. Returns the number of
        events now stored as busy among ``changes``. Idempotent: applying the same changes twice
        leaves the same state."""
        if full:
            self.clear_busy(location_id, connection_id, keep_own=True)
        latest: dict[str, BusyChange] = {}
        for change in changes:
            latest[change.event_id] = change  # a later change of the same event wins
        if not latest:
            return 0
        pk = k.busy_pk(location_id, connection_id)
        wanted = [k.busy_pointer(location_id, connection_id, e) for e in latest]
        wanted += [k.own_event(location_id, connection_id, e) for e in latest]
        pointers: dict[str, list[str]] = {}
        own: set[str] = set()
        for item in self._batch_get(wanted, consistent=True):  # type: ignore[attr-defined]
            sk = str(item[k.SK])
            if sk.startswith("EV#"):
                pointers[sk[3:]] = list(item.get("days") or [])
            elif sk.startswith("OWN#"):
                own.add(sk[4:])
        stored = 0
        for event_id, change in latest.items():
            busy = change.busy and event_id not in own and change.start is not None and change.end is not None
            new_days = _days(change.start, change.end) if busy else []  # type: ignore[arg-type]
            old_days = pointers.get(event_id, [])
            attr = {"#e": f"{k.BUSY_ATTR_PREFIX}{event_id}"}
            for day in old_days:
                if day not in new_days:
                    self._client.update_item(  # type: ignore[attr-defined]
                        TableName=self._name,  # type: ignore[attr-defined]
                        Key={k.PK: pk, k.SK: day},
                        UpdateExpression="REMOVE #e",
                        ExpressionAttributeNames=attr,
                    )
            if busy:
                assert change.start is not None and change.end is not None
                end = min(change.end, change.start + MAX_BUSY_SPAN)
                value = [int(change.start.timestamp()), int(end.timestamp())]
                writes: list[dict[str, Any]] = [
                    {
                        "Update": {
                            "TableName": self._name,  # type: ignore[attr-defined]
                            "Key": {k.PK: pk, k.SK: day},
                            "UpdateExpression": "SET #e = :v",
                            "ExpressionAttributeNames": attr,
                            "ExpressionAttributeValues": {":v": value},
                        }
                    }
                    for day in new_days
                ]
                writes.append(
                    {
                        "Put": {
                            "TableName": self._name,  # type: ignore[attr-defined]
                            "Item": {
                                **k.busy_pointer(location_id, connection_id, event_id),
                                "days": new_days,
                            },
                        }
                    }
                )
                if not self._write_unless_own(location_id, connection_id, event_id, writes):
                    continue  # it became Slotbook's own copy meanwhile (mark_own)
                stored += 1
            elif old_days:
                self._client.delete_item(  # type: ignore[attr-defined]
                    TableName=self._name,
                    Key=k.busy_pointer(location_id, connection_id, event_id),  # type: ignore[attr-defined]
                )
        return stored

    def _write_unless_own(
        self, location_id: str, connection_id: str, event_id: str, writes: list[dict[str, Any]]
    ) -> bool:
        """Apply ``writes`` (one event's day items and pointer) in one transaction conditional on
        the event not being marked as Slotbook's own: a sync racing :meth:`mark_own` either
        commits first (and ``mark_own``'s removal then cleans up) or does not commit. False when
        the mark exists. Events on more than 98 days are written without the check."""
        own = {
            "ConditionCheck": {
                "TableName": self._name,  # type: ignore[attr-defined]
                "Key": k.own_event(location_id, connection_id, event_id),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        if len(writes) > 99:
            for write in writes:
                if "Update" in write:
                    self._client.update_item(**write["Update"])  # type: ignore[attr-defined]
                else:
                    self._client.put_item(**write["Put"])  # type: ignore[attr-defined]
            return True
        try:
            self._client.transact_write_items(TransactItems=[own, *writes])  # type: ignore[attr-defined]
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def clear_busy(self, location_id: str, connection_id: str, *, keep_own: bool = False) -> None:
        """Delete the connection's busy time (day items and pointers; own-event markers too
        unless ``keep_own``)."""
        cond = Key(k.PK).eq(k.busy_pk(location_id, connection_id))
        keys = [
            {k.PK: i[k.PK], k.SK: i[k.SK]}
            for i in self._query(  # type: ignore[attr-defined]
                KeyConditionExpression=cond,
                ProjectionExpression="#p, #s",
                ExpressionAttributeNames={"#p": k.PK, "#s": k.SK},
            )
            if not (keep_own and str(i[k.SK]).startswith("OWN#"))
        ]
        for i in range(0, len(keys), 25):
            request = {self._name: [{"DeleteRequest": {"Key": key}} for key in keys[i : i + 25]]}  # type: ignore[attr-defined]
            while request:
                resp = self._client.batch_write_item(RequestItems=request)  # type: ignore[attr-defined]
                request = resp.get("UnprocessedItems") or {}

    def mark_own(self, location_id: str, connection_id: str, provider_event_id: str, booking_id: str) -> None:
        """Record that ``provider_event_id`` is Slotbook's copy of ``booking_id`` and drop any busy
        time a sync stored for it before the mark existed."""
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={**k.own_event(location_id, connection_id, provider_event_id), "bookingId": booking_id},
        )
        self.apply_busy(
            location_id,
            connection_id,
            [BusyChange(event_id=provider_event_id, start=None, end=None, busy=False)],
            full=False,
        )

    # -- provider copies of bookings (pattern 44) ---------------------------------------------

    def get_copy(self, location_id: str, booking_id: str, connection_id: str) -> ProviderCopy | None:
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.provider_copy(location_id, booking_id, connection_id),
            ConsistentRead=True,
        ).get("Item")
        return _copy(item) if item else None

    def copies_of(self, location_id: str, booking_id: str) -> list[ProviderCopy]:
        """Every provider copy of a booking (one Query)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(
            k.provider_copy_prefix(booking_id)
        )
        return [_copy(i) for i in self._query(KeyConditionExpression=cond, ConsistentRead=True)]  # type: ignore[attr-defined]

    def put_copy(self, location_id: str, copy: ProviderCopy) -> None:
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={
                **k.provider_copy(location_id, copy.booking_id, copy.connection_id),
                "bookingId": copy.booking_id,
                "connectionId": copy.connection_id,
                "calendarId": copy.calendar_id,
                "providerEventId": copy.provider_event_id,
                "generation": copy.generation,
            },
        )

    def retire_copy(self, location_id: str, copy: ProviderCopy) -> None:
        """The provider copy was deleted: keep the item with no event and the next generation."""
        self.put_copy(location_id, replace(copy, provider_event_id="", generation=copy.generation + 1))

    def delete_copy(self, location_id: str, booking_id: str, connection_id: str) -> None:
        self._client.delete_item(  # type: ignore[attr-defined]
            TableName=self._name,
            Key=k.provider_copy(location_id, booking_id, connection_id),  # type: ignore[attr-defined]
        )

    # -- bookings of a connection (pattern 45) ------------------------------------------------

    def connection_bookings(self, location_id: str, connection_id: str) -> list[Event]:
        """Pattern 45: every booking made on the connection, by start (GSI1)."""
        cond = Key(k.GSI1PK).eq(k.connection_bookings_gsi(location_id, connection_id))
        items = self._query(IndexName=k.GSI1, KeyConditionExpression=cond)  # type: ignore[attr-defined]
        return [Event.model_validate_json(i["doc"]) for i in items]

    # -- OAuth state (pattern 46b) ------------------------------------------------------------

    def put_oauth_state(self, nonce: str, payload: dict[str, str], expires_at: datetime) -> None:
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={**k.oauth_state(nonce), **payload, "expiresAt": int(expires_at.timestamp())},
            ConditionExpression="attribute_not_exists(PK)",
        )

    def take_oauth_state(self, nonce: str) -> dict[str, str] | None:
        """Delete and return a pending authorisation; None when unknown or already used."""
        try:
            resp = self._client.delete_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.oauth_state(nonce),
                ConditionExpression="attribute_exists(PK)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CHECK_FAILED:
                return None
            raise
        item = resp.get("Attributes") or {}
        return {name: str(v) for name, v in item.items() if name not in (k.PK, k.SK)}


def connections_on(item: dict[str, Any]) -> list[str]:
    """Connection ids linked on a host VERSION item (attributes ``cxn_<id>``), sorted."""
    return sorted(
        name[len(k.CONNECTION_ATTR_PREFIX) :] for name in item if name.startswith(k.CONNECTION_ATTR_PREFIX)
    )


def _shard(connection_id: str) -> int:
    return sum(connection_id.encode()) % k.SYNC_SHARDS


def _days(start: datetime, end: datetime) -> list[str]:
    """UTC dates ``[start, end)`` touches (at least the start's), clipped to MAX_BUSY_SPAN."""
    end = min(end, start + MAX_BUSY_SPAN)
    day = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date() if end > start else day
    out = []
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _channel_map(channel: WatchChannel) -> dict[str, Any]:
    return {
        "id": channel.channel_id,
        "resourceId": channel.resource_id,
        "expiresAtTs": int(channel.expires_at.timestamp()),
    }


def _sync_state(item: dict[str, Any]) -> SyncState:
    raw = item.get("channel")
    channel = (
        WatchChannel(
            channel_id=str(raw["id"]),
            resource_id=str(raw.get("resourceId", "")),
            expires_at=datetime.fromtimestamp(int(raw["expiresAtTs"]), UTC),
            token="",
        )
        if raw
        else None
    )
    synced = item.get("lastSynced")
    return SyncState(
        calendar_id=item.get("calendarId") or None,
        cursor=item.get("cursor") or None,
        channel=channel,
        last_synced_at=datetime.fromtimestamp(int(synced), UTC) if synced is not None else None,
    )


def _copy(item: dict[str, Any]) -> ProviderCopy:
    return ProviderCopy(
        booking_id=str(item["bookingId"]),
        connection_id=str(item["connectionId"]),
        calendar_id=str(item["calendarId"]),
        provider_event_id=str(item.get("providerEventId") or ""),
        generation=int(item.get("generation", 0)),
    )
