"""A plain-data summary of a scan, for the CLI, the widget and logs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from napari_scanimage._text import number_ranges

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["format_short_summary", "format_summary", "summarize"]


def summarize(scan: Scan) -> dict[str, Any]:
    """Everything a user checks first, as JSON-ready values."""
    return {
        "version": scan.version,
        "tiff_format_version": scan.tiff_format_version,
        "generation": scan.header.generation,
        "container": scan.header.container,
        "files": scan.filenames,
        "num_frames": scan.num_frames,
        "fps": scan.fps if math.isfinite(scan.fps) else None,
        # the pages' own rate (frameTimestamps_sec), None where they don't say
        "timestamp_fps": scan.timestamp_fps if math.isfinite(scan.timestamp_fps) else None,
        "channels": list(scan.channels),
        "multi_roi": scan.is_multiROI,
        "bidirectional": scan.is_bidirectional,
        "zoom": scan.zoom if math.isfinite(scan.zoom) else None,
        "dtype": str(scan.dtype),
        "page_size": [scan.page_height, scan.page_width],
        "scanning_depths": scan.scanning_depths,
        "dropped_pages": scan.dropped_pages,
        "fields": [
            {
                "field": f.index + 1,  # as napari's layer names and ScanImage count
                "index": f.index,  # scan[index] in the Python API (0-based)
                "rois": list(f.roi_names),
                "depth_um": f.depth,
                "size_px": [f.height, f.width],
                # None: the file gives no pixel size (ScanImage 3.x-5.1)
                "size_um": [round(v, 3) for v in f.size_um] if f.pixel_size_known else None,
                "center_um": [round(v, 3) for v in f.center_um] if f.pixel_size_known else None,
            }
            for f in scan.fields
        ],
    }


def format_summary(info: dict[str, Any]) -> str:
    """Human-readable text of :func:`summarize`'s result."""
    files = info["files"]
    fps = "unknown" if info["fps"] is None else f"{info['fps']:.4g} Hz"
    if info.get("timestamp_fps") is not None:
        fps += f" (header; {info['timestamp_fps']:.4g} Hz by the pages' timestamps)"
    modern = info.get("generation", "2016+") == "2016+" and info["tiff_format_version"]
    kind = (
        f"TIFF format {info['tiff_format_version']}"
        if modern
        else info.get("container", "no static header block")
    )
    lines = [
        f"ScanImage {info['version']} ({kind}), "
        f"{len(files)} file{'s' if len(files) != 1 else ''}: {files[0]}"
        + (f" ... {files[-1]}" if len(files) > 1 else ""),
        f"frames: {info['num_frames']} at {fps}; channels: "
        f"{number_ranges(info['channels'])}; dtype {info['dtype']}",
        f"multi-ROI: {'yes' if info['multi_roi'] else 'no'}; "
        f"bidirectional: {'yes' if info['bidirectional'] else 'no'}; zoom: {info['zoom']}",
        f"fields: {len(info['fields'])} (numbered from 1 as in napari; "
        "the Python API's index is one less)",
    ]
    for field in info["fields"]:
        h, w = field["size_px"]
        if field["size_um"] is None:
            where = "size in µm unknown (the file gives no pixel size)"
        else:
            (hu, wu), (cy, cx) = field["size_um"], field["center_um"]
            where = f"{hu:8.1f} x {wu:<8.1f} µm  centre ({cy:g}, {cx:g}) µm"
        lines.append(
            f"  {field['index'] + 1:>3}  {h:>5} x {w:<5} px  {where}  "
            f"z {field['depth_um']:g} µm  {' + '.join(field['rois'])}"
        )
    if info["dropped_pages"]:
        lines.append(f"dropped {info['dropped_pages']} pages of an incomplete last frame")
    return "\n".join(lines)


def format_short_summary(info: dict[str, Any]) -> str:
    """Three short lines of :func:`summarize`'s result, for narrow panels."""
    files = info["files"]
    name = files[0].replace("\\", "/").rsplit("/", 1)[-1]
    more = f" + {len(files) - 1} more" if len(files) > 1 else ""
    fps = "" if info["fps"] is None else f" at {info['fps']:.4g} Hz"
    depths = len(info["scanning_depths"])
    traits = [
        "multi-ROI" if info["multi_roi"] else "single ROI",
        "bidirectional" if info["bidirectional"] else "unidirectional",
        f"zoom {info['zoom']:g}" if info["zoom"] is not None else "",
    ]
    return "\n".join(
        [
            f"ScanImage {info['version']} · {name}{more}",
            f"{info['num_frames']} frames{fps} · channels {number_ranges(info['channels'])}",
            f"{len(info['fields'])} fields at {depths} depth{'s' if depths != 1 else ''} · "
            + " · ".join(t for t in traits if t),
        ]
    )
