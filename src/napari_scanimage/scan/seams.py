"""Seam check: is there a brightness step where two ROIs of a joined field meet.

Two numbers per seam, from a temporal-mean image, each a median over rows (an
edge artefact is in every row, a cell in a few, so medians see the artefact
and not the tissue):

- ``ratio``: the brightness step between the two columns that meet, divided by
  the typical step between neighbouring columns inside the ROIs.  Near 1 the
  seam is invisible; well above 1 there is an edge (a brightness mismatch
  between ROIs, or ROIs that overlap or leave a gap).
- ``edge_contrast``: brightness of the columns next to the seam relative to
  columns a little further in.  Below 1 the ROIs' edges are dim (resonant
  turnaround not trimmed), above 1 bright; trims are right when it is near 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.scan.frame_info import spread_frames

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["EDGE", "Seam", "check_seams", "mean_image"]

EDGE = 2  # columns each side of a seam that edge_contrast looks at


@dataclass(frozen=True, kw_only=True)
class Seam:
    """Where two joined ROIs meet, and how visible the join is."""

    field: int
    """Field index in the joined scan."""
    left: str
    right: str
    column: int
    """First output column of the right-hand ROI."""
    step: float
    """|Difference| between the two columns that meet (median over rows)."""
    inside: float
    """Median of the same measure between neighbouring columns inside the ROIs."""
    edge_contrast: float
    """Brightness of the ``EDGE`` columns each side of the seam over that of columns
    further in (median over rows)."""

    @property
    def ratio(self) -> float:
        """``step / inside``: about 1 for an invisible seam."""
        return self.step / self.inside if self.inside > 0 else float("inf")


def mean_image(scan: Scan, field: int, frames: int = 50, channel: int = 0) -> np.ndarray:
    """Mean of ``frames`` frames spread over the recording, as float64 ``(y, x)``."""
    block = scan.read_field(
        field, channels=[channel], frames=spread_frames(scan.num_frames, frames)
    )
    return np.asarray(block[:, 0].mean(axis=0, dtype=np.float64))


def check_seams(scan: Scan, frames: int = 50, channel: int = 0) -> list[Seam]:
    """Seams of every field made of several ROIs (joined ROIs of ``scan``).

    ``scan`` should be opened with ``join_contiguous=True``; with joining off
    there are no seams inside fields and the list is empty.
    """
    seams = []
    for f in scan.fields:
        if len(f.output_xslices) < 2:
            continue
        image = mean_image(scan, f.index, frames, channel)
        steps = np.median(np.abs(np.diff(image, axis=1)), axis=0)  # between c and c+1
        borders = [s.stop for s in f.output_xslices[:-1]]
        inside = np.delete(steps, [b - 1 for b in borders])
        typical = float(np.median(inside)) if inside.size else 0.0
        for i, border in enumerate(borders):
            near = image[:, max(0, border - EDGE) : border + EDGE].mean(axis=1)
            around = np.c_[
                image[:, max(0, border - 3 * EDGE - 8) : max(0, border - 2 * EDGE)],
                image[:, border + 2 * EDGE : border + 3 * EDGE + 8],
            ]
            seams.append(
                Seam(
                    field=f.index,
                    left=f.roi_names[i],
                    right=f.roi_names[i + 1],
                    column=border,
                    step=float(steps[border - 1]),
                    inside=typical,
                    edge_contrast=_row_median_ratio(near, around),
                )
            )
    return seams


def _row_median_ratio(near: np.ndarray, around: np.ndarray) -> float:
    """Median over rows of ``near`` over the median of ``around`` in that row."""
    reference = np.median(around, axis=1) if around.size else np.full(len(near), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = near / reference
    finite = ratios[np.isfinite(ratios)]
    return float(np.median(finite)) if finite.size else float("nan")
