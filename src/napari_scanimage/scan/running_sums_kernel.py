"""The compiled inner loop of :class:`~napari_scanimage.scan.running_sums.RunningSums`.

One fused pass per image row, compiled by numba: numpy needed one pass over
the data per sum (eight in all), which made all four summary kinds 3x slower
than reading the bytes.  The loop order keeps everything a row needs in the L1
cache: for each row, frames run inside, so the row's float32 partial sums
(6 x width) stay put while the frames stream through, and they are added to the
float64 totals every ``BLOCK`` frames.  Values are shifted (by a whole number
for whole-number data) before they become float32, so the sums of 16-bit data
are exact; squares and products round in float32 (about 1e-7 of the shifted
values' size, which the shift keeps near the pixel's spread).  Rows are
independent, so threads take interleaved rows (``first``, ``step``) and the
GIL is released.

The module imports numba, so it is imported only when a summary is computed
and no ahead-compiled copy of the kernel is at hand
(:mod:`~napari_scanimage.scan.sums_library`, built by
:mod:`~napari_scanimage.scan.sums_build` from ``_add_rows`` and ``OPTIONS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from napari_scanimage.scan.sum_planes import CROSS, OFFSETS, SQUARES, TOTAL

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BLOCK", "OPTIONS", "add_rows"]

BLOCK = 32
"""Frames summed in float32 before the partial sums go into the float64 totals."""

# The loop below writes the neighbour planes in this order.
assert OFFSETS == ((0, 1), (1, 0), (1, 1), (1, -1)), "update _add_rows with OFFSETS"

# 'contract' lets multiply-adds fuse (FMA); no reassociation is needed to
# vectorise (every loop is element-wise) and NaN/inf keep their meaning.
OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": {"contract"}, "boundscheck": False}
"""numba's compile options for the kernel, here and ahead of time."""


def _add_rows(  # pragma: no cover - compiled; tested through RunningSums
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
    ``shift`` is float64 for float64 data, else float32; ``scratch`` is this
    thread's float32 (8, x) buffer.  The caller checks shapes (no bounds checks here).
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
                    peak[y, x] = np.maximum(peak[y, x], chunk[t, y, x])  # NaN wins, as in numpy
            continue
        for start in range(0, frames, BLOCK):
            part[:planes] = 0.0
            for t in range(start, min(frames, start + BLOCK)):
                if track_peak:
                    for x in range(width):
                        peak[y, x] = np.maximum(peak[y, x], chunk[t, y, x])
                for x in range(width):
                    cur[x] = chunk[t, y, x] - shift[y, x]
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
                        below[x] = chunk[t, y + 1, x] - shift[y + 1, x]
                    for x in range(width):
                        part[CROSS + 1, x] += cur[x] * below[x]
                    for x in range(width - 1):
                        part[CROSS + 2, x] += cur[x] * below[x + 1]
                    for x in range(1, width):
                        part[CROSS + 3, x] += cur[x] * below[x - 1]
            for plane in range(planes):
                for x in range(width):
                    totals[plane, y, x] += part[plane, x]


def _compile(function: Callable[..., None], cache: bool = True) -> Callable[..., None]:
    """Compile ``function``, cached on disk where numba finds a writable folder."""
    try:
        compiled: Callable[..., None] = numba.njit(function, cache=cache, **OPTIONS)
    except RuntimeError:  # "no locator available": a read-only install and home
        if not cache:
            raise
        return _compile(function, cache=False)
    return compiled


add_rows = _compile(_add_rows)
