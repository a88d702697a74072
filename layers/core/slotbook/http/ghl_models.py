"""GoHighLevel Calendars API models (request bodies) and response shaping.

Field names, types and enums follow ``reference/ghl-calendars-v3.openapi.json`` (copied into
``tests/reference/``) field for field: ``CalendarCreateDTO``, ``CalendarUpdateDTO``,
``AppointmentCreateSchema``, ``AppointmentEditSchema``, ``BlockSlotCreateRequestDTO`` and the
response DTOs. Unknown body fields are rejected (422), as the reference API does.

Translation rules between this dialect and the domain:

* ``daysOfTheWeek``: 0 = Sunday … 6 = Saturday here, 0 = Monday in the domain.
* ``openHours`` hours are ``openHour:openMinute`` → ``closeHour:closeMinute``; a close of
  ``0:00`` means midnight at the end of the day; minute 60 rolls into the next hour.
* ``availabilities[].date`` is ``<YYYY-MM-DD local>T00:00:00.000Z`` (reference wording).
* Times in responses are ISO 8601 with the location's offset.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slotbook import recurrence
from slotbook.domain import (
    Amount,
    AppointmentStatus,
    Calendar,
    CalendarType,
    DateOverride,
    Event,
    RoundRobinStrategy,
    Span,
    TeamMember,
    WeeklyRule,
)
from slotbook.ids import new_id
from slotbook.timeutil import iso_local

SlotUnit = Literal["mins", "hours"]
NoticeUnit = Literal["hours", "days", "weeks", "months", "mins"]
HorizonUnit = Literal["days", "weeks", "months"]
LocationKind = Literal[
    "custom",
    "zoom_conference",
    "google_conference",
    "inbound_call",
    "outbound_call",
    "physical",
    "booker",
    "ms_teams_conference",
]
MeetingLocationType = Literal["custom", "zoom", "gmeet", "phone", "address", "ms_teams", "google"]


MAX_TEXT = 2000
"""Longest free-text value accepted (titles, descriptions, URLs, ...)."""
Id = Annotated[str, Field(min_length=1, max_length=128)]
"""An id (location, calendar, user, contact, ...): bounded so keys stay within DynamoDB limits."""
OptId = Annotated[str | None, Field(default=None, max_length=128)]


class Body(BaseModel):
    """Base of every request body: unknown fields, infinities and oversized text are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=MAX_TEXT)


class CalendarNotification(Body):
    type: Literal["email"] = "email"
    shouldSendToContact: bool
    shouldSendToGuest: bool
    shouldSendToUser: bool
    shouldSendToSelectedUsers: bool
    selectedUsers: str


class LocationConfiguration(Body):
    kind: LocationKind
    location: str | None = None


class TeamMemberIn(Body):
    userId: Id
    priority: Literal[0, 0.5, 1] = 0.5
    meetingLocationType: Literal["custom", "zoom", "gmeet", "phone", "address", "teams", "booker"] | None = (
        None
    )
    meetingLocation: str | None = None
    isPrimary: bool | None = None
    locationConfigurations: list[LocationConfiguration] | None = Field(default=None, max_length=20)


class Hour(Body):
    openHour: int = Field(ge=0, le=23)
    openMinute: int = Field(ge=0, le=60)
    closeHour: int = Field(ge=0, le=23)
    closeMinute: int = Field(ge=0, le=60)


class OpenHour(Body):
    daysOfTheWeek: list[int] = Field(min_length=1, max_length=7)
    hours: list[Hour] = Field(max_length=12)

    def model_post_init(self, _: Any) -> None:
        for day in self.daysOfTheWeek:
            if not 0 <= day <= 6:
                raise ValueError("daysOfTheWeek values must be between 0 and 6")


class Availability(Body):
    date: str
    hours: list[Hour] = Field(max_length=12)
    deleted: bool = False
    id: OptId

    @field_validator("date")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
        """``<YYYY-MM-DD local>T00:00:00.000Z`` (or just the date), naming a real day."""
        try:
            date.fromisoformat(value[:10])
        except ValueError as exc:
            raise ValueError("date must start with a valid YYYY-MM-DD") from exc
        return value


