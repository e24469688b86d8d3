"""``write_scan``: a whole acquisition, split over files, with its ground truth."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from napari_scanimage.testing._constants import _IRREGULAR_EXTRA, _MAGIC
from napari_scanimage.testing._content import _cells_movie, _displace_odd_rows, _Tissue
from napari_scanimage.testing._header_text import _frame_data, _render_frame_data, _roi_groups
from napari_scanimage.testing._layout import _align, _plan, _require
from napari_scanimage.testing._pages import _description, _page, _Tag
from napari_scanimage.testing._specs import ScanSpec, TruthField, WrittenScan

if TYPE_CHECKING:
    import os


def write_scan(
    directory: str | os.PathLike[str],
    spec: ScanSpec = ScanSpec(),  # noqa: B008 - frozen, so one shared default is safe
    *,
    stem: str = "scan",
    acquisition: int = 1,
    keep_truth: bool = True,
) -> WrittenScan:
    """Write a synthetic ScanImage acquisition and return its ground truth.

    Parameters
    ----------
    directory : str or os.PathLike
        Existing directory to write into.
    spec : ScanSpec, optional
        Acquisition settings.
    stem : str, optional
        File stem (``SI.hScan2D.logFileStem``).
    acquisition : int, optional
        File counter (``logFileCounter``) used in the file names.
    keep_truth : bool, optional
        False writes random pixels page by page without keeping them, so files
        larger than memory can be made (benchmarks); ``TruthField.data`` is then
        empty along the frame axis.

    Returns
    -------
    WrittenScan
        Paths, page geometry and one :class:`TruthField` per (depth, ROI).

    Raises
    ------
    ValueError
        If the settings are inconsistent.
    """
    plan = _plan(spec)
    rng = np.random.default_rng(spec.seed)
    dtype = np.dtype(spec.dtype)
    info = np.iinfo(dtype)
    nch = len(spec.channels)

    def randint(shape: tuple[int, ...]) -> npt.NDArray[Any]:
        values = rng.integers(int(info.min), int(info.max), shape, endpoint=True)
        return values.astype(dtype)

    tissues = [_Tissue.make(rng, spec, nch) for _ in spec.zs] if spec.content == "tissue" else []
    fields: list[TruthField] = []
    for d, (indices, y0s) in enumerate(zip(plan.depth_rois, plan.depth_y0, strict=True)):
        for i, y0 in zip(indices, y0s, strict=True):
            roi = spec.rois[i]
            width, height = roi.pixels_xy
            frames = spec.frames if keep_truth else 0
            if spec.content == "tissue":
                data = tissues[d].render(roi, frames, dtype)
            elif spec.content == "cells":
                data = _cells_movie(rng, frames, nch, height, width, dtype)
            else:
                data = randint((frames, nch, height, width))
            if spec.edge_columns and spec.content != "random":
                dim = data[..., : spec.edge_columns], data[..., -spec.edge_columns :]
                for edge in dim:
                    edge //= 4
            fields.append(
                TruthField(
                    depth_index=d,
                    z=spec.zs[d],
                    roi_index=i,
                    roi_name=roi.name,
                    y0=y0,
                    height=height,
                    width=width,
                    center_xy=roi.center_xy,
                    size_xy=roi.size_xy,
                    data=data,
                )
            )
    frame_data = _render_frame_data(spec, _frame_data(spec, plan)).encode() + b"\0"
    roi_data = _roi_groups(spec, plan, rng).encode() + b"\0"
    n0, n1 = len(frame_data), len(roi_data)
    block = struct.pack("<IIII", _MAGIC, plan.tiff_format, n0, n1) + frame_data + roi_data
    ifd0 = _align(16 + len(block))
    preamble = b"II" + struct.pack("<HHHQ", 43, 8, 0, ifd0) + block
    # like SI 2023: XResolution numerator 2**30, denominator from the pixel size (cm)
    roi = spec.rois[0]
    um_per_px = roi.size_xy[0] * spec.objective_resolution / roi.pixels_xy[0]
    denominator = min(max(1, round(2**30 * um_per_px / 1e4)), 2**32 - 1)
    resolution = (5, 1, struct.pack("<II", 2**30, denominator))
    shared: dict[int, _Tag] = {
        282: resolution,
        283: resolution,
        305: (2, n0, struct.pack("<Q", 32)),
        315: (2, n1, struct.pack("<Q", 32 + n0)),
    }

    def image(page: int) -> npt.NDArray[Any]:
        plane, channel = divmod(page, nch)
        out = randint((plan.page_height, plan.page_width))
        if plane < plan.truth_planes and keep_truth:
            if spec.stack == "slow":
                volume, rest = divmod(plane, plan.pages_per_volume)
                depth, frame = divmod(rest, spec.num_frames)
                frame += volume * spec.num_frames
            else:
                frame, depth = divmod(plane, plan.pages_per_volume)
            for f in fields:
                if f.depth_index == depth:
                    block = f.data[frame, channel]
                    if spec.scan_phase:
                        block = _displace_odd_rows(block, f.y0, spec.scan_phase)
                    out[f.y0 : f.y0 + f.height, : f.width] = block
        return out

    per_file = (spec.frames_per_file or plan.num_pages) * nch
    last_plane = (plan.num_pages - 1) // nch
    longest = max(len(_description(spec, p, last_plane)) for p in (0, last_plane))
    _require(longest < spec.description_slot, "descriptions do not fit description_slot")
    paths: list[Path] = []
    for k, start in enumerate(range(0, plan.num_pages, per_file)):
        stop = min(start + per_file, plan.num_pages)
        suffix = "" if spec.frames_per_file is None else f"_{k + 1:05d}"
        path = Path(directory) / f"{stem}_{acquisition:05d}{suffix}.tif"
        with path.open("wb") as fh:
            fh.write(preamble + b"\0" * (ifd0 - len(preamble)))
            offset = ifd0
            for page in range(start, stop):
                slot = spec.description_slot
                slot += _IRREGULAR_EXTRA if page == spec.irregular_page else 0
                text = _description(spec, page // nch, last_plane)
                last, strips = page == stop - 1, spec.strips_per_page
                blob, offset = _page(offset, image(page), text, slot, last, strips, shared)
                fh.write(blob)
        paths.append(path)
    return WrittenScan(
        spec=spec,
        paths=tuple(paths),
        fields=tuple(fields),
        page_height=plan.page_height,
        page_width=plan.page_width,
        flyto_lines=plan.flyto_lines,
        num_pages=plan.num_pages,
        pages_per_volume=plan.pages_per_volume,
    )
