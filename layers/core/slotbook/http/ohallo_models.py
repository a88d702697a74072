"""oHallo request models and response shaping (reference/seeds/000, 001, field for field).

Requests: unknown fields are refused (400 ``unknown field 'x'``), and every rule the seed states
is checked here, naming the field in the request's own spelling:

* ``bookingConfig.workingHours``: keys are weekday names (``monday`` … ``sunday``); each day is
  ``{"start": "HH:mm", "end": "HH:mm"}`` with ``HH:mm`` matching ``^([01]\\d|2[0-3]):[0-5]\\d$``
  (``end`` may also be ``24:00``, the end of the day) and ``start < end``;
* ``bookingConfig.bufferMinutes``: integer, ``0 <= n <= 1440``;
* ``bookingConfig.timezone`` and a booking's ``timezone``: IANA names (tz database);
* ``bookingConfig.blockedDates``: ``YYYY-MM-DD`` calendar dates;
* ``startTime``/``endTime`` of bookings: ISO 8601 date-times *with* an offset or ``Z``.

Responses: instants as the seed writes them, UTC with milliseconds
(``2026-03-20T10:00:00.000Z``); optional strings the caller did not give are ``null``, never
omitted. A connection carries the seed's fields plus ``status``, ``accountEmail`` and ``userId``
(what a client needs to offer re-authorisation); no storage key ever appears.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from slotbook.domain import WEEKDAY_NAMES, BookingConfig, Connection, Event, WorkingHours
from slotbook.errors import InvalidRequest
from slotbook.services.connections import MAX_BLOCKED_DATES, BookingInput, ConnectionChanges
from slotbook.timeutil import EARLIEST, LATEST, is_zone, iso_utc_ms, parse_instant, zone

MAX_TEXT = 2000
"""Longest free-text value accepted (titles, names)."""
MAX_BUFFER_MINUTES = 24 * 60

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OFFSET = re.compile(r"(Z|z|[+-]\d{2}:?\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_UTC = zone("UTC")

Id = Annotated[str, Field(min_length=1, max_length=128)]
"""An id (workspace, connection, booking, user, contact, ...): bounded for DynamoDB keys."""
OptText = Annotated[str | None, Field(default=None, max_length=MAX_TEXT)]
Provider = Literal["google", "microsoft"]


class Body(BaseModel):
    """Base of every oHallo request body: unknown fields, infinities and oversized text refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=MAX_TEXT)


# -- field validators -------------------------------------------------------------------------


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("must be a time HH:mm (00:00-23:59)")
    return value


def _hhmm_end(value: str) -> str:
    if value != "24:00" and not _HHMM.match(value):
        raise ValueError("must be a time HH:mm (00:01-24:00)")
    return value


def _iana(value: str) -> str:
    if not is_zone(value):
        raise ValueError("must be a valid IANA time zone")
    return value


def _calendar_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None


def _instant(value: Any) -> datetime:
    """ISO 8601 with an offset or ``Z`` → aware UTC datetime (``ValueError`` otherwise)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not _OFFSET.search(value.strip()):
        raise ValueError("must be an ISO 8601 date-time with an offset or Z (e.g. 2026-03-20T10:00:00Z)")
    try:
        return parse_instant(value, _UTC, "")
    except InvalidRequest as exc:
        raise ValueError(exc.message.strip()) from None


def _email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError("must be an email address")
    return value


HHMM = Annotated[str, AfterValidator(_hhmm)]
HHMMEnd = Annotated[str, AfterValidator(_hhmm_end)]
Zone = Annotated[str, AfterValidator(_iana)]
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
Instant = Annotated[datetime, BeforeValidator(_instant)]


# -- calendar connections ---------------------------------------------------------------------


class WorkingHoursIn(Body):
    """One weekday's open span (seed: ``{"start": "09:00", "end": "17:00"}``)."""

    start: HHMM
    end: HHMMEnd

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("must be after start")
        return end


