"""The frame rate the pages' timestamps show, to check the header's against.

ScanImage stamps every page with ``frameTimestamps_sec``.  Headers can be wrong
about the rate (a real 2021 fast-Z file says 8.867 volumes/s while its pages
advance one volume every 17.2 ms), and readers that trust one or the other then
give users different answers.  We keep the header's rate as ``Scan.fps`` and say
so when the pages disagree; two description reads, whatever the length.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.format.descriptions import read_number

if TYPE_CHECKING:
    from collections.abc import Callable

    from napari_scanimage.scan.layout import AcquisitionLayout

__all__ = ["RATE_TOLERANCE", "rate_disagreement", "timestamp_rate"]

RATE_TOLERANCE = 0.10
"""Relative difference beyond which the header's and the pages' rates disagree."""


def timestamp_rate(
    layout: AcquisitionLayout, num_pages: int, description: Callable[[int], str]
) -> float:
    """Frames per second of one field from its first two frames' timestamps; NaN if unknown.

    Only frames that follow each other directly count: a slow stack's frames
    are consecutive within a slice, and a slice of one frame says nothing.
    """
    frames, depths, _ = layout.count_frames(num_pages)
    if frames < 2 or depths < 1 or (layout.slow_stack and layout.frames_per_slice < 2):
        return math.nan
    first, second = layout.pages(np.array([0, 1]), 0, np.array([0]))[:, 0]
    t0 = read_number(description(int(first)), "frameTimestamps_sec")
    t1 = read_number(description(int(second)), "frameTimestamps_sec")
    if t0 is None or t1 is None or not math.isfinite(t1 - t0) or t1 <= t0:
        return math.nan
    return 1.0 / (t1 - t0)


def rate_disagreement(header_fps: float, pages_fps: float, *, volumes: bool) -> str | None:
    """A sentence saying how the two rates differ, or None where they agree or one is unknown.

    Examples
    --------
    >>> rate_disagreement(8.867, 58.14, volumes=True)
    "the header gives 8.867 volumes/s, but the pages' frameTimestamps_sec advance 58.14 volumes/s"
    >>> rate_disagreement(30.0, 30.2, volumes=False) is None
    True
    """
    if not (math.isfinite(header_fps) and math.isfinite(pages_fps)) or header_fps <= 0:
        return None
    if abs(pages_fps / header_fps - 1) <= RATE_TOLERANCE:
        return None
    unit = "volumes/s" if volumes else "frames/s"
    return (
        f"the header gives {header_fps:.4g} {unit}, but the pages' frameTimestamps_sec "
        f"advance {pages_fps:.4g} {unit}"
    )
