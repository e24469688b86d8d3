"""Display windows for the exported channels, from a few frames, as the live layers do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.scan.display import contrast_range
from napari_scanimage.scan.frame_info import spread_frames

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["channel_window"]

SAMPLES = 5
"""Frames read per field and channel; never the whole recording."""


def channel_window(scan: Scan, field: int, channel: int) -> dict[str, float]:
    """OMERO ``window``: the dtype's range and a robust contrast range inside it.

    Uses the live layers' range (:func:`~napari_scanimage.scan.display.contrast_range`),
    so an exported field opens with the contrast the scan had.
    """
    frames = spread_frames(scan.num_frames, SAMPLES)
    values = scan.read_field(field, channels=[channel], frames=frames)
    start, end = contrast_range(values)
    if np.issubdtype(scan.dtype, np.integer):
        info = np.iinfo(scan.dtype)
        low, high = float(info.min), float(info.max)
    else:
        low, high = min(start, float(values.min())), max(end, float(values.max()))
    return {"min": low, "max": high, "start": start, "end": end}
