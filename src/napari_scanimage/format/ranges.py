"""Which byte ranges to read: blocks merged over small gaps, split into large parts.

Remote storage charges a round trip per request and little per byte, a local
disk the reverse, so the page reader plans its reads here with the source's
own numbers: blocks closer than ``gap`` bytes share a request (the bytes
between are fetched and dropped), and a long run is cut, at block boundaries,
into parts of at least ``part`` bytes that are fetched at once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Range", "batches", "plan_ranges"]


@dataclass(frozen=True, slots=True)
class Range:
    """Bytes ``[start, end)`` of the object and the blocks (indices) inside them."""

    start: int
    end: int
    members: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        """Length of the range."""
        return self.end - self.start


def plan_ranges(offsets: list[int], block: int, gap: int, part: int) -> list[Range]:
    """Ranges covering the ``block``-byte blocks at ``offsets`` (any order, repeats allowed).

    Blocks at most ``gap`` bytes apart join one run; a run longer than
    ``part`` bytes is cut evenly, at block starts, into parts of ``part`` to
    ``2 * part`` bytes, so a contiguous read goes in large concurrent requests.

    Examples
    --------
    >>> [(r.start, r.end, r.members) for r in plan_ranges([0, 110, 500], 100, 20, 10**6)]
    [(0, 210, (0, 1)), (500, 600, (2,))]
    """
    order = sorted(range(len(offsets)), key=offsets.__getitem__)
    runs: list[list[int]] = []
    end = None
    for i in order:
        if end is None or offsets[i] - end > gap:
            runs.append([i])
        else:
            runs[-1].append(i)
        end = max(end or 0, offsets[i] + block)
    ranges = []
    for run in runs:
        start = offsets[run[0]]
        stop = max(offsets[i] for i in run) + block
        pieces = max(1, (stop - start) // part) if part > 0 else 1
        if pieces == 1:
            ranges.append(Range(start, stop, tuple(run)))
            continue
        size = (stop - start) / pieces
        cut: list[int] = [run[0]]
        for i in run[1:]:
            at = offsets[i]
            if at - offsets[cut[0]] >= size:
                ranges.append(_covering(offsets, cut, block))
                cut = [i]
            else:
                cut.append(i)
        ranges.append(_covering(offsets, cut, block))
    return ranges


def _covering(offsets: list[int], members: list[int], block: int) -> Range:
    start = min(offsets[i] for i in members)
    return Range(start, max(offsets[i] for i in members) + block, tuple(members))


def batches(ranges: list[Range], limit: int) -> list[list[Range]]:
    """Ranges in groups of at most ``limit`` bytes (a range larger than that alone)."""
    groups: list[list[Range]] = []
    total = limit + 1
    for item in ranges:
        if total + item.nbytes > limit:
            groups.append([])
            total = 0
        groups[-1].append(item)
        total += item.nbytes
    return groups
