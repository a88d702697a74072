"""Calendars, free slots, appointments and block slots: the scheduling rules, once, for every
dialect. Handlers translate requests into these calls and results into their dialect.

Rules follow the GoHighLevel Calendars reference (reference/seeds/003, ghl-calendars-v3
OpenAPI) and ARCHITECTURE.md's invariants:

* free slots are computed by the pure engine (:mod:`slotbook.availability`) from the calendar's
  rules, the location's zone, ``now`` and busy time read here: every non-cancelled appointment
  of each host in any calendar of the location (padded by its calendar's buffers), the host's
  block slots and the calendar's block slots;
* a booking is accepted only at an offered slot (unless ``ignore_free_slot_validation``;
  ``ignore_date_range`` lifts minimum notice and horizon) and is written with
  :meth:`DynamoStore.save_booking`, whose host-version condition makes double booking
  impossible; a lost race is retried (:data:`MAX_ATTEMPTS`) from fresh reads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slotbook import recurrence
from slotbook.availability import (
    AvailabilityQuery,
    HostBusy,
    Mode,
    ResourcePool,
    SlotSpec,
    booking_window,
    compute_slots,
    free_hosts_at,
    look_busy,
)
from slotbook.domain import (
    AppointmentStatus,
    Calendar,
    CalendarType,
    Event,
    EventKind,
    Location,
    RoundRobinStrategy,
)
from slotbook.errors import (
    BookingConflict,
    ConcurrentUpdate,
    InvalidRequest,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from slotbook.ids import new_id
from slotbook.observability import MetricUnit, logger, metrics
from slotbook.store.dynamo import MAX_BUFFER, MAX_EVENT_SPAN, CalendarState, DynamoStore, TimelineEntry
from slotbook.store.series import HostSeries
from slotbook.timeutil import zone

MAX_RANGE = timedelta(days=31)
"""Longest free-slots range (GoHighLevel: 'Date range cannot be more than 31 days')."""
MAX_ATTEMPTS = 6
"""Booking attempts (fresh reads each time) before a lost race becomes BookingConflict."""
RETRY_BASE_SECONDS = 0.01
"""Backoff before retry n is uniform in [0, RETRY_BASE_SECONDS * 2**n) (full jitter)."""
MAX_LISTED_OCCURRENCES = 5000
"""Most recurring occurrences one event listing expands (a response must stay well under
Lambda's 6 MB); a longer window answers 400."""
MAX_CALENDAR_BLOCKS = 1000
"""Block slots one calendar may hold (they live in a map on the calendar item)."""
MAX_HOSTS_PER_BOOKING = 30
"""A rescheduled collective booking writes 1 + 3·hosts items (event, version bumps, old and new
timeline entries) in one transaction, whose limit is 100."""

Clock = Callable[[], datetime]
ChangeHook = Callable[[Event | None, Event | None], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppointmentInput:
    """A new appointment, or the changes to one (``None`` = leave unchanged on update).

    Instants are aware UTC datetimes; ``end`` defaults to ``start`` + the slot duration.
    """

    calendar_id: str | None = None
    contact_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    title: str | None = None
    status: AppointmentStatus | None = None
    assigned_user_id: str | None = None
    description: str | None = None
    address: str | None = None
    meeting_location_type: str | None = None
    meeting_location_id: str | None = None
    to_notify: bool | None = None
    ignore_free_slot_validation: bool = False
    ignore_date_range: bool = False
    rrule: str | None = None
    """RFC 5545 rule making the appointment a recurring series (only with
    ``ignore_free_slot_validation``; see the recurring section of :class:`SchedulingService`)."""


@dataclass
class BlockInput:
    """A block slot: exactly one of ``calendar_id`` / ``assigned_user_id``."""

    calendar_id: str | None
    assigned_user_id: str | None
    start: datetime
    end: datetime
    title: str = ""


@dataclass
class BookingPlan:
    """Everything a booking decided from its reads; :meth:`SchedulingService.commit` writes it.

    ``versions`` are the host versions read *before* busy time was read: the commit succeeds
    only if none of them moved (the optimistic lock of invariant 1). ``resource_versions``
    likewise for the rooms and equipments the event occupies (their capacity).
    """

    event: Event
    versions: dict[str, int]
    previous: Event | None = None
    resource_versions: dict[str, int] = field(default_factory=dict)
    series: SeriesChange | None = None
    """Set when the plan writes a recurring series master (see :class:`SeriesChange`)."""
    active_group: str | None = None
    """The calendar's group, which must still be enabled when the booking commits (a booking
    racing "disable group" re-checks and is refused)."""


@dataclass
class SeriesChange:
    """A recurring series write: the master's new state (``None`` deletes ``previous``), the
    stored state it replaces (``None`` creates), and new detached instances written with it."""

    master: Event | None
    previous: Event | None
    instances: list[Event] = field(default_factory=list)


class SchedulingService:
    """The scheduling core over one store. ``clock`` returns an aware UTC ``now``."""

    def __init__(
        self,
        store: DynamoStore,
        clock: Clock = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        on_change: ChangeHook | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._on_change = on_change
        """Told ``(before, after)`` of every appointment write once it committed, and
        ``(event, None)`` after a delete (issue 5: notifications; see container.py)."""

    def _changed(self, before: Event | None, after: Event | None) -> None:
        if self._on_change is not None:
            self._on_change(before, after)

    # -- calendars ----------------------------------------------------------------------------

    def create_calendar(self, calendar: Calendar) -> Calendar:
        """Store a new calendar (id and stamps are assigned here). ValidationFailed on bad rules."""
        now = self._clock()
        calendar = calendar.model_copy(update={"id": new_id(), "created_at": now, "updated_at": now})
        _validate_calendar(calendar)
        if self._store.get_location(calendar.location_id) is None:
            raise NotFound("Location", calendar.location_id)
        self._check_group(calendar)
        self._store.put_calendar(calendar)
        return calendar

    def get_calendar(self, location_id: str, calendar_id: str) -> Calendar:
        calendar = self._store.get_calendar(location_id, calendar_id)
        if calendar is None:
            raise NotFound("Calendar", calendar_id)
        return calendar

    def list_calendars(
        self, location_id: str, group_id: str | None = None, show_drafted: bool = True
    ) -> list[Calendar]:
        calendars = self._store.list_calendars(location_id)
        if group_id is not None:
            calendars = [c for c in calendars if c.group_id == group_id]
        if not show_drafted:
            calendars = [c for c in calendars if c.is_active]
        return sorted(calendars, key=lambda c: (c.created_at, c.id))

    def update_calendar(
        self, location_id: str, calendar_id: str, change: Callable[[Calendar], Calendar]
    ) -> Calendar:
        """Apply ``change`` (the dialect's merge of the fields a request sent) to the current
        calendar and store it, conditional on nobody having changed it meanwhile; a concurrent
        change is re-read and ``change`` applied again, so no update is lost. NotFound if gone,
        ValidationFailed for broken rules, ConcurrentUpdate after repeated contention."""
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get_calendar(location_id, calendar_id, consistent=True)
            if current is None:
                raise NotFound("Calendar", calendar_id)
            updated = change(current).model_copy(
                update={
                    "id": current.id,
                    "location_id": current.location_id,
                    "created_at": current.created_at,
                    "updated_at": self._clock(),
                }
            )
            _validate_calendar(updated)
            if updated.group_id != current.group_id:
                self._check_group(updated)
            try:
                self._store.put_calendar(updated, previous=current)
            except ConcurrentUpdate:
                continue
            return updated
        raise ConcurrentUpdate("The calendar is being changed by other requests; please retry.")

    def _check_group(self, calendar: Calendar) -> None:
        """A calendar's ``groupId`` must name a group of its location (InvalidRequest, 400)."""
        if calendar.group_id and self._store.get_group(calendar.location_id, calendar.group_id) is None:
            raise InvalidRequest(f"Group {calendar.group_id} does not exist in this location")

    def delete_calendar(self, location_id: str, calendar_id: str) -> None:
        self._store.delete_calendar(location_id, calendar_id)

    # -- free slots ---------------------------------------------------------------------------

    def free_slots(
        self,
        location_id: str,
        calendar_id: str,
        start: datetime,
        end: datetime,
        timezone: str | None = None,
        user_ids: list[str] | None = None,
    ) -> tuple[list[int], ZoneInfo]:
        """Offered slot starts (epoch s, sorted) in ``[start, end]`` and the zone to show them in.

        Raises InvalidRequest for an end before the start, a range over 31 days, an unknown
        ``timezone`` or a user who is not a member; NotFound for an unknown calendar.
        """
        if end < start:
            raise InvalidRequest("endDate must not be before startDate")
        if end - start > MAX_RANGE:
            raise InvalidRequest("Date range cannot be more than 31 days")
        out_zone = zone(timezone) if timezone else None
        location, state = self._load(location_id, calendar_id)
        calendar = state.calendar
        out_zone = out_zone or zone(location.timezone)
        started = time.perf_counter()
        hosts = _narrow_hosts(calendar, user_ids)
        if not hosts or not self._takes_bookings(calendar):
            return [], out_zone
        share = _look_busy_share(calendar)
        if share:
            # Look busy ranks whole local days, so widen to them and clip afterwards.
            tz = zone(location.timezone)
            lo, hi = _local_day_bounds(start, end, tz)
            query = self._availability(location, state, hosts, lo, hi, ignore_date_range=False)
            slots = look_busy(compute_slots(query), tz, share, seed=calendar.id)
            slots = [s for s in slots if start.timestamp() <= s <= end.timestamp()]
        else:
            query = self._availability(location, state, hosts, start, end, ignore_date_range=False)
            slots = compute_slots(query)
        metrics.add_metric(name="FreeSlotComputations", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name="FreeSlotDuration",
            unit=MetricUnit.Milliseconds,
            value=(time.perf_counter() - started) * 1000,
        )
        return slots, out_zone

    # -- appointments -------------------------------------------------------------------------

    def create_appointment(self, location_id: str, data: AppointmentInput) -> Event:
        """Book an appointment at an offered slot. Raises NotFound, ValidationFailed,
        SlotUnavailable (not offered) or BookingConflict (lost every retry)."""
        return self._with_retries(lambda: self.prepare_create(location_id, data))

    def update_appointment(self, location_id: str, event_id: str, data: AppointmentInput) -> Event:
        """Change an appointment; a new time or host is re-checked, not counting itself."""
        return self._with_retries(lambda: self.prepare_update(location_id, event_id, data))

    def prepare_create(self, location_id: str, data: AppointmentInput) -> BookingPlan:
        """Read phase of a new booking: decide host(s) and read versions. No writes."""
        missing = [f for f in ("calendar_id", "contact_id", "start") if getattr(data, f) is None]
        if missing:
            raise ValidationFailed([f"{name} should not be empty" for name in missing])
        assert data.calendar_id is not None and data.start is not None
        _require_waiver_for_rrule(data)
        location, state = self._load(location_id, data.calendar_id)
        calendar = state.calendar
        now = self._clock()
        event = Event(
            id=new_id(),
            location_id=location_id,
            kind=EventKind.APPOINTMENT,
            calendar_id=calendar.id,
            contact_id=data.contact_id,
            group_id=calendar.group_id,
            title=data.title or "Appointment",
            status=data.status or AppointmentStatus.CONFIRMED,
            start=data.start,
            end=data.end or data.start + timedelta(seconds=calendar.slot_duration.seconds()),
            description=data.description,
            address=data.address,
            meeting_location_type=data.meeting_location_type,
            meeting_location_id=data.meeting_location_id,
            to_notify=True if data.to_notify is None else data.to_notify,
            buffer_before=calendar.pre_buffer_seconds,
            buffer_after=calendar.post_buffer_seconds,
            created_at=now,
            updated_at=now,
        )
        return self._series_for_create(location, state, self._plan(location, state, event, data, None), data)

    def prepare_update(self, location_id: str, event_id: str, data: AppointmentInput) -> BookingPlan:
        """Read phase of an appointment change. No writes."""
        previous = self._store.get_event(location_id, event_id, consistent=True)
        recurring = self._prepare_recurring_update(location_id, event_id, previous, data)
        if recurring is not None:
            return recurring
        if previous is None or previous.kind is not EventKind.APPOINTMENT:
            raise NotFound("Appointment", event_id)
        if previous.calendar_id is None:
            # A booking made on a calendar connection (oHallo): it has no calendar to plan against.
            raise InvalidRequest(
                "This appointment was booked on a calendar connection; change it with "
                "PATCH /api/bookings/{bookingId} or POST /api/bookings/{bookingId}/cancel."
            )
        return self._update_plan(location_id, previous, data)

    def _update_plan(self, location_id: str, previous: Event, data: AppointmentInput) -> BookingPlan:
        """The change of appointment ``previous`` that ``data`` asks for (read phase)."""
        calendar_id = data.calendar_id or previous.calendar_id
        assert calendar_id is not None
        location, state = self._store.get_location_and_calendar(location_id, calendar_id)
        calendar = state.calendar if state else None
        if location is None:
            raise NotFound("Location", location_id)
        if calendar is None and calendar_id != previous.calendar_id:
            raise NotFound("Calendar", calendar_id)
        # The appointment's own calendar may have been deleted since: the appointment can still
        # be cancelled or edited (that frees or keeps its time), just not moved or re-booked.
        changes: dict[str, object] = {
            name: value
            for name, value in (
                ("contact_id", data.contact_id),
                ("title", data.title),
                ("status", data.status),
                ("description", data.description),
                ("address", data.address),
                ("meeting_location_type", data.meeting_location_type),
                ("meeting_location_id", data.meeting_location_id),
                ("to_notify", data.to_notify),
            )
            if value is not None
        }
        start = data.start or previous.start
        if data.end is not None:
            end = data.end
        elif data.start is not None:
            end = start + (previous.end - previous.start)
        else:
            end = previous.end
        changes.update(
            calendar_id=calendar_id,
            group_id=calendar.group_id if calendar else previous.group_id,
            start=start,
            end=end,
            updated_at=self._clock(),
        )
        moved = (
            start != previous.start
            or end != previous.end
            or calendar_id != previous.calendar_id
            or (data.assigned_user_id is not None and data.assigned_user_id != previous.assigned_user_id)
        )
        event = previous.model_copy(update=changes)
        reoccupies = event.occupies_hosts and not previous.occupies_hosts
        if not event.occupies_hosts or not (moved or reoccupies):
            # Frees time or changes nothing about it: no availability check, no host lock.
            return BookingPlan(event=event, versions={}, previous=previous)
        if state is None or calendar is None:
            raise NotFound("Calendar", calendar_id)
        event = event.model_copy(
            update={
                "buffer_before": calendar.pre_buffer_seconds,
                "buffer_after": calendar.post_buffer_seconds,
            }
        )
        # A rescheduled round-robin appointment keeps its host when that host is free.
        return self._plan(
            location,
            state,
            event,
            data,
            previous=previous,
            prefer=previous.assigned_user_id,
        )

    def commit(self, plan: BookingPlan) -> Event:
        """Write phase: store the planned event. Raises BookingConflict if the plan went stale."""
        if plan.series is not None:
            return self._commit_series(plan)
        if plan.versions:
            self._store.save_booking(
                plan.event,
                plan.versions,
                plan.previous,
                now=self._clock(),
                resource_versions=plan.resource_versions,
                active_group=plan.active_group,
            )
            metrics.add_metric(
                name="BookingsCreated" if plan.previous is None else "BookingsRescheduled",
                unit=MetricUnit.Count,
                value=1,
            )
        else:
            self._store.save_event(plan.event, plan.previous)
        self._changed(plan.previous, plan.event)
        logger.info(
            "appointment booked" if plan.previous is None else "appointment changed",
            extra={
                "event_id": plan.event.id,
                "calendar_id": plan.event.calendar_id,
                "hosts": plan.event.hosts,
            },
        )
        return plan.event

    def get_event(self, location_id: str, event_id: str, kind: EventKind | None = None) -> Event:
        event = self._store.get_event(location_id, event_id)
        if event is None and kind in (None, EventKind.APPOINTMENT):
            event = self._expanded_instance(location_id, event_id)
        if event is None or (kind is not None and event.kind is not kind):
            raise NotFound("Event", event_id)
        return event

    def delete_event(self, location_id: str, event_id: str) -> None:
        """Delete an appointment or block slot; its time is free at once."""
        event = self._store.get_event(location_id, event_id, consistent=True)
        if event is None or event.is_series:
            self._delete_recurring(location_id, event_id, event)  # an instance or a whole series
            return
        calendar_exists = True
        if event.kind is EventKind.BLOCK and event.calendar_id and not event.hosts:
            calendar_exists = self._store.get_calendar(location_id, event.calendar_id) is not None
        self._store.delete_event(event, calendar_exists=calendar_exists)
        self._changed(event, None)

    # -- block slots --------------------------------------------------------------------------

    def create_block(self, location_id: str, data: BlockInput) -> Event:
        """A block slot for a calendar or a host. Its time stops being offered at once."""
        now = self._clock()
        event, prune = self._block_event(location_id, data, new_id(), now, now)
        self._store.save_event(event, prune=prune)
        return event

    def update_block(self, location_id: str, event_id: str, data: BlockInput) -> Event:
        previous = self._store.get_event(location_id, event_id, consistent=True)
        if previous is None or previous.kind is not EventKind.BLOCK:
            raise NotFound("Block slot", event_id)
        event, prune = self._block_event(location_id, data, event_id, previous.created_at, self._clock())
        moving_off = (
            previous.calendar_id is not None
            and not previous.hosts
            and previous.calendar_id != event.calendar_id
        )
        previous_exists = (
            not moving_off or self._store.get_calendar(location_id, previous.calendar_id) is not None
        )
        self._store.save_event(event, previous, prune=prune, previous_calendar_exists=previous_exists)
        return event

    def _block_event(
        self, location_id: str, data: BlockInput, event_id: str, created: datetime, updated: datetime
    ) -> tuple[Event, list[str]]:
        """The block-slot event, and the ids of the calendar's long-past blocks to prune from
        its map (they can no longer affect any offered slot)."""
        if (data.calendar_id is None) == (data.assigned_user_id is None):
            raise ValidationFailed(["Either calendarId or assignedUserId can be set, not both."])
        _check_span(data.start, data.end)
        group_id = None
        prune: list[str] = []
        if data.calendar_id is not None:
            calendar, blocks = self._store.get_calendar_and_blocks(location_id, data.calendar_id)
            if calendar is None:
                raise NotFound("Calendar", data.calendar_id)
            group_id = calendar.group_id
            horizon_floor = int((updated - MAX_EVENT_SPAN).timestamp())
            prune = [block_id for block_id, (_, end) in blocks.items() if end < horizon_floor]
            if len(blocks) - len(prune) + (event_id not in blocks) > MAX_CALENDAR_BLOCKS:
                raise ValidationFailed([f"a calendar can hold at most {MAX_CALENDAR_BLOCKS} block slots"])
        event = Event(
            id=event_id,
            location_id=location_id,
            kind=EventKind.BLOCK,
            calendar_id=data.calendar_id,
            assigned_user_id=data.assigned_user_id,
            hosts=[data.assigned_user_id] if data.assigned_user_id else [],
            group_id=group_id,
            title=data.title,
            start=data.start,
            end=data.end,
            created_at=created,
            updated_at=updated,
        )
        return event, prune

    # -- listings -----------------------------------------------------------------------------

    def list_events(
        self,
        location_id: str,
        kind: EventKind,
        start: datetime,
        end: datetime,
        calendar_id: str | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> list[Event]:
        """Events of ``kind`` overlapping ``[start, end)`` for one calendar, user or group."""
        if not (calendar_id or user_id or group_id):
            raise InvalidRequest("Either of calendarId, userId or groupId is required")
        if end < start:
            raise InvalidRequest("endTime must not be before startTime")
        if calendar_id:
            self.get_calendar(location_id, calendar_id)
            calendar_ids = [calendar_id]
        elif group_id:
            calendar_ids = [c.id for c in self._store.list_calendars(location_id) if c.group_id == group_id]
        else:
            calendar_ids = []
        found: dict[str, Event] = {}
        for cid in calendar_ids:
            read = (
                self._store.calendar_events if kind is EventKind.APPOINTMENT else self._store.calendar_blocks
            )
            for e in read(location_id, cid, start, end):
                found[e.id] = e
        if user_id:
            hosted = self._store.host_events(location_id, user_id, start, end, kind)
            scoped = bool(calendar_id or group_id)  # then userId narrows those calendars' events
            found = {e.id: e for e in hosted if not scoped or e.id in found}
        if kind is EventKind.APPOINTMENT:
            recurring = self._series_instances(location_id, start, end, calendar_ids, user_id)
            found.update((e.id, e) for e in recurring)
        return sorted(found.values(), key=lambda e: (e.start, e.id))

    # -- recurring appointments ---------------------------------------------------------------
    # Rules in slotbook.recurrence, storage in slotbook.store.series (patterns 23-24).
    # * ``rrule`` on create/update makes the appointment a series, only with
    #   ignoreFreeSlotValidation (reference: "The rrule only be applied if ignoreFreeSlotValidation
    #   is true"; 422 otherwise). The master id edits or deletes the whole series (deleting it also
    #   deletes its detached instances); an instance id ``<master>_<startMs>_<durationS>`` reads,
    #   edits (detaches: it becomes an appointment of its own) or deletes that one occurrence.
    # * Every live occurrence is busy time of the series' hosts in every calendar, padded by the
    #   buffers it was booked with; in its own calendar it counts as a booking (seats).
    # * Calendars with ``enableRecurring`` book a checked booking as a series of
    #   ``recurring.count`` occurrences at ``recurring.freq`` (:meth:`_book_recurring`).

    def _series_for_create(
        self, location: Location, state: CalendarState, plan: BookingPlan, data: AppointmentInput
    ) -> BookingPlan:
        """A planned new booking, turned into a series when ``data.rrule`` asks for one or the
        calendar books recurring appointments; unchanged otherwise."""
        if data.rrule is not None:
            master = _as_master(location.timezone, plan.event, data.rrule)
            return replace(plan, event=master, series=SeriesChange(master, None))
        setting = _recurring_setting(state.calendar)
        if setting is None or data.ignore_free_slot_validation:
            return plan
        return self._book_recurring(location, state, plan, *setting)

    def _book_recurring(
        self,
        location: Location,
        state: CalendarState,
        plan: BookingPlan,
        freq: str,
        count: int,
        option: str,
        overlap_status: AppointmentStatus,
    ) -> BookingPlan:
        """``enableRecurring``: ``plan`` checked the first occurrence (400 when taken); every later
        one is checked here for the same host(s), from reads made after the versions the plan
        holds, so the whole series commits in one transaction or not at all. A taken occurrence:
        ``skip`` leaves it out; ``continue`` books it anyway with ``overlap_status``;
        ``book_next`` moves it to the next offered slot after it that ends before the following
        occurrence (left out when there is none). Minimum notice and horizon apply to the first
        occurrence only."""
        first = plan.event
        duration = _seconds(first.end - first.start)
        tz = location.timezone
        # One more than booked: the occurrence after the last bounds its book_next search.
        starts = recurrence.first(recurrence.simple_rule(freq, count + 1), first.start, tz, count + 1)
        later, bound = starts[1:count], starts[count] if len(starts) > count else None
        if not later:
            return plan
        master = first.model_copy(update={"rrule": recurrence.simple_rule(freq, count), "rrule_timezone": tz})
        hosts = master.hosts
        query = self._availability(
            location, state, hosts, later[0], bound or later[-1], ignore_date_range=True, duration=duration
        )
        exdates: list[datetime] = []
        instances: list[Event] = []
        for occ, following in zip(later, [*later[1:], bound], strict=True):
            if set(hosts) <= set(free_hosts_at(query, int(occ.timestamp()))):
                continue
            if option == "continue" and overlap_status is master.status:
                continue  # booked anyway, as it is
            exdates.append(occ)
            if option == "continue":
                instances.append(_detached(master, occ, status=overlap_status))
            elif option == "book_next":
                # The series' own other occurrences count as this calendar's bookings (seats and
                # the daily limit), as those moved so far do.
                own = [first.start, *(o for o in later if o != occ), *(i.start for i in instances)]
                slot = _next_slot(_with_own_bookings(query, own, duration), occ, following, duration)
                if slot is not None:
                    instances.append(_detached(master, occ, start=slot))
        master = master.model_copy(update={"exdates": exdates, "detached": [i.id for i in instances]})
        return replace(plan, event=master, series=SeriesChange(master, None, instances))

    def _prepare_recurring_update(
        self, location_id: str, event_id: str, previous: Event | None, data: AppointmentInput
    ) -> BookingPlan | None:
        """The plan of an update that concerns recurrence (an instance id, a master, or an
        ``rrule``), or ``None`` for an ordinary appointment change."""
        _require_waiver_for_rrule(data)
        if previous is None:
            parsed = recurrence.parse_instance_id(event_id)
            return None if parsed is None else self._plan_detach(location_id, event_id, *parsed, data)
        if previous.kind is not EventKind.APPOINTMENT:
            return None
        if previous.master_id is not None and data.rrule is not None:
            raise ValidationFailed(
                ["an occurrence of a recurring series cannot recur itself; edit the series (masterEventId)"]
            )
        if previous.is_series or data.rrule is not None:
            return self._plan_series_edit(location_id, previous, data)
        return None

    def _plan_detach(
        self,
        location_id: str,
        instance_id: str,
        master_id: str,
        original: datetime,
        duration: int,
        data: AppointmentInput,
    ) -> BookingPlan:
        """Edit one occurrence: it becomes an appointment of its own (id = the instance id; a new
        time or host is checked as any reschedule, not counting the occurrence itself) and
        leaves the series, in one transaction."""
        master = self._live_master(location_id, instance_id, master_id, original, duration)
        _check_exceptions(master)
        if data.rrule is not None:
            raise ValidationFailed(
                ["an occurrence of a recurring series cannot recur itself; edit the series (masterEventId)"]
            )
        series_versions, _ = self._store.host_versions(location_id, master.hosts)
        series_resources = self._store.resource_versions(location_id, master.resources)
        plan = self._update_plan(location_id, _detached(master, original), data)
        instance = plan.event
        changed = master.model_copy(
            update={"exdates": [*master.exdates, original], "detached": [*master.detached, instance.id]}
        )
        return BookingPlan(
            event=instance,
            versions={**series_versions, **plan.versions},
            resource_versions={**series_resources, **plan.resource_versions},
            series=SeriesChange(changed, master, [instance]),
        )

    def _plan_series_edit(self, location_id: str, previous: Event, data: AppointmentInput) -> BookingPlan:
        """Edit a whole series (or make an appointment one, with ``rrule``). Fields that do not
        touch time apply to every non-detached occurrence; a new time, calendar, host or rule
        needs ignoreFreeSlotValidation (the occurrences are not re-checked one by one) and
        shifts the excluded occurrences with the series."""
        forced = replace(data, ignore_free_slot_validation=True)
        event = self._update_plan(location_id, previous, forced).event
        moved = (
            (event.start, event.end, event.calendar_id, sorted(event.hosts))
            != (previous.start, previous.end, previous.calendar_id, sorted(previous.hosts))
            or data.rrule is not None
            or (event.occupies_hosts and not previous.occupies_hosts)
        )
        if moved and not data.ignore_free_slot_validation:
            raise ValidationFailed(
                [
                    "changing the time, calendar, host, status or rule of a recurring series requires "
                    "ignoreFreeSlotValidation: true"
                ]
            )
        if data.rrule is not None:
            tz = previous.rrule_timezone
            if tz is None:
                location = self._store.get_location(location_id)
                if location is None:
                    raise NotFound("Location", location_id)
                tz = location.timezone
            master = _as_master(tz, event, data.rrule, previous.exdates if previous.is_series else [])
        else:
            assert previous.rrule is not None and previous.rrule_timezone is not None
            tz = previous.rrule_timezone
            recurrence.parse(previous.rrule, event.start, _seconds(event.end - event.start), zone(tz))
            shifted = _shifted(previous.exdates, previous.start, event.start, zone(tz))
            # A detached instance keeps its id (its original start): when the moved series has an
            # occurrence there, that start stays excluded, or two events would share the id.
            claimed = {p[1] for p in map(recurrence.parse_instance_id, previous.detached) if p is not None}
            rule = previous.rrule
            exdates = [
                old if old in claimed and recurrence.is_occurrence(rule, event.start, tz, old) else new
                for old, new in zip(previous.exdates, shifted, strict=True)
            ]
            master = event.model_copy(update={"exdates": exdates})
        versions, _ = self._store.host_versions(location_id, [*previous.hosts, *master.hosts])
        resources = self._store.resource_versions(location_id, [*previous.resources, *master.resources])
        return BookingPlan(
            event=master,
            versions=versions,
            resource_versions=resources,
            series=SeriesChange(master, previous),
        )

    def _delete_recurring(self, location_id: str, event_id: str, master: Event | None) -> None:
        """Delete a whole series (``master``) or one occurrence (``event_id`` an instance id).
        NotFound for anything else."""
        if master is not None:
            self._with_retries(lambda: self._plan_series_delete(location_id, master.id))
            return
        parsed = recurrence.parse_instance_id(event_id)
        if parsed is None:
            raise NotFound("Event", event_id)

        def plan() -> BookingPlan:
            current = self._live_master(location_id, event_id, *parsed)
            _check_exceptions(current)
            changed = current.model_copy(update={"exdates": [*current.exdates, parsed[1]]})
            versions, _ = self._store.host_versions(location_id, current.hosts)
            return BookingPlan(
                event=changed,
                versions=versions,
                resource_versions=self._store.resource_versions(location_id, current.resources),
                series=SeriesChange(changed, current),
            )

        self._with_retries(plan)

    def _plan_series_delete(self, location_id: str, master_id: str) -> BookingPlan:
        """Delete the series' detached instances (idempotent, so a retry redoes it), then plan
        the master's deletion with its hosts' series attributes."""
        master = self._store.get_event(location_id, master_id, consistent=True)
        if master is None or not master.is_series:
            raise NotFound("Event", master_id)
        for instance in self._store.get_events(location_id, master.detached):
            if instance.master_id == master.id:
                try:
                    self._store.delete_event(instance)
                except NotFound:  # deleted meanwhile (by its own request, which notified)
                    continue
                self._changed(instance, None)  # an appointment of its own: withdraw its jobs
        versions, _ = self._store.host_versions(location_id, master.hosts)
        return BookingPlan(
            event=master,
            versions=versions,
            resource_versions=self._store.resource_versions(location_id, master.resources),
            series=SeriesChange(None, master),
        )

    def _commit_series(self, plan: BookingPlan) -> Event:
        """Write phase of a series change (one transaction; BookingConflict if it went stale)."""
        change = plan.series
        assert change is not None
        master = change.master
        last_end = None
        if master is not None:
            assert master.rrule is not None
            duration = _seconds(master.end - master.start)
            zone_name = master.rrule_timezone or "UTC"
            last_end = recurrence.last_end(master.rrule, master.start, zone_name, duration)
        self._store.save_series(
            master,
            change.previous,
            plan.versions,
            last_end=last_end,
            instances=change.instances,
            resource_versions=plan.resource_versions,
            now=self._clock(),
            active_group=plan.active_group,
        )
        self._changed(change.previous, master)
        if change.previous is not None:  # occurrences edited on their own (a new series: none)
            for instance in change.instances:
                original = instance.original_start
                self._changed(_instance(change.previous, original) if original else None, instance)
        subject = master or change.previous
        assert subject is not None
        logger.info(
            "recurring series written" if master is not None else "recurring series deleted",
            extra={"event_id": subject.id, "calendar_id": subject.calendar_id, "hosts": subject.hosts},
        )
        return plan.event

    def _live_master(
        self, location_id: str, instance_id: str, master_id: str, original: datetime, duration: int
    ) -> Event:
        """The master of a live (not excluded, not detached) occurrence; NotFound otherwise."""
        master = self._store.get_event(location_id, master_id, consistent=True)
        if master is None or not _is_live(master, original, duration):
            raise NotFound("Appointment", instance_id)
        return master

    def _expanded_instance(self, location_id: str, event_id: str) -> Event | None:
        """The occurrence an instance id names, expanded from its master (None if there is none)."""
        parsed = recurrence.parse_instance_id(event_id)
        if parsed is None:
            return None
        master_id, original, duration = parsed
        master = self._store.get_event(location_id, master_id)
        if master is None or not _is_live(master, original, duration):
            return None
        return _instance(master, original)

    def _series_entries(
        self, location_id: str, hosts: list[str], resources: list[str], lo: datetime, hi: datetime
    ) -> tuple[dict[str, list[TimelineEntry]], dict[str, list[TimelineEntry]], dict[str, list[str]]]:
        """Busy entries of the recurring occurrences occupying ``hosts`` and ``resources`` that
        may overlap ``[lo, hi]`` with their buffers, shaped like timeline entries (entry id =
        instance id), and the calendar connections linked to each host:
        ``(host → entries, resource → entries, host → connection ids)``, from one BatchGetItem."""
        by_host, by_resource, linked = self._store.occupying_series(location_id, hosts, resources)
        return _expand_entries(by_host, lo, hi), _expand_entries(by_resource, lo, hi), linked

    def _series_instances(
        self, location_id: str, lo: datetime, hi: datetime, calendar_ids: list[str], user_id: str | None
    ) -> list[Event]:
        """Expanded occurrences overlapping ``[lo, hi)`` of the calendars' series (pattern 23;
        only those ``user_id`` hosts when given) or, for a user alone, of the series occupying
        that user (pattern 24)."""
        masters: dict[str, Event] = {}
        if calendar_ids:
            for cid in calendar_ids:
                masters.update((m.id, m) for m in self._store.calendar_series(location_id, cid, lo, hi))
            if user_id:
                masters = {i: m for i, m in masters.items() if user_id in m.hosts}
        elif user_id:
            ids = [s.master_id for s in self._store.host_series(location_id, [user_id]).get(user_id, [])]
            masters = {m.id: m for m in self._store.get_events(location_id, ids) if m.is_series}
        out: list[Event] = []
        for m in masters.values():
            assert m.rrule is not None
            duration = _seconds(m.end - m.start)
            since = lo - timedelta(seconds=duration - 1)
            zone_name = m.rrule_timezone or "UTC"
            for occ in recurrence.occurrences(m.rrule, m.start, zone_name, since, hi, m.exdates):
                out.append(_instance(m, occ))
                if len(out) > MAX_LISTED_OCCURRENCES:
                    raise InvalidRequest(
                        f"The window holds more than {MAX_LISTED_OCCURRENCES} recurring occurrences; "
                        "ask for a shorter one"
                    )
        return out

    # -- internals ----------------------------------------------------------------------------

    def _load(self, location_id: str, calendar_id: str) -> tuple[Location, CalendarState]:
        """The location and the calendar with its block slots, schedules and resources, in one
        read."""
        location, state = self._store.get_location_and_calendar(location_id, calendar_id)
        if location is None:
            raise NotFound("Location", location_id)
        if state is None:
            raise NotFound("Calendar", calendar_id)
        return location, state

    def _takes_bookings(self, calendar: Calendar) -> bool:
        """Whether a calendar offers slots: not a draft (``isActive``), and its group (if any)
        is not disabled (one GetItem, only for grouped calendars)."""
        if not calendar.is_active:
            return False
        if calendar.group_id is None:
            return True
        group = self._store.get_group(calendar.location_id, calendar.group_id)
        return group is None or group.is_active

    def _with_retries(self, prepare: Callable[[], BookingPlan]) -> Event:
        """Read, decide, write; on a lost race re-read and try again after a short jittered
        backoff (so contenders for the last seats do not retry in lockstep)."""
        for attempt in range(MAX_ATTEMPTS):
            plan = prepare()
            try:
                return self.commit(plan)
            except BookingConflict:
                metrics.add_metric(name="BookingConflicts", unit=MetricUnit.Count, value=1)
                if attempt + 1 < MAX_ATTEMPTS:
                    self._sleep(random.uniform(0, RETRY_BASE_SECONDS * 2**attempt))
        raise BookingConflict("The slot was taken by a concurrent booking; please pick another.")

    def _availability(
        self,
        location: Location,
        state: CalendarState,
        hosts: list[str],
        start: datetime,
        end: datetime,
        *,
        ignore_date_range: bool,
        duration: int | None = None,
        exclude_event: str | None = None,
        series: tuple[dict[str, list[HostSeries]], dict[str, list[HostSeries]], dict[str, list[str]]]
        | None = None,
    ) -> AvailabilityQuery:
        """Assemble the engine query: one strongly consistent Query per host (never one per day);
        the calendar's own block slots, schedules and resource capacities came with the calendar.

        Opening hours: the event-calendar schedule (if any) replaces the calendar's ``openHours``;
        a member's user schedule associated with the calendar replaces them for that member,
        each in its own zone."""
        calendar = state.calendar
        calendar_blocks = list(state.blocks.values())
        tz = zone(location.timezone)
        slot = SlotSpec(
            duration=duration or calendar.slot_duration.seconds(),
            interval=calendar.slot_interval.seconds(),
            pre_buffer=calendar.pre_buffer_seconds,
            post_buffer=calendar.post_buffer_seconds,
            seats=max(1, calendar.seats_per_slot),
            per_day_limit=calendar.per_day_limit,
        )
        earliest = latest = None
        if not ignore_date_range:
            notice = (calendar.notice.value, calendar.notice.unit) if calendar.notice else None
            horizon = (calendar.horizon.value, calendar.horizon.unit) if calendar.horizon else None
            earliest, latest = booking_window(self._clock(), tz, notice, horizon)
        read_lo = start - timedelta(seconds=slot.pre_buffer)
        read_hi = end + timedelta(seconds=slot.duration + slot.post_buffer)
        if slot.per_day_limit is not None:
            # Whole local days, so bookings earlier that day count towards the daily limit.
            read_lo = min(read_lo, datetime.combine(start.astimezone(tz).date(), datetime.min.time(), tz))
            read_hi = max(
                read_hi,
                datetime.combine(end.astimezone(tz).date() + timedelta(days=1), datetime.min.time(), tz),
            )
        lo_ts, hi_ts = int(read_lo.timestamp()), int(read_hi.timestamp())
        blocks = [b for b in calendar_blocks if b[0] < hi_ts and b[1] > lo_ts]
        host_busy = []
        # Recurring series occupying the hosts and the calendar's rooms/equipments (one read).
        if series is None:
            series_map, taken, linked = self._series_entries(
                location.id, hosts, list(state.resources), read_lo, read_hi
            )
        else:  # already read with the booking's versions (SeriesStore.read_locks)
            series_map, taken, linked = (
                _expand_entries(series[0], read_lo, read_hi),
                _expand_entries(series[1], read_lo, read_hi),
                series[2],
            )
        for host in hosts:
            busy = list(blocks)
            # The host's connected calendars (issue 4): provider events, stored by the sync.
            for connection_id in linked.get(host, ()):
                busy.extend(self._store.connection_busy(location.id, connection_id, read_lo, read_hi))
            bookings: list[tuple[int, int]] = []
            starts: list[int] = []
            for e in [*self._store.host_busy(location.id, host, read_lo, read_hi), *series_map.get(host, ())]:
                if not e.busy or e.event_id == exclude_event:
                    continue
                padded = (e.start - e.buffer_before, e.end + e.buffer_after)
                if e.kind is EventKind.APPOINTMENT and e.calendar_id == calendar.id:
                    bookings.append(padded)
                    starts.append(e.start)
                else:
                    busy.append(padded)
            own = state.member_schedules.get(host)
            host_busy.append(
                HostBusy(
                    host_id=host,
                    busy=busy,
                    bookings=bookings,
                    booking_starts=starts,
                    open_hours=own.open_hours() if own is not None else None,
                )
            )
        base_hours = (
            state.calendar_schedule.open_hours()
            if state.calendar_schedule is not None
            else calendar.open_hours(location.timezone)
        )
        # Rooms and equipments: every booking occupying them, from any calendar (one Query each).
        pools = [
            ResourcePool(
                resource_id=rid,
                capacity=units,
                bookings=[
                    (e.start - e.buffer_before, e.end + e.buffer_after)
                    for e in [
                        *self._store.resource_busy(location.id, rid, read_lo, read_hi),
                        *taken.get(rid, ()),
                    ]
                    if e.busy and e.event_id != exclude_event
                ]
                if units > 0
                else [],
            )
            for rid, units in state.resources.items()
        ]
        return AvailabilityQuery(
            open_hours=base_hours,
            slot=slot,
            hosts=host_busy,
            mode=Mode.ALL if calendar.calendar_type is CalendarType.COLLECTIVE else Mode.ANY,
            window_start=int(start.timestamp()),
            window_end=int(end.timestamp()),
            earliest=earliest,
            latest=latest,
            resources=pools,
        )

    def _plan(
        self,
        location: Location,
        state: CalendarState,
        event: Event,
        data: AppointmentInput,
        previous: Event | None,
        prefer: str | None = None,
    ) -> BookingPlan:
        """Choose the host(s) for ``event`` and read their versions, then (unless validation is
        waived) check the slot is offered to them. Raises SlotUnavailable / ValidationFailed."""
        calendar = state.calendar
        _check_span(event.start, event.end)
        if not calendar.host_ids:
            raise ValidationFailed(["calendar has no team members to book"])
        collective = calendar.calendar_type is CalendarType.COLLECTIVE
        if data.assigned_user_id is not None and data.assigned_user_id not in calendar.host_ids:
            raise ValidationFailed(
                [f"assignedUserId {data.assigned_user_id} is not a team member of this calendar"]
            )
        if collective:
            candidates = calendar.host_ids
        elif data.assigned_user_id is not None:
            candidates = [data.assigned_user_id]
        else:
            candidates = calendar.host_ids
        if not data.ignore_free_slot_validation and not self._takes_bookings(calendar):
            raise SlotUnavailable("This calendar is a draft or its group is disabled; it takes no bookings.")

        # Versions first, busy time second: any booking committed after this read moves a version.
        locks = self._store.read_locks(location.id, candidates, list(state.resources), calendar.id)
        versions, last_booked, resource_versions = (
            locks.host_versions,
            locks.last_booked,
            locks.resource_versions,
        )
        if data.ignore_free_slot_validation:
            free = list(candidates)
        else:
            query = self._availability(
                location,
                state,
                candidates,
                event.start,
                event.start,
                ignore_date_range=data.ignore_date_range,
                duration=int((event.end - event.start).total_seconds()),
                exclude_event=previous.id if previous else None,
                series=(locks.host_series, locks.resource_series, locks.host_connections),
            )
            free = free_hosts_at(query, int(event.start.timestamp()))
        if collective:
            if set(free) != set(candidates):
                raise SlotUnavailable("The slot you have selected is no longer available.")
            hosts = list(candidates)
            assigned = data.assigned_user_id or _primary(calendar)
        else:
            if not free:
                raise SlotUnavailable("The slot you have selected is no longer available.")
            assigned = self._pick(calendar, free, last_booked, location.id, prefer=prefer)
            hosts = [assigned]
        linked = sorted({c for h in hosts for c in locks.host_connections.get(h, ())})
        event = event.model_copy(
            update={
                "assigned_user_id": assigned,
                "hosts": hosts,
                "resources": list(state.resources),
                "provider_connections": linked,
            }
        )
        return BookingPlan(
            event=event,
            versions={h: versions[h] for h in hosts},
            previous=previous,
            resource_versions=resource_versions,
            # New bookings only: a reschedule's transaction is already at the 100-item bound.
            active_group=None if data.ignore_free_slot_validation or previous else calendar.group_id,
        )

    def _pick(
        self,
        calendar: Calendar,
        free: list[str],
        last_booked: dict[str, int],
        location_id: str,
        prefer: str | None = None,
    ) -> str:
        """Round-robin assignment among free members (GoHighLevel ``eventType``):
        OptimizeForAvailability → highest priority, then least recently booked;
        OptimizeForEqualDistribution → fewest upcoming bookings, then priority."""
        if prefer is not None and prefer in free:
            return prefer
        if len(free) == 1:
            return free[0]
        priority = {m.user_id: m.priority for m in calendar.team_members}
        order = {h: i for i, h in enumerate(calendar.host_ids)}
        if calendar.event_type is RoundRobinStrategy.OPTIMIZE_FOR_EQUAL_DISTRIBUTION:
            now = self._clock()
            upcoming = {h: self._store.upcoming_count(location_id, h, calendar.id, now) for h in free}
            return min(free, key=lambda h: (upcoming[h], -priority.get(h, 0.5), last_booked[h], order[h]))
        return min(free, key=lambda h: (-priority.get(h, 0.5), last_booked[h], order[h]))


def _look_busy_share(calendar: Calendar) -> float:
    """The share (percent) of free slots ``lookBusyConfig`` hides; 0 when disabled."""
    config = calendar.attributes.get("lookBusyConfig") or {}
    if not config.get("enabled"):
        return 0.0
    return float(config.get("LookBusyPercentage") or 0)


def _local_day_bounds(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight of ``start``'s day to the last second of ``end``'s day, in ``tz``."""
    lo = datetime.combine(start.astimezone(tz).date(), datetime.min.time(), tz)
    hi = datetime.combine(end.astimezone(tz).date() + timedelta(days=1), datetime.min.time(), tz)
    return lo, hi - timedelta(seconds=1)


def _primary(calendar: Calendar) -> str:
    for member in calendar.team_members:
        if member.is_primary:
            return member.user_id
    return calendar.host_ids[0]


def _narrow_hosts(calendar: Calendar, user_ids: list[str] | None) -> list[str]:
    if not user_ids:
        return calendar.host_ids
    unknown = [u for u in user_ids if u not in calendar.host_ids]
    if unknown:
        raise InvalidRequest(f"User {unknown[0]} is not a team member of this calendar")
    return list(dict.fromkeys(user_ids))


def _check_span(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationFailed(["endTime must be after startTime"])
    if end - start > MAX_EVENT_SPAN:
        raise ValidationFailed([f"an event cannot last more than {MAX_EVENT_SPAN.days} days"])


def _validate_calendar(calendar: Calendar) -> None:
    """Rules of the reference: team members per type, positive lengths, sane buffers."""
    errors: list[str] = []
    members = calendar.host_ids
    if len(set(members)) != len(members):
        errors.append("teamMembers must not repeat a userId")
    if calendar.calendar_type is CalendarType.PERSONAL and len(members) != 1:
        errors.append("Personal calendar must have exactly one team member")
    if (
        calendar.calendar_type
        in (
            CalendarType.ROUND_ROBIN,
            CalendarType.COLLECTIVE,
            CalendarType.CLASS_BOOKING,
            CalendarType.SERVICE_BOOKING,
        )
        and not members
    ):
        errors.append(f"teamMembers are required for calendars of type {calendar.calendar_type.value}")
    if len(members) > MAX_HOSTS_PER_BOOKING:
        errors.append(f"a calendar can have at most {MAX_HOSTS_PER_BOOKING} team members")
    if (
        calendar.calendar_type is CalendarType.COLLECTIVE
        and sum(bool(m.is_primary) for m in calendar.team_members) > 1
    ):
        errors.append("Only one team member can be primary")
    for label, amount in (("slotDuration", calendar.slot_duration), ("slotInterval", calendar.slot_interval)):
        seconds = amount.seconds()
        if seconds <= 0 or seconds % 60:
            errors.append(f"{label} must be a positive whole number of minutes")
        elif seconds > 86400:
            errors.append(f"{label} must not exceed 24 hours")
    for label, buffer in (("preBuffer", calendar.pre_buffer), ("slotBuffer", calendar.post_buffer)):
        if buffer is not None and not 0 <= buffer.seconds() <= MAX_BUFFER.total_seconds():
            errors.append(f"{label} must be between 0 and 24 hours")
    if calendar.seats_per_slot < 1:
        errors.append("appoinmentPerSlot must be at least 1")
    if calendar.per_day_limit is not None and calendar.per_day_limit < 1:
        errors.append("appoinmentPerDay must be at least 1")
    for rule in calendar.weekly:
        for span in rule.spans:
            if span.close <= span.open:
                errors.append("openHours: closing time must be after opening time")
    for override in calendar.date_overrides:
        for span in override.spans:
            if span.close <= span.open:
                errors.append("availabilities: closing time must be after opening time")
    if errors:
        raise ValidationFailed(errors)


# -- recurring appointments: helpers ---------------------------------------------------------

MAX_SERIES_EXCEPTIONS = 500
"""Occurrences one series may have edited (detached) or deleted: they travel, as excluded
starts, on the master and on each host's VERSION item."""


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _require_waiver_for_rrule(data: AppointmentInput) -> None:
    """GoHighLevel: "The rrule only be applied if ignoreFreeSlotValidation is true" — without
    that flag the rule is not applied: the request books (or edits) one ordinary appointment,
    whose response says ``isRecurring: false``."""
    if data.rrule is not None and not data.ignore_free_slot_validation:
        data.rrule = None


def _recurring_setting(calendar: Calendar) -> tuple[str, int, str, AppointmentStatus] | None:
    """``(freq, count, bookingOption, bookingOverlapDefaultStatus)`` of a calendar that books
    recurring appointments (``enableRecurring`` with a ``recurring`` freq and a count of at least
    2), else ``None``. Defaults: bookingOption ``skip``, overlap status ``confirmed``."""
    if not calendar.attributes.get("enableRecurring"):
        return None
    setting = calendar.attributes.get("recurring") or {}
    freq, count = setting.get("freq"), setting.get("count")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY") or not isinstance(count, int | float) or count < 2:
        return None
    status = AppointmentStatus(setting.get("bookingOverlapDefaultStatus") or "confirmed")
    return freq, min(int(count), 24), setting.get("bookingOption") or "skip", status


def _as_master(tz: str, event: Event, text: str, exdates: list[datetime] | None = None) -> Event:
    """``event`` as the master of the series ``text`` describes (validated; 422 otherwise),
    expanded in ``tz``."""
    rule, listed = recurrence.parse(text, event.start, _seconds(event.end - event.start), zone(tz))
    excluded = sorted({*(exdates or []), *listed})
    if len(excluded) > MAX_SERIES_EXCEPTIONS:
        raise ValidationFailed([f"a series can exclude at most {MAX_SERIES_EXCEPTIONS} occurrences"])
    return event.model_copy(
        update={"rrule": rule, "rrule_timezone": tz, "exdates": excluded, "master_id": None}
    )


def _check_exceptions(master: Event) -> None:
    if len(master.exdates) >= MAX_SERIES_EXCEPTIONS:
        raise ValidationFailed(
            [f"a recurring series can have at most {MAX_SERIES_EXCEPTIONS} edited or deleted occurrences"]
        )


def _is_live(master: Event, original: datetime, duration: int) -> bool:
    """Whether ``original`` starts a live occurrence of series ``master`` lasting ``duration``."""
    if not master.is_series or master.rrule is None or _seconds(master.end - master.start) != duration:
        return False
    zone_name = master.rrule_timezone or "UTC"
    return recurrence.is_occurrence(master.rrule, master.start, zone_name, original, master.exdates)


def _instance(master: Event, occ: datetime) -> Event:
    """The occurrence of ``master`` originally at ``occ``, expanded (it carries the rule)."""
    duration = master.end - master.start
    return master.model_copy(
        update={
            "id": recurrence.instance_id(master.id, occ, _seconds(duration)),
            "start": occ,
            "end": occ + duration,
            "detached": [],
            "master_id": master.id,
            "original_start": occ,
        }
    )


def _detached(
    master: Event, occ: datetime, start: datetime | None = None, status: AppointmentStatus | None = None
) -> Event:
    """The occurrence originally at ``occ`` as an appointment of its own (no rule), at ``start``
    (default: where it was) with ``status`` (default: the series')."""
    begin = start or occ
    return _instance(master, occ).model_copy(
        update={
            "start": begin,
            "end": begin + (master.end - master.start),
            "status": status or master.status,
            "rrule": None,
            "rrule_timezone": None,
            "exdates": [],
        }
    )


def _next_slot(
    query: AvailabilityQuery, occ: datetime, following: datetime | None, duration: int
) -> datetime | None:
    """``book_next``: the first offered slot after ``occ`` that ends, with its buffers, before
    the following occurrence (``query`` read busy time up to it); none without one."""
    if following is None:
        return None
    lo = int(occ.timestamp()) + 1
    hi = int(following.timestamp()) - duration - query.slot.pre_buffer - query.slot.post_buffer
    if hi < lo:
        return None
    found = compute_slots(replace(query, window_start=lo, window_end=hi))
    return datetime.fromtimestamp(found[0], UTC) if found else None


def _with_own_bookings(query: AvailabilityQuery, starts: list[datetime], duration: int) -> AvailabilityQuery:
    """``query`` with bookings of this calendar at ``starts`` (padded by its buffers) on every host."""
    pre, post = query.slot.pre_buffer, query.slot.post_buffer
    ts = [int(s.timestamp()) for s in starts]
    padded = [(t - pre, t + duration + post) for t in ts]
    hosts = [
        replace(
            h,
            bookings=[*h.bookings, *padded],
            booking_starts=[*(h.booking_starts or [b[0] + pre for b in h.bookings]), *ts],
        )
        for h in query.hosts
    ]
    return replace(query, hosts=hosts)


def _shifted(
    exdates: list[datetime], old_start: datetime, new_start: datetime, tz: ZoneInfo
) -> list[datetime]:
    """Excluded starts moved with their series: by the same local wall-clock difference."""
    delta = new_start.astimezone(tz).replace(tzinfo=None) - old_start.astimezone(tz).replace(tzinfo=None)
    if not delta:
        return list(exdates)
    return [
        (d.astimezone(tz).replace(tzinfo=None) + delta).replace(tzinfo=tz).astimezone(UTC) for d in exdates
    ]


def _expand_entries(
    series_by_owner: dict[str, list[HostSeries]], lo: datetime, hi: datetime
) -> dict[str, list[TimelineEntry]]:
    """Timeline-like busy entries (id = instance id) of the live occurrences of each owner's
    busy series that may overlap ``[lo, hi]``, their buffers included."""
    out: dict[str, list[TimelineEntry]] = {}
    for owner, series in series_by_owner.items():
        entries = out.setdefault(owner, [])
        for s in series:
            if not s.busy:
                continue
            found = recurrence.occurrences(
                s.rule,
                datetime.fromtimestamp(s.start, UTC),
                s.timezone,
                lo - timedelta(seconds=s.duration + s.buffer_after),
                hi + timedelta(seconds=s.buffer_before + 1),
                [datetime.fromtimestamp(x, UTC) for x in s.exdates],
            )
            for occ in found:
                ts = int(occ.timestamp())
                entries.append(
                    TimelineEntry(
                        event_id=recurrence.instance_id(s.master_id, occ, s.duration),
                        kind=EventKind.APPOINTMENT,
                        calendar_id=s.calendar_id,
                        start=ts,
                        end=ts + s.duration,
                        buffer_before=s.buffer_before,
                        buffer_after=s.buffer_after,
                        busy=True,
                    )
                )
    return out
