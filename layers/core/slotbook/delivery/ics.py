"""``.ics`` invitations (RFC 5545 / iTIP RFC 5546) attached to booking emails, built with ``icalendar``.

One VCALENDAR holding one VEVENT per appointment:

* ``METHOD:REQUEST`` when an appointment is booked, confirmed or rescheduled — calendar clients add
  or update the event;
* ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` when it is cancelled or deleted — clients remove it.

The ``UID`` is stable per appointment (``<appointmentId>@slotbook``) so every later invitation
updates the same calendar entry; ``SEQUENCE`` is supplied by the caller and must grow with each
reschedule (clients ignore an update whose SEQUENCE is not higher than the one they hold). Times are
written in UTC (``...Z``): no VTIMEZONE is needed and every client shows them in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent

from slotbook.domain import Event

PRODID = "-//Slotbook//Slotbook Notifications//EN"
UID_DOMAIN = "slotbook"
DEFAULT_SUMMARY = "Appointment"


class IcsMethod(StrEnum):
    """The iTIP method of an invitation."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Party:
    """An organizer or attendee: an email address and an optional display name (``CN``)."""

    email: str
    name: str = ""


def uid_for(appointment_id: str) -> str:
    """The iCalendar UID of an appointment: the same for every invitation about it."""
    return f"{appointment_id}@{UID_DOMAIN}"


def invitation(
    event: Event,
    *,
    method: IcsMethod,
    sequence: int,
    stamp: datetime,
    organizer: Party | None = None,
    attendees: tuple[Party, ...] | list[Party] = (),
    summary: str | None = None,
) -> bytes:
    """Build the ``.ics`` bytes (UTF-8, CRLF lines) for one appointment.

    ``event`` is the appointment (its ``id``, ``start``, ``end``, ``title``, ``description``,
    ``address`` are used); ``method`` REQUEST for booked/confirmed/rescheduled, CANCEL for
    cancelled/deleted (adds ``STATUS:CANCELLED``; REQUEST carries ``STATUS:CONFIRMED``);
    ``sequence`` (>= 0) the appointment's revision, bumped on each reschedule; ``stamp`` the
    instant the invitation is produced (``DTSTAMP``). ``organizer`` and ``attendees`` become
    ``ORGANIZER`` / ``ATTENDEE`` ``mailto:`` properties when known (attendees are asked for no
    RSVP: Slotbook does not read iTIP replies). ``summary`` overrides the title (falls back to
    "Appointment" when both are empty).

    Raises ``ValueError`` for a negative sequence, a naive datetime, or an end before the start.
    """
    if sequence < 0:
        raise ValueError("sequence must be >= 0")
    start, end, dtstamp = (_utc(event.start), _utc(event.end), _utc(stamp))
    if end < start:
        raise ValueError("event ends before it starts")

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method.value)

    vevent = VEvent()
    vevent.add("uid", uid_for(event.id))
    vevent.add("sequence", sequence)
    vevent.add("dtstamp", dtstamp)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", summary or event.title or DEFAULT_SUMMARY)
    if event.description:
        vevent.add("description", event.description)
    if event.address:
        vevent.add("location", event.address)
    vevent.add("status", "CANCELLED" if method is IcsMethod.CANCEL else "CONFIRMED")
    if organizer is not None:
        vevent.add("organizer", _address(organizer))
    for attendee in attendees:
        vevent.add(
            "attendee",
            _address(
                attendee,
                ROLE="REQ-PARTICIPANT",
                PARTSTAT="NEEDS-ACTION",
                RSVP="FALSE",
            ),
        )
    cal.add_component(vevent)
    return cal.to_ical()


def method_of(ics: bytes) -> IcsMethod:
    """The METHOD of ``.ics`` bytes built by :func:`invitation` (used for the MIME
    ``text/calendar; method=...`` parameter). Raises ``ValueError`` if it has none we know."""
    value = str(Calendar.from_ical(ics).get("method", "")).upper()
    try:
        return IcsMethod(value)
    except ValueError:
        raise ValueError(f"not an invitation: METHOD {value!r}") from None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants must be timezone-aware")
    return instant.astimezone(UTC).replace(microsecond=0)


def _address(party: Party, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    if party.name:
        address.params["CN"] = party.name
    for key, value in params.items():
        address.params[key] = value
    return address
