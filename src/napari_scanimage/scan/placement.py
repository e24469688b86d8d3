"""Place every ROI of every depth in the page, then form fields.

mROI pages stack the ROIs of one depth vertically; resonant scans leave
``round(flytoTimePerScanfield / linePeriod)`` fly-to lines between them (the
rule of ScanImage's own ``getMroiDataFromTiff``), linear scans none.  A plain
(non-mROI) scan has one field per depth covering the whole page; where the
header gives no field of view in µm (ScanImage 3.x to 5.1), its pixel size and
position are NaN: unknown, not invented.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import UnsupportedVersionError
from napari_scanimage.format.header import lookup
from napari_scanimage.scan.fields import Field, RoiPlacement, Trim, rois_at_depth
from napari_scanimage.scan.joining import join_contiguous

if TYPE_CHECKING:
    from napari_scanimage.format.header import ScanImageHeader
    from napari_scanimage.scan.layout import AcquisitionLayout

__all__ = ["imaging_rois", "place_fields"]


def imaging_rois(header: ScanImageHeader) -> list[dict[str, Any]]:
    """The imaging RoiGroup's ROIs as a list (ScanImage writes one ROI as an object)."""
    rois = lookup(header.roi_groups, "RoiGroups.imagingRoiGroup.rois", [])
    rois = rois if isinstance(rois, list) else [rois]
    return [roi for roi in rois if isinstance(roi, dict)]


def flyto_lines(header: ScanImageHeader) -> int:
    """Fly-to lines between stacked ROIs: ScanImage's rounding rule."""
    if str(header.get("SI.hScan2D.scanMode", "resonant")).lower().startswith("lin"):
        return 0
    flyto = header.get("SI.hScan2D.flytoTimePerScanfield", 0.0)
    line_period = header.get("SI.hRoiManager.linePeriod", 0.0)
    try:
        lines = float(flyto) / float(line_period)
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
    # MATLAB's round() takes halves away from zero; Python's round() to even.
    return math.floor(lines + 0.5) if math.isfinite(lines) and lines > 0 else 0


def _stack(
    header: ScanImageHeader, depths: list[list[RoiPlacement]], page_height: int, page_width: int
) -> list[list[RoiPlacement]]:
    """Give each ROI its first page row, checking that every depth fits the page."""
    gap = flyto_lines(header)

    def needed(rois: list[RoiPlacement], gap: int) -> int:
        return sum(r.height for r in rois) + gap * (len(rois) - 1)

    tallest = max(depths, key=lambda rois: needed(rois, gap))
    if needed(tallest, gap) != page_height and len(tallest) > 1:
        # Trust the page: a rig's coerced fly-to time can differ from the header's.
        spare = page_height - sum(r.height for r in tallest)
        if spare >= 0 and spare % (len(tallest) - 1) == 0:
            gap = spare // (len(tallest) - 1)
    for rois in depths:
        if needed(rois, gap) > page_height or any(r.width > page_width for r in rois):
            msg = (
                f"the ROIs of depth {rois[0].depth_index} "
                f"({', '.join(f'{r.height}x{r.width}' for r in rois)} pixels with {gap} "
                f"fly-to lines) do not fit the {page_height}x{page_width} page"
            )
            raise UnsupportedVersionError(header.path, msg)
    placed = []
    for rois in depths:
        y0, row = 0, []
        for roi in rois:
            row.append(replace(roi, y0=y0))
            y0 += roi.height + gap
        placed.append(row)
    return placed


def _plain_field(
    header: ScanImageHeader, depth_index: int, page_height: int, page_width: int
) -> RoiPlacement:
    """The whole page as one ROI, placed by its scanfield or the imaging FOV."""
    um_per_degree = header.number("SI.objectiveResolution")
    rois = imaging_rois(header)
    found = (
        rois_at_depth(rois[:1], 0.0, depth_index, um_per_degree, header.path)
        if len(rois) == 1
        else []
    )
    if found and math.isfinite(um_per_degree):
        roi = found[0]
        h_um = roi.pixel_size_um[0] * roi.height
        w_um = roi.pixel_size_um[1] * roi.width
        return replace(
            roi,
            height=page_height,
            width=page_width,
            pixel_size_um=(h_um / page_height, w_um / page_width),
        )
    corners = header.get("SI.hRoiManager.imagingFovUm", None)
    # Without a FOV in µm (ScanImage 3.x-5.1 files) the size is unknown: NaN, never invented.
    top_left, pixel = (math.nan, math.nan), (math.nan, math.nan)
    if isinstance(corners, list) and corners and all(isinstance(c, list) for c in corners):
        xs = [float(c[0]) for c in corners]
        ys = [float(c[1]) for c in corners]
        top_left = (min(ys), min(xs))
        pixel = ((max(ys) - min(ys)) / page_height, (max(xs) - min(xs)) / page_width)
    return RoiPlacement(
        roi_id=0,
        name="Default Imaging Roi",
        depth_index=depth_index,
        y0=0,
        height=page_height,
        width=page_width,
        top_left_um=top_left,
        pixel_size_um=pixel,
    )


def place_fields(
    header: ScanImageHeader,
    layout: AcquisitionLayout,
    page_height: int,
    page_width: int,
    *,
    join: bool,
    trim: Trim,
) -> tuple[Field, ...]:
    """All fields of the scan, depth by depth, in page order."""
    with header.interpreting("ROI geometry in the ScanImage header"):
        mroi = header.flag("SI.hRoiManager.mroiEnable")
        if mroi:
            um_per_degree = header.number("SI.objectiveResolution")
            if not math.isfinite(um_per_degree) or um_per_degree <= 0:
                value = header.get("SI.objectiveResolution")  # raises, naming the key, if absent
                msg = f"SI.objectiveResolution is {value!r}, not a positive number"
                raise UnsupportedVersionError(header.path, msg)
            roi_dicts = imaging_rois(header)
            per_depth = [
                rois_at_depth(roi_dicts, z, d, um_per_degree, header.path)
                for d, z in enumerate(layout.depths)
            ]
            if not any(per_depth):
                raise UnsupportedVersionError(header.path, "no enabled imaging ROI at any depth")
            per_depth = _stack(header, [r for r in per_depth if r], page_height, page_width)
        else:
            per_depth = [
                [_plain_field(header, d, page_height, page_width)]
                for d in range(len(layout.depths))
            ]
        fields: list[Field] = []
        for rois in per_depth:
            groups = join_contiguous(rois) if join else [[roi] for roi in rois]
            depth = layout.depths[rois[0].depth_index]
            base = len(fields)
            fields.extend(Field.from_parts(base + i, depth, g, trim) for i, g in enumerate(groups))
        return tuple(fields)
