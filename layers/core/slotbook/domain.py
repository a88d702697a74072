"""Domain models: what Slotbook knows, independent of any HTTP dialect or storage layout.

Dialect models (``slotbook.http.ghl_models``) translate to and from these; the store
(``slotbook.store``) persists them. Instants are aware UTC datetimes. Weekdays are
``0 = Monday … 6 = Sunday`` (dialects translate their own conventions).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from slotbook.availability import OpenHours
from slotbook.timeutil import unit_seconds, zone


class DomainModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Location(DomainModel):
    """The tenant. GoHighLevel calls it a location, oHallo a workspace."""

    id: str
    name: str
    timezone: str
    created_at: datetime


class ApiKey(DomainModel):
    """An API key's public record. The token itself is never stored, only its hash."""

    id: str
    location_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    location_timezone: str = "UTC"
    """The location's zone, copied at creation (a location's zone never changes), so every
    request knows it from the key alone."""


class Principal(DomainModel):
    """Who is calling: the location a token belongs to and the scopes it carries."""

    location_id: str
    key_id: str
    scopes: frozenset[str]
    timezone: str = "UTC"


class CalendarType(StrEnum):
    EVENT = "event"
    PERSONAL = "personal"
    ROUND_ROBIN = "round_robin"
    COLLECTIVE = "collective"
    CLASS_BOOKING = "class_booking"
    SERVICE_BOOKING = "service_booking"


class RoundRobinStrategy(StrEnum):
    """GoHighLevel ``eventType``."""

    OPTIMIZE_FOR_AVAILABILITY = "RoundRobin_OptimizeForAvailability"
    OPTIMIZE_FOR_EQUAL_DISTRIBUTION = "RoundRobin_OptimizeForEqualDistribution"


class Amount(DomainModel):
    """A length with its unit as the client gave it (``mins|hours|days|weeks|months``)."""

    value: float
    unit: str

    def seconds(self) -> int:
        return unit_seconds(self.value, self.unit)


class Span(DomainModel):
    """Open time of one day: minutes after local midnight, ``0 <= open < close <= 1440``."""

    open: int = Field(ge=0, le=1440)
    close: int = Field(ge=0, le=1440)


class WeeklyRule(DomainModel):
    """Opening hours for a set of weekdays (0 = Monday)."""

    days: list[int]
    spans: list[Span]


class DateOverride(DomainModel):
    """Hours for one local date, replacing the weekly rule; no spans = closed that day."""

    id: str
    date: date
    spans: list[Span]


class TeamMember(DomainModel):
    """A host of a calendar. ``priority`` 1 high, 0.5 medium, 0 low (round robin)."""

    user_id: str
    priority: float = 0.5
    is_primary: bool | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Calendar(DomainModel):
    """A bookable calendar and its availability rules.

    Durations are :class:`Amount` (value + unit) exactly as configured; :meth:`open_hours` and
    the ``*_seconds`` helpers turn them into engine inputs. ``attributes`` carries the
    presentation fields (widget, form, colours, ...) that do not affect scheduling.
    """

    id: str
    location_id: str
    name: str
    calendar_type: CalendarType = CalendarType.EVENT
    event_type: RoundRobinStrategy = RoundRobinStrategy.OPTIMIZE_FOR_AVAILABILITY
    team_members: list[TeamMember] = Field(default_factory=list)
    group_id: str | None = None
    is_active: bool = True
    slot_duration: Amount = Amount(value=30, unit="mins")
    slot_interval: Amount = Amount(value=30, unit="mins")
    pre_buffer: Amount | None = None
    post_buffer: Amount | None = None
    seats_per_slot: int = 1
    per_day_limit: int | None = None
    notice: Amount | None = None
    horizon: Amount | None = None
    weekly: list[WeeklyRule] = Field(default_factory=list)
    date_overrides: list[DateOverride] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime

    @property
    def host_ids(self) -> list[str]:
        return [m.user_id for m in self.team_members]

    @property
    def pre_buffer_seconds(self) -> int:
        return self.pre_buffer.seconds() if self.pre_buffer else 0

    @property
    def post_buffer_seconds(self) -> int:
        return self.post_buffer.seconds() if self.post_buffer else 0

    def open_hours(self, timezone: str) -> OpenHours:
        """Engine opening hours in ``timezone`` (the owning location's zone)."""
        weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for rule in self.weekly:
            for day in rule.days:
                weekly[day].extend((s.open, s.close) for s in rule.spans)
        overrides = {o.date: tuple(sorted((s.open, s.close) for s in o.spans)) for o in self.date_overrides}
        return OpenHours(
            timezone=zone(timezone),
            weekly=tuple(tuple(sorted(day)) for day in weekly),
            overrides=overrides,
        )


