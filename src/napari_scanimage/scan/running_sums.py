"""Per-pixel running sums of one field, chunk by chunk: the state behind the summary images.

For every pixel it keeps, in float64, the sum and the sum of squares of its
values, their maximum, and the sums of products with its 4 neighbours to the
right and below (with their mirror images, the 8-neighbourhood).  Mean,
standard deviation and each neighbour pair's Pearson correlation follow
exactly from these.  Values are shifted by each pixel's mean over the first
chunk, rounded for whole-number data (the shifted formulation: sums stay small, so
variances and covariances don't cancel, even when the first frame is dark or
saturated).

The summing itself is one compiled pass per row
(:mod:`~napari_scanimage.scan.running_sums_kernel`, loaded ahead-compiled
where :mod:`~napari_scanimage.scan.sums_library` has it, so that a new process
needs no numba); a chunk's rows are spread over threads, which write disjoint
rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.scan.sum_planes import CROSS, OFFSETS, PLANES, SQUARES, TOTAL
from napari_scanimage.scan.sums_library import add_rows_for

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["CROSS", "OFFSETS", "SQUARES", "TOTAL", "RunningSums", "pairs"]


def pairs(offset: tuple[int, int]) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Index of the first and of the second pixel of every pair at ``offset``.

    Examples
    --------
    >>> pairs((1, -1))
    ((slice(0, -1, None), slice(1, None, None)), (slice(1, None, None), slice(0, -1, None)))
    """
    dy, dx = offset
    rows = (slice(0, -dy or None), slice(dy, None))
    if dx >= 0:
        cols = (slice(0, -dx or None), slice(dx, None))
    else:
        cols = (slice(-dx, None), slice(0, dx))
    return (rows[0], cols[0]), (rows[1], cols[1])


def _shift(chunk: np.ndarray) -> np.ndarray:
    """Each pixel's mean over ``chunk``, rounded where the data are whole numbers.

    Whole-number data (any integer type, or floats read from one) then stay whole
    after the shift, so the float32 partial sums are exact.  float64 for float64
    data, else float32 (the kernel's working precision).
    """
    mean = chunk.mean(axis=0, dtype=np.float64)
    if chunk.dtype.kind in "iub" or np.array_equal(chunk, np.trunc(chunk)):
        np.round(mean, out=mean)
    shift: np.ndarray = mean.astype(np.float64 if chunk.dtype == np.float64 else np.float32)
    return shift


class RunningSums:
    """Running sums of one field's pixels; feed chunks ``(frames, y, x)`` with :meth:`add`."""

    def __init__(self, shape: tuple[int, int], kinds: set[str], workers: int = 1) -> None:
        self.kinds = kinds
        self.count = 0
        planes = 0
        if kinds - {"max"}:
            planes = TOTAL + 1
        if kinds & {"std", "correlation"}:
            planes = SQUARES + 1
        if "correlation" in kinds:
            planes = PLANES
        self.shape = shape
        self.totals = np.zeros((planes, *shape))
        """float64 sums, the planes the kinds need (``TOTAL``, ``SQUARES``, ``CROSS`` + i)."""
        self.shift: np.ndarray | None = None
        self.maximum: np.ndarray | None = None
        self.dtype: np.dtype[Any] | None = None
        """dtype of the chunks (in native byte order), set by the first one."""
        self._scratch = [np.zeros((8, shape[1]), np.float32) for _ in range(max(1, workers))]
        self._pending: list[Future[None]] = []
        self._kernel: Callable[..., None] | None = None

    def add(self, chunk: np.ndarray, pool: ThreadPoolExecutor | None = None) -> None:
        """Fold ``chunk`` in; with a pool, in its threads (call :meth:`wait` before reusing it).

        Waits for the previous chunk first, so chunks never overlap.
        """
        if chunk.ndim != 3 or chunk.shape[1:] != self.shape or not len(chunk):
            raise ValueError(f"chunks must be (frames >= 1, *{self.shape}), not {chunk.shape}")
        self.wait()
        if not chunk.dtype.isnative:  # the kernel reads native numbers only
            chunk = chunk.astype(chunk.dtype.newbyteorder("="))
        if self.dtype is not None and chunk.dtype != self.dtype:
            raise ValueError(f"chunks must share one dtype: {self.dtype}, then {chunk.dtype}")
        chunk = np.ascontiguousarray(chunk)  # a no-op for the chunks summary_images reads
        if self.shift is None:
            self._kernel = add_rows_for(chunk.dtype)  # one kernel (and shift dtype) per pass
            self.dtype = chunk.dtype
            self.shift = _shift(chunk)
            if "max" in self.kinds:
                self.maximum = chunk[0].copy()
        self.count += len(chunk)
        peak = self.maximum if self.maximum is not None else np.empty((0, 0), chunk.dtype)
        kernel = self._kernel
        assert kernel is not None
        if pool is None:
            kernel(chunk, self.shift, 0, 1, self.totals, peak, self._scratch[0])
            return
        step = len(self._scratch)
        self._pending = [
            pool.submit(kernel, chunk, self.shift, i, step, self.totals, peak, scratch)
            for i, scratch in enumerate(self._scratch)
        ]

    def wait(self) -> None:
        """Finish the chunk being summed, re-raising a thread's error."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    # -- results ------------------------------------------------------------------

    def result(self, kind: str) -> np.ndarray:
        """One summary image (float64) from the sums so far."""
        n = self.count
        if kind == "max":
            assert self.maximum is not None
            return self.maximum.astype(np.float64)
        assert self.shift is not None
        mean: np.ndarray = self.totals[TOTAL] / n
        if kind == "mean":
            restored: np.ndarray = mean + self.shift
            return restored
        variance: np.ndarray = np.maximum(self.totals[SQUARES] / n - mean**2, 0.0)
        if kind == "std":
            std: np.ndarray = np.sqrt(variance)
            return std
        return self._correlation(mean, variance)

    def _correlation(self, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
        """Mean Pearson correlation with the 8 neighbours (fewer at borders); constant: 0."""
        n = self.count
        total = np.zeros_like(mean)
        neighbours = np.zeros_like(mean)
        for i, offset in enumerate(OFFSETS):
            sums = self.totals[CROSS + i]
            p, q = pairs(offset)
            covariance = sums[p] / n - mean[p] * mean[q]
            scale = np.sqrt(variance[p] * variance[q])
            corr = np.zeros_like(scale)
            np.divide(covariance, scale, out=corr, where=scale > 0)
            np.clip(corr, -1.0, 1.0, out=corr)
            for index in (p, q):
                total[index] += corr
                neighbours[index] += 1
        result = np.zeros_like(total)
        np.divide(total, neighbours, out=result, where=neighbours > 0)
        return result
