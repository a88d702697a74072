"""DynamoDB access for the recipient directory and the outgoing-webhook registry (patterns 25-28).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``).

Items, all under the location's partition:

* ``PERSON#<kind>#<id>`` (kind ``contact`` | ``user``): ``doc`` = :class:`~slotbook.delivery.models.Person`
  JSON, plus a top-level boolean ``admin`` (users) that the admin-users Query filters on;
* ``WEBHOOK#<id>``: ``doc`` = :class:`~slotbook.delivery.models.WebhookEndpoint` JSON, including
  its signing secret (the delivery code needs it back to sign; the table is encrypted at rest and
  the secret never leaves this module except to the service).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from slotbook.delivery.models import Person, WebhookEndpoint
from slotbook.errors import ConcurrentUpdate, NotFound
from slotbook.store import keys as k


class DirectoryStore:
    """Directory entries (contacts, users) and webhook endpoints of a location (mixed into DynamoStore)."""

    # -- people (patterns 25-26) --------------------------------------------------------------

    def get_person(self, location_id: str, kind: str, person_id: str) -> Person | None:
        """Pattern 25: one directory entry (strongly consistent), or None."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.person(location_id, kind, person_id),
            ConsistentRead=True,
        ).get("Item")
        return Person.model_validate_json(item["doc"]) if item else None

    def get_people(self, location_id: str, kind: str, person_ids: list[str]) -> dict[str, Person]:
        """Pattern 25 for several ids at once (one consistent BatchGetItem per 100): id → entry,
        absent ids left out."""
        wanted = [k.person(location_id, kind, i) for i in dict.fromkeys(person_ids)]
        if not wanted:
            return {}
        items = self._batch_get(wanted, consistent=True)  # type: ignore[attr-defined]
        people = [Person.model_validate_json(i["doc"]) for i in items]
        return {p.id: p for p in people}

    def admin_users(self, location_id: str) -> list[Person]:
        """Pattern 26: the location's users flagged ``admin`` (one Query, filter on ``admin``),
        ordered by id."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.person_prefix("user"))
        items = self._query(KeyConditionExpression=cond, FilterExpression=Attr("admin").eq(True))  # type: ignore[attr-defined]
        return [Person.model_validate_json(i["doc"]) for i in items]

    def put_person(self, person: Person) -> bool:
        """Upsert ``person`` (an admin PUT: the last write wins). True when it created the entry,
        False when it replaced one."""
        return self._write_person(person, {})

    def replace_person(self, person: Person, previous: Person | None) -> None:
        """Store ``person`` only if the stored entry is still ``previous`` (None: only if there is
        none yet). ConcurrentUpdate otherwise (re-read and retry)."""
        if previous is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            condition = {
                "ConditionExpression": "#doc = :prev",
                "ExpressionAttributeNames": {"#doc": "doc"},
                "ExpressionAttributeValues": {":prev": previous.model_dump_json()},
            }
        try:
            self._write_person(person, condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(
                    "The directory entry was changed by another request; please retry."
                ) from exc
            raise

    def _write_person(self, person: Person, condition: dict[str, Any]) -> bool:
        response = self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={
                **k.person(person.location_id, person.kind, person.id),
                "doc": person.model_dump_json(),
                "admin": person.admin,
            },
            ReturnValues="ALL_OLD",
            **condition,
        )
        return not response.get("Attributes")

    def delete_person(self, location_id: str, kind: str, person_id: str) -> None:
        """Delete one directory entry. NotFound if it does not exist."""
        try:
            self._client.delete_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.person(location_id, kind, person_id),
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFound(kind.capitalize(), person_id) from exc
            raise

    # -- webhook endpoints (patterns 27-28) -----------------------------------------------------

    def put_webhook(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint (its id must be unused: ConcurrentUpdate otherwise, practically never)."""
        try:
            self._client.put_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Item={**k.webhook(endpoint.location_id, endpoint.id), "doc": endpoint.model_dump_json()},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentUpdate("The webhook could not be stored; please retry.") from exc
            raise

    def list_webhooks(self, location_id: str) -> list[WebhookEndpoint]:
        """Pattern 28: every endpoint of a location, secrets included, oldest first (one Query)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.WEBHOOK_PREFIX)
        items = self._query(KeyConditionExpression=cond)  # type: ignore[attr-defined]
        endpoints = [WebhookEndpoint.model_validate_json(i["doc"]) for i in items]
        endpoints.sort(key=lambda e: (e.created_at, e.id))
        return endpoints

    def delete_webhook(self, location_id: str, webhook_id: str) -> None:
        """Pattern 27: delete one endpoint. NotFound if it does not exist."""
        try:
            self._client.delete_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.webhook(location_id, webhook_id),
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFound("Webhook", webhook_id) from exc
            raise
