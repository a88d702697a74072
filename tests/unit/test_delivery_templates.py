"""Message templates: validation, rendering, the placeholder context (times in the recipient's
zone, across DST) and the default subject/body of every notification type and channel."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotbook.delivery.models import Person
from slotbook.delivery.templates import (
    PLACEHOLDERS,
    default_template,
    format_instant,
    message_context,
    render,
    template_errors,
    templates_for,
    zone_label,
)
from slotbook.domain import (
    AppointmentStatus,
    Event,
    EventKind,
    NotificationChannel,
    NotificationReceiver,
    NotificationSetting,
    NotificationType,
)

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
CPH = ZoneInfo("Europe/Copenhagen")
NY = ZoneInfo("America/New_York")
PUBLIC = "https://book.example.com/"


def appointment(start: datetime, minutes: int = 30, **fields: object) -> Event:
    values: dict[str, object] = {
        "id": "appt-1",
        "location_id": "loc-1",
        "kind": EventKind.APPOINTMENT,
        "calendar_id": "cal-1",
        "assigned_user_id": "u1",
        "hosts": ["u1"],
        "contact_id": "c1",
        "title": "Intro call",
        "status": AppointmentStatus.CONFIRMED,
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "address": "https://meet.example.com/abc",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Event.model_validate(values)


def person(kind: str, pid: str, **fields: object) -> Person:
    return Person.model_validate(
        {"id": pid, "location_id": "loc-1", "kind": kind, "updated_at": NOW, **fields}
    )


ADA = person("contact", "c1", name="Ada King Lovelace", email="ada@example.com", phone="+4520123456")
GRACE = person("user", "u1", name="Grace Hopper", email="grace@example.com")


# -- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain text, no placeholders",
        "Hi {{contact.name}}",
        "Hi {{ contact.first_name }}, see you {{appointment.start_time}}",
        "single braces { } stay literal: {x} and a CSS rule p { color: red }",
        "{{appointment.reschedule_link}}{{appointment.cancel_link}}",
        "{{user.name}} x {{contact.name}}",  # GoHighLevel's event-title style
    ],
)
def test_valid_templates_have_no_errors(text: str) -> None:
    assert template_errors(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {{contact.nme}}", ["unknown placeholder {{contact.nme}} at position 3"]),
        ("Hi {{}}", ["empty placeholder at position 3"]),
        ("Hi {{   }}", ["empty placeholder at position 3"]),
        ("Hi {{contact.name", ["unclosed '{{' at position 3"]),
        ("Hi contact.name}}", ["'}}' without an opening '{{' at position 15"]),
        (
            "{{a {{contact.name}}",
            ["unclosed '{{' at position 0"],
        ),
        (
            "{{x}} and {{y}}",
            ["unknown placeholder {{x}} at position 0", "unknown placeholder {{y}} at position 10"],
        ),
        ("{{Contact.Name}}", ["unknown placeholder {{Contact.Name}} at position 0"]),  # names are exact
    ],
)
def test_invalid_templates_name_the_problem_and_where(text: str, expected: list[str]) -> None:
    assert template_errors(text) == expected


def test_a_wall_of_braces_gives_a_bounded_error_list() -> None:
    assert len(template_errors("}}" * 1000)) == 10


# -- rendering -----------------------------------------------------------------------------------


def test_render_replaces_placeholders_and_keeps_the_rest() -> None:
    context = {"contact.name": "Ada", "calendar.name": "Intro"}
    text = "Hi {{contact.name}}, {x} {{ calendar.name }}!"
    assert render(text, context) == "Hi Ada, {x} Intro!"


def test_render_escapes_values_when_asked_but_not_the_template() -> None:
    context = {"contact.name": "<b>Ada</b> & co"}
    got = render("<p>{{contact.name}}</p>", context, escape=html.escape)
    assert got == "<p>&lt;b&gt;Ada&lt;/b&gt; &amp; co</p>"


def test_render_tolerates_templates_saved_before_validation() -> None:
    # Unknown placeholders render empty; unbalanced braces stay literal text.
    assert render("a {{nope}} b", {}) == "a  b"
    assert render("a {{contact.name", {"contact.name": "Ada"}) == "a {{contact.name"
    assert render("a }} b {{contact.name}}", {"contact.name": "Ada"}) == "a }} b Ada"


_LITERAL = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)
_PIECE = st.one_of(
    _LITERAL,
    st.sampled_from(sorted(PLACEHOLDERS)).map(lambda n: "{{" + n + "}}"),
    st.sampled_from(sorted(PLACEHOLDERS)).map(lambda n: "{{ " + n + "  }}"),
    st.sampled_from(["{", "}", "{x}", "{ }"]),
)


@given(
    pieces=st.lists(_PIECE, max_size=12),
    values=st.dictionaries(st.sampled_from(sorted(PLACEHOLDERS)), _LITERAL),
)
def test_valid_templates_render_every_placeholder_and_never_raise(
    pieces: list[str], values: dict[str, str]
) -> None:
    # Single braces next to each other can form "{{"; keep only texts the validator accepts.
    text = "".join(pieces)
    if template_errors(text):
        return
    rendered = render(text, values)
    expected = text
    for name in sorted(PLACEHOLDERS, key=len, reverse=True):
        for form in ("{{" + name + "}}", "{{ " + name + "  }}"):
            expected = expected.replace(form, values.get(name, ""))
    assert rendered == expected


@given(text=st.text(max_size=60), values=st.dictionaries(st.sampled_from(sorted(PLACEHOLDERS)), st.text()))
def test_render_and_validation_never_raise_on_any_text(text: str, values: dict[str, str]) -> None:
    render(text, values)
    errors = template_errors(text)
    assert isinstance(errors, list)
    if "{{" not in text and "}}" not in text:
        assert errors == [] and render(text, values) == text


# -- the context ---------------------------------------------------------------------------------


def test_context_shows_times_in_the_recipients_zone_with_its_abbreviation() -> None:
    event = appointment(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))  # 10:00 in Copenhagen
    ctx = message_context(event, "Intro call", ADA, GRACE, CPH, PUBLIC)
    assert ctx["appointment.start_time"] == "Monday 8 March 2027, 10:00 CET"
    assert ctx["appointment.end_time"] == "Monday 8 March 2027, 10:30 CET"
    assert ctx["appointment.date"] == "Monday 8 March 2027"
    assert ctx["appointment.time"] == "10:00 CET"
    assert ctx["appointment.timezone"] == "Europe/Copenhagen"
    # The same appointment for a recipient in New York
    ny = message_context(event, "Intro call", ADA, GRACE, NY, PUBLIC)
    assert ny["appointment.start_time"] == "Monday 8 March 2027, 04:00 EST"
    assert ny["appointment.timezone"] == "America/New_York"


def test_context_people_links_and_appointment_fields() -> None:
    event = appointment(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    ctx = message_context(event, "Intro call", ADA, GRACE, CPH, PUBLIC)
    assert set(ctx) == PLACEHOLDERS
    assert ctx["contact.name"] == "Ada King Lovelace"
    assert (ctx["contact.first_name"], ctx["contact.last_name"]) == ("Ada", "King Lovelace")
    assert (ctx["contact.email"], ctx["contact.phone"]) == ("ada@example.com", "+4520123456")
    assert ctx["calendar.name"] == "Intro call"
    assert (ctx["host.name"], ctx["host.email"]) == ("Grace Hopper", "grace@example.com")
    assert (ctx["user.name"], ctx["user.email"]) == ("Grace Hopper", "grace@example.com")
    assert ctx["appointment.title"] == "Intro call"
    assert ctx["appointment.meeting_location"] == "https://meet.example.com/abc"
    assert ctx["appointment.reschedule_link"] == "https://book.example.com/bookings/appt-1/reschedule"
    assert ctx["appointment.cancel_link"] == "https://book.example.com/bookings/appt-1/cancel"
    assert (ctx["appointment.id"], ctx["appointment.status"]) == ("appt-1", "confirmed")


def test_context_without_people_or_optional_fields_is_empty_text() -> None:
    event = appointment(datetime(2027, 3, 8, 9, 0, tzinfo=UTC), title="", address=None, status=None)
    ctx = message_context(event, "Intro call", None, None, CPH, "http://localhost:3000")
    assert all(isinstance(v, str) for v in ctx.values())
    for name in ("contact.name", "contact.first_name", "contact.email", "host.name", "host.email"):
        assert ctx[name] == ""
    assert ctx["appointment.title"] == "Intro call"  # falls back to the calendar's name
    assert ctx["appointment.meeting_location"] == ctx["appointment.status"] == ""
    assert ctx["appointment.cancel_link"] == "http://localhost:3000/bookings/appt-1/cancel"


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        # Copenhagen leaves CET for CEST at 01:00 UTC on 28 March 2027
        (datetime(2027, 3, 28, 0, 59, tzinfo=UTC), CPH, "Sunday 28 March 2027, 01:59 CET"),
        (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), CPH, "Sunday 28 March 2027, 03:00 CEST"),
        # ... and returns on 31 October 2027: 02:30 local happens twice
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), CPH, "Sunday 31 October 2027, 02:30 CEST"),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), CPH, "Sunday 31 October 2027, 02:30 CET"),
        # New York: EST → EDT on 14 March 2027
        (datetime(2027, 3, 14, 6, 59, tzinfo=UTC), NY, "Sunday 14 March 2027, 01:59 EST"),
        (datetime(2027, 3, 14, 7, 0, tzinfo=UTC), NY, "Sunday 14 March 2027, 03:00 EDT"),
        # Zones with only a numeric abbreviation, and UTC itself
        (
            datetime(2027, 3, 8, 12, 0, tzinfo=UTC),
            ZoneInfo("America/Sao_Paulo"),
            "Monday 8 March 2027, 09:00 UTC-03:00",
        ),
        (datetime(2027, 3, 8, 12, 0, tzinfo=UTC), ZoneInfo("Asia/Kolkata"), "Monday 8 March 2027, 17:30 IST"),
        (
            datetime(2027, 3, 8, 12, 0, tzinfo=UTC),
            ZoneInfo("Asia/Kathmandu"),
            "Monday 8 March 2027, 17:45 UTC+05:45",
        ),
        (datetime(2027, 3, 8, 12, 0, tzinfo=UTC), ZoneInfo("UTC"), "Monday 8 March 2027, 12:00 UTC"),
    ],
)
def test_times_across_dst_and_odd_offsets(instant: datetime, zone: ZoneInfo, expected: str) -> None:
    assert format_instant(instant, zone) == expected


_ZONES = [
    "Europe/Copenhagen",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Tehran",
    "UTC",
]


@given(
    seconds=st.integers(min_value=0, max_value=3 * 365 * 86400).map(lambda s: s - s % 60),
    zone_name=st.sampled_from(_ZONES),
)
def test_the_shown_time_is_the_instant_in_the_recipients_zone(seconds: int, zone_name: str) -> None:
    # Whatever the instant (DST gaps and folds included), the text shows its local wall time in
    # the recipient's zone with a label that identifies the offset in force at that instant.
    instant = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    zone = ZoneInfo(zone_name)
    local = instant.astimezone(zone)
    event = appointment(instant)
    ctx = message_context(event, "C", None, None, zone, PUBLIC)
    day_text, time_text = ctx["appointment.start_time"].split(", ")
    assert day_text == ctx["appointment.date"]
    assert time_text == ctx["appointment.time"] == f"{local:%H:%M} {zone_label(local)}"
    assert day_text.endswith(f" {local.day} {local:%B} {local.year}")
    label = zone_label(local)
    if label.startswith("UTC") and label != "UTC":
        sign = -1 if label[3] == "-" else 1
        hours, minutes = int(label[4:6]), int(label[7:9])
        assert local.utcoffset() == sign * timedelta(hours=hours, minutes=minutes)


# -- defaults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NotificationType))
@pytest.mark.parametrize("channel", list(NotificationChannel))
def test_every_default_is_a_valid_template(kind: NotificationType, channel: NotificationChannel) -> None:
    subject, body = default_template(kind, channel)
    assert subject and body
    assert template_errors(subject) == template_errors(body) == []


def test_default_bodies_carry_links_except_after_the_fact() -> None:
    _, reminder = default_template(NotificationType.REMINDER, NotificationChannel.EMAIL)
    assert "{{appointment.reschedule_link}}" in reminder and "{{appointment.cancel_link}}" in reminder
    assert "{{appointment.start_time}}" in reminder
    _, cancelled = default_template(NotificationType.CANCELLATION, NotificationChannel.SMS)
    assert "reschedule_link" not in cancelled and "{{appointment.start_time}}" in cancelled
    _, followup = default_template(NotificationType.FOLLOWUP, NotificationChannel.EMAIL)
    assert "cancel_link" not in followup


def _setting(**fields: object) -> NotificationSetting:
    values: dict[str, object] = {
        "id": "n1",
        "location_id": "loc-1",
        "calendar_id": "cal-1",
        "receiver_type": NotificationReceiver.CONTACT,
        "channel": NotificationChannel.EMAIL,
        "notification_type": NotificationType.BOOKED,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return NotificationSetting.model_validate(values)


def test_a_settings_own_subject_and_body_win_over_the_defaults() -> None:
    default = default_template(NotificationType.BOOKED, NotificationChannel.EMAIL)
    assert templates_for(_setting()) == default
    assert templates_for(_setting(subject="  ", body="")) == default
    assert templates_for(_setting(subject="S {{contact.name}}")) == ("S {{contact.name}}", default[1])
    assert templates_for(_setting(body="B")) == (default[0], "B")