class Recurring(Body):
    freq: Literal["DAILY", "WEEKLY", "MONTHLY"] | None = None
    count: int | None = Field(default=None, le=24)
    bookingOption: Literal["skip", "continue", "book_next"] | None = None
    bookingOverlapDefaultStatus: Literal["confirmed", "new"] | None = None


class LookBusyConfiguration(Body):
    enabled: bool = False
    LookBusyPercentage: float = Field(ge=0, le=100)


class _CalendarFields(Body):
    """Fields shared by CalendarCreateDTO and CalendarUpdateDTO (all optional here)."""

    notifications: list[CalendarNotification] | None = Field(default=None, max_length=20)
    groupId: OptId
    teamMembers: list[TeamMemberIn] | None = Field(default=None, max_length=30)
    eventType: RoundRobinStrategy | None = None
    name: str | None = None
    description: str | None = None
    slug: str | None = None
    widgetSlug: str | None = None
    widgetType: Literal["default", "classic"] | None = None
    eventTitle: str | None = None
    eventColor: str | None = None
    meetingLocation: str | None = None
    locationConfigurations: list[LocationConfiguration] | None = Field(default=None, max_length=20)
    slotDuration: float | None = Field(default=None, gt=0, le=1440)
    slotDurationUnit: SlotUnit | None = None
    slotInterval: float | None = Field(default=None, gt=0, le=1440)
    slotIntervalUnit: SlotUnit | None = None
    slotBuffer: float | None = Field(default=None, ge=0, le=1440)
    slotBufferUnit: SlotUnit | None = None
    preBuffer: float | None = Field(default=None, ge=0, le=1440)
    preBufferUnit: SlotUnit | None = None
    appoinmentPerSlot: int | None = Field(default=None, ge=1, le=10000)
    appoinmentPerDay: int | None = Field(default=None, ge=1, le=10000)
    allowBookingAfter: float | None = Field(default=None, ge=0, le=3650)
    allowBookingAfterUnit: NoticeUnit | None = None
    allowBookingFor: float | None = Field(default=None, ge=0, le=3650)
    allowBookingForUnit: HorizonUnit | None = None
    openHours: list[OpenHour] | None = Field(default=None, max_length=50)
    enableRecurring: bool | None = None
    recurring: Recurring | None = None
    formId: str | None = None
    stickyContact: bool | None = None
    isLivePaymentMode: bool | None = None
    autoConfirm: bool | None = None
    shouldSendAlertEmailsToAssignedMember: bool | None = None
    alertEmail: str | None = None
    googleInvitationEmails: bool | None = None
    allowReschedule: bool | None = None
    allowCancellation: bool | None = None
    shouldAssignContactToTeamMember: bool | None = None
    shouldSkipAssigningContactForExisting: bool | None = None
    notes: str | None = None
    pixelId: str | None = None
    formSubmitType: Literal["RedirectURL", "ThankYouMessage"] | None = None
    formSubmitRedirectURL: str | None = None
    formSubmitThanksMessage: str | None = None
    availabilityType: Literal[0, 1] | None = None
    availabilities: list[Availability] | None = Field(default=None, max_length=200)
    guestType: Literal["count_only", "collect_detail"] | None = None
    consentLabel: str | None = None
    calendarCoverImage: str | None = None
    lookBusyConfig: LookBusyConfiguration | None = None
    isActive: bool | None = None


class CalendarCreateDTO(_CalendarFields):
    locationId: Id
    name: str = Field(min_length=1)  # type: ignore[assignment]
    calendarType: CalendarType | None = None


class CalendarUpdateDTO(_CalendarFields):
    pass


class AppointmentCreateSchema(Body):
    title: str | None = None
    meetingLocationType: MeetingLocationType | None = None
    meetingLocationId: str | None = None
    overrideLocationConfig: bool | None = None
    appointmentStatus: AppointmentStatus | None = None
    assignedUserId: OptId
    description: str | None = None
    address: str | None = None
    ignoreDateRange: bool | None = None
    toNotify: bool | None = None
    ignoreFreeSlotValidation: bool | None = None
    rrule: str | None = Field(default=None, max_length=recurrence.MAX_TEXT_LENGTH)  # EXDATE lines
    calendarId: Id
    locationId: Id
    contactId: Id
    startTime: str = Field(min_length=1, max_length=64)
    endTime: str | None = Field(default=None, max_length=64)


