"""Appointment notes (reference/seeds/003, appointment notes), once for every dialect.

* A note belongs to an appointment of the caller's location: every operation first finds the
  appointment through :meth:`SchedulingService.get_event` (NotFound for a block slot, an unknown
  id or another location's), so notes of an appointment nobody can see are unreachable.
* Notes list newest first (ids start with their creation instant); ``offset``/``limit`` page.
* A note's ``contact_id`` is its appointment's contact (at creation); ``created_by`` the user
  named when it was created; ``user_id`` the user named last (an update naming none keeps it).
* The body is 1..:data:`MAX_NOTE_BODY` characters and not only whitespace (422 otherwise).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import datetime

from slotbook.domain import EventKind, Note
from slotbook.errors import NotFound, ValidationFailed
from slotbook.services.scheduling import SchedulingService
from slotbook.store.dynamo import DynamoStore

MAX_NOTE_BODY = 5000
"""Longest note body (the reference's ``NotesDTO.body.maxLength``)."""
MAX_NOTES_PAGE = 20
"""Largest ``limit`` of a notes listing (the reference's maximum)."""

Clock = Callable[[], datetime]

_ORDERED = string.digits + string.ascii_uppercase + string.ascii_lowercase
"""Base-62 digits in byte order, so fixed-width encodings sort like the numbers they encode."""


def time_ordered_id(now: datetime, sequence: int = 0) -> str:
    """A 20-character opaque id that sorts by creation: 8 characters encode ``now`` in epoch
    milliseconds and 2 a ``sequence`` number (0..3843, the order within one request), both in
    fixed-width base 62; the remaining 10 are random."""
    prefix = _base62(int(now.timestamp() * 1000), 8) + _base62(sequence, 2)
    return prefix + "".join(secrets.choice(_ORDERED) for _ in range(10))


def _base62(value: int, width: int) -> str:
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 62)
        out = _ORDERED[digit] + out
    return out


class NoteService:
    """Appointment notes over one store; appointments are looked up through ``scheduling``."""

    def __init__(self, store: DynamoStore, scheduling: SchedulingService, clock: Clock) -> None:
        self._store = store
        self._scheduling = scheduling
        self._clock = clock

    def list_notes(
        self, location_id: str, appointment_id: str, offset: int, limit: int
    ) -> tuple[list[Note], bool]:
        """``(notes, has_more)``, newest first. NotFound for an unknown appointment."""
        self._scheduling.get_event(location_id, appointment_id, EventKind.APPOINTMENT)
        return self._store.list_notes(location_id, appointment_id, offset, limit)

    def create_note(self, location_id: str, appointment_id: str, body: str, user_id: str | None) -> Note:
        """Add a note to an appointment. NotFound, ValidationFailed (bad body)."""
        _check_body(body)
        appointment = self._scheduling.get_event(location_id, appointment_id, EventKind.APPOINTMENT)
        now = self._clock()
        note = Note(
            id=time_ordered_id(now),
            location_id=location_id,
            appointment_id=appointment_id,
            body=body,
            user_id=user_id,
            created_by=user_id,
            contact_id=appointment.contact_id,
            created_at=now,
            updated_at=now,
        )
        self._store.put_note(note, new=True)
        return note

    def update_note(
        self, location_id: str, appointment_id: str, note_id: str, body: str, user_id: str | None
    ) -> Note:
        """Replace a note's body (and its user, when named). NotFound, ValidationFailed."""
        _check_body(body)
        self._scheduling.get_event(location_id, appointment_id, EventKind.APPOINTMENT)
        current = self._store.get_note(location_id, appointment_id, note_id)
        if current is None:
            raise NotFound("Note", note_id)
        update: dict[str, object] = {"body": body, "updated_at": self._clock()}
        if user_id is not None:
            update["user_id"] = user_id
        note = current.model_copy(update=update)
        self._store.put_note(note, new=False)
        return note

    def delete_note(self, location_id: str, appointment_id: str, note_id: str) -> None:
        """Delete a note. NotFound for an unknown appointment or note."""
        self._scheduling.get_event(location_id, appointment_id, EventKind.APPOINTMENT)
        self._store.delete_note(location_id, appointment_id, note_id)


def _check_body(body: str) -> None:
    if not body.strip():
        raise ValidationFailed(["body should not be empty"])
    if len(body) > MAX_NOTE_BODY:
        raise ValidationFailed([f"body must be shorter than or equal to {MAX_NOTE_BODY} characters"])
