"""The optimistic lock of a VERSION item (a host's, a resource's), shared by every write that
bumps one: the booking transaction, resource capacity and recurring series (invariant 1)."""

from __future__ import annotations

from typing import Any


def conditioned_on(update: dict[str, Any], version: int) -> dict[str, Any]:
    """``update`` (a TransactWriteItems ``Update``) made conditional on the item still holding
    ``version`` — the one read before busy time; 0 means the item must have no version yet.
    Adds ``ConditionExpression`` (and ``:seen``) in place and returns ``update``."""
    if version == 0:
        update["ConditionExpression"] = "attribute_not_exists(version)"
    else:
        update["ConditionExpression"] = "version = :seen"
        update.setdefault("ExpressionAttributeValues", {})[":seen"] = version
    return update