class EventKind(StrEnum):
    APPOINTMENT = "appointment"
    BLOCK = "block"


class AppointmentStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    SHOWED = "showed"
    NOSHOW = "noshow"
    INVALID = "invalid"
    COMPLETED = "completed"
    ACTIVE = "active"


class Event(DomainModel):
    """An appointment or a block slot.

    ``hosts`` are the users whose time it occupies (the assigned user, or every member of a
    collective booking). ``buffer_before``/``buffer_after`` (seconds) are the owning calendar's
    buffers when the appointment was booked or last rescheduled; block slots have none.
    A block slot belongs to a calendar (``calendar_id``) or a host (``assigned_user_id``).
    ``resources`` are the ids of the rooms and equipments an appointment occupies (those its
    calendar was mapped to when it was booked or last moved); each takes one unit of them.
    """

    id: str
    location_id: str
    kind: EventKind
    calendar_id: str | None = None
    assigned_user_id: str | None = None
    hosts: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    contact_id: str | None = None
    group_id: str | None = None
    title: str = ""
    status: AppointmentStatus | None = None
    start: datetime
    end: datetime
    buffer_before: int = 0
    buffer_after: int = 0
    description: str | None = None
    address: str | None = None
    meeting_location_type: str | None = None
    meeting_location_id: str | None = None
    to_notify: bool = True
    created_at: datetime
    updated_at: datetime
    # Recurring appointments (slotbook.recurrence). A series *master* has ``rrule`` (canonical
    # RRULE line; ``start``/``end`` = its first occurrence) expanded in ``rrule_timezone``,
    # ``exdates`` (original starts left out of the series) and ``detached`` (ids of instances
    # stored as events of their own). An *instance* has ``master_id`` and ``original_start``
    # (an expanded one also carries the master's rule; a detached one is stored, rule-less).
    rrule: str | None = None
    rrule_timezone: str | None = None
    exdates: list[datetime] = Field(default_factory=list)
    detached: list[str] = Field(default_factory=list)
    master_id: str | None = None
    original_start: datetime | None = None
    # oHallo bookings (issue 4): an appointment booked on a calendar connection has no calendar;
    # it occupies the connection's host (see Connection.host_id) and carries the oHallo fields.
    connection_id: str | None = None
    conversation_id: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    timezone: str | None = None
    provider_connections: list[str] = Field(default_factory=list)
    """Calendar connections this appointment is written to (issue 4): its own connection and
    those linked to its hosts when it was booked or last moved (read with the host versions)."""

    @property
    def is_series(self) -> bool:
        """Whether this is the master of a recurring series."""
        return self.rrule is not None and self.master_id is None

    @property
    def occupies_hosts(self) -> bool:
        """Whether this event is busy time for its hosts (cancelled appointments are not)."""
        return self.status is not AppointmentStatus.CANCELLED


class Group(DomainModel):
    """A calendar group. Its ``slug`` is unique within the location; a disabled group's
    calendars offer no slots and take no bookings (reference/seeds/003, groups)."""

    id: str
    location_id: str
    name: str
    description: str = ""
    slug: str
    is_active: bool = True
    created_at: datetime
    updated_at: datetime


class ScheduleRuleKind(StrEnum):
    WEEKDAY = "wday"
    DATE = "date"


