"""How a scan is shown by default: one colour per channel, a robust contrast range.

Shared by the napari layers and the OME-Zarr export, so an exported scan opens
looking like the live one.  Colours follow ScanImage's channel numbers, so a
channel keeps its colour whichever channels were saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.scan.frame_info import spread_frames

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.scan import Scan

__all__ = [
    "CHANNEL_COLORS",
    "CONTRAST_PERCENTILES",
    "CONTRAST_SAMPLES",
    "channel_color",
    "contrast_range",
    "display_range",
    "sampled_values",
    "shown_at_first",
]

CHANNEL_COLORS = (
    ("green", "00FF00"),
    ("magenta", "FF00FF"),
    ("cyan", "00FFFF"),
    ("yellow", "FFFF00"),
    ("gray", "FFFFFF"),
)
"""(napari colormap name, OMERO hex colour) for ScanImage channels 1, 2, 3, 4, 5+."""

CONTRAST_PERCENTILES = (0.5, 99.8)
CONTRAST_SAMPLES = 5
"""Frames read per field for a display range; never the whole recording."""

COLOURED_CHANNELS = len(CHANNEL_COLORS) - 1
"""Channels that get a colour of their own; beyond them every channel is gray."""


def channel_color(number: int) -> tuple[str, str]:
    """(name, hex) of ScanImage channel ``number`` (1-based).

    Examples
    --------
    >>> channel_color(2), channel_color(9)
    (('magenta', 'FF00FF'), ('gray', 'FFFFFF'))
    """
    return CHANNEL_COLORS[min(max(number, 1), len(CHANNEL_COLORS)) - 1]


def shown_at_first(position: int, count: int) -> bool:
    """Whether the channel at ``position`` of ``count`` is visible when a scan opens.

    Up to four channels each have a colour and are blended together.  Light-beads
    (LBM) rigs save 14 to 30 channels, one per depth; summed in gray they would
    show nothing, so only the first is visible and the others wait in the layer
    list (the OME-Zarr ``omero`` channels are marked ``active`` the same way).

    Examples
    --------
    >>> [shown_at_first(i, 2) for i in range(2)], [shown_at_first(i, 14) for i in (0, 1)]
    ([True, True], [True, False])
    """
    return count <= COLOURED_CHANNELS or position == 0


def contrast_range(values: np.ndarray) -> tuple[float, float]:
    """Display range from sampled pixels: percentiles, never an empty range.

    Examples
    --------
    >>> contrast_range(np.arange(1001))
    (5.0, 998.0)
    >>> contrast_range(np.zeros(4))
    (0.0, 1.0)
    """
    if values.size == 0:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(values, CONTRAST_PERCENTILES))
    return (low, high) if high > low else (low, low + 1.0)


def sampled_values(
    scan: Scan, fields: Sequence[int], channel: int, samples: int = CONTRAST_SAMPLES
) -> np.ndarray:
    """Pixels of ``samples`` frames spread over the recording, of every field given."""
    frames = spread_frames(scan.num_frames, samples)
    values = [scan.read_field(f, channels=[channel], frames=frames) for f in fields]
    return np.concatenate([v.ravel() for v in values])


def display_range(scan: Scan, fields: Sequence[int], channel: int) -> tuple[float, float]:
    """The display range of one channel of fields shown together (one napari layer).

    Computed over a few frames of every field given (a layer's depths), so the
    live layer and its OME-Zarr image get the same range.
    """
    return contrast_range(sampled_values(scan, fields, channel))
