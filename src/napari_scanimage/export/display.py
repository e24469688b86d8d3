"""Display windows for the exported channels: the live layers' ranges (``scan.display``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.scan.display import contrast_range, sampled_values

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.scan import Scan

__all__ = ["channel_window"]


def channel_window(scan: Scan, fields: Sequence[int], channel: int) -> dict[str, float]:
    """OMERO ``window``: the dtype's range and the live layer's display range inside it.

    ``fields`` are the fields one napari layer shows (one ROI over its depths,
    see :mod:`~napari_scanimage.scan.field_groups`); each of their images gets
    the same window, so a reopened store has the contrast the scan had.
    """
    values = sampled_values(scan, fields, channel)
    start, end = contrast_range(values)
    if np.issubdtype(scan.dtype, np.integer):
        info = np.iinfo(scan.dtype)
        low, high = float(info.min), float(info.max)
    else:
        low, high = min(start, float(values.min())), max(end, float(values.max()))
    return {"min": low, "max": high, "start": start, "end": end}