class ScheduleRule(DomainModel):
    """One availability-schedule rule: a weekday's open spans (``day`` 0 = Monday) or one local
    date's (``on``); a date rule with no spans makes that date unavailable."""

    kind: ScheduleRuleKind
    day: int | None = Field(default=None, ge=0, le=6)
    on: date | None = None
    spans: list[Span] = Field(default_factory=list)


class AvailabilitySchedule(DomainModel):
    """A user's availability schedule (``user_id``, applied to ``calendar_ids``) or an event
    calendar's own schedule (``calendar_id``), in its own IANA ``timezone``.

    Engine effect (issue 3): a user schedule associated with a calendar replaces that calendar's
    ``openHours`` for that user; an event-calendar schedule replaces the calendar's ``openHours``.
    Date rules override weekday rules (:meth:`open_hours`).
    """

    id: str
    location_id: str
    name: str = ""
    user_id: str | None = None
    calendar_id: str | None = None
    calendar_ids: list[str] = Field(default_factory=list)
    timezone: str
    rules: list[ScheduleRule] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    def open_hours(self) -> OpenHours:
        """Engine opening hours in the schedule's own zone: weekday rules give each weekday's
        spans, date rules replace a date's spans (no spans = closed that date). Several rules
        of one weekday or date add up; spans that touch or overlap merge into one (09:00-12:00
        and 12:00-17:00 offer a slot across noon)."""
        weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        dates: dict[date, list[tuple[int, int]]] = {}
        for rule in self.rules:
            spans = [(s.open, s.close) for s in rule.spans]
            if rule.kind is ScheduleRuleKind.WEEKDAY and rule.day is not None:
                weekly[rule.day].extend(spans)
            elif rule.kind is ScheduleRuleKind.DATE and rule.on is not None:
                dates.setdefault(rule.on, []).extend(spans)
        return OpenHours(
            timezone=zone(self.timezone),
            weekly=tuple(_merged(day) for day in weekly),
            overrides={d: _merged(spans) for d, spans in dates.items()},
        )


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted spans with touching or overlapping ones joined (empty spans dropped)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


class ResourceType(StrEnum):
    EQUIPMENTS = "equipments"
    ROOMS = "rooms"


class Resource(DomainModel):
    """A room or an equipment that bookings of its mapped calendars occupy.

    Capacity (:meth:`units`): a room holds ``capacity`` concurrent bookings, an equipment
    ``quantity - out_of_service``; an inactive resource holds none. One equipment maps to at most
    one calendar; a room to many (reference/seeds/003, resources).
    """

    id: str
    location_id: str
    resource_type: ResourceType
    name: str
    description: str = ""
    quantity: int = 0
    out_of_service: int = 0
    capacity: int = 0
    calendar_ids: list[str] = Field(default_factory=list)
    is_active: bool = True
    created_at: datetime
    updated_at: datetime

    def units(self) -> int:
        if not self.is_active:
            return 0
        if self.resource_type is ResourceType.ROOMS:
            return max(0, self.capacity)
        return max(0, self.quantity - self.out_of_service)


class Note(DomainModel):
    """A note on an appointment (reference/seeds/003, appointment notes). ``contact_id`` is the
    appointment's contact; ``user_id`` the user the client last named; ``created_by`` the user
    who created it (when named)."""

    id: str
    location_id: str
    appointment_id: str
    body: str
    user_id: str | None = None
    created_by: str | None = None
    contact_id: str | None = None
    created_at: datetime
    updated_at: datetime


class NotificationReceiver(StrEnum):
    CONTACT = "contact"
    GUEST = "guest"
    ASSIGNED_USER = "assignedUser"
    EMAILS = "emails"
    PHONE_NUMBERS = "phoneNumbers"
    BUSINESS = "business"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    IN_APP = "inApp"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class NotificationType(StrEnum):
    BOOKED = "booked"
    CONFIRMATION = "confirmation"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"
    FOLLOWUP = "followup"
    RESCHEDULE = "reschedule"


class NotificationOffset(DomainModel):
    """How long before (reminder) or after (follow-up) an appointment a message goes out:
    ``value`` whole ``unit`` (``mins|hours|days``)."""

    value: int
    unit: str

    def seconds(self) -> int:
        return unit_seconds(self.value, self.unit)


