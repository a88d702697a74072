"""DynamoDB access for appointment notes (pattern 21).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).

A note's sort key is ``NOTE#<appointmentId>#<noteId>`` and note ids start with their creation
instant (:func:`slotbook.services.notes.time_ordered_id`), so a descending Query of an
appointment's notes lists them newest first and reads only the page asked for.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from slotbook.domain import Note
from slotbook.errors import ConcurrentUpdate, NotFound
from slotbook.store import keys as k


class NoteStore:
    """Appointment notes (pattern 21) (mixed into DynamoStore)."""

    def get_note(self, location_id: str, appointment_id: str, note_id: str) -> Note | None:
        """One note of an appointment (strongly consistent), or None."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.note(location_id, appointment_id, note_id),
            ConsistentRead=True,
        ).get("Item")
        return Note.model_validate_json(item["doc"]) if item else None

    def list_notes(
        self, location_id: str, appointment_id: str, offset: int, limit: int
    ) -> tuple[list[Note], bool]:
        """Pattern 21, newest first: ``limit`` notes after skipping ``offset``, and whether more
        follow. Reads at most ``offset + limit + 1`` items."""
        want = offset + limit + 1
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.note_prefix(appointment_id))
        items: list[dict[str, Any]] = []
        for page in self._pages(  # type: ignore[attr-defined]
            KeyConditionExpression=cond, ScanIndexForward=False, Limit=min(want, 1000)
        ):
            items.extend(page.get("Items", []))
            if len(items) >= want:
                break
        notes = [Note.model_validate_json(i["doc"]) for i in items[offset : offset + limit]]
        return notes, len(items) > offset + limit

    def put_note(self, note: Note, *, new: bool) -> None:
        """Store a new note (``new``; its id must be unused) or replace an existing one (NotFound
        if it was deleted meanwhile; concurrent edits: the last write wins, as for a PUT)."""
        condition = "attribute_not_exists(PK)" if new else "attribute_exists(PK)"
        try:
            self._client.put_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Item={
                    **k.note(note.location_id, note.appointment_id, note.id),
                    "doc": note.model_dump_json(),
                },
                ConditionExpression=condition,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            if new:  # a random 20-character id collided: practically never
                raise ConcurrentUpdate("The note could not be stored; please retry.") from exc
            raise NotFound("Note", note.id) from exc

    def delete_note(self, location_id: str, appointment_id: str, note_id: str) -> None:
        """Delete one note of an appointment. NotFound if it does not exist."""
        try:
            self._client.delete_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.note(location_id, appointment_id, note_id),
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFound("Note", note_id) from exc
            raise
