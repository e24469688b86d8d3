"""Stitched mosaic geometry: every field on one pixel grid, placed by its µm position.

The mosaic is what the rig imaged, assembled: fields land where their ROI
geometry puts them, so gaps stay empty and overlaps show (later fields are
drawn over earlier ones).  Fields with another pixel size are resampled to the
grid by nearest neighbour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = ["Mosaic", "Placement"]


@dataclass(frozen=True)
class Placement:
    """Where one field goes on the mosaic grid."""

    field: int
    rows: np.ndarray
    """Mosaic row of each field row (nearest neighbour)."""
    cols: np.ndarray
    """Mosaic column of each field column."""


@dataclass(frozen=True)
class Mosaic:
    """A pixel grid covering every field of a scan, and each field's place on it."""

    top_left_um: tuple[float, float]
    pixel_size_um: tuple[float, float]
    shape: tuple[int, int]
    depths: tuple[int, ...]
    """Depth indices, in order: the mosaic's z planes."""
    placements: dict[int, list[Placement]]
    """For each depth index, the fields drawn there, in drawing order."""

    @classmethod
    def of(cls, scan: Scan, fields: list[int] | None = None) -> Mosaic:
        """The grid for ``fields`` (all by default), with the finest pixel size among them."""
        chosen = [scan.fields[i] for i in (range(scan.num_fields) if fields is None else fields)]
        dy = min(f.pixel_size_um[0] for f in chosen)
        dx = min(f.pixel_size_um[1] for f in chosen)
        top = min(f.top_left_um[0] for f in chosen)
        left = min(f.top_left_um[1] for f in chosen)
        bottom = max(f.top_left_um[0] + f.size_um[0] for f in chosen)
        right = max(f.top_left_um[1] + f.size_um[1] for f in chosen)
        shape = (
            max(1, math.ceil((bottom - top) / dy - 1e-6)),
            max(1, math.ceil((right - left) / dx - 1e-6)),
        )
        placements: dict[int, list[Placement]] = {}
        for f in chosen:
            placements.setdefault(f.depth_index, []).append(
                _place(f, (top, left), (dy, dx), shape)
            )
        return cls((top, left), (dy, dx), shape, tuple(sorted(placements)), placements)

    def paste(self, depth: int, images: dict[int, np.ndarray], out: np.ndarray) -> None:
        """Draw the fields of one depth (``images[field]`` is ``(..., y, x)``) into ``out``."""
        for place in self.placements.get(depth, []):
            image = images[place.field]
            out[..., place.rows[:, None], place.cols[None, :]] = image


def _place(
    f: Field, origin: tuple[float, float], pixel: tuple[float, float], shape: tuple[int, int]
) -> Placement:
    """Nearest mosaic pixel of each field pixel centre."""
    centres_y = f.top_left_um[0] + (np.arange(f.height) + 0.5) * f.pixel_size_um[0]
    centres_x = f.top_left_um[1] + (np.arange(f.width) + 0.5) * f.pixel_size_um[1]
    rows = np.clip(np.floor((centres_y - origin[0]) / pixel[0]).astype(np.intp), 0, shape[0] - 1)
    cols = np.clip(np.floor((centres_x - origin[1]) / pixel[1]).astype(np.intp), 0, shape[1] - 1)
    return Placement(f.index, rows, cols)