class NotificationSetting(DomainModel):
    """One notification setting of a calendar: who (``receiver_type`` plus the additional
    addresses, numbers or users) is told what (``notification_type``) over which ``channel``,
    with which template or subject/body. Reminders carry ``before`` offsets, follow-ups
    ``after`` offsets. ``deleted`` is a soft delete; delivery reads only active, non-deleted
    settings (reference/seeds/003, calendar notifications)."""

    id: str
    location_id: str
    calendar_id: str
    receiver_type: NotificationReceiver
    channel: NotificationChannel
    notification_type: NotificationType
    is_active: bool = True
    deleted: bool = False
    template_id: str | None = None
    subject: str | None = None
    body: str | None = None
    before: list[NotificationOffset] = Field(default_factory=list)
    after: list[NotificationOffset] = Field(default_factory=list)
    additional_emails: list[str] = Field(default_factory=list)
    additional_phones: list[str] = Field(default_factory=list)
    selected_users: list[str] = Field(default_factory=list)
    from_address: str | None = None
    from_name: str | None = None
    from_number: str | None = None
    created_at: datetime
    updated_at: datetime


# -- calendar connections (issue 4; reference/seeds/000, 001) -----------------------------------

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""oHallo ``workingHours`` keys, in engine weekday order (0 = Monday)."""


class CalendarProviderName(StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    """The provider refused the refresh token: the connection stays (with its bookings and
    settings) but syncs and provider writes stop until the user consents again."""


class WorkingHours(DomainModel):
    """One weekday's open span, local ``HH:mm`` (``start < end``; ``end`` may be ``24:00``)."""

    start: str
    end: str


class BookingConfig(DomainModel):
    """How a connection takes bookings (oHallo ``bookingConfig``): ``working_hours`` weekday
    name → span in ``timezone`` (a day without a key is closed), ``buffer_minutes`` kept free
    after every booking and provider event, and local ``blocked_dates`` (``YYYY-MM-DD``) closed
    whole."""

    working_hours: dict[str, WorkingHours] = Field(default_factory=dict)
    buffer_minutes: int = Field(default=0, ge=0)
    timezone: str = "UTC"
    blocked_dates: list[date] = Field(default_factory=list)

    def open_hours(self) -> OpenHours:
        """The engine's weekly hours for this config (minutes after local midnight)."""
        weekly = tuple(
            ((_minutes(self.working_hours[name].start), _minutes(self.working_hours[name].end)),)
            if name in self.working_hours
            else ()
            for name in WEEKDAY_NAMES
        )
        return OpenHours(
            timezone=zone(self.timezone), weekly=weekly, blocked_dates=frozenset(self.blocked_dates)
        )


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes)


class Connection(DomainModel):
    """A calendar connection: one provider account linked to a workspace by OAuth, and the
    provider calendar (``calendar_id``) whose busy time it mirrors and on which its bookings are
    written. ``user_id`` optionally links it to a GoHighLevel team member: their connected
    calendar then blocks their slots on every calendar they belong to, and their appointments
    are written to it. OAuth tokens never live here (see ``slotbook.providers.vault``)."""

    id: str
    location_id: str
    provider: CalendarProviderName
    display_name: str
    calendar_id: str | None = None
    enabled: bool = True
    booking_config: BookingConfig | None = None
    user_id: str | None = None
    account_email: str | None = None
    status: ConnectionStatus = ConnectionStatus.ACTIVE
    created_at: datetime
    updated_at: datetime

    @property
    def host_id(self) -> str:
        """The host whose timeline the connection's bookings occupy: the linked team member, or
        the connection itself (``cxn-<id>``), so its bookings never collide with each other."""
        return self.user_id or f"cxn-{self.id}"

    @property
    def syncing(self) -> bool:
        """Whether busy time flows in: enabled, authorised and a calendar picked."""
        return self.enabled and self.calendar_id is not None and self.status is ConnectionStatus.ACTIVE
