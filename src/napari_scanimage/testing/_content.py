"""The pixels: random, cells or tissue, and a mistimed bidirectional scan's shifted rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from napari_scanimage.testing._specs import RoiSpec, ScanSpec


def _displace_odd_rows(block: npt.NDArray[Any], y0: int, shift: float) -> npt.NDArray[Any]:
    """What a mistimed bidirectional scan records: odd page rows moved right by ``shift``."""
    out = block.copy()
    x = np.arange(block.shape[1], dtype=np.float64)
    for row in range((y0 + 1) % 2, block.shape[0], 2):
        moved = np.interp(x - shift, x, block[row].astype(np.float64))
        out[row] = np.rint(moved).astype(block.dtype)
    return out


@dataclass(frozen=True)
class _Tissue:
    """Cells at fixed scan-angle positions of one depth, with shared activity traces."""

    centres: npt.NDArray[np.float64]  # (cells, 2) x, y in degrees
    radius: npt.NDArray[np.float64]  # degrees
    activity: npt.NDArray[np.float64]  # (frames, cells)
    noise: np.random.Generator
    channels: int

    @classmethod
    def make(cls, rng: np.random.Generator, spec: ScanSpec, channels: int) -> _Tissue:
        lows = [(r.center_xy[i] - r.size_xy[i] / 2) for r in spec.rois for i in (0, 1)]
        highs = [(r.center_xy[i] + r.size_xy[i] / 2) for r in spec.rois for i in (0, 1)]
        x0, y0, x1, y1 = min(lows[0::2]), min(lows[1::2]), max(highs[0::2]), max(highs[1::2])
        pixel = min(r.size_xy[0] / r.pixels_xy[0] for r in spec.rois)
        count = max(5, int((x1 - x0) * (y1 - y0) / (20 * pixel) ** 2))
        centres = np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])
        spikes = rng.random((spec.frames, count)) < 0.08
        activity = np.zeros((spec.frames, count))
        for t in range(spec.frames):
            activity[t] = (activity[t - 1] * 0.7 if t else 0) + spikes[t]
        return cls(centres, rng.uniform(2.0, 4.5, count) * pixel, activity, rng, channels)

    def render(self, roi: RoiSpec, frames: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
        """The ROI's movie ``(frames, channels, height, width)``, sampled at its pixel centres."""
        width, height = roi.pixels_xy
        (cx, cy), (sx, sy) = roi.center_xy, roi.size_xy
        xs = cx - sx / 2 + (np.arange(width) + 0.5) * sx / width
        ys = cy - sy / 2 + (np.arange(height) + 0.5) * sy / height
        dx = (xs[None, :] - self.centres[:, 0, None]) / self.radius[:, None]
        dy = (ys[None, :] - self.centres[:, 1, None]) / self.radius[:, None]
        blobs = np.exp(-0.5 * dy[:, :, None] ** 2) * np.exp(-0.5 * dx[:, None, :] ** 2)
        movie = np.empty((frames, self.channels, height, width))
        for c in range(self.channels):
            traces = (
                400.0 + 1500.0 * self.activity[:frames]
                if c == 0
                else np.full((frames, len(self.radius)), 900.0)
            )
            movie[:, c] = np.einsum("tk,khw->thw", traces, blobs) + 80.0
        movie += self.noise.normal(0.0, 40.0, movie.shape)
        info = np.iinfo(dtype)
        return np.clip(movie, max(info.min, 0), info.max).astype(dtype)


def _cells_movie(
    rng: np.random.Generator, frames: int, nch: int, height: int, width: int, dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    """Blob-shaped cells on a dim background: channel 1 flickers, others stay put."""
    count = max(3, height * width // 400)
    cy, cx = rng.uniform(0, height, count), rng.uniform(0, width, count)
    radius = rng.uniform(2.0, 4.5, count)
    yy, xx = np.mgrid[0:height, 0:width]
    blobs = np.exp(
        -((yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2)
        / (2 * radius[:, None, None] ** 2)
    )
    spikes = rng.random((frames, count)) < 0.08
    activity = np.zeros((frames, count))
    for t in range(frames):
        activity[t] = (activity[t - 1] * 0.7 if t else 0) + spikes[t]
    movie = np.empty((frames, nch, height, width))
    for c in range(nch):
        traces = 400.0 + 1500.0 * activity if c == 0 else np.full((frames, count), 900.0)
        movie[:, c] = np.einsum("tk,khw->thw", traces, blobs) + 80.0
    movie += rng.normal(0.0, 40.0, movie.shape)
    info = np.iinfo(dtype)
    return np.clip(movie, max(info.min, 0), info.max).astype(dtype)
