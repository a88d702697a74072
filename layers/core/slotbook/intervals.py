"""Pure operations over half-open time intervals.

An interval is a ``(start, end)`` tuple of integer epoch **seconds, UTC**, half-open: it contains
``start`` and excludes ``end``. Empty intervals (``end <= start``) are dropped by every function.
All functions are pure and allocation-light: the availability engine calls them on hot paths.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and coalesce overlapping or touching intervals.

    Returns a sorted list of disjoint, non-touching intervals covering exactly the same instants.
    """
    ordered = sorted(iv for iv in intervals if iv[1] > iv[0])
    if not ordered:
        return []
    out: list[Interval] = []
    cur_start, cur_end = ordered[0]
    for start, end in ordered[1:]:
        if start <= cur_end:
            if end > cur_end:
                cur_end = end
        else:
            out.append((cur_start, cur_end))
            cur_start, cur_end = start, end
    out.append((cur_start, cur_end))
    return out


class BusyIndex:
    """Merged busy intervals prepared for O(log n) overlap tests.

    ``overlaps(start, end)`` answers whether ``[start, end)`` shares any instant with the busy time.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged = merge(intervals)
        self.starts = [iv[0] for iv in merged]
        self.ends = [iv[1] for iv in merged]

    def overlaps(self, start: int, end: int) -> bool:
        if end <= start:
            return False  # an empty query contains no instant
        # First merged interval whose end is after `start`; it overlaps iff it begins before `end`.
        i = bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end

    def __len__(self) -> int:
        return len(self.starts)
