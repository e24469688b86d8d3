"""The compiled inner loop of :class:`~napari_scanimage.scan.running_sums.RunningSums`.

One fused pass per image row, compiled by numba: numpy needed one pass over
the data per sum (eight in all), which made all four summary kinds 3x slower
than reading the bytes.  The loop order keeps everything a row needs in the L1
cache: for each row, frames run inside, so the row's float32 partial sums
(6 x width) stay put while the frames stream through, and they are added to the
float64 totals every ``BLOCK`` frames (float32 sums of a block of shifted int16
values are exact for the sum; products round at about 1e-7 relative, once per
block).  Rows are independent, so threads take interleaved rows (``first``,
``step``) and the GIL is released.

The module imports numba, so it is imported only when a summary is computed.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["BLOCK", "CROSS", "SQUARES", "TOTAL", "add_rows"]

BLOCK = 32
"""Frames summed in float32 before the partial sums go into the float64 totals."""

TOTAL, SQUARES, CROSS = 0, 1, 2
"""Planes of the totals: sum, sum of squares, then one per neighbour offset (4)."""

# 'contract' lets multiply-adds fuse (FMA); no reassociation is needed to
# vectorise (every loop is element-wise) and NaN/inf keep their meaning.
_FLAGS = {"contract"}


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS, boundscheck=False)
def add_rows(  # pragma: no cover - compiled; tested through RunningSums
    chunk: np.ndarray,
    shift: np.ndarray,
    first: int,
    step: int,
    totals: np.ndarray,
    peak: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """Fold rows ``first::step`` of ``chunk`` (frames, y, x) into ``totals`` and ``peak``.

    ``totals`` has 0 planes (max only), 1 (sum), 2 (and squares) or 6 (and the
    products with the neighbours at ``OFFSETS``, stored at the first pixel of
    each pair); ``peak`` is a (y, x) image or has no rows (max not wanted).
    ``scratch`` is this thread's float32 (8, x) buffer.
    """
    frames, height, width = chunk.shape
    planes = totals.shape[0]
    track_peak = peak.shape[0] > 0
    cur = scratch[0]
    below = scratch[1]
    part = scratch[2:]
    for y in range(first, height, step):
        has_below = planes > CROSS and y + 1 < height
        if planes == 0:  # the maximum alone
            for t in range(frames):
                for x in range(width):
                    peak[y, x] = max(peak[y, x], chunk[t, y, x])
            continue
        for start in range(0, frames, BLOCK):
            part[:planes] = 0.0
            for t in range(start, min(frames, start + BLOCK)):
                if track_peak:
                    for x in range(width):
                        peak[y, x] = max(peak[y, x], chunk[t, y, x])
                for x in range(width):
                    cur[x] = np.float32(chunk[t, y, x]) - shift[y, x]
                for x in range(width):
                    part[TOTAL, x] += cur[x]
                if planes > SQUARES:
                    for x in range(width):
                        part[SQUARES, x] += cur[x] * cur[x]
                if planes > CROSS:
                    for x in range(width - 1):
                        part[CROSS, x] += cur[x] * cur[x + 1]
                if has_below:
                    for x in range(width):
                        below[x] = np.float32(chunk[t, y + 1, x]) - shift[y + 1, x]
                    for x in range(width):
                        part[CROSS + 1, x] += cur[x] * below[x]
                    for x in range(width - 1):
                        part[CROSS + 2, x] += cur[x] * below[x + 1]
                    for x in range(1, width):
                        part[CROSS + 3, x] += cur[x] * below[x - 1]
            for plane in range(planes):
                for x in range(width):
                    totals[plane, y, x] += part[plane, x]
