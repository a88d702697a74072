"""Notes function (GoHighLevel dialect): notes of an appointment.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the note
service, shape the reference's response.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from slotbook.container import services
from slotbook.http import ghl_notes as m
from slotbook.http.ghl import GhlApi
from slotbook.services.notes import MAX_NOTES_PAGE

api = GhlApi()
app = api.app

AppointmentId = Annotated[str, Path(min_length=1, max_length=128)]
NoteId = Annotated[str, Path(min_length=1, max_length=128)]


@api.get("/calendars/appointments/<appointmentId>/notes", scope="calendars/events.readonly")
def get_notes(
    appointmentId: AppointmentId,
    limit: Annotated[int, Query(ge=1, le=MAX_NOTES_PAGE, description="notes per page (1-20)")],
    offset: Annotated[int, Query(ge=0, description="notes to skip")],
) -> dict[str, Any]:
    """``GetNotesListSuccessfulResponseDto``: newest first, and whether more follow."""
    notes, has_more = services().notes.list_notes(api.tenant(), appointmentId, offset, limit)
    return {"notes": [m.note_dto(n) for n in notes], "hasMore": has_more}


@api.post("/calendars/appointments/<appointmentId>/notes", scope="calendars/events.write")
def create_note(appointmentId: AppointmentId, body: m.NotesDTO) -> tuple[dict[str, Any], int]:
    """201 ``GetCreateUpdateNoteSuccessfulResponseDto``."""
    note = services().notes.create_note(api.tenant(), appointmentId, body.body, body.userId)
    return {"note": m.note_dto(note)}, 201


@api.put("/calendars/appointments/<appointmentId>/notes/<noteId>", scope="calendars/events.write")
def update_note(appointmentId: AppointmentId, noteId: NoteId, body: m.NotesDTO) -> dict[str, Any]:
    """``GetCreateUpdateNoteSuccessfulResponseDto`` of the changed note."""
    note = services().notes.update_note(api.tenant(), appointmentId, noteId, body.body, body.userId)
    return {"note": m.note_dto(note)}


@api.delete("/calendars/appointments/<appointmentId>/notes/<noteId>", scope="calendars/events.write")
def delete_note(appointmentId: AppointmentId, noteId: NoteId) -> dict[str, Any]:
    """``{"success": true}``."""
    services().notes.delete_note(api.tenant(), appointmentId, noteId)
    return {"success": True}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
