"""Invariant 1, deterministically: two bookings that both finish their reads before either
writes. Exactly one write succeeds; the other gets BookingConflict, and a retry from fresh
reads sees the slot taken. The guarantee is the store's conditional transaction, not timing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slotbook import container
from slotbook.domain import Amount, Calendar, CalendarType, Span, TeamMember, WeeklyRule
from slotbook.errors import BookingConflict, SlotUnavailable
from slotbook.services.scheduling import AppointmentInput, SchedulingService
from slotbook.store.dynamo import DynamoStore

EPOCH = datetime(2027, 1, 1, tzinfo=UTC)
MONDAY_10 = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen (CET)


def _calendar(
    location_id: str, hosts: list[str], kind: CalendarType = CalendarType.EVENT, seats: int = 1
) -> Calendar:
    return Calendar(
        id="-",
        location_id=location_id,
        name=f"{kind.value} calendar",
        calendar_type=kind,
        team_members=[TeamMember(user_id=h) for h in hosts],
        slot_duration=Amount(value=30, unit="mins"),
        slot_interval=Amount(value=15, unit="mins"),
        seats_per_slot=seats,
        weekly=[WeeklyRule(days=[0, 1, 2, 3, 4], spans=[Span(open=9 * 60, close=17 * 60)])],
        created_at=EPOCH,
        updated_at=EPOCH,
    )


@pytest.fixture
def scheduling(tenant) -> SchedulingService:
    return container.services().scheduling


def _booking(calendar_id: str, start: datetime, contact: str) -> AppointmentInput:
    return AppointmentInput(calendar_id=calendar_id, contact_id=contact, start=start)


def _appointments(store: DynamoStore, location_id: str, calendar_id: str) -> list:
    day = datetime(2027, 3, 8, tzinfo=UTC)
    return store.calendar_events(location_id, calendar_id, day, day.replace(day=9))


def test_overlapping_bookings_on_one_host_interleaved_exactly_one_write_succeeds(scheduling, tenant, store):
    # Given a one-host calendar and two requests for overlapping times (10:00 and 10:15, 30 min each)
    cal = scheduling.create_calendar(_calendar(tenant.location_id, ["host-1"]))
    first = _booking(cal.id, MONDAY_10, "contact-a")
    second = _booking(cal.id, MONDAY_10.replace(minute=15), "contact-b")

    # When both finish their reads before either writes
    plan_a = scheduling.prepare_create(tenant.location_id, first)
    plan_b = scheduling.prepare_create(tenant.location_id, second)
    assert plan_a.event.hosts == plan_b.event.hosts == ["host-1"]
    scheduling.commit(plan_a)

    # Then the second write fails on the host's version, and nothing of it is stored
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_b)
    stored = _appointments(store, tenant.location_id, cal.id)
    assert [e.id for e in stored] == [plan_a.event.id]
    # And a retry from fresh reads sees the time taken
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, second)


def test_same_host_in_two_calendars_cannot_be_double_booked(scheduling, tenant, store):
    # Given one host on two calendars
    cal_a = scheduling.create_calendar(_calendar(tenant.location_id, ["host-1"]))
    cal_b = scheduling.create_calendar(_calendar(tenant.location_id, ["host-1"]))
    # When each calendar books the same time, reads interleaved
    plan_a = scheduling.prepare_create(tenant.location_id, _booking(cal_a.id, MONDAY_10, "a"))
    plan_b = scheduling.prepare_create(tenant.location_id, _booking(cal_b.id, MONDAY_10, "b"))
    scheduling.commit(plan_b)
    # Then only one lands
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_a)
    assert _appointments(store, tenant.location_id, cal_a.id) == []
    assert len(_appointments(store, tenant.location_id, cal_b.id)) == 1


def test_last_seat_of_a_class_slot_goes_to_exactly_one(scheduling, tenant, store):
    # Given a class with 3 seats, 2 already taken
    cal = scheduling.create_calendar(
        _calendar(tenant.location_id, ["teacher"], CalendarType.CLASS_BOOKING, seats=3)
    )
    for contact in ("s1", "s2"):
        scheduling.create_appointment(tenant.location_id, _booking(cal.id, MONDAY_10, contact))
    # When two students race for the last seat
    plan_a = scheduling.prepare_create(tenant.location_id, _booking(cal.id, MONDAY_10, "s3"))
    plan_b = scheduling.prepare_create(tenant.location_id, _booking(cal.id, MONDAY_10, "s4"))
    scheduling.commit(plan_a)
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_b)
    # Then the class is full: 3 bookings, and a fourth is refused
    assert len(_appointments(store, tenant.location_id, cal.id)) == 3
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, _booking(cal.id, MONDAY_10, "s5"))


def test_round_robin_race_loser_retries_onto_the_other_free_member(scheduling, tenant, store):
    # Given a round robin of two members, both free at 10:00
    cal = scheduling.create_calendar(
        _calendar(tenant.location_id, ["rr-1", "rr-2"], CalendarType.ROUND_ROBIN)
    )
    # When two bookings plan the same member concurrently
    plan_a = scheduling.prepare_create(tenant.location_id, _booking(cal.id, MONDAY_10, "a"))
    plan_b = scheduling.prepare_create(tenant.location_id, _booking(cal.id, MONDAY_10, "b"))
    assert plan_a.event.hosts == plan_b.event.hosts
    scheduling.commit(plan_a)
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_b)
    # Then the full booking path (fresh reads) assigns the other member
    second = scheduling.create_appointment(tenant.location_id, _booking(cal.id, MONDAY_10, "b"))
    assert {plan_a.event.assigned_user_id, second.assigned_user_id} == {"rr-1", "rr-2"}
    # And a third booking finds nobody free
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, _booking(cal.id, MONDAY_10, "c"))


def test_collective_booking_locks_every_member(scheduling, tenant, store):
    # Given a collective calendar of two hosts, and host "c-2" also on a personal calendar
    team = scheduling.create_calendar(_calendar(tenant.location_id, ["c-1", "c-2"], CalendarType.COLLECTIVE))
    solo = scheduling.create_calendar(_calendar(tenant.location_id, ["c-2"]))
    # When the team booking and the personal booking race for 10:00
    plan_team = scheduling.prepare_create(tenant.location_id, _booking(team.id, MONDAY_10, "a"))
    plan_solo = scheduling.prepare_create(tenant.location_id, _booking(solo.id, MONDAY_10, "b"))
    assert sorted(plan_team.event.hosts) == ["c-1", "c-2"]
    scheduling.commit(plan_solo)
    # Then the collective booking loses: one of its members was taken
    with pytest.raises(BookingConflict):
        scheduling.commit(plan_team)
    with pytest.raises(SlotUnavailable):
        scheduling.create_appointment(tenant.location_id, _booking(team.id, MONDAY_10, "a"))
