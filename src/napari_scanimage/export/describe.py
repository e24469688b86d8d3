"""What the store records about the scan, under the ``napari_scanimage`` attribute key.

The root group holds the settings (for resuming), the completion flag, the
scan's summary and its ScanImage header; each image group names its field and
the field's geometry, so an exported image can be traced back without the TIFFs.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.summary import summarize

if TYPE_CHECKING:
    from napari_scanimage.export.plan import ExportPlan, ImagePlan
    from napari_scanimage.scan.scan import Scan

__all__ = ["KEY", "field_record", "image_name", "jsonable", "root_record"]

KEY = "napari_scanimage"


def root_record(scan: Scan, plan: ExportPlan, *, creator: str) -> dict[str, Any]:
    """The root group's record, ``complete`` still False."""
    record = {
        "complete": False,
        "created_by": creator,
        "settings": plan.settings(),
        "images": [{"path": image.path, "field": image.field.index} for image in plan.images],
        "channels": [scan.channels[c] for c in plan.channels],
        "summary": summarize(scan),
        "header": {"frame_data": scan.metadata, "roi_groups": scan.roi_groups},
    }
    converted: dict[str, Any] = jsonable(record)
    return converted


def image_name(scan: Scan, image: ImagePlan) -> str:
    """``scan_00001 · field 2`` (1-based, like the live layers' names)."""
    return f"{acquisition_stem(scan.filenames)} · field {image.field.index + 1}"


def field_record(image: ImagePlan) -> dict[str, Any]:
    """Which field an image group holds, and its geometry as the reader computed it."""
    geometry = dataclasses.asdict(image.field)
    converted: dict[str, Any] = jsonable({"field": image.field.index, "geometry": geometry})
    return converted


def jsonable(value: Any) -> Any:
    """Plain JSON: lists for tuples, arrays and slices, strings for non-finite floats.

    Zarr writes NaN and Infinity as bare words, which strict JSON parsers
    reject; the strings are what Zarr's own specification uses for them.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, slice):
        return [value.start, value.stop]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
