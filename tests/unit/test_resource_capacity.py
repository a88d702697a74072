"""Rule 6 of the free-slot engine: rooms and equipments (:class:`ResourcePool`).

A slot ``[s - pre, s + duration + post)`` is offered only while, for every pool, fewer than
``capacity`` of its bookings overlap any instant of it. Examples pin the edges (touching
bookings, buffers, capacity 0, several pools, per-member hours); a property test compares the
engine with a brute-force model of the rule on generated inputs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotbook.availability import (
    AvailabilityQuery,
    HostBusy,
    Mode,
    OpenHours,
    ResourcePool,
    SlotSpec,
    compute_slots,
    free_hosts_at,
    saturated,
)
from slotbook.intervals import Interval

UTC_ZONE = ZoneInfo("UTC")
DAY = date(2026, 6, 1)  # a Monday
T0 = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())  # its midnight (UTC)
H = 3600
M = 60


def _hours(open_h: int = 9, close_h: int = 17, tz: ZoneInfo = UTC_ZONE) -> OpenHours:
    span = ((open_h * 60, close_h * 60),)
    return OpenHours(timezone=tz, weekly=(span,) * 7)


def _query(
    pools: list[ResourcePool],
    *,
    hosts: list[HostBusy] | None = None,
    duration: int = 30 * M,
    interval: int = 30 * M,
    pre: int = 0,
    post: int = 0,
    mode: Mode = Mode.ANY,
) -> AvailabilityQuery:
    return AvailabilityQuery(
        open_hours=_hours(),
        slot=SlotSpec(duration=duration, interval=interval, pre_buffer=pre, post_buffer=post),
        hosts=hosts or [HostBusy("h1"), HostBusy("h2")],
        mode=mode,
        window_start=T0,
        window_end=T0 + 24 * H - 1,
        resources=pools,
    )


def _at(hour: float) -> int:
    return T0 + int(hour * H)


def _slot_hours(slots: list[int]) -> list[float]:
    return [(s - T0) / H for s in slots]


ALL_DAY = [9 + i / 2 for i in range(16)]  # 09:00 .. 16:30 every 30 minutes


# --- saturation ------------------------------------------------------------------------------


def test_saturated_is_where_capacity_is_reached() -> None:
    pool = ResourcePool("r", 2, [(0, 10), (5, 15), (12, 20), (14, 16)])
    # counts: [0,5)=1 [5,10)=2 [10,12)=1 [12,14)=2 [14,15)=3 [15,16)=2 [16,20)=1
    assert saturated(pool) == [(5, 10), (12, 16)]


def test_touching_bookings_do_not_overlap() -> None:
    assert saturated(ResourcePool("r", 2, [(0, 10), (10, 20)])) == []
    assert saturated(ResourcePool("r", 1, [(0, 10), (10, 20)])) == [(0, 10), (10, 20)]


def test_capacity_zero_saturates_everything_and_fewer_bookings_than_capacity_nothing() -> None:
    (always,) = saturated(ResourcePool("r", 0, []))
    assert always[0] < T0 < T0 + 10**9 < always[1]
    assert saturated(ResourcePool("r", 3, [(0, 10), (0, 10)])) == []


# --- the engine --------------------------------------------------------------------------------


def test_room_of_capacity_two_drops_the_slot_when_two_bookings_hold_it() -> None:
    # Given two bookings at 10:00-10:30 in a room of capacity 2, one at 11:00
    pool = ResourcePool("room", 2, [(_at(10), _at(10.5)), (_at(10), _at(10.5)), (_at(11), _at(11.5))])
    slots = _slot_hours(compute_slots(_query([pool])))
    # Then only 10:00 is gone; 11:00 still has a unit left
    assert slots == [h for h in ALL_DAY if h != 10]


def test_partial_overlaps_count_at_each_instant_not_per_slot() -> None:
    # Given bookings 10:00-10:30 and 10:30-11:00 (never two at once) and a one-hour slot
    pool = ResourcePool("room", 2, [(_at(10), _at(10.5)), (_at(10.5), _at(11))])
    slots = _slot_hours(compute_slots(_query([pool], duration=H)))
    # Then the room still has a unit at every instant: nothing is dropped
    assert slots == [h for h in ALL_DAY if h <= 16]
    # But a third booking overlapping 10:15-10:45 saturates 10:15-10:30 and 10:30-10:45
    pool = ResourcePool("room", 2, [*pool.bookings, (_at(10.25), _at(10.75))])
    slots = _slot_hours(compute_slots(_query([pool], duration=H)))
    assert 9.5 not in slots and 10 not in slots and 10.5 not in slots
    assert 9 in slots and 11 in slots


def test_slot_buffers_count_towards_the_resource() -> None:
    # Given one booking 10:30-11:00 in a room of capacity 1 and slots with a 15-minute post buffer
    pool = ResourcePool("room", 1, [(_at(10.5), _at(11))])
    slots = _slot_hours(compute_slots(_query([pool], post=15 * M)))
    # Then 10:00 (buffer reaches 10:45) is gone as well as 10:30
    assert 10 not in slots and 10.5 not in slots and 11 in slots and 9.5 in slots


def test_capacity_zero_offers_nothing_and_no_host_is_free() -> None:
    query = _query([ResourcePool("eq", 0)])
    assert compute_slots(query) == []
    assert free_hosts_at(query, _at(10)) == []


def test_every_pool_must_have_a_unit() -> None:
    room = ResourcePool("room", 5, [(_at(9), _at(10))])
    tool = ResourcePool("tool", 1, [(_at(12), _at(13))])
    slots = _slot_hours(compute_slots(_query([room, tool])))
    assert slots == [h for h in ALL_DAY if h not in (12, 12.5)]


def test_free_hosts_at_refuses_a_full_resource_and_keeps_hosts_otherwise() -> None:
    pool = ResourcePool("room", 1, [(_at(10), _at(10.5))])
    assert free_hosts_at(_query([pool]), _at(10)) == []
    assert free_hosts_at(_query([pool]), _at(11)) == ["h1", "h2"]


def test_resources_apply_with_per_member_hours_too() -> None:
    # Given members with their own hours (the engine's per-group path) and a full room at 10:00
    hosts = [HostBusy("h1", open_hours=_hours(9, 12)), HostBusy("h2", open_hours=_hours(10, 17))]
    pool = ResourcePool("room", 1, [(_at(10), _at(10.5))])
    slots = _slot_hours(compute_slots(_query([pool], hosts=hosts)))
    assert 10 not in slots and 9 in slots and 16.5 in slots


def test_no_resources_changes_nothing() -> None:
    assert compute_slots(_query([])) == [_at(h) for h in ALL_DAY]


# --- property: the engine equals a brute-force model of rule 6 ---------------------------------


def _brute_free(pools: list[ResourcePool], a: int, b: int) -> bool:
    """At every instant of ``[a, b)`` each pool has fewer than ``capacity`` bookings: the count
    changes only at booking starts, so checking ``a`` and every start inside suffices."""
    for pool in pools:
        if pool.capacity <= 0:
            return False
        instants = {a} | {s for s, _ in pool.bookings if a <= s < b}
        for t in instants:
            if sum(1 for s, e in pool.bookings if s <= t < e) >= pool.capacity:
                return False
    return True


_booking = st.builds(
    lambda start, length: (_at(8) + start * 5 * M, _at(8) + (start + length) * 5 * M),
    st.integers(0, 120),
    st.integers(1, 30),
)
_pool = st.builds(
    ResourcePool,
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 4),
    st.lists(_booking, max_size=12),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pools=st.lists(_pool, max_size=3),
    duration=st.sampled_from([15 * M, 30 * M, 60 * M]),
    interval=st.sampled_from([15 * M, 30 * M]),
    pre=st.sampled_from([0, 10 * M]),
    post=st.sampled_from([0, 5 * M, 20 * M]),
    host_busy=st.lists(_booking, max_size=4),
    per_member=st.booleans(),
)
def test_engine_matches_brute_force_model(
    pools: list[ResourcePool],
    duration: int,
    interval: int,
    pre: int,
    post: int,
    host_busy: list[Interval],
    per_member: bool,
) -> None:
    hours = _hours(10, 15) if per_member else None
    hosts = [HostBusy("h1", busy=host_busy, open_hours=hours), HostBusy("h2", busy=host_busy[:1])]
    with_pools = _query(pools, hosts=hosts, duration=duration, interval=interval, pre=pre, post=post)
    without = _query([], hosts=hosts, duration=duration, interval=interval, pre=pre, post=post)
    expected = [s for s in compute_slots(without) if _brute_free(pools, s - pre, s + duration + post)]
    assert compute_slots(with_pools) == expected
    for s in compute_slots(without):
        free = free_hosts_at(with_pools, s)
        assert (free == free_hosts_at(without, s)) if s in expected else free == []