def _weekdays(hours: dict[str, WorkingHoursIn]) -> dict[str, WorkingHoursIn]:
    unknown = sorted(set(hours) - set(WEEKDAY_NAMES))
    if unknown:
        raise ValueError(f"has unknown weekday {unknown[0]!r} (use monday ... sunday)")
    return hours


class BookingConfigIn(Body):
    """``bookingConfig`` of a PATCH: every key optional; a key sent replaces the stored one."""

    workingHours: Annotated[dict[str, WorkingHoursIn], AfterValidator(_weekdays)] | None = None
    bufferMinutes: Annotated[int, Field(strict=True, ge=0, le=MAX_BUFFER_MINUTES)] | None = None
    timezone: Zone | None = None
    blockedDates: Annotated[list[CalendarDate], Field(max_length=MAX_BLOCKED_DATES)] | None = None

    @field_validator("workingHours", "bufferMinutes", "timezone", "blockedDates", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The service's ``ConnectionChanges.booking_config``: only the keys sent, domain-typed."""
        out: dict[str, Any] = {}
        sent = self.model_fields_set
        if "workingHours" in sent and self.workingHours is not None:
            out["working_hours"] = {
                day: WorkingHours(start=span.start, end=span.end)
                for day in WEEKDAY_NAMES
                if (span := self.workingHours.get(day)) is not None
            }
        if "bufferMinutes" in sent:
            out["buffer_minutes"] = self.bufferMinutes
        if "timezone" in sent:
            out["timezone"] = self.timezone
        if "blockedDates" in sent and self.blockedDates is not None:
            out["blocked_dates"] = sorted(set(self.blockedDates))
        return out


class ConnectionPatch(Body):
    """``PATCH /api/calendar-connections/{connectionId}``: only the fields sent change;
    ``calendarId: null`` unlinks the selected calendar; other fields may not be null."""

    displayName: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    calendarId: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    bookingConfig: BookingConfigIn | None = None
    enabled: Annotated[bool, Field(strict=True)] | None = None

    @field_validator("displayName", "bookingConfig", "enabled", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value

    @field_validator("displayName")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value.strip() if value is not None else None

    def changes(self) -> ConnectionChanges:
        """The fields sent, as the service's :class:`ConnectionChanges`."""
        sent = self.model_fields_set
        fields: set[str] = set()
        if "displayName" in sent:
            fields.add("display_name")
        if "calendarId" in sent:
            fields.add("calendar_id")
        if "bookingConfig" in sent:
            fields.add("booking_config")
        if "enabled" in sent:
            fields.add("enabled")
        return ConnectionChanges(
            fields=frozenset(fields),
            display_name=self.displayName,
            calendar_id=self.calendarId,
            booking_config=self.bookingConfig.changes() if self.bookingConfig is not None else None,
            enabled=self.enabled,
        )


class AuthorizationRequest(Body):
    """Optional body of ``POST .../calendar-connections/oauth/{provider}``: ``connectionId``
    re-authorises that connection; ``userId`` links the new one to a team member."""

    userId: Id | None = None
    connectionId: Id | None = None
    displayName: Annotated[str, Field(min_length=1, max_length=200)] | None = None


def booking_config_dto(config: BookingConfig | None) -> dict[str, Any] | None:
    """Seed ``bookingConfig``: ``workingHours`` in weekday order, dates ``YYYY-MM-DD``."""
    if config is None:
        return None
    return {
        "workingHours": {
            day: {"start": config.working_hours[day].start, "end": config.working_hours[day].end}
            for day in WEEKDAY_NAMES
            if day in config.working_hours
        },
        "bufferMinutes": config.buffer_minutes,
        "timezone": config.timezone,
        "blockedDates": [d.isoformat() for d in sorted(config.blocked_dates)],
    }


def connection_dto(connection: Connection) -> dict[str, Any]:
    """The seed's calendar connection, plus ``status``, ``accountEmail`` and ``userId``."""
    return {
        "id": connection.id,
        "workspaceId": connection.location_id,
        "provider": connection.provider.value,
        "displayName": connection.display_name,
        "calendarId": connection.calendar_id,
        "enabled": connection.enabled,
        "bookingConfig": booking_config_dto(connection.booking_config),
        "status": connection.status.value,
        "accountEmail": connection.account_email,
        "userId": connection.user_id,
        "createdAt": iso_utc_ms(connection.created_at),
        "updatedAt": iso_utc_ms(connection.updated_at),
    }


def calendar_dto(calendar: Any) -> dict[str, Any]:
    """A calendar of the connected account (seed: ``calendarId``, ``name``, ``primary``)."""
    return {"calendarId": calendar.calendar_id, "name": calendar.name, "primary": bool(calendar.primary)}


def range_bound(value: str, tz: ZoneInfo, field: str, *, end: bool = False) -> datetime:
    """A free-slots ``startDate``/``endDate``: ``YYYY-MM-DD`` is local midnight in ``tz`` (an
    ``endDate`` day is included: its bound is the last second before the next midnight, as the
    service's range includes its end); anything else is an ISO 8601 instant (local in ``tz``
    without an offset). Raises InvalidRequest naming ``field``."""
    text = value.strip()
    if not _DATE.match(text):
        return parse_instant(text, tz, field)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a date YYYY-MM-DD or an ISO 8601 date-time") from None
    if not EARLIEST.year < day.year < LATEST.year:
        raise InvalidRequest(f"{field} is out of range")
    if end:
        # A midnight the clocks skip maps to the first instant of the day (zoneinfo, fold=0).
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC) - timedelta(
            seconds=1
        )
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def slot_dto(slot: tuple[datetime, datetime]) -> dict[str, str]:
    """A free slot: ``{"startTime", "endTime"}``, UTC with milliseconds like the seed."""
    start, end = slot
    return {"startTime": iso_utc_ms(start), "endTime": iso_utc_ms(end)}


# -- bookings ---------------------------------------------------------------------------------


class BookingCreate(Body):
    """``POST /api/workspaces/{workspaceId}/bookings``: a booking on a connection's free slot.
    Without ``endTime`` the booking lasts 30 minutes."""

    calendarConnectionId: Id
    startTime: Instant
    endTime: Instant | None = None
    title: OptText = None
    contactId: Id | None = None
    contactName: OptText = None
    contactEmail: Annotated[str | None, Field(max_length=320), AfterValidator(_email)] = None
    conversationId: Id | None = None
    timezone: Zone | None = None

    @field_validator("endTime")
    @classmethod
    def _after_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("startTime")
        if end is not None and start is not None and end <= start:
            raise ValueError("must be after startTime")
        return end

    def to_input(self) -> BookingInput:
        """The service's :class:`BookingInput` (aware UTC instants)."""
        return BookingInput(
            connection_id=self.calendarConnectionId,
            start=self.startTime,
            end=self.endTime,
            title=self.title,
            contact_id=self.contactId,
            contact_name=self.contactName,
            contact_email=self.contactEmail,
            conversation_id=self.conversationId,
            timezone=self.timezone,
        )


class BookingReschedule(Body):
    """``PATCH /api/bookings/{bookingId}``: move it (same length when ``endTime`` is absent)."""

    startTime: Instant
    endTime: Instant | None = None

    @field_validator("endTime")
    @classmethod
    def _after_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("startTime")
        if end is not None and start is not None and end <= start:
            raise ValueError("must be after startTime")
        return end


def booking_dto(event: Event) -> dict[str, Any]:
    """The seed's booking (``status`` is the appointment status: confirmed, cancelled, ...)."""
    return {
        "id": event.id,
        "calendarConnectionId": event.connection_id,
        "conversationId": event.conversation_id,
        "contactId": event.contact_id,
        "contactName": event.contact_name,
        "contactEmail": event.contact_email,
        "title": event.title or None,
        "startTime": iso_utc_ms(event.start),
        "endTime": iso_utc_ms(event.end),
        "timezone": event.timezone,
        "status": event.status.value if event.status is not None else None,
        "createdAt": iso_utc_ms(event.created_at),
    }
