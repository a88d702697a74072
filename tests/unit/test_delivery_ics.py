"""`.ics` invitations: what the icalendar library parses back is what the appointment says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from slotbook.delivery.ics import IcsMethod, Party, invitation, method_of, uid_for
from slotbook.domain import Event, EventKind

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def appointment(**changes: object) -> Event:
    fields: dict[str, object] = {
        "id": "apt-123",
        "location_id": "loc-1",
        "kind": EventKind.APPOINTMENT,
        "title": "Consultation; Zoë, 30 min",
        "start": datetime(2027, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "end": datetime(2027, 3, 2, 10, 30, tzinfo=ZoneInfo("Europe/Paris")),
        "description": "Bring your papers.\nSecond line, with a comma",
        "address": "1 Main St, Springfield",
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


def parse(data: bytes) -> tuple[Calendar, Calendar]:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


def test_request_parses_back_to_the_same_instants_and_identity() -> None:
    # Given an appointment at 10:00 Paris time (09:00Z)
    event = appointment()

    # When its booking invitation is built
    data = invitation(
        event,
        method=IcsMethod.REQUEST,
        sequence=0,
        stamp=NOW,
        organizer=Party("host@example.com", "Dr. Smith, MD"),
        attendees=[Party("zoe@example.com", "Zoë"), Party("extra@example.com")],
    )

    # Then icalendar reads back the same instants, in UTC, and every property
    cal, vevent = parse(data)
    assert str(cal["method"]) == "REQUEST"
    assert str(cal["version"]) == "2.0"
    assert vevent.decoded("dtstart") == datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    assert vevent.decoded("dtend") == datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
    assert vevent.decoded("dtstart").utcoffset() == timedelta(0)
    assert vevent.decoded("dtstamp") == NOW
    assert b"DTSTART:20270302T090000Z" in data
    assert str(vevent["uid"]) == "apt-123@slotbook" == uid_for("apt-123")
    assert vevent.decoded("sequence") == 0
    assert str(vevent["status"]) == "CONFIRMED"
    assert str(vevent["summary"]) == "Consultation; Zoë, 30 min"
    assert str(vevent["description"]) == "Bring your papers.\nSecond line, with a comma"
    assert str(vevent["location"]) == "1 Main St, Springfield"
    organizer = vevent["organizer"]
    assert str(organizer) == "mailto:host@example.com"
    assert organizer.params["CN"] == "Dr. Smith, MD"
    attendees = vevent["attendee"]
    assert [str(a) for a in attendees] == ["mailto:zoe@example.com", "mailto:extra@example.com"]
    assert attendees[0].params["CN"] == "Zoë"
    assert "CN" not in attendees[1].params
    assert attendees[0].params["RSVP"] == "FALSE"
    assert method_of(data) is IcsMethod.REQUEST


def test_cancel_keeps_the_uid_and_marks_the_event_cancelled() -> None:
    event = appointment()
    request = invitation(event, method=IcsMethod.REQUEST, sequence=1, stamp=NOW)

    cancel = invitation(event, method=IcsMethod.CANCEL, sequence=2, stamp=NOW + timedelta(hours=1))

    cal, vevent = parse(cancel)
    assert str(cal["method"]) == "CANCEL"
    assert str(vevent["status"]) == "CANCELLED"
    assert vevent.decoded("sequence") == 2
    assert str(vevent["uid"]) == str(parse(request)[1]["uid"])
    assert vevent.decoded("dtstamp") == NOW + timedelta(hours=1)
    assert method_of(cancel) is IcsMethod.CANCEL


def test_reschedule_is_a_request_with_a_higher_sequence_and_the_new_times() -> None:
    # Given the original invitation, then the appointment moved by a day (sequence bumped)
    original = appointment()
    moved = appointment(start=original.start + timedelta(days=1), end=original.end + timedelta(days=1))

    first = parse(invitation(original, method=IcsMethod.REQUEST, sequence=0, stamp=NOW))[1]
    second = parse(invitation(moved, method=IcsMethod.REQUEST, sequence=1, stamp=NOW))[1]

    assert str(first["uid"]) == str(second["uid"])
    assert second.decoded("sequence") > first.decoded("sequence")
    assert second.decoded("dtstart") == datetime(2027, 3, 3, 9, 0, tzinfo=UTC)


def test_optional_properties_are_left_out_and_the_summary_falls_back() -> None:
    data = invitation(
        appointment(title="", description=None, address=None),
        method=IcsMethod.REQUEST,
        sequence=0,
        stamp=NOW,
    )
    _, vevent = parse(data)
    assert str(vevent["summary"]) == "Appointment"
    for absent in ("description", "location", "organizer", "attendee"):
        assert absent not in vevent
    override = parse(invitation(appointment(), method=IcsMethod.REQUEST, sequence=0, stamp=NOW, summary="X"))
    assert str(override[1]["summary"]) == "X"


def test_lines_are_crlf_terminated_and_folded() -> None:
    data = invitation(appointment(description="x" * 300), method=IcsMethod.REQUEST, sequence=0, stamp=NOW)
    lines = data.split(b"\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    ("changes", "kwargs"),
    [
        ({}, {"sequence": -1}),
        ({}, {"stamp": datetime(2027, 3, 1, 8, 0)}),
        (
            {
                "start": datetime(2027, 3, 2, 11, 0, tzinfo=UTC),
                "end": datetime(2027, 3, 2, 10, 0, tzinfo=UTC),
            },
            {},
        ),
    ],
)
def test_invalid_inputs_are_rejected(changes: dict[str, object], kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"method": IcsMethod.REQUEST, "sequence": 0, "stamp": NOW, **kwargs}
    with pytest.raises(ValueError):
        invitation(appointment(**changes), **arguments)  # type: ignore[arg-type]


def test_method_of_rejects_a_calendar_without_an_itip_method() -> None:
    with pytest.raises(ValueError):
        method_of(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n")


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    duration_s=st.integers(min_value=0, max_value=3 * 86400),
    sequence=st.integers(min_value=0, max_value=10_000),
    cancelled=st.booleans(),
)
def test_any_instant_round_trips_to_the_second(
    start: datetime, offset_minutes: int, duration_s: int, sequence: int, cancelled: bool
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    local_start = start.astimezone(zone)
    event = appointment(start=local_start, end=local_start + timedelta(seconds=duration_s))
    method = IcsMethod.CANCEL if cancelled else IcsMethod.REQUEST

    cal, vevent = parse(invitation(event, method=method, sequence=sequence, stamp=NOW))

    truncated = start.replace(microsecond=0)
    assert vevent.decoded("dtstart") == truncated
    assert vevent.decoded("dtend") == (start + timedelta(seconds=duration_s)).replace(microsecond=0)
    assert vevent.decoded("sequence") == sequence
    assert str(cal["method"]) == method.value
