"""Where everything goes: planes, pages, ROI rows and fly-to lines of a scan."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.testing._matlab_text import _g

if TYPE_CHECKING:
    from napari_scanimage.testing._specs import ScanSpec


def _align(offset: int) -> int:
    return -(-offset // 8) * 8


@dataclass(frozen=True)
class _Plan:
    tiff_format: int
    mroi: bool
    flyto_lines: int
    depth_rois: tuple[tuple[int, ...], ...]  # ROI indices imaged at each depth
    depth_y0: tuple[tuple[int, ...], ...]  # their first rows in the page
    page_height: int
    page_width: int
    pages_per_volume: int  # planes per volume (fast: incl. flyback; slow: all)
    truth_planes: int  # planes holding truth data (and flyback), before extra pages
    num_pages: int


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _plan(spec: ScanSpec) -> _Plan:
    nz, nch, dtype = len(spec.zs), len(spec.channels), np.dtype(spec.dtype)
    _require(len(spec.rois) > 0, "rois must not be empty")
    _require(spec.mroi is not False or len(spec.rois) == 1, "mroi=False needs 1 ROI")
    _require(all(min(r.pixels_xy) >= 1 for r in spec.rois), "ROI pixels must be >= 1")
    _require(len(set(spec.channels)) == nch > 0, "channels must be unique")
    _require(min(spec.channels) >= 1, "channels must be >= 1")
    _require(nz == 1 if spec.stack == "none" else nz >= 1, "bad number of zs")
    counts = (spec.num_frames, spec.average_factor, spec.strips_per_page, spec.volumes)
    _require(min(counts) >= 1, "num_frames/average_factor/strips_per_page/volumes must be >= 1")
    _require(spec.volumes == 1 or spec.stack == "slow", "volumes repeat a slow stack")
    available = spec.channels_available or max(4, *spec.channels)
    _require(available >= max(spec.channels), "channels_available < a saved channel")
    _require((spec.channel_table_size or available) >= available, "channel table too short")
    flyback_ok = spec.flyback_frames >= 0 and (spec.stack == "fast" or not spec.flyback_frames)
    _require(flyback_ok, "flyback_frames need a fast stack")
    _require(spec.stack != "fast" or spec.average_factor == 1, "fast stack averaging")
    _require((spec.frames_per_file or 1) >= 1, "frames_per_file must be >= 1")
    _require(dtype.kind in "iu" and dtype.itemsize <= 4, "dtype: integer <= 32 bits")
    mroi = len(spec.rois) > 1 if spec.mroi is None else spec.mroi
    _require(spec.page_width is None or mroi, "page_width pads the pages of mROI scans")
    page_width = max(spec.page_width or 0, *(r.pixels_xy[0] for r in spec.rois))
    tiff_format = spec.tiff_format or (3 if int(str(spec.version)[:4]) < 2019 else 4)
    _require(tiff_format in (3, 4), "tiff_format must be 3 or 4")
    # ScanImage's getMroiDataFromTiff: round(flytoTimePerScanfield / linePeriod), with
    # MATLAB rounding (half away from zero), using the values as the header shows them.
    ratio = float(_g(spec.flyto_time)) / float(_g(spec.line_period))
    flyto = math.floor(ratio + 0.5) if mroi and spec.scan_mode == "resonant" else 0
    depth_rois, depth_y0, heights = [], [], []
    for z in spec.zs:
        rois = tuple(i for i, r in enumerate(spec.rois) if r.zs is None or z in r.zs)
        _require(len(rois) > 0, f"no ROI is imaged at z={z}")
        y0, y = [], 0
        for i in rois:
            y0.append(y)
            y += spec.rois[i].pixels_xy[1] + flyto
        depth_rois.append(rois)
        depth_y0.append(tuple(y0))
        heights.append(y - flyto)
    fast_ppv = nz + spec.flyback_frames
    ppv = {"none": 1, "fast": fast_ppv, "slow": nz * spec.num_frames}[spec.stack]
    truth_planes = ppv * spec.volumes if spec.stack == "slow" else spec.num_frames * ppv
    cycle = ppv
    _require(0 <= spec.extra_pages < cycle * nch, "extra_pages must be < one volume")
    num_pages = truth_planes * nch + spec.extra_pages
    first_file = min(num_pages, (spec.frames_per_file or num_pages) * nch)
    irregular = spec.irregular_page
    _require(irregular is None or 0 <= irregular < first_file, "bad irregular_page")
    return _Plan(
        tiff_format=tiff_format,
        mroi=mroi,
        flyto_lines=flyto,
        depth_rois=tuple(depth_rois),
        depth_y0=tuple(depth_y0),
        page_height=max(heights),
        page_width=page_width,
        pages_per_volume=ppv,
        truth_planes=truth_planes,
        num_pages=num_pages,
    )
