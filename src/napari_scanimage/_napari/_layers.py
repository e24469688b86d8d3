"""Turn a scan into napari layer data: one lazy image layer per field and channel.

Pure data (``(array, kwargs, 'image')`` tuples), no napari import, so it is
tested without a viewer.  Layers are placed in µm: ``scale`` is the pixel size
and ``translate`` puts each field where ScanImage imaged it, so mROI fields
sit side by side as on the rig.  When a scan has several depths every layer
gets a z axis (frames, z, y, x), so all layers share one set of sliders;
a field imaged at consecutive depths with the same geometry becomes one layer.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.lazy.arrays import FieldArray, MosaicArray
from napari_scanimage.scan.display import (
    CONTRAST_SAMPLES,
    channel_color,
    contrast_range,
    display_range,
    shown_at_first,
)
from napari_scanimage.scan.field_groups import FieldGroup, group_fields
from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.scan.frame_info import spread_frames
from napari_scanimage.scan.mosaic import Mosaic

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.scan import Scan

__all__ = [
    "METADATA_KEY",
    "depth_axis",
    "estimate_contrast",
    "field_layer_name",
    "group_fields",
    "layer_data",
    "layer_groups",
    "placement_kwargs",
]

METADATA_KEY = "napari_scanimage"


def layer_groups(scan: Scan, fields: Sequence[int] | None = None) -> list[FieldGroup]:
    """Group the chosen fields into layers (all fields when ``fields`` is None)."""
    chosen = [scan.fields[i] for i in (range(scan.num_fields) if fields is None else fields)]
    return group_fields(chosen)


def z_axis(scan: Scan, depth_index: int) -> tuple[float, float, str]:
    """(scale, coordinate, unit) of a depth on the layers' z axis.

    z is in µm when the depths are evenly spaced, else in plane numbers.
    """
    return depth_axis(scan.scanning_depths, scan.depth_step, depth_index)


def depth_axis(
    depths: Sequence[float], step: float | None, depth_index: int
) -> tuple[float, float, str]:
    """:func:`z_axis` from the scan's depths and step (None: uneven spacing)."""
    if step is None:
        return 1.0, float(depth_index), ""
    return step, float(depths[depth_index]), "µm"


def estimate_contrast(array: Any, samples: int = CONTRAST_SAMPLES) -> tuple[float, float]:
    """Robust display range from a few frames spread over the recording.

    Reads ``samples`` frames (all depths of each), never the whole array, so
    its cost does not grow with the recording's length.
    """
    frames = spread_frames(array.shape[0], samples)
    return contrast_range(np.stack([np.asarray(array[int(t)]) for t in frames]))


def _stem(scan: Scan) -> str:
    return acquisition_stem(scan.filenames)


def layer_name(scan: Scan, group: FieldGroup, channel: int) -> str:
    """``scan_00001 · field 2 · ch 1``: 1-based, the panel's and the export's numbers.

    A layer holding one ROI over several depths is named after its first field.
    """
    return field_layer_name(_stem(scan), group.fields[0].index, scan.channels[channel])


def field_layer_name(stem: str, field: int, channel_number: int) -> str:
    """``scan_00001 · field 2 · ch 1`` from the 0-based field and ScanImage's channel number."""
    return f"{stem} · field {field + 1} · ch {channel_number}"


def placement(scan: Scan, group: FieldGroup) -> dict[str, Any]:
    """``scale``, ``translate``, ``axis_labels`` and ``units`` of a group's layer."""
    first = group.fields[0]
    return grid_placement(scan, first.top_left_um, first.pixel_size_um, first.depth_index)


def grid_placement(
    scan: Scan, top_left_um: tuple[float, float], pixel_um: tuple[float, float], depth: int
) -> dict[str, Any]:
    """Layer kwargs putting pixel grid ``(frames, [z,] y, x)`` at its place in µm."""
    z = z_axis(scan, depth) if scan.num_scanning_depths > 1 else None
    return placement_kwargs(top_left_um, pixel_um, z)


def placement_kwargs(
    top_left_um: Sequence[float], pixel_um: Sequence[float], z: tuple[float, float, str] | None
) -> dict[str, Any]:
    """:func:`grid_placement` without a scan: ``z`` is (scale, coordinate, unit) or None."""
    dy, dx = pixel_um
    y0, x0 = top_left_um
    unit = "µm"
    if not all(math.isfinite(v) for v in (dy, dx, y0, x0)):  # size unknown (SI 3.x-5.1)
        dy, dx, y0, x0, unit = 1.0, 1.0, 0.0, 0.0, "pixel"
    # napari puts data coordinate 0 at a pixel's centre; shift by half a pixel
    # so the grid's outer corner lands at its top-left in µm.
    scale: list[float] = [1.0, dy, dx]
    translate: list[float] = [0.0, y0 + dy / 2, x0 + dx / 2]
    labels = ["frame", "y", "x"]
    units = ["", unit, unit]
    if z is not None:
        z_scale, z_at, z_unit = z
        scale.insert(1, z_scale)
        translate.insert(1, z_at)
        labels.insert(1, "z")
        units.insert(1, z_unit)
    return {"scale": scale, "translate": translate, "axis_labels": labels, "units": units}


def channel_colormap(scan: Scan, channel: int) -> str:
    """The colormap of a channel (by ScanImage's channel number, so it never moves)."""
    return channel_color(scan.channels[channel])[0]


