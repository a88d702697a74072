"""Unit tests for slotbook.intervals: examples plus properties against a brute-force set model.

The model represents an interval list as the set of integer instants it covers, on a small range,
so half-open semantics are checked exactly: ``(0, 10)`` covers ``0..9`` and excludes ``10``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotbook.intervals import BusyIndex, Interval, merge

LIMIT = 200

PROPS = settings(max_examples=300, deadline=None)


def cover(intervals: list[Interval] | tuple[Interval, ...]) -> set[int]:
    """Brute-force model: every integer instant covered by the intervals (empty ones cover none)."""
    return {t for a, b in intervals for t in range(a, b)}


def assert_merged(intervals: list[Interval]) -> None:
    """Sorted, non-empty, disjoint and non-touching."""
    for a, b in intervals:
        assert a < b
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end < start, f"{intervals} overlap or touch"


# Any pair, including empty (end == start) and inverted (end < start) ones, which must be dropped.
raw_intervals = st.lists(
    st.tuples(st.integers(0, LIMIT), st.integers(0, LIMIT)),
    max_size=12,
)
merged_intervals = raw_intervals.map(merge)


# --- merge -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_intervals", "expected"),
    [
        ([], []),
        ([(5, 5)], []),
        ([(9, 3)], []),
        ([(0, 10)], [(0, 10)]),
        ([(20, 30), (0, 10)], [(0, 10), (20, 30)]),
        ([(0, 10), (10, 20)], [(0, 20)]),  # touching intervals coalesce
        ([(0, 10), (5, 8)], [(0, 10)]),  # contained
        ([(0, 10), (5, 15), (14, 30), (40, 41)], [(0, 30), (40, 41)]),
        ([(0, 10), (11, 20)], [(0, 10), (11, 20)]),  # a gap of one instant is kept
        ([(3, 4), (3, 4), (3, 4)], [(3, 4)]),
        ([(0, 10), (10, 10), (10, 20)], [(0, 20)]),
    ],
)
def test_merge_examples(given_intervals: list[Interval], expected: list[Interval]) -> None:
    assert merge(given_intervals) == expected


def test_merge_accepts_any_iterable() -> None:
    assert merge(iv for iv in [(4, 6), (1, 2)]) == [(1, 2), (4, 6)]


@PROPS
@given(raw_intervals)
def test_merge_preserves_coverage_and_yields_sorted_disjoint_non_touching(ivs: list[Interval]) -> None:
    out = merge(ivs)
    assert cover(out) == cover(ivs)
    assert_merged(out)
    assert merge(out) == out  # idempotent


# --- BusyIndex ---------------------------------------------------------------------------------


def test_busy_index_empty_never_overlaps() -> None:
    index = BusyIndex([])
    assert len(index) == 0
    assert not index.overlaps(0, 10)
    assert not index.overlaps(-(10**12), 10**12)


def test_busy_index_merges_its_input() -> None:
    index = BusyIndex([(10, 20), (0, 5), (5, 8), (15, 30), (40, 40)])
    assert len(index) == 2
    assert index.starts == [0, 10]
    assert index.ends == [8, 30]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 10, False),  # ends exactly where busy starts: half-open, no overlap
        (20, 30, False),  # starts exactly where busy ends
        (0, 11, True),
        (19, 30, True),
        (12, 15, True),  # inside
        (0, 100, True),  # covers it
        (21, 39, False),  # in the gap between busy intervals
        (20, 40, False),  # exactly the gap
        (20, 41, True),
        (50, 60, True),
        (60, 70, False),
    ],
)
def test_busy_index_half_open_edges(start: int, end: int, expected: bool) -> None:
    # Given busy [10, 20) and [40, 60)
    index = BusyIndex([(10, 20), (40, 60)])
    # Then overlap is decided on shared instants only
    assert index.overlaps(start, end) is expected


@PROPS
@given(raw_intervals, st.integers(0, LIMIT), st.integers(1, LIMIT))
def test_busy_index_overlaps_matches_brute_force(busy: list[Interval], start: int, length: int) -> None:
    end = start + length
    index = BusyIndex(busy)
    assert index.overlaps(start, end) == bool(cover(busy) & set(range(start, end)))
    assert len(index) == len(merge(busy))


def test_busy_index_empty_query_never_overlaps() -> None:
    index = BusyIndex([(0, 10)])
    assert not index.overlaps(5, 5)
    assert not index.overlaps(5, 3)
