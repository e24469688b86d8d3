"""Per-frame metadata from the page descriptions: frame numbers, timestamps, triggers.

Read lazily, page by page, only when asked: a description is a small read at a
known offset, so the frame axis of a field costs one read per frame.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.format.descriptions import parse_description, read_number
from napari_scanimage.scan.indexing import normalize_axis

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["field_pages", "frame_description", "per_frame_values", "spread_frames"]


def spread_frames(num_frames: int, count: int) -> np.ndarray:
    """Up to ``count`` frame numbers spread evenly from the first to the last frame.

    Examples
    --------
    >>> spread_frames(10, 4).tolist(), spread_frames(2, 5).tolist()
    ([0, 3, 6, 9], [0, 1])
    """
    return np.unique(np.linspace(0, num_frames - 1, min(count, num_frames)).astype(np.int64))


def field_pages(scan: Scan, field: int, channel: int = 0) -> np.ndarray:
    """Global page of each frame of one field and channel."""
    f = scan.fields[normalize_axis(field, scan.num_fields, "fields").values[0]]
    chan = normalize_axis(channel, scan.num_channels, "channels").values
    return scan.layout.pages(np.arange(scan.num_frames), f.depth_index, chan)[:, 0]


def per_frame_values(scan: Scan, field: int, key: str) -> np.ndarray:
    """One numeric description value per frame of a field (NaN where missing)."""
    values = [read_number(scan.description(int(p)), key) for p in field_pages(scan, field)]
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def frame_description(scan: Scan, frame: int, field: int = 0, channel: int = 0) -> dict[str, Any]:
    """Every value of one frame's description."""
    pages = field_pages(scan, field, channel)
    index = normalize_axis(frame, len(pages), "frames").values[0]
    return parse_description(scan.description(int(pages[index])))
