"""DynamoDB access for availability schedules and their calendar associations (patterns 15-16).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).
"""

from __future__ import annotations


class ScheduleStore:
    """Availability schedules and their calendar associations (patterns 15-16) (mixed into DynamoStore)."""
