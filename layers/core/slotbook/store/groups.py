"""DynamoDB access for calendar groups (patterns 12-14).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).

Items:

* the group (pattern 12): ``doc`` (the :class:`~slotbook.domain.Group` JSON) and a top-level
  boolean ``active`` mirroring ``is_active`` (so booking transactions can condition on it);
* its slug lock (pattern 14): ``groupId``. A slug is unique within a location because the lock
  is written in the same ``TransactWriteItems`` as the group, conditional on not existing; a slug
  change deletes the old lock and puts the new one in the transaction that changes the group.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from slotbook.domain import Group
from slotbook.errors import ConcurrentUpdate, InvalidRequest, NotFound
from slotbook.store import keys as k


def slug_taken(slug: str) -> InvalidRequest:
    """The error for a slug another group of the location already uses (400)."""
    return InvalidRequest(f"A group with slug '{slug}' already exists in this location.")


class GroupStore:
    """Calendar groups (patterns 12-14) (mixed into DynamoStore)."""

    def get_group(self, location_id: str, group_id: str, *, consistent: bool = False) -> Group | None:
        """Pattern 12. The item holds the group's JSON ``doc`` and a top-level boolean ``active``
        (so booking transactions can condition on it)."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.group(location_id, group_id),
            ConsistentRead=consistent,
        ).get("Item")
        return Group.model_validate_json(item["doc"]) if item else None

    def list_groups(self, location_id: str) -> list[Group]:
        """Pattern 13: every group of a location (unordered)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.GROUP_PREFIX)
        items = self._query(KeyConditionExpression=cond)  # type: ignore[attr-defined]
        return [Group.model_validate_json(i["doc"]) for i in items]

    def group_slug_taken(self, location_id: str, slug: str) -> bool:
        """Pattern 14 (strongly consistent): whether a group of the location uses ``slug``."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.group_slug(location_id, slug),
            ConsistentRead=True,
            ProjectionExpression="groupId",
        ).get("Item")
        return item is not None

    def create_group(self, group: Group) -> None:
        """Store a new group with its slug lock in one transaction.

        Raises InvalidRequest (400) when the slug is taken in the location, ConcurrentUpdate when
        the transaction lost a race (the caller may retry).
        """
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Item": _group_item(group),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            self._slug_lock_put(group),
        ]
        failed = self._group_transact(items)
        if 1 in failed:
            raise slug_taken(group.slug)
        if failed:
            raise ConcurrentUpdate("The group could not be created; please retry.")

    def update_group(self, group: Group, previous: Group) -> None:
        """Replace ``previous`` with ``group`` only if nobody changed it meanwhile; a slug change
        swaps the slug locks in the same transaction.

        Raises NotFound when the group is gone, InvalidRequest (400) when the new slug is taken,
        ConcurrentUpdate when the group changed since ``previous`` was read (re-read and retry).
        """
        table = self._name  # type: ignore[attr-defined]
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": table,
                    "Key": k.group(group.location_id, group.id),
                    "UpdateExpression": "SET #doc = :doc, #active = :active",
                    "ConditionExpression": "#doc = :prev",
                    "ExpressionAttributeNames": {"#doc": "doc", "#active": "active"},
                    "ExpressionAttributeValues": {
                        ":doc": group.model_dump_json(),
                        ":active": group.is_active,
                        ":prev": previous.model_dump_json(),
                    },
                }
            }
        ]
        if group.slug != previous.slug:
            items.append(self._slug_lock_delete(previous))
            items.append(self._slug_lock_put(group))
        failed = self._group_transact(items)
        if not failed:
            return
        if 2 in failed:
            raise slug_taken(group.slug)
        self._raise_gone_or_changed(group.location_id, group.id)

    def delete_group(self, group: Group) -> None:
        """Delete the group and its slug lock in one transaction, only if it is still exactly
        ``group``. Raises NotFound when gone, ConcurrentUpdate when changed meanwhile."""
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Key": k.group(group.location_id, group.id),
                    "ConditionExpression": "#doc = :prev",
                    "ExpressionAttributeNames": {"#doc": "doc"},
                    "ExpressionAttributeValues": {":prev": group.model_dump_json()},
                }
            },
            self._slug_lock_delete(group),
        ]
        if self._group_transact(items):
            self._raise_gone_or_changed(group.location_id, group.id)

    # -- helpers ----------------------------------------------------------------------------

    def _slug_lock_put(self, group: Group) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._name,  # type: ignore[attr-defined]
                "Item": {**k.group_slug(group.location_id, group.slug), "groupId": group.id},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _slug_lock_delete(self, group: Group) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._name,  # type: ignore[attr-defined]
                "Key": k.group_slug(group.location_id, group.slug),
                "ConditionExpression": "groupId = :gid",
                "ExpressionAttributeValues": {":gid": group.id},
            }
        }

    def _raise_gone_or_changed(self, location_id: str, group_id: str) -> None:
        if self.get_group(location_id, group_id, consistent=True) is None:
            raise NotFound("Group", group_id)
        raise ConcurrentUpdate("The group was changed by another request; read it and retry.")

    def _group_transact(self, items: list[dict[str, Any]]) -> set[int]:
        """Run a transaction; the indexes of the items whose condition failed (empty on success).

        A transaction cancelled without a failed condition (a concurrent transaction on the same
        items) raises ConcurrentUpdate (409; the service retries from a fresh read).
        """
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            failed = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
            if not failed:
                raise ConcurrentUpdate(
                    "The group is being changed by another request; please retry."
                ) from exc
            return failed
        return set()


def _group_item(group: Group) -> dict[str, Any]:
    return {**k.group(group.location_id, group.id), "doc": group.model_dump_json(), "active": group.is_active}
