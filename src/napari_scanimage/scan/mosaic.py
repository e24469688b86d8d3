"""Stitched mosaic geometry: every field on one pixel grid, placed by its µm position.

The mosaic is what the rig imaged, assembled: fields land where their ROI
geometry puts them, so gaps stay empty and overlaps show (later fields are
drawn over earlier ones).  Every mosaic pixel inside a field takes the field
pixel it falls in (nearest neighbour), so fields with coarser pixels than the
grid fill their whole area.  The z axis spans every depth of the scan, so the
mosaic's planes sit at the scan's own depths; planes with no chosen field stay
empty.
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
    rows: slice
    """Mosaic rows the field covers."""
    cols: slice
    """Mosaic columns the field covers."""
    source_rows: np.ndarray
    """Field row shown in each of those mosaic rows."""
    source_cols: np.ndarray
    """Field column shown in each of those mosaic columns."""


@dataclass(frozen=True)
class Mosaic:
    """A pixel grid covering every chosen field, and each field's place on it."""

    top_left_um: tuple[float, float]
    pixel_size_um: tuple[float, float]
    shape: tuple[int, int]
    depths: tuple[int, ...]
    """Depth indices of the mosaic's z planes: every depth of the scan."""
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
        depths = tuple(range(scan.num_scanning_depths))
        return cls((top, left), (dy, dx), shape, depths, placements)

    def paste(self, depth: int, images: dict[int, np.ndarray], out: np.ndarray) -> None:
        """Draw the fields of one depth (``images[field]`` is ``(..., y, x)``) into ``out``."""
        for place in self.placements.get(depth, []):
            image = images[place.field][..., place.source_rows, :][..., place.source_cols]
            out[..., place.rows, place.cols] = image


def _axis(
    start_um: float, size_um: float, pixel_um: float, origin: float, grid: float, length: int
) -> tuple[slice, np.ndarray]:
    """Mosaic pixels whose centres fall inside a field, and the field pixel of each."""
    first = max(0, math.ceil((start_um - origin) / grid - 0.5 - 1e-9))
    stop = min(length, math.ceil((start_um + size_um - origin) / grid - 0.5 - 1e-9))
    centres = origin + (np.arange(first, max(first, stop)) + 0.5) * grid
    source = np.floor((centres - start_um) / pixel_um + 1e-9).astype(np.intp)
    count = round(size_um / pixel_um)
    return slice(first, max(first, stop)), np.clip(source, 0, count - 1)


def _place(
    f: Field, origin: tuple[float, float], pixel: tuple[float, float], shape: tuple[int, int]
) -> Placement:
    rows, source_rows = _axis(
        f.top_left_um[0], f.size_um[0], f.pixel_size_um[0], origin[0], pixel[0], shape[0]
    )
    cols, source_cols = _axis(
        f.top_left_um[1], f.size_um[1], f.pixel_size_um[1], origin[1], pixel[1], shape[1]
    )
    return Placement(f.index, rows, cols, source_rows, source_cols)