class AppointmentEditSchema(Body):
    title: str | None = None
    meetingLocationType: MeetingLocationType | None = None
    meetingLocationId: str | None = None
    overrideLocationConfig: bool | None = None
    appointmentStatus: AppointmentStatus | None = None
    assignedUserId: OptId
    description: str | None = None
    address: str | None = None
    ignoreDateRange: bool | None = None
    toNotify: bool | None = None
    ignoreFreeSlotValidation: bool | None = None
    rrule: str | None = Field(default=None, max_length=recurrence.MAX_TEXT_LENGTH)  # EXDATE lines
    calendarId: OptId
    startTime: str | None = Field(default=None, max_length=64)
    endTime: str | None = Field(default=None, max_length=64)


class BlockSlotRequestDTO(Body):
    """``BlockSlotCreateRequestDTO`` / ``BlockSlotEditRequestDTO``: exactly one of
    ``calendarId`` and ``assignedUserId`` (the reference prose; its schema marks calendarId
    required, which the prose contradicts)."""

    title: str | None = None
    calendarId: OptId
    assignedUserId: OptId
    locationId: Id
    startTime: str = Field(min_length=1, max_length=64)
    endTime: str = Field(min_length=1, max_length=64)


# Presentation fields stored verbatim in Calendar.attributes, with the reference's defaults.
_ATTRIBUTE_DEFAULTS: dict[str, Any] = {
    "widgetType": "classic",
    "eventTitle": "{{contact.name}}",
    "eventColor": "#039be5",
    "enableRecurring": False,
    "autoConfirm": True,
    "googleInvitationEmails": False,
    "allowReschedule": True,
    "allowCancellation": True,
    "formSubmitType": "ThankYouMessage",
}
_SCHEDULING_FIELDS = frozenset(
    {
        "locationId",
        "name",
        "calendarType",
        "eventType",
        "teamMembers",
        "groupId",
        "isActive",
        "slotDuration",
        "slotDurationUnit",
        "slotInterval",
        "slotIntervalUnit",
        "slotBuffer",
        "slotBufferUnit",
        "preBuffer",
        "preBufferUnit",
        "appoinmentPerSlot",
        "appoinmentPerDay",
        "allowBookingAfter",
        "allowBookingAfterUnit",
        "allowBookingFor",
        "allowBookingForUnit",
        "openHours",
        "availabilities",
    }
)


def _minutes(hour: int, minute: int) -> int:
    return hour * 60 + minute


def _spans(hours: list[Hour]) -> list[Span]:
    spans = []
    for h in hours:
        close = _minutes(h.closeHour, h.closeMinute) or 1440
        spans.append(Span(open=_minutes(h.openHour, h.openMinute), close=close))
    return spans


def _hours(spans: list[Span]) -> list[dict[str, int]]:
    out = []
    for s in spans:
        close = 0 if s.close == 1440 else s.close
        out.append(
            {
                "openHour": s.open // 60,
                "openMinute": s.open % 60,
                "closeHour": close // 60,
                "closeMinute": close % 60,
            }
        )
    return out


def _override_date(text: str) -> date:
    """``2026-03-20T00:00:00.000Z`` or ``2026-03-20`` → the local date it names."""
    return date.fromisoformat(text[:10])


def _amount(
    value: float | None, unit: str | None, default_unit: str, current: Amount | None
) -> Amount | None:
    if value is None:
        if unit is not None and current is not None:
            return Amount(value=current.value, unit=unit)
        return current
    return Amount(value=value, unit=unit or (current.unit if current else default_unit))


