"""GoHighLevel appointment-note request bodies and response shaping.

Field names follow ``NotesDTO`` and ``GetNoteSchema`` of ``reference/ghl-calendars-v3.openapi.json``;
unknown fields are refused (422). ``dateAdded`` is ISO 8601 UTC with milliseconds, like the
reference's example (``2021-07-08T12:02:11.285Z``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from slotbook.domain import Note
from slotbook.http.ghl_models import Body, OptId
from slotbook.services.notes import MAX_NOTE_BODY
from slotbook.timeutil import iso_utc_ms


class NotesDTO(Body):
    userId: OptId
    body: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_BODY)]


def note_dto(note: Note) -> dict[str, Any]:
    """The reference's ``GetNoteSchema``; ``userId`` and ``createdBy`` only when a user was named."""
    out: dict[str, Any] = {
        "id": note.id,
        "body": note.body,
        "contactId": note.contact_id or "",
        "dateAdded": iso_utc_ms(note.created_at),
    }
    if note.user_id:
        out["userId"] = note.user_id
    if note.created_by:
        out["createdBy"] = {"id": note.created_by}
    return out
