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
    """

    id: str
    location_id: str
    kind: EventKind
    calendar_id: str | None = None
    assigned_user_id: str | None = None
    hosts: list[str] = Field(default_factory=list)
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

    @property
    def occupies_hosts(self) -> bool:
        """Whether this event is busy time for its hosts (cancelled appointments are not)."""
        return self.status is not AppointmentStatus.CANCELLED