def apply_calendar_body(body: _CalendarFields, calendar: Calendar) -> Calendar:
    """Merge the fields a create or update body *sent* into ``calendar`` (others unchanged)."""
    sent = body.model_fields_set
    data = body.model_dump(exclude_unset=True, mode="json")
    update: dict[str, Any] = {}
    if "name" in sent and body.name is not None:
        update["name"] = body.name
    if "calendarType" in sent and getattr(body, "calendarType", None) is not None:
        update["calendar_type"] = body.calendarType  # type: ignore[attr-defined]
    if "eventType" in sent and body.eventType is not None:
        update["event_type"] = body.eventType
    if "groupId" in sent:
        update["group_id"] = body.groupId or None
    if "isActive" in sent and body.isActive is not None:
        update["is_active"] = body.isActive
    if "teamMembers" in sent:
        update["team_members"] = [
            TeamMember(
                user_id=m.userId,
                priority=m.priority,
                is_primary=m.isPrimary,
                extra=m.model_dump(
                    exclude_none=True, mode="json", exclude={"userId", "priority", "isPrimary"}
                ),
            )
            for m in body.teamMembers or []
        ]
    for name, value, unit, default_unit, attr in (
        ("slotDuration", body.slotDuration, body.slotDurationUnit, "mins", "slot_duration"),
        ("slotInterval", body.slotInterval, body.slotIntervalUnit, "mins", "slot_interval"),
        ("preBuffer", body.preBuffer, body.preBufferUnit, "mins", "pre_buffer"),
        ("slotBuffer", body.slotBuffer, body.slotBufferUnit, "mins", "post_buffer"),
        ("allowBookingAfter", body.allowBookingAfter, body.allowBookingAfterUnit, "days", "notice"),
        ("allowBookingFor", body.allowBookingFor, body.allowBookingForUnit, "days", "horizon"),
    ):
        if name in sent or f"{name}Unit" in sent:
            update[attr] = _amount(value, unit, default_unit, getattr(calendar, attr))
    if "appoinmentPerSlot" in sent and body.appoinmentPerSlot is not None:
        update["seats_per_slot"] = body.appoinmentPerSlot
    if "appoinmentPerDay" in sent:
        update["per_day_limit"] = body.appoinmentPerDay
    if "openHours" in sent:
        update["weekly"] = [
            WeeklyRule(days=sorted({(d + 6) % 7 for d in rule.daysOfTheWeek}), spans=_spans(rule.hours))
            for rule in body.openHours or []
        ]
    if "availabilities" in sent:
        update["date_overrides"] = _merge_overrides(calendar.date_overrides, body.availabilities or [])
    attributes = dict(calendar.attributes)
    for key, value in data.items():
        if key not in _SCHEDULING_FIELDS:
            attributes[key] = value
    update["attributes"] = attributes
    return calendar.model_copy(update=update)


def _merge_overrides(current: list[DateOverride], sent: list[Availability]) -> list[DateOverride]:
    """Upsert date overrides by id (or by date), removing those sent with ``deleted: true``."""
    by_id = {o.id: o for o in current}
    for a in sent:
        day = _override_date(a.date)
        existing = by_id.get(a.id) if a.id else next((o for o in by_id.values() if o.date == day), None)
        if a.deleted:
            if existing is not None:
                by_id.pop(existing.id, None)
            continue
        override_id = existing.id if existing else (a.id or new_id())
        by_id[override_id] = DateOverride(id=override_id, date=day, spans=_spans(a.hours))
    return sorted(by_id.values(), key=lambda o: o.date)


