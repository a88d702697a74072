"""GoHighLevel availability-schedule models (request bodies) and response shaping.

Field names, types and enums follow ``reference/ghl-calendars-v3.openapi.json`` field for field:
``CreateScheduleDTO``, ``UpdateScheduleDTO``, ``CreateEventCalendarScheduleDTO``,
``UpdateEventCalendarScheduleDTO``, ``ScheduleRuleDTO``, ``ScheduleIntervalDTO`` (its start is
the JSON field ``from``), and the responses ``ScheduleObjectResponseDTO`` /
``ScheduleResponseDTO`` / ``GetAllSchedulesResponseDTO`` / ``EventCalendarScheduleWrapperDTO``.
Unknown body fields are refused (422).

Translation rules between this dialect and the domain:

* ``day`` is ``sunday`` … ``saturday`` here, ``0 = Monday`` in the domain.
* Interval times are ``HH:MM`` (24-hour; one-digit hours accepted) → minutes after local
  midnight. The end of the day is written ``to: "24:00"`` or ``to: "00:00"`` (an end at
  midnight can only mean the following midnight); responses write it ``"00:00"``, the only
  spelling the reference's pattern ``^([01]?[0-9]|2[0-3]):[0-5][0-9]$`` allows (as calendar
  ``openHours`` write a close at midnight as ``closeHour: 0``).
* ``date`` is a local ``YYYY-MM-DD`` in the schedule's zone; ``intervals: []`` on a date rule
  makes that date unavailable.
* Rule-level checks that need the whole schedule (overlaps, ``from`` before ``to``, time zone)
  are the domain's (:mod:`slotbook.services.schedules`), also 422.
* ``dateAdded``/``dateUpdated`` are ``YYYY-MM-DDTHH:MM:SS.sssZ`` (the reference's examples).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from slotbook.domain import AvailabilitySchedule, ScheduleRule, ScheduleRuleKind, Span
from slotbook.http.ghl_models import Body, Id
from slotbook.services.schedules import MAX_RULES, MAX_SPANS_PER_RULE
from slotbook.store.schedules import MAX_CALENDARS_PER_SCHEDULE
from slotbook.timeutil import iso_utc_ms

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Reference day names in domain order (index = domain weekday, 0 = Monday)."""
DayName = Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
END_OF_DAY = 1440

