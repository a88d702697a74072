"""Availability schedules: user schedules applied to calendars, and event calendars' own.

Rules (reference seeds/003, "user availability schedule" and "event calendar availability
schedule" operations; issue 3):

* A schedule is a list of rules in its own IANA ``timezone``: weekday rules (``day`` + open
  spans) and date rules (one local date's spans; none = unavailable that date). Date rules
  override weekday rules; several rules of one weekday or date add up, and their spans may
  touch but not overlap (422). At most :data:`MAX_RULES` rules of at most
  :data:`MAX_SPANS_PER_RULE` spans each.
* A **user schedule** belongs to one user and applies to up to
  :data:`~slotbook.store.schedules.MAX_CALENDARS_PER_SCHEDULE` calendars of its location, each
  of which must have the user as a team member (400) and must not already apply another
  schedule of that user (one schedule per user and calendar: 422 on create, 400 when
  associating). On those calendars the schedule replaces ``openHours`` for that user (see
  :meth:`slotbook.services.scheduling.SchedulingService._availability`).
* An **event-calendar schedule** belongs to one calendar and replaces its ``openHours``. A
  calendar has at most one (creating a second → 422).
* A calendar that is not in the token's location is "not found"; for an association (or a
  ``calendarIds`` entry) that is the reference's 400 "Schedule and calendar must belong to the
  same location" — another tenant's calendar looks exactly like a missing one.

Every write re-reads what it checks strongly consistently and commits with conditions (the
store's single transaction per schedule write); a lost race re-reads and re-checks, up to
:data:`MAX_ATTEMPTS` times, then answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import TypeVar

from slotbook.domain import AvailabilitySchedule, ScheduleRule, ScheduleRuleKind
from slotbook.errors import ConcurrentUpdate, InvalidRequest, NotFound, ValidationFailed
from slotbook.ids import new_id
from slotbook.store.dynamo import DynamoStore
from slotbook.store.schedules import MAX_CALENDARS_PER_SCHEDULE, ScheduleTarget
from slotbook.timeutil import is_zone

MAX_RULES = 100
"""Rules one schedule may hold (each calendar it applies to carries a copy on its item)."""
MAX_SPANS_PER_RULE = 12
"""Intervals one rule may hold."""
MAX_ATTEMPTS = 3
"""Read-check-write rounds before a write that keeps losing races answers 409."""
SEARCH_LIMIT_MAX = 500

SAME_LOCATION = "Schedule and calendar must belong to the same location"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

T = TypeVar("T")


def check_rules(rules: list[ScheduleRule]) -> None:
    """Raise :class:`ValidationFailed` (422) listing every problem of ``rules``: too many rules
    or spans, a weekday rule without a day (or with a date), a date rule without a date (or with
    a day), a span whose start is not before its end, spans of one weekday or date that overlap
    (touching is fine)."""
    problems: list[str] = []
    if len(rules) > MAX_RULES:
        problems.append(f"rules must contain at most {MAX_RULES} rules")
    by_key: dict[int | date, list[tuple[int, int, int]]] = {}
    for i, rule in enumerate(rules):
        where = f"rules.{i}"
        if rule.kind is ScheduleRuleKind.WEEKDAY:
            if rule.day is None or rule.on is not None:
                problems.append(f"{where} a wday rule needs day and no date")
                continue
            key: int | date = rule.day
        else:
            if rule.on is None or rule.day is not None:
                problems.append(f"{where} a date rule needs date and no day")
                continue
            key = rule.on
        if len(rule.spans) > MAX_SPANS_PER_RULE:
            problems.append(f"{where}.intervals must contain at most {MAX_SPANS_PER_RULE} intervals")
        for j, span in enumerate(rule.spans):
            if span.open >= span.close:
                problems.append(f"{where}.intervals.{j} from must be before to")
            else:
                by_key.setdefault(key, []).append((span.open, span.close, i))
    for key, spans in by_key.items():
        spans.sort()
        for (_, end, _), (start, _, rule_index) in pairwise(spans):
            if start < end:
                name = _WEEKDAYS[key] if isinstance(key, int) else key.isoformat()
                problems.append(f"rules.{rule_index}.intervals overlap other intervals of {name}")
                break
    if problems:
        raise ValidationFailed(problems)


def check_timezone(timezone: str) -> None:
    """422 unless ``timezone`` is a zone of the IANA tz database."""
    if not is_zone(timezone):
        raise ValidationFailed([f"timezone must be an IANA time zone, got {timezone[:64]!r}"])


class ScheduleService:
    """User and event-calendar availability schedules. ``clock`` returns an aware UTC datetime;
    ``location_id`` is always the caller's (token's) location."""

    def __init__(self, store: DynamoStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._clock = clock

    # -- user schedules -----------------------------------------------------------------------

    def create(
        self,
        location_id: str,
        *,
        user_id: str,
        name: str,
        timezone: str,
        rules: list[ScheduleRule],
        calendar_ids: list[str],
    ) -> AvailabilitySchedule:
        """A new schedule of ``user_id`` applied to ``calendar_ids``. Raises ValidationFailed
        (bad rules or zone, too many calendars, a calendar already applying another schedule of
        the user), InvalidRequest (a calendar not in the location, the user not its member)."""
        check_timezone(timezone)
        check_rules(rules)
        calendar_ids = list(dict.fromkeys(calendar_ids))
        if len(calendar_ids) > MAX_CALENDARS_PER_SCHEDULE:
            raise ValidationFailed(
                [f"calendarIds must contain at most {MAX_CALENDARS_PER_SCHEDULE} calendars"]
            )
        now = self._clock()
        schedule = AvailabilitySchedule(
            id=new_id(),
            location_id=location_id,
            name=name,
            user_id=user_id,
            calendar_ids=calendar_ids,
            timezone=timezone,
            rules=rules,
            created_at=now,
            updated_at=now,
        )

        def attempt() -> AvailabilitySchedule:
            targets = self._store.schedule_targets(location_id, calendar_ids, user_id)
            for target in targets.values():
                self._check_target(schedule, target, taken_is_invalid=False)
            self._store.save_schedule(schedule, None)
            return schedule

        return _retrying(attempt)

    def get(self, location_id: str, schedule_id: str) -> AvailabilitySchedule:
        """The schedule, listing only calendars that still exist. NotFound (404) otherwise."""
        schedule = self._store.get_schedule(location_id, schedule_id)
        if schedule is None:
            raise NotFound("Schedule", schedule_id)
        return self._live([schedule])[0]

    def search(
        self, location_id: str, user_id: str, calendar_id: str | None, skip: int, limit: int
    ) -> list[AvailabilitySchedule]:
        """A user's schedules, oldest first (only those applied to ``calendar_id`` if given),
        ``limit`` (1..500) after ``skip``; each lists only calendars that still exist."""
        if skip < 0 or not 1 <= limit <= SEARCH_LIMIT_MAX:
            raise ValidationFailed([f"skip must be >= 0 and limit between 1 and {SEARCH_LIMIT_MAX}"])
        found = self._store.user_schedules(
            location_id, user_id, calendar_id=calendar_id, skip=skip, limit=limit
        )
        return self._live(found)

    def update(
        self,
        location_id: str,
        schedule_id: str,
        *,
        name: str | None = None,
        timezone: str | None = None,
        rules: list[ScheduleRule] | None = None,
    ) -> AvailabilitySchedule:
        """Change the fields given (others unchanged) and carry the change to every calendar
        the schedule applies to, in the same transaction. NotFound, ValidationFailed."""
        if timezone is not None:
            check_timezone(timezone)
        if rules is not None:
            check_rules(rules)
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name
        if timezone is not None:
            changes["timezone"] = timezone
        if rules is not None:
            changes["rules"] = rules
        return self._change(location_id, schedule_id, lambda current: current.model_copy(update=changes))

    def delete(self, location_id: str, schedule_id: str) -> None:
        """Delete the schedule and remove it from every calendar it applies to (one
        transaction): those calendars' ``openHours`` apply to the user again. NotFound."""

        def attempt() -> None:
            current = self._read(location_id, schedule_id)
            live = self._store.existing_calendars(location_id, current.calendar_ids, consistent=True)
            self._store.delete_schedule(current, detach=[c for c in current.calendar_ids if c in live])

        _retrying(attempt)

    def associate(self, location_id: str, schedule_id: str, calendar_id: str) -> AvailabilitySchedule:
        """Apply the schedule to ``calendar_id`` too (already applied: no change). NotFound
        (schedule); InvalidRequest (400): the calendar is not in the location, the user is not
        its team member, it applies another schedule of the user, or the schedule already
        applies to the most calendars allowed."""

        def change(current: AvailabilitySchedule) -> AvailabilitySchedule:
            if calendar_id in current.calendar_ids:
                return current
            target = self._store.schedule_targets(location_id, [calendar_id], current.user_id or "")[
                calendar_id
            ]
            self._check_target(current, target, taken_is_invalid=True)
            if len(current.calendar_ids) >= MAX_CALENDARS_PER_SCHEDULE:
                raise InvalidRequest(f"A schedule applies to at most {MAX_CALENDARS_PER_SCHEDULE} calendars")
            return current.model_copy(update={"calendar_ids": [*current.calendar_ids, calendar_id]})

        return self._change(location_id, schedule_id, change)

    def dissociate(self, location_id: str, schedule_id: str, calendar_id: str) -> AvailabilitySchedule:
        """Stop applying the schedule to ``calendar_id`` (not applied: no change). NotFound
        (schedule); InvalidRequest (400) when the calendar is neither in the location nor
        listed by the schedule."""

        def change(current: AvailabilitySchedule) -> AvailabilitySchedule:
            if calendar_id not in current.calendar_ids:
                if not self._store.existing_calendars(location_id, [calendar_id]):
                    raise InvalidRequest(SAME_LOCATION)
                return current
            kept = [c for c in current.calendar_ids if c != calendar_id]
            return current.model_copy(update={"calendar_ids": kept})

        return self._change(location_id, schedule_id, change)

    # -- event-calendar schedules ---------------------------------------------------------------

    def create_calendar_schedule(
        self, location_id: str, calendar_id: str, *, timezone: str, rules: list[ScheduleRule]
    ) -> AvailabilitySchedule:
        """Give a calendar its own schedule (it replaces the calendar's ``openHours``).
        NotFound (calendar), ValidationFailed (bad rules or zone; the calendar has one)."""
        check_timezone(timezone)
        check_rules(rules)

        def attempt() -> AvailabilitySchedule:
            exists, current = self._store.get_calendar_schedule(location_id, calendar_id, consistent=True)
            if not exists:
                raise NotFound("Calendar", calendar_id)
            if current is not None:
                raise ValidationFailed(
                    [f"calendar {calendar_id} already has an availability schedule; update it with PUT"]
                )
            now = self._clock()
            schedule = AvailabilitySchedule(
                id=calendar_id,
                location_id=location_id,
                calendar_id=calendar_id,
                timezone=timezone,
                rules=rules,
                created_at=now,
                updated_at=now,
            )
            self._store.put_calendar_schedule(schedule, None)
            return schedule

        return _retrying(attempt)

    def get_calendar_schedule(self, location_id: str, calendar_id: str) -> AvailabilitySchedule:
        """The calendar's own schedule. NotFound when the calendar or its schedule is absent."""
        exists, current = self._store.get_calendar_schedule(location_id, calendar_id)
        if not exists:
            raise NotFound("Calendar", calendar_id)
        if current is None:
            raise NotFound("Schedule of calendar", calendar_id)
        return current

    def update_calendar_schedule(
        self,
        location_id: str,
        calendar_id: str,
        *,
        timezone: str | None = None,
        rules: list[ScheduleRule] | None = None,
    ) -> AvailabilitySchedule:
        """Change the given fields of a calendar's own schedule. NotFound (calendar or
        schedule), ValidationFailed."""
        if timezone is not None:
            check_timezone(timezone)
        if rules is not None:
            check_rules(rules)

        def attempt() -> AvailabilitySchedule:
            exists, current = self._store.get_calendar_schedule(location_id, calendar_id, consistent=True)
            if not exists:
                raise NotFound("Calendar", calendar_id)
            if current is None:
                raise NotFound("Schedule of calendar", calendar_id)
            changes: dict[str, object] = {}
            if timezone is not None:
                changes["timezone"] = timezone
            if rules is not None:
                changes["rules"] = rules
            updated = current.model_copy(update=changes)
            if updated == current:
                return current  # nothing changes, nothing is written
            updated = updated.model_copy(update={"updated_at": max(self._clock(), current.updated_at)})
            self._store.put_calendar_schedule(updated, current)
            return updated

        return _retrying(attempt)

    # -- internals ------------------------------------------------------------------------------

    def _read(self, location_id: str, schedule_id: str) -> AvailabilitySchedule:
        current = self._store.get_schedule(location_id, schedule_id, consistent=True)
        if current is None:
            raise NotFound("Schedule", schedule_id)
        return current

    def _change(
        self,
        location_id: str,
        schedule_id: str,
        change: Callable[[AvailabilitySchedule], AvailabilitySchedule],
    ) -> AvailabilitySchedule:
        """Read the schedule and its calendars (strongly consistent), drop calendars that no
        longer exist, apply ``change``, and write the schedule with every calendar entry it
        sets or removes in one transaction; re-run on a lost race. A change that changes
        nothing writes nothing (``dateUpdated`` stays)."""

        def attempt() -> AvailabilitySchedule:
            current = self._read(location_id, schedule_id)
            live = self._store.existing_calendars(location_id, current.calendar_ids, consistent=True)
            pruned = current.model_copy(
                update={"calendar_ids": [c for c in current.calendar_ids if c in live]}
            )
            updated = change(pruned)
            if updated == current:
                return current
            updated = updated.model_copy(update={"updated_at": max(self._clock(), current.updated_at)})
            detach = [c for c in pruned.calendar_ids if c not in updated.calendar_ids]
            self._store.save_schedule(updated, current, detach=detach)
            return updated

        return _retrying(attempt)

    @staticmethod
    def _check_target(
        schedule: AvailabilitySchedule,
        target: ScheduleTarget,
        *,
        taken_is_invalid: bool,
    ) -> None:
        """A calendar the schedule is to apply to: in the location (else InvalidRequest), the
        user on its team (else InvalidRequest), and not applying another schedule of the user
        (else InvalidRequest if ``taken_is_invalid``, ValidationFailed otherwise)."""
        calendar = target.calendar
        if calendar is None:
            raise InvalidRequest(SAME_LOCATION)
        if schedule.user_id not in calendar.host_ids:
            raise InvalidRequest(f"User {schedule.user_id} is not a team member of calendar {calendar.id}")
        if target.owner is not None and target.owner != schedule.id:
            message = (
                f"User {schedule.user_id} already has schedule {target.owner} on calendar {calendar.id}; "
                "a user has one schedule per calendar"
            )
            if taken_is_invalid:
                raise InvalidRequest(message)
            raise ValidationFailed([message])

    def _live(self, schedules: list[AvailabilitySchedule]) -> list[AvailabilitySchedule]:
        """``schedules`` listing only the calendars that still exist (one batched read)."""
        wanted = {c for s in schedules for c in s.calendar_ids}
        if not wanted:
            return schedules
        live = self._store.existing_calendars(schedules[0].location_id, wanted)
        return [
            s.model_copy(update={"calendar_ids": [c for c in s.calendar_ids if c in live]}) for s in schedules
        ]


def _retrying(attempt: Callable[[], T]) -> T:
    """Run a read-check-write ``attempt``; on ConcurrentUpdate (a lost race) run it again, up to
    :data:`MAX_ATTEMPTS` times, then let the last ConcurrentUpdate through (409)."""
    for remaining in range(MAX_ATTEMPTS - 1, -1, -1):
        try:
            return attempt()
        except ConcurrentUpdate:
            if not remaining:
                raise
    raise AssertionError("unreachable")
