"""What the store records about the scan, under the ``napari_scanimage`` attribute key.

The root group holds the settings (for resuming), the source files' identity
(size, modification time, sampled digest: see :mod:`.sources`), the completion
flag, the scan's summary and its ScanImage header; each image group names its
field and the field's geometry, so an exported image can be traced back without
the TIFFs.  Reading these back, checked, is :mod:`.store_records`' job.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import StoreError
from napari_scanimage.export.sources import source_identity
from napari_scanimage.export.store_files import checked_size, root_attributes
from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.summary import summarize

if TYPE_CHECKING:
    from napari_scanimage.export.plan import ExportPlan, ImagePlan
    from napari_scanimage.scan.scan import Scan

__all__ = [
    "KEY",
    "PROJECT",
    "field_record",
    "image_name",
    "jsonable",
    "root_record",
    "store_attributes",
]

KEY = "napari_scanimage"
PROJECT = "napari-scanimage"


def root_record(scan: Scan, plan: ExportPlan, *, creator: str, version: str) -> dict[str, Any]:
    """The root group's record, ``complete`` still False.

    Enough to show the store as the live scan is shown without its TIFFs:
    ``project``/``version`` say who wrote it, ``stem`` names the layers,
    ``depths``/``depth_step`` place z, ``images`` name each image's field and
    ``channels`` the ScanImage channel numbers of the ``c`` axis.
    """
    record = {
        "project": PROJECT,
        "version": version,
        "ngff": plan.ngff,
        "complete": False,
        "created_by": creator,
        "files": list(plan.recipe.files),
        "sources": source_identity(
            plan.recipe.files, plan.recipe.urls, plan.recipe.options_given()
        ),
        "stem": acquisition_stem(scan.filenames),
        "num_frames": scan.num_frames,
        "fps": scan.fps,
        "depths": list(scan.scanning_depths),
        "depth_step": scan.depth_step,
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
    """Plain JSON: lists for tuples, arrays and slices; null for NaN, strings for infinities.

    Zarr writes NaN and Infinity as bare words, which strict JSON parsers
    reject.  NaN means "unknown" here (a pixel size ScanImage 3.x-5.1 do not
    give), so it is ``null``; an infinity (a header's ``Inf``) is the string
    Zarr's own specification uses for it.

    Examples
    --------
    >>> jsonable({"size": (float("nan"), 2.0), "limit": np.float64("inf")})
    {'size': [None, 2.0], 'limit': 'Infinity'}
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
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def store_attributes(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The root attributes of a Zarr store (format 2 or 3); None if it is not one.

    Reads one small JSON file, checked (a regular file of bounded size and
    nesting, see :mod:`.store_files`), so callers can decline foreign stores
    quickly; a Zarr group whose attributes cannot be read gives ``{}``.
    """
    root = os.path.realpath(path)
    try:
        return root_attributes(root)[1]
    except StoreError:
        return {} if _is_group(root) else None


def _is_group(root: str) -> bool:
    try:
        return checked_size(root, ".zgroup", 2**16) is not None
    except StoreError:
        return False