Zone = Annotated[str, Field(min_length=1, max_length=64)]
"""An IANA zone name (checked against the tz database by the domain, 422)."""
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minute: int) -> str:
    minute %= END_OF_DAY  # the end of the day is written 00:00 (see the module doc)
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ScheduleIntervalDTO(Body):
    """``{"from": "09:00", "to": "17:00"}``: one open span of a rule's day."""

    from_: str = Field(alias="from", max_length=5)
    to: str = Field(max_length=5)

    @field_validator("from_")
    @classmethod
    def _start(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("from must be HH:MM (24-hour, 00:00 to 23:59)")
        return value

    @field_validator("to")
    @classmethod
    def _end(cls, value: str) -> str:
        if not _HHMM.match(value) and value != "24:00":
            raise ValueError("to must be HH:MM (24-hour, 00:01 to 24:00; 00:00 is the end of the day)")
        return value

    def span(self) -> Span:
        """The domain span (``to`` of ``00:00`` or ``24:00`` is the end of the day)."""
        return Span(open=_minutes(self.from_), close=_minutes(self.to) or END_OF_DAY)


class ScheduleRuleDTO(Body):
    """``wday`` rules name a ``day``; ``date`` rules a ``date`` (``YYYY-MM-DD``)."""

    type: Literal["wday", "date"]
    intervals: list[ScheduleIntervalDTO] = Field(max_length=MAX_SPANS_PER_RULE)
    date: str | None = None
    day: DayName | None = None

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _DATE.match(value):
            raise ValueError("date must be YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("date must name a real day (YYYY-MM-DD)") from exc
        return value

    @model_validator(mode="after")
    def _fields_of_type(self) -> ScheduleRuleDTO:
        if self.type == "wday" and (self.day is None or self.date is not None):
            raise ValueError("a wday rule needs day (sunday..saturday) and no date")
        if self.type == "date" and (self.date is None or self.day is not None):
            raise ValueError("a date rule needs date (YYYY-MM-DD) and no day")
        return self

    def rule(self) -> ScheduleRule:
        """The domain rule."""
        spans = [i.span() for i in self.intervals]
        if self.type == "wday":
            assert self.day is not None
            return ScheduleRule(kind=ScheduleRuleKind.WEEKDAY, day=DAYS.index(self.day), spans=spans)
        assert self.date is not None
        return ScheduleRule(kind=ScheduleRuleKind.DATE, on=date.fromisoformat(self.date), spans=spans)


Rules = Annotated[list[ScheduleRuleDTO], Field(max_length=MAX_RULES)]


class CreateScheduleDTO(Body):
    """``POST /calendars/schedules``."""

    rules: Rules = Field(default_factory=list)
    timezone: Zone
    locationId: Id
    name: Name
    userId: Id
    calendarIds: list[Id] = Field(default_factory=list, max_length=MAX_CALENDARS_PER_SCHEDULE)


class UpdateScheduleDTO(Body):
    """``PUT /calendars/schedules/{id}``: only the fields sent change (``null`` = not sent)."""

    name: Name | None = None
    rules: Rules | None = None
    timezone: Zone | None = None


class CreateEventCalendarScheduleDTO(Body):
    """``POST /calendars/schedules/event-calendar/{calendarId}``."""

    rules: Rules
    timezone: Zone


class UpdateEventCalendarScheduleDTO(Body):
    """``PUT /calendars/schedules/event-calendar/{calendarId}``: only the fields sent change."""

    rules: Rules | None = None
    timezone: Zone | None = None


def domain_rules(rules: list[ScheduleRuleDTO] | None) -> list[ScheduleRule] | None:
    """The domain rules of a body's ``rules`` (None when not sent)."""
    return None if rules is None else [r.rule() for r in rules]


def rule_dto(rule: ScheduleRule) -> dict[str, Any]:
    """The reference's ``ScheduleRuleDTO`` of a domain rule."""
    out: dict[str, Any] = {"type": rule.kind.value}
    if rule.kind is ScheduleRuleKind.WEEKDAY and rule.day is not None:
        out["day"] = DAYS[rule.day]
    if rule.kind is ScheduleRuleKind.DATE and rule.on is not None:
        out["date"] = rule.on.isoformat()
    out["intervals"] = [{"from": _hhmm(s.open), "to": _hhmm(s.close)} for s in rule.spans]
    return out


def schedule_dto(schedule: AvailabilitySchedule) -> dict[str, Any]:
    """The reference's ``ScheduleObjectResponseDTO`` (a user schedule)."""
    return {
        "id": schedule.id,
        "name": schedule.name,
        "locationId": schedule.location_id,
        "userId": schedule.user_id or "",
        "timezone": schedule.timezone,
        "rules": [rule_dto(r) for r in schedule.rules],
        "calendarIds": list(schedule.calendar_ids),
        "deleted": False,
        "dateAdded": iso_utc_ms(schedule.created_at),
        "dateUpdated": iso_utc_ms(schedule.updated_at),
    }


def calendar_schedule_dto(schedule: AvailabilitySchedule) -> dict[str, Any]:
    """The reference's ``EventCalendarScheduleResponseDTO`` (an event calendar's schedule)."""
    return {
        "calendarId": schedule.calendar_id or schedule.id,
        "timezone": schedule.timezone,
        "rules": [rule_dto(r) for r in schedule.rules],
        "dateAdded": iso_utc_ms(schedule.created_at),
        "dateUpdated": iso_utc_ms(schedule.updated_at),
    }
