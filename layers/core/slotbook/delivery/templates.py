"""Message templates: ``{{placeholder}}`` rendering, save-time validation, defaults (pure, no I/O).

Syntax: ``{{name}}`` (spaces inside the braces are allowed: ``{{ contact.name }}``). Everything
outside a placeholder is literal text; a single ``{`` or ``}`` is literal too. A template is
*valid* when :func:`template_errors` finds nothing: every ``{{`` is closed by a ``}}`` before the
next ``{{``, no ``}}`` stands alone, no placeholder is empty, and every name is one of
:data:`PLACEHOLDERS`. Notification settings are checked at save (422), so a reminder never fires
with a broken template; :func:`render` still never raises (see there).

Placeholders (all render as plain text; an unknown value renders as ``""``):

==================================  ==========================================================
``contact.name``                    the contact's full name
``contact.first_name``              its first word; ``contact.last_name`` the rest
``contact.email``, ``contact.phone``  the contact's e-mail address and E.164 phone number
``calendar.name``                   the calendar booked
``host.name``, ``host.email``       the assigned user (``user.name``, ``user.email`` are aliases,
                                    as in GoHighLevel's ``{{user.name}}`` event titles)
``appointment.title``               the appointment's title (the calendar's name when empty)
``appointment.start_time``          start in the *recipient's* zone: ``Monday 8 March 2027, 10:00 CET``
``appointment.end_time``            end, the same way
``appointment.date``                start date: ``Monday 8 March 2027``
``appointment.time``                start time only: ``10:00 CET``
``appointment.timezone``            the recipient's IANA zone (``Europe/Copenhagen``)
``appointment.meeting_location``    the appointment's address / meeting link
``appointment.reschedule_link``     ``<public url>/bookings/<appointmentId>/reschedule``
``appointment.cancel_link``         ``<public url>/bookings/<appointmentId>/cancel``
``appointment.id``                  the appointment's id
``appointment.status``              ``confirmed``, ``cancelled``, ... (``""`` when none)
==================================  ==========================================================

A zone's abbreviation is used where the tz database has one (CET, CEST, EST, GMT, UTC);
zones that only have a numeric one show ``UTC-03:00`` instead of ``-03``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slotbook.delivery.models import Person
from slotbook.domain import Event, NotificationChannel, NotificationSetting, NotificationType

PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "contact.name",
        "contact.first_name",
        "contact.last_name",
        "contact.email",
        "contact.phone",
        "calendar.name",
        "host.name",
        "host.email",
        "user.name",
        "user.email",
        "appointment.title",
        "appointment.start_time",
        "appointment.end_time",
        "appointment.date",
        "appointment.time",
        "appointment.timezone",
        "appointment.meeting_location",
        "appointment.reschedule_link",
        "appointment.cancel_link",
        "appointment.id",
        "appointment.status",
    }
)
"""Every placeholder name a template may use (see the module docstring)."""

_OPEN, _CLOSE = "{{", "}}"
_TOKEN = re.compile(r"\{\{|\}\}")
_MAX_ERRORS = 10
"""Errors reported per template (a pasted wall of braces should not produce thousands)."""

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _scan(text: str) -> tuple[list[tuple[int, int, str]], list[str]]:
    """Placeholders of ``text`` as ``(start, end, inner text)`` spans, and the syntax errors."""
    spans: list[tuple[int, int, str]] = []
    errors: list[str] = []
    opened: int | None = None
    for match in _TOKEN.finditer(text):
        token, at = match.group(), match.start()
        if token == _OPEN:
            if opened is not None:
                errors.append(f"unclosed '{{{{' at position {opened}")
            opened = at
        elif opened is None:
            errors.append(f"'}}}}' without an opening '{{{{' at position {at}")
        else:
            spans.append((opened, match.end(), text[opened + 2 : at]))
            opened = None
    if opened is not None:
        errors.append(f"unclosed '{{{{' at position {opened}")
    return spans, errors


def template_errors(text: str) -> list[str]:
    """Why ``text`` is not a valid template (empty list: it is valid). Messages name the problem
    and its position: unbalanced braces, an empty placeholder, an unknown placeholder (at most
    :data:`_MAX_ERRORS` messages, in order of appearance; syntax errors first)."""
    spans, errors = _scan(text)
    for start, _, inner in spans:
        name = inner.strip()
        if not name:
            errors.append(f"empty placeholder at position {start}")
        elif name not in PLACEHOLDERS:
            errors.append(f"unknown placeholder {{{{{name[:60]}}}}} at position {start}")
    return errors[:_MAX_ERRORS]


def render(text: str, context: Mapping[str, str], *, escape: Callable[[str], str] | None = None) -> str:
    """``text`` with each ``{{name}}`` replaced by ``context[name]`` (``""`` when missing), each
    value passed through ``escape`` when given (``html.escape`` for HTML bodies).

    Never raises: for a template that :func:`template_errors` would refuse (one saved before
    validation existed), unbalanced braces stay as literal text and unknown or empty placeholders
    render as ``""``.
    """
    spans, _ = _scan(text)
    out: list[str] = []
    last = 0
    for start, end, inner in spans:
        out.append(text[last:start])
        value = str(context.get(inner.strip(), ""))
        out.append(escape(value) if escape else value)
        last = end
    out.append(text[last:])
    return "".join(out)


# -- context --------------------------------------------------------------------------------------


def zone_label(moment: datetime) -> str:
    """The zone abbreviation of an aware local ``moment`` (``CET``, ``EDT``), or ``UTC±hh:mm`` when
    the tz database has only a numeric one (``-03``) or none."""
    name = moment.tzname()
    if name and not name.startswith(("+", "-")) and not name[0].isdigit():
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_date(moment: datetime) -> str:
    """``Monday 8 March 2027`` (English names, independent of the process locale)."""
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def format_time(moment: datetime) -> str:
    """``10:00 CET`` (24-hour clock, the zone's label)."""
    return f"{moment:%H:%M} {zone_label(moment)}"


def format_instant(instant: datetime, tz: ZoneInfo) -> str:
    """An aware instant shown in ``tz``: ``Monday 8 March 2027, 10:00 CET``."""
    local = instant.astimezone(tz)
    return f"{format_date(local)}, {format_time(local)}"


def _name_parts(name: str) -> tuple[str, str]:
    first, _, rest = name.strip().partition(" ")
    return first, rest.strip()


def message_context(
    event: Event,
    calendar_name: str,
    contact: Person | None,
    host: Person | None,
    recipient_tz: ZoneInfo,
    public_url: str,
) -> dict[str, str]:
    """The value of every placeholder of :data:`PLACEHOLDERS` for one appointment and one
    recipient: times in ``recipient_tz`` (the recipient's zone, else the location's), links under
    ``public_url`` (a trailing ``/`` is ignored). Missing people or fields give ``""``."""
    contact_name = contact.name if contact else ""
    first, last = _name_parts(contact_name)
    host_name = host.name if host else ""
    host_email = (host.email if host else None) or ""
    start = event.start.astimezone(recipient_tz)
    base = public_url.rstrip("/")
    status = event.status
    return {
        "contact.name": contact_name,
        "contact.first_name": first,
        "contact.last_name": last,
        "contact.email": (contact.email if contact else None) or "",
        "contact.phone": (contact.phone if contact else None) or "",
        "calendar.name": calendar_name,
        "host.name": host_name,
        "host.email": host_email,
        "user.name": host_name,
        "user.email": host_email,
        "appointment.title": event.title or calendar_name,
        "appointment.start_time": format_instant(event.start, recipient_tz),
        "appointment.end_time": format_instant(event.end, recipient_tz),
        "appointment.date": format_date(start),
        "appointment.time": format_time(start),
        "appointment.timezone": recipient_tz.key,
        "appointment.meeting_location": event.address or "",
        "appointment.reschedule_link": f"{base}/bookings/{event.id}/reschedule",
        "appointment.cancel_link": f"{base}/bookings/{event.id}/cancel",
        "appointment.id": event.id,
        "appointment.status": str(status.value) if status is not None else "",
    }


# -- defaults ------------------------------------------------------------------------------------

_DEFAULT_SUBJECTS: dict[NotificationType, str] = {
    NotificationType.BOOKED: "Booked: {{appointment.title}} on {{appointment.date}}",
    NotificationType.CONFIRMATION: "Confirmed: {{appointment.title}} on {{appointment.date}}",
    NotificationType.CANCELLATION: "Cancelled: {{appointment.title}} on {{appointment.date}}",
    NotificationType.RESCHEDULE: "Rescheduled: {{appointment.title}} is now on {{appointment.date}}",
    NotificationType.REMINDER: "Reminder: {{appointment.title}} at {{appointment.start_time}}",
    NotificationType.FOLLOWUP: "Thank you for attending {{appointment.title}}",
}

_LEADS: dict[NotificationType, str] = {
    NotificationType.BOOKED: "{{appointment.title}} is booked",
    NotificationType.CONFIRMATION: "{{appointment.title}} is confirmed",
    NotificationType.CANCELLATION: "{{appointment.title}} has been cancelled",
    NotificationType.RESCHEDULE: "{{appointment.title}} has been moved",
    NotificationType.REMINDER: "Reminder: {{appointment.title}} is coming up",
    NotificationType.FOLLOWUP: "Thank you for attending {{appointment.title}}",
}

_WHEN = "{{appointment.start_time}} - {{appointment.end_time}}"


def _default_email_body(kind: NotificationType) -> str:
    lines = ["Hello {{contact.first_name}},", "", _LEADS[kind] + ".", "", "When: " + _WHEN]
    if kind is not NotificationType.FOLLOWUP:
        lines += ["Where: {{appointment.meeting_location}}", "With: {{host.name}}"]
    if kind not in (NotificationType.CANCELLATION, NotificationType.FOLLOWUP):
        lines += [
            "",
            "Need to change it? Reschedule: {{appointment.reschedule_link}}",
            "Cancel: {{appointment.cancel_link}}",
        ]
    return "\n".join(lines)


def _default_short_body(kind: NotificationType) -> str:
    if kind is NotificationType.FOLLOWUP:
        return _LEADS[kind] + "."
    text = f"{_LEADS[kind]}: {{{{appointment.start_time}}}}."
    if kind not in (NotificationType.CANCELLATION,):
        text += " Reschedule: {{appointment.reschedule_link}}"
    return text


def default_template(kind: NotificationType, channel: NotificationChannel) -> tuple[str, str]:
    """``(subject, body)`` used when a setting has none: a subject and a plain-text letter for
    e-mail; a one-line body (and the same subject, for in-app titles) for SMS, WhatsApp and in-app.
    Every default is a valid template."""
    subject = _DEFAULT_SUBJECTS[kind]
    if channel is NotificationChannel.EMAIL:
        return subject, _default_email_body(kind)
    return subject, _default_short_body(kind)


def templates_for(setting: NotificationSetting) -> tuple[str, str]:
    """The ``(subject, body)`` a notification setting sends: its own where set (not blank), else
    :func:`default_template` for its type and channel."""
    default_subject, default_body = default_template(setting.notification_type, setting.channel)
    subject, body = setting.subject, setting.body
    return (
        subject if subject and subject.strip() else default_subject,
        body if body and body.strip() else default_body,
    )
