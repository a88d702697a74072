"""How the store turns DynamoDB transaction cancellations into domain errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from slotbook.errors import BookingConflict, ValidationFailed
from slotbook.store.dynamo import DynamoStore


class _Client:
    def __init__(self, reasons: list[dict[str, str]]) -> None:
        self.reasons = reasons

    def transact_write_items(self, **_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": self.reasons},
            "TransactWriteItems",
        )


@pytest.mark.parametrize(
    ("reasons", "error"),
    [
        ([{"Code": "ConditionalCheckFailed"}, {"Code": "None"}], BookingConflict),
        ([{"Code": "None"}, {"Code": "TransactionConflict"}], BookingConflict),
        (
            [{"Code": "None"}, {"Code": "ValidationError", "Message": "Item size has exceeded"}],
            ValidationFailed,
        ),
    ],
)
def test_cancellation_reasons_map_to_domain_errors(reasons, error):
    store = DynamoStore(_Client(reasons), "t")
    with pytest.raises(error):
        store._transact([{"Put": {}}])