def group_array(scan: Scan, group: FieldGroup, channel: int) -> FieldArray:
    """Lazy ``(frames, [z,] y, x)`` data: a slider step reads that frame's pages only."""
    if scan.num_scanning_depths > 1:
        return FieldArray(scan, [f.index for f in group.fields], channel)
    return FieldArray(scan, group.fields[0].index, channel)


def layer_metadata(scan: Scan, group: FieldGroup, channel: int) -> dict[str, Any]:
    """What a user (or the dock widget) needs to trace a layer back to its scan."""
    return {
        METADATA_KEY: {
            "files": scan.filenames,
            "fields": [f.index for f in group.fields],
            "kind": "field",
            "group": group.number,
            "channel": channel,
            "join_contiguous": scan.join_contiguous,
            "trim": dataclasses.astuple(scan.trim),
            "geometry": [dataclasses.asdict(f) for f in group.fields],
        },
        "scanimage_version": scan.version,
        "header": scan.metadata,
        "roi_groups": scan.roi_groups,
    }


def layer_data(
    scan: Scan,
    *,
    fields: Sequence[int] | None = None,
    channels: Sequence[int] | None = None,
    contrast: bool = True,
) -> list[tuple[Any, dict[str, Any], str]]:
    """Layer data tuples for napari: one image layer per field group and channel."""
    layers = []
    for group in layer_groups(scan, fields):
        for channel in range(scan.num_channels) if channels is None else channels:
            data = group_array(scan, group, channel)
            kwargs: dict[str, Any] = {
                "name": layer_name(scan, group, channel),
                "colormap": channel_colormap(scan, channel),
                "blending": "additive",
                "visible": shown_at_first(channel, scan.num_channels),
                "multiscale": False,
                "rgb": False,
                "metadata": layer_metadata(scan, group, channel),
                **placement(scan, group),
            }
            if contrast:  # the range an exported store records too
                fields = [f.index for f in group.fields]
                kwargs["contrast_limits"] = display_range(scan, fields, channel)
            layers.append((data, kwargs, "image"))
    return layers


def mosaic_layer_data(
    scan: Scan,
    *,
    fields: Sequence[int] | None = None,
    channels: Sequence[int] | None = None,
    contrast: bool = True,
) -> list[tuple[Any, dict[str, Any], str]]:
    """One stitched layer per channel: every field pasted at its µm position."""
    mosaic = Mosaic.of(scan, None if fields is None else list(fields))
    layers = []
    for channel in range(scan.num_channels) if channels is None else channels:
        data = MosaicArray(scan, channel, mosaic)
        layers.append(
            (
                data,
                {
                    "name": f"{_stem(scan)} · mosaic · ch {scan.channels[channel]}",
                    "colormap": channel_colormap(scan, channel),
                    "blending": "additive",
                    "multiscale": False,
                    "rgb": False,
                    **grid_placement(
                        scan, mosaic.top_left_um, mosaic.pixel_size_um, mosaic.depths[0]
                    ),
                    "metadata": {
                        METADATA_KEY: {
                            "files": scan.filenames,
                            "kind": "mosaic",
                            "join_contiguous": scan.join_contiguous,
                            "trim": dataclasses.astuple(scan.trim),
                            "fields": [
                                p.field for d in mosaic.depths for p in mosaic.placements[d]
                            ],
                            "channel": channel,
                        },
                        "header": scan.metadata,
                    },
                },
                "image",
            )
        )
        if contrast:
            layers[-1][1]["contrast_limits"] = estimate_contrast(data)
    return layers


def outline_layer_data(
    scan: Scan, fields: Sequence[int] | None = None
) -> tuple[Any, dict[str, Any], str]:
    """A shapes layer outlining every ROI (each part of joined fields) with its name.

    With several depths each outline sits on its own z plane, so only the ROIs
    of the depth shown are drawn.
    """
    rectangles, names = [], []
    deep = scan.num_scanning_depths > 1
    for f in (scan.fields[i] for i in (range(scan.num_fields) if fields is None else fields)):
        dy, dx = f.pixel_size_um if f.pixel_size_known else (1.0, 1.0)
        y0, x0 = f.top_left_um if f.pixel_size_known else (0.0, 0.0)  # pixels when unknown
        z = [z_axis(scan, f.depth_index)[1]] if deep else []
        for name, xs in zip(f.roi_names, f.output_xslices, strict=True):
            top, left = y0, x0 + xs.start * dx
            bottom, right = top + f.height * dy, x0 + xs.stop * dx
            corners = [[top, left], [top, right], [bottom, right], [bottom, left]]
            rectangles.append(np.array([[*z, *corner] for corner in corners]))
            names.append(name)
    units = [z_axis(scan, 0)[2], "µm", "µm"] if deep else ["µm", "µm"]
    kwargs = {
        "name": f"{_stem(scan)} · ROI outlines",
        "shape_type": "rectangle",
        "edge_color": "yellow",
        "face_color": "transparent",
        "edge_width": 1.0,
        "features": {"roi": names},
        "text": {"string": "{roi}", "color": "yellow", "size": 10, "anchor": "upper_left"},
        "metadata": {
            METADATA_KEY: {
                "files": scan.filenames,
                "kind": "outlines",
                "join_contiguous": scan.join_contiguous,
                "trim": dataclasses.astuple(scan.trim),
            }
        },
        "units": units,
    }
    return rectangles, kwargs, "shapes"
