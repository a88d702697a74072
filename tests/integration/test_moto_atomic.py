"""localdev.moto_atomic: concurrent moto DynamoDB requests behave like real DynamoDB (no lost update)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localdev import moto_atomic

THREADS = 16
UPDATES_PER_THREAD = 10
TRANSACTIONS_PER_THREAD = 6


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto DynamoDB client with a fresh ``counters`` table (PK/SK strings), atomic dispatch installed."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    moto_atomic.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="counters",
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(
            TableName="counters",
            Item={"PK": {"S": "C"}, "SK": {"S": "C"}, "n": {"N": "0"}, "version": {"N": "0"}},
        )
        yield client


def _run_threads(worker: Callable[[int], None]) -> None:
    """Run ``worker(thread_index)`` on THREADS threads released together; re-raise the first failure."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            worker(index)
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "worker threads hung"
    if errors:
        raise errors[0]


def _counter(client: Any) -> tuple[int, int]:
    item = client.get_item(
        TableName="counters", Key={"PK": {"S": "C"}, "SK": {"S": "C"}}, ConsistentRead=True
    )["Item"]
    return int(item["n"]["N"]), int(item["version"]["N"])


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def test_install_is_idempotent() -> None:
    from moto.dynamodb.responses import DynamoHandler

    moto_atomic.install()
    first = DynamoHandler.__dict__["_dispatch"]
    moto_atomic.install()
    assert DynamoHandler.__dict__["_dispatch"] is first
    assert moto_atomic.is_installed()


def test_conditional_update_increments_lose_nothing(ddb: Any) -> None:
    """16 threads x 10 optimistic increments (read version, update if version unchanged, retry)."""

    def worker(_: int) -> None:
        done = 0
        while done < UPDATES_PER_THREAD:
            _, version = _counter(ddb)
            try:
                ddb.update_item(
                    TableName="counters",
                    Key={"PK": {"S": "C"}, "SK": {"S": "C"}},
                    UpdateExpression="SET n = n + :one, version = :next",
                    ConditionExpression="version = :seen",
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":seen": {"N": str(version)},
                        ":next": {"N": str(version + 1)},
                    },
                )
            except ClientError as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                continue
            done += 1

    _run_threads(worker)
    assert _counter(ddb) == (THREADS * UPDATES_PER_THREAD, THREADS * UPDATES_PER_THREAD)


def test_transact_write_items_lose_nothing(ddb: Any) -> None:
    """16 threads x 6 transactions: bump the versioned counter and insert one entry, all or nothing.

    Every thread also fires a transaction that must fail (its entry already exists); with moto's
    copy-and-restore rollback unguarded, such failures would erase other threads' committed writes.
    """

    def worker(index: int) -> None:
        done = 0
        while done < TRANSACTIONS_PER_THREAD:
            _, version = _counter(ddb)
            entry = {"PK": {"S": "E"}, "SK": {"S": f"{index:02d}#{done:02d}"}}
            try:
                ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "counters",
                                "Key": {"PK": {"S": "C"}, "SK": {"S": "C"}},
                                "UpdateExpression": "SET n = n + :one, version = :next",
                                "ConditionExpression": "version = :seen",
                                "ExpressionAttributeValues": {
                                    ":one": {"N": "1"},
                                    ":seen": {"N": str(version)},
                                    ":next": {"N": str(version + 1)},
                                },
                            }
                        },
                        {
                            "Put": {
                                "TableName": "counters",
                                "Item": entry,
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                    ]
                )
            except ClientError as exc:
                if _error_code(exc) != "TransactionCanceledException":
                    raise
                continue
            done += 1
            # A transaction doomed by its Put condition: must change nothing, for anyone.
            with pytest.raises(ClientError) as failed:
                ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "counters",
                                "Key": {"PK": {"S": "C"}, "SK": {"S": "C"}},
                                "UpdateExpression": "SET n = n + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        },
                        {
                            "Put": {
                                "TableName": "counters",
                                "Item": entry,
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                    ]
                )
            assert _error_code(failed.value) == "TransactionCanceledException"

    _run_threads(worker)
    total = THREADS * TRANSACTIONS_PER_THREAD
    entries = ddb.query(
        TableName="counters",
        KeyConditionExpression="PK = :e",
        ExpressionAttributeValues={":e": {"S": "E"}},
        ConsistentRead=True,
        Select="COUNT",
    )["Count"]
    assert entries == total
    assert _counter(ddb) == (total, total)
