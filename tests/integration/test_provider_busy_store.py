"""The provider busy-time store (patterns 41-42) against a model: whatever sequence of sync
changes arrives — new, moved, cancelled, repeated, multi-day — a range read returns exactly the
busy intervals of the latest state that overlap the range; a full sync replaces everything, and
Slotbook's own events are never stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotbook.providers.base import BusyChange
from slotbook.store.dynamo import DynamoStore

T0 = datetime(2027, 3, 1, tzinfo=UTC)
changes = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "own"]),
        st.integers(min_value=0, max_value=6 * 24),  # start, hours after T0
        st.integers(min_value=1, max_value=60),  # length, hours
        st.booleans(),  # busy
    ),
    max_size=12,
)


def _change(event: str, start_h: int, length_h: int, busy: bool) -> BusyChange:
    start = T0 + timedelta(hours=start_h)
    return BusyChange(event_id=event, start=start, end=start + timedelta(hours=length_h), busy=busy)


@pytest.mark.usefixtures("aws")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(changes, min_size=1, max_size=3), full_first=st.booleans())
def test_busy_store_matches_the_model(store: DynamoStore, batches: list, full_first: bool) -> None:
    loc, conn = "loc", f"c{abs(hash(str(batches))) % 10**9}"
    store.clear_busy(loc, conn)
    store.mark_own(loc, conn, "own", "booking-1")
    model: dict[str, tuple[int, int]] = {}
    for i, batch in enumerate(batches):
        full = full_first and i == 0
        parsed = [_change(*c) for c in batch]
        store.apply_busy(loc, conn, parsed, full=full)
        if full:
            model.clear()
        for c in parsed:
            if c.busy and c.event_id != "own":
                model[c.event_id] = (int(c.start.timestamp()), int(c.end.timestamp()))
            else:
                model.pop(c.event_id, None)
    for lo_h, hi_h in ((0, 24), (30, 31), (0, 24 * 10), (100, 180)):
        lo, hi = T0 + timedelta(hours=lo_h), T0 + timedelta(hours=hi_h)
        expected = sorted({iv for iv in model.values() if iv[0] < hi.timestamp() and iv[1] > lo.timestamp()})
        assert store.connection_busy(loc, conn, lo, hi) == expected
