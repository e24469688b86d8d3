"""The streaming kernel behind the summary images: per-pixel running sums, chunk by chunk.

For every pixel it keeps, in float64, the sum and the sum of squares of its
values, their maximum, and the sums of products with its 4 neighbours to the
right and below (with their mirror images, the 8-neighbourhood).  Mean,
standard deviation and each neighbour pair's Pearson correlation follow
exactly from these.

Speed: a chunk is processed in tiles of ``TILE_ROWS`` rows (plus one row of
lower neighbours) that stay in the CPU cache.  Each tile is converted once to a
contiguous float32 block and shifted by the first frame (the shifted
formulation: sums stay small, so variances and covariances don't cancel);
column sums run through BLAS, products through ``einsum``.  Tiles write disjoint
rows, so they are spread over threads (numpy releases the GIL).  Partial sums
over one chunk are float32 (exact for the sums of int16 data), then added to
the float64 totals; float32 products leave relative errors of about 1e-6 in
the standard deviation and 1e-6 absolute in correlations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["OFFSETS", "RunningSums", "pairs"]

TILE_ROWS = 8  # 32 frames x 9 rows x 512 px x 4 B = 0.6 MB: stays in a 2 MB L2 cache

OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))
"""Neighbour offsets (dy, dx); with their mirror images, the 8 neighbours."""


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


@dataclass
class _Scratch:
    """One thread's cache-sized buffers."""

    flat: np.ndarray
    ones: np.ndarray = field(repr=False)


class RunningSums:
    """Running sums of one field's pixels; feed chunks ``(frames, y, x)`` with :meth:`add`.

    Each chunk's tiles write float32 partial images (one per sum), added to the
    float64 totals once per chunk: one large add instead of one per tile.
    """

    def __init__(
        self, shape: tuple[int, int], kinds: set[str], chunk_frames: int, workers: int = 1
    ) -> None:
        width = shape[1]
        self.kinds = kinds
        self.count = 0
        self.shift: np.ndarray | None = None
        self._moments = bool(kinds & {"std", "correlation"})
        names = ["total"] if kinds - {"max"} else []
        names += ["squares"] if self._moments else []
        names += [f"cross{i}" for i in range(len(OFFSETS))] if "correlation" in kinds else []
        self.sums = {name: np.zeros(shape) for name in names}
        """float64 totals: ``total``, ``squares`` and ``cross0``..``cross3`` (see ``OFFSETS``)."""
        self._partial = {name: np.zeros(shape, np.float32) for name in names}
        self.maximum: np.ndarray | None = None
        self._scratch = [
            _Scratch(
                np.empty(chunk_frames * (TILE_ROWS + 1) * width, np.float32),
                np.ones(chunk_frames, np.float32),
            )
            for _ in range(max(1, workers))
        ]
        self._pending: list[Future[None]] = []

    def add(self, chunk: np.ndarray, pool: ThreadPoolExecutor | None = None) -> None:
        """Fold ``chunk`` in; with a pool, in its threads (call :meth:`wait` before reusing it).

        Waits for the previous chunk first, so chunks never overlap.
        """
        self.wait()
        frames, height, _ = chunk.shape
        if self._moments and self.shift is None:
            self.shift = chunk[0].astype(np.float32)
        if "max" in self.kinds and self.maximum is None:
            self.maximum = chunk[0].copy()
        self.count += frames
        tops = list(range(0, height, TILE_ROWS))
        if pool is None:
            self._add_tiles(chunk, tops, self._scratch[0])
            self._flush()
            return
        n = len(self._scratch)
        self._pending = [
            pool.submit(self._add_tiles, chunk, tops[i::n], self._scratch[i]) for i in range(n)
        ]

    def wait(self) -> None:
        """Finish the chunk being summed (re-raising a thread's error) and add its sums."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        if pending:
            self._flush()

    def _flush(self) -> None:
        for name, partial in self._partial.items():
            if name.startswith("cross"):
                # zero the entries that hold no pair (wrapped around a row end, or
                # below the last row), then add whole contiguous images: 2x faster
                dy, dx = OFFSETS[int(name[5:])]
                if dy:
                    partial[-1] = 0.0
                if dx:
                    partial[:, -1 if dx > 0 else 0] = 0.0
            self.sums[name] += partial

    def _add_tiles(self, chunk: np.ndarray, tops: list[int], scratch: _Scratch) -> None:
        height = chunk.shape[1]
        for top in tops:
            bottom = min(height, top + TILE_ROWS)
            if self.maximum is not None:
                peak = self.maximum[top:bottom]
                np.maximum(peak, np.maximum.reduce(chunk[:, top:bottom], axis=0), out=peak)
            if self.sums:
                self._add_tile(chunk, top, bottom, scratch)

    def _add_tile(self, chunk: np.ndarray, top: int, bottom: int, scratch: _Scratch) -> None:
        frames, height, width = chunk.shape
        cross = "cross0" in self._partial
        below = min(height, bottom + 1) if cross else bottom  # one row of lower neighbours
        rows, span = bottom - top, below - top
        # a contiguous tile: BLAS and einsum run several times faster than on a strided view
        tile = scratch.flat[: frames * span * width].reshape(frames, span, width)
        np.copyto(tile, chunk[:, top:below], casting="unsafe")
        if self.shift is not None:
            np.subtract(tile, self.shift[top:below], out=tile)
        flat = tile.reshape(frames, span * width)
        own = flat[:, : rows * width]
        start = top * width  # the tile's first pixel in the flattened partial images
        partial = {name: image.reshape(-1) for name, image in self._partial.items()}
        np.dot(scratch.ones[:frames], own, out=partial["total"][start : start + rows * width])
        if self._moments:
            np.einsum("ti,ti->i", own, own, out=partial["squares"][start : start + rows * width])
        if not cross:
            return
        # Neighbours as flat shifts of the whole tile: long contiguous runs for einsum.
        # Pairs that wrap around a row end land in entries that _flush zeroes.
        for i, (dy, dx) in enumerate(OFFSETS):
            count = rows if dy == 0 else span - 1  # rows with a partner in the tile
            step = dy * width + dx
            length = min(count * width, span * width - step)
            if length <= 0:
                continue
            out = partial[f"cross{i}"][start : start + length]
            np.einsum("ti,ti->i", flat[:, :length], flat[:, step : step + length], out=out)

    # -- results ------------------------------------------------------------------

    def result(self, kind: str) -> np.ndarray:
        """One summary image (float64) from the sums so far."""
        n = self.count
        if kind == "max":
            assert self.maximum is not None
            return self.maximum.astype(np.float64)
        mean = self.sums["total"] / n
        if kind == "mean":
            return mean if self.shift is None else mean + self.shift
        variance = np.maximum(self.sums["squares"] / n - mean**2, 0.0)
        if kind == "std":
            return np.sqrt(variance)
        return self._correlation(mean, variance)

    def _correlation(self, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
        """Mean Pearson correlation with the 8 neighbours (fewer at borders); constant: 0."""
        n = self.count
        total = np.zeros_like(mean)
        neighbours = np.zeros_like(mean)
        for i, offset in enumerate(OFFSETS):
            sums = self.sums[f"cross{i}"]
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
