"""DynamoDB access for calendar groups (patterns 12-14).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).
"""

from __future__ import annotations

from slotbook.domain import Group
from slotbook.store import keys as k


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