def new_calendar_attributes() -> dict[str, Any]:
    return dict(_ATTRIBUTE_DEFAULTS)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def calendar_dto(calendar: Calendar) -> dict[str, Any]:
    """The reference's ``CalendarDTO`` for a domain calendar."""
    out: dict[str, Any] = dict(calendar.attributes)
    out.update(
        id=calendar.id,
        locationId=calendar.location_id,
        name=calendar.name,
        calendarType=calendar.calendar_type.value,
        eventType=calendar.event_type.value,
        isActive=calendar.is_active,
        teamMembers=[
            {
                **m.extra,
                "userId": m.user_id,
                "priority": _num(m.priority),
                **({"isPrimary": m.is_primary} if m.is_primary is not None else {}),
            }
            for m in calendar.team_members
        ],
        slotDuration=_num(calendar.slot_duration.value),
        slotDurationUnit=calendar.slot_duration.unit,
        slotInterval=_num(calendar.slot_interval.value),
        slotIntervalUnit=calendar.slot_interval.unit,
        appoinmentPerSlot=calendar.seats_per_slot,
        openHours=[
            {"daysOfTheWeek": sorted((d + 1) % 7 for d in rule.days), "hours": _hours(rule.spans)}
            for rule in calendar.weekly
        ],
        availabilities=[
            {
                "id": o.id,
                "date": f"{o.date.isoformat()}T00:00:00.000Z",
                "hours": _hours(o.spans),
                "deleted": False,
            }
            for o in calendar.date_overrides
        ],
    )
    if calendar.group_id:
        out["groupId"] = calendar.group_id
    for key, amount in (
        ("preBuffer", calendar.pre_buffer),
        ("slotBuffer", calendar.post_buffer),
        ("allowBookingAfter", calendar.notice),
        ("allowBookingFor", calendar.horizon),
    ):
        if amount is not None:
            out[key] = _num(amount.value)
            out[f"{key}Unit"] = amount.unit
    if calendar.per_day_limit is not None:
        out["appoinmentPerDay"] = calendar.per_day_limit
    return out


def appointment_dto(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    """The reference's ``AppointmentSchemaResponse`` (create / update appointment)."""
    return {
        "id": event.id,
        "calendarId": event.calendar_id or "",
        "locationId": event.location_id,
        "contactId": event.contact_id or "",
        "startTime": iso_local(event.start, tz),
        "endTime": iso_local(event.end, tz),
        "title": event.title,
        "meetingLocationType": event.meeting_location_type or "default",
        "appointmentStatus": event.status.value if event.status else "confirmed",
        "assignedUserId": event.assigned_user_id or "",
        "address": event.address or "",
        "isRecurring": _is_recurring(event),
        "dateAdded": iso_local(event.created_at, tz),
        "dateUpdated": iso_local(event.updated_at, tz),
        **({"rrule": recurrence.with_exdates(event.rrule, event.exdates)} if event.rrule else {}),
    }


def event_dto(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    """The reference's ``CalendarEventDTO`` (get appointment, list events and blocked slots).
    String fields the reference requires but an event lacks (a block slot's contact) are ``""``."""
    out: dict[str, Any] = {
        "id": event.id,
        "title": event.title,
        "calendarId": event.calendar_id or "",
        "locationId": event.location_id,
        "contactId": event.contact_id or "",
        "groupId": event.group_id or "",
        "appointmentStatus": event.status.value if event.status else "",
        "assignedUserId": event.assigned_user_id or "",
        "users": list(event.hosts),
        "isRecurring": _is_recurring(event),
        "deleted": False,
        "startTime": iso_local(event.start, tz),
        "endTime": iso_local(event.end, tz),
        "dateAdded": iso_local(event.created_at, tz),
        "dateUpdated": iso_local(event.updated_at, tz),
        "createdBy": {"source": "api"},
    }
    if event.address:
        out["address"] = event.address
    if event.description:
        out["description"] = event.description
    if event.resources:
        out["assignedResources"] = list(event.resources)  # rooms and equipments it occupies
    if event.rrule:
        out["rrule"] = recurrence.with_exdates(event.rrule, event.exdates)
    if event.master_id:
        out["masterEventId"] = event.master_id
    return out


def _is_recurring(event: Event) -> bool:
    """A series master, one of its expanded occurrences, or a detached occurrence."""
    return event.rrule is not None or event.master_id is not None


def block_slot_dto(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    """The reference's ``BlockedSlotSuccessfulResponseDto``."""
    out: dict[str, Any] = {
        "id": event.id,
        "locationId": event.location_id,
        "title": event.title,
        "startTime": iso_local(event.start, tz),
        "endTime": iso_local(event.end, tz),
    }
    if event.calendar_id:
        out["calendarId"] = event.calendar_id
    if event.assigned_user_id:
        out["assignedUserId"] = event.assigned_user_id
    return out
