"""When each frame of a field was taken: its pages' own timestamps, or a rate.

ScanImage stamps every page with ``frameTimestamps_sec`` (seconds since the
acquisition mode started, the same zero as ``epoch``).  A field's frames are
its own pages, so the fields of a fast-Z volume get their own, offset times.
NWB prefers ``starting_time`` and ``rate`` for a regular series (nwbinspector
flags timestamps that are regular to 1 ns), so those are written when the
stamps are that regular, and the stamps otherwise.  Files without stamps
(ScanImage 3.x) get the header's frame rate from time 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.export.errors import ExportError

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["Timing", "field_timing", "is_regular"]


@dataclass(frozen=True)
class Timing:
    """Either ``timestamps`` or ``starting_time`` with ``rate``, and how they were found."""

    timestamps: np.ndarray | None
    starting_time: float | None
    rate: float | None
    note: str


def is_regular(stamps: np.ndarray, decimals: int = 9) -> bool:
    """Whether every step is the same once rounded to ``decimals`` (nwbinspector's test).

    Examples
    --------
    >>> is_regular(np.array([0.0, 0.5, 1.0, 1.5])), is_regular(np.array([0.0, 0.5, 1.1]))
    (True, False)
    """
    steps = np.unique(np.diff(stamps).round(decimals))
    return bool(len(stamps) > 2 and len(steps) == 1 and steps[0] > 0)


def field_timing(scan: Scan, field: int, num_frames: int) -> Timing:
    """The times of the first ``num_frames`` frames of a field."""
    stamps = scan.frame_timestamps(field)[:num_frames]
    if len(stamps) and np.isfinite(stamps).all():
        if is_regular(stamps):
            rate = (len(stamps) - 1) / float(stamps[-1] - stamps[0])
            note = (
                "times: the pages' frameTimestamps_sec, written as starting_time and rate "
                "because they are regular to 1 ns"
            )
            return Timing(None, float(stamps[0]), rate, note)
        note = "timestamps: the frameTimestamps_sec of the field's own pages"
        return Timing(stamps.astype(np.float64), None, None, note)
    if not (math.isfinite(scan.fps) and scan.fps > 0):
        raise ExportError(f"{scan.filenames[0]}: neither frame timestamps nor a frame rate")
    start = float(stamps[0]) if len(stamps) and math.isfinite(stamps[0]) else 0.0
    note = (
        f"times: the files record no frameTimestamps_sec, so rate is the header's frame "
        f"rate ({scan.fps:.6g} Hz) from starting_time {start:g} s"
    )
    return Timing(None, start, float(scan.fps), note)
