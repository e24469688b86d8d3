"""Faithful synthetic ScanImage (2016+) BigTIFF writer for tests and sample data.

The bytes follow ScanImage's own recipe (ScanImage format notes ``scanimage-format.md``,
§1 and §4.1): little-endian BigTIFF, the 16-byte static block header at byte 16, FrameData at
byte 32 and the RoiGroups JSON after it, then one IFD per page holding 18 sorted tags, a
space-padded fixed-size description slot and the pixel strips. Every page's Software/Artist
tags point at the shared FrameData/RoiGroups text.

The knobs mirror what real rigs write (``scanimage-format.md`` §9), not what a reader
might assume; each names the real recording it copies:

* ``channels=tuple(range(1, 15))`` with ``channels_available=14`` and
  ``channel_table_size=64``: a ScanImage 2023.1.0 light-beads (LBM) header, which saves
  14 channels (one per depth; LBM rigs save up to 30), lists 64 channel names, LUTs and
  ADC resolutions, and only 2 rows of channel offsets and input ranges.
* ``page_width=224`` for ROIs of 220 pixels, ``stale_num_slices=81``: the same LBM file,
  whose pages (``pixelsPerLine 224``) are wider than its two 220 x 550 ROIs (1116 rows
  with 16 fly-to lines), and whose disabled stack still says ``numSlices = 81``.
* ``stack='slow', volumes=3``: a ScanImage 2023.0 slow stack repeated three times
  (``numVolumes = actualNumVolumes = 3``, ``acquisitionNumbers`` 1..6, one per slice
  of each volume).
* ``stack='fast', flyback_frames=7`` with ``frames_per_file``: the real 10-file 2021.0
  fast-Z series with its discarded flyback frames still on disk.
* ``timestamp_rate``: a real 2021.0 fast-Z file whose pages' ``frameTimestamps_sec``
  advance far faster than its header's ``scanVolumeRate`` says.

:func:`write_scan` returns a :class:`WrittenScan` whose :class:`TruthField` arrays
hold exactly what a correct reader must return for every (depth, ROI) field.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import os

__all__ = ["LiveWriter", "RoiSpec", "ScanSpec", "TruthField", "WrittenScan", "write_scan"]

_MAGIC = 0x07030301
_IFD_SIZE = 8 + 18 * 20 + 8  # tag count, 18 entries, next-IFD offset
_IRREGULAR_EXTRA = 1064
_ACQ_TRIGGER = -6.455e-05


@dataclass(frozen=True, kw_only=True)
class RoiSpec:
    """One imaging ROI (``scanimage.mroi.Roi``) with identical scanfields.

    Attributes
    ----------
    name : str
        ROI name.
    center_xy, size_xy : tuple of float
        Scanfield ``centerXY``/``sizeXY`` in scan-angle degrees.
    pixels_xy : tuple of int
        ``pixelResolutionXY`` as (width, height).
    zs : tuple of float or None
        None: one scanfield valid at every depth (``discretePlaneMode`` 0). Otherwise
        one scanfield per listed z (``discretePlaneMode`` 1); the ROI is imaged only
        at depths exactly equal to one of them.
    """

    name: str = "ROI 1"
    center_xy: tuple[float, float] = (0.0, 0.0)
    size_xy: tuple[float, float] = (6.0, 6.0)
    pixels_xy: tuple[int, int] = (64, 48)
    zs: tuple[float, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ScanSpec:
    """Acquisition settings of a synthetic recording.

    Attributes
    ----------
    version, version_minor : str or int
        ``SI.VERSION_MAJOR``/``VERSION_MINOR``: '2016b' ... '2019b' are written as
        quoted strings, 2020+ as numbers.
    tiff_format : int or None
        ``SI.TIFF_FORMAT_VERSION`` (3 or 4); None picks 3 before 2019, else 4.
    header_format, description_format : {'matlab', 'json'}, {'keyvalue', 'json'}
        Style of FrameData and of the per-page descriptions.
    rois : tuple of RoiSpec
        Imaging ROIs; ``mroi`` (None: more than one ROI) sets ``mroiEnable``.
    channels : tuple of int
        ``SI.hChannels.channelSave``; pages are channel-interleaved.
    num_frames : int
        Volumes ('fast'), frames ('none') or averaged frames per slice ('slow').
    volumes : int
        Repeats of a slow stack (``hStackManager.numVolumes``); a field's frames are
        then ``volumes * num_frames``, volume-major.
    stack : {'none', 'fast', 'slow'}
        Stack type; ``zs`` are its depths (exactly one for 'none').
    flyback_frames : int
        Discarded fast-Z flyback frames per volume, still written as junk pages.
    average_factor : int
        ``SI.hScan2D.logAverageFactor``; pages hold averages.
    frames_per_file : int or None
        ``SI.hScan2D.logFramesPerFile`` in ScanImage frames (planes); None = Inf.
    extra_pages : int
        Junk pages of an incomplete last cycle appended at the end.
    scan_mode, bidirectional, line_period, flyto_time, objective_resolution, zoom,
    frame_rate : various
        Scanner settings written to FrameData; resonant mROI pages contain
        ``round(flyto_time / line_period)`` fly-to lines between ROIs.
    dtype : str
        Integer pixel type (``SI.hScan2D.channelsDataType``), at most 32 bits.
    channels_available, channel_table_size : int or None
        ``hChannels.channelsAvailable`` (None: at least 4, as on older DAQs) and the
        length of the per-channel tables (names, LUTs, ADC resolutions; None: as many
        as available).  A table size also writes vDAQ's 2-row offsets and ranges.
    page_width : int or None
        Page width (``pixelsPerLine``) of an mROI scan when wider than the widest
        ROI, which then fills the left columns; None: the widest ROI.
    stale_num_slices : int or None
        ``hStackManager.numSlices`` written while no stack is enabled.
    timestamp_rate : float or None
        Planes per second in the pages' ``frameTimestamps_sec``; None: the header's
        frame rate.
    description_slot : int
        Characters reserved for each page description (+1 NUL).
    strips_per_page : int
        Requested strips per page; RowsPerStrip = ceil(height / strips_per_page).
    irregular_page : int or None
        Global page index (in the first file) whose slot is 1064 bytes longer.
    seed : int
        Seed of ``np.random.default_rng``.
    scan_phase : float
        Bidirectional scan-phase error to simulate: odd page rows of every ROI
        are written displaced right by this many pixels (linear interpolation,
        edge values repeated); the truth stays unshifted.
    content : {'random', 'cells', 'tissue'}
        Pixel truth: uniform noise over the dtype's range (catches any misplaced
        byte); blob-shaped "cells" whose brightness changes over time, drawn
        independently in each ROI; or "tissue": one field of such cells per
        depth, sampled by every ROI at its own position, so touching ROIs show
        continuous tissue across their seam (for stitching checks and demos).
    edge_columns : int
        Columns at both sides of every ROI recorded dim, as the resonant
        turnaround leaves them when they are not trimmed ('cells'/'tissue').
    """

    version: str | int = 2021
    version_minor: int | str = 0
    tiff_format: int | None = None
    header_format: Literal["matlab", "json"] = "matlab"
    description_format: Literal["keyvalue", "json"] = "keyvalue"
    rois: tuple[RoiSpec, ...] = (RoiSpec(),)
    mroi: bool | None = None
    channels: tuple[int, ...] = (1,)
    num_frames: int = 4
    volumes: int = 1
    stack: Literal["none", "fast", "slow"] = "none"
    zs: tuple[float, ...] = (0.0,)
    flyback_frames: int = 0
    average_factor: int = 1
    frames_per_file: int | None = None
    extra_pages: int = 0
    scan_mode: Literal["resonant", "linear"] = "resonant"
    bidirectional: bool = True
    line_period: float = 6.3e-05
    flyto_time: float = 0.001
    objective_resolution: float = 15.0
    zoom: float = 1.0
    frame_rate: float = 30.0
    dtype: str = "int16"
    description_slot: int = 2000
    strips_per_page: int = 1
    irregular_page: int | None = None
    seed: int = 0
    content: Literal["random", "cells", "tissue"] = "random"
    scan_phase: float = 0.0
    edge_columns: int = 0
    channels_available: int | None = None
    channel_table_size: int | None = None
    page_width: int | None = None
    stale_num_slices: int | None = None
    timestamp_rate: float | None = None

    @property
    def frames(self) -> int:
        """Frames of every field: all volumes' frames for a repeated slow stack."""
        return self.num_frames * (self.volumes if self.stack == "slow" else 1)


@dataclass(frozen=True, kw_only=True, eq=False)
class TruthField:
    """Ground truth of one field (one ROI at one depth).

    Attributes
    ----------
    depth_index, z : int, float
        Index into ``ScanSpec.zs`` and the depth itself.
    roi_index, roi_name : int, str
        Index into ``ScanSpec.rois`` and the ROI name.
    y0, height, width : int
        First page row of the field and its size in pixels.
    center_xy, size_xy : tuple of float
        Scanfield geometry in degrees.
    data : numpy.ndarray
        (frames, channels, height, width) pixels a correct reader must return.
    """

    depth_index: int
    z: float
    roi_index: int
    roi_name: str
    y0: int
    height: int
    width: int
    center_xy: tuple[float, float]
    size_xy: tuple[float, float]
    data: npt.NDArray[Any]


@dataclass(frozen=True, kw_only=True)
class WrittenScan:
    """Result of :func:`write_scan`.

    Attributes
    ----------
    spec : ScanSpec
        The settings used.
    paths : tuple of pathlib.Path
        Files written, in order.
    fields : tuple of TruthField
        Depth-major, then ROI order.
    page_height, page_width, flyto_lines : int
        Page geometry and fly-to lines between stacked ROIs.
    num_pages : int
        All pages written (flyback and extra pages included).
    pages_per_volume : int
        Pages per channel per volume (flyback included; 1 for 'none').
    """

    spec: ScanSpec
    paths: tuple[Path, ...]
    fields: tuple[TruthField, ...]
    page_height: int
    page_width: int
    flyto_lines: int
    num_pages: int
    pages_per_volume: int


class _Col(tuple[float, ...]):
    """MATLAB column vector, ``[1;2]``."""


class _Cell(tuple[object, ...]):
    """MATLAB cell array, ``{'a' 'b'}``."""


def _g(value: float) -> str:
    """Format a float like ScanImage's header serialiser (6 significant digits)."""
    return f"{value:.6g}"


def _mat(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return _g(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, _Col):
        return "[" + ";".join(_mat(v) for v in value) + "]"
    if isinstance(value, _Cell):
        return "{" + " ".join(_mat(v) for v in value) + "}"
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return "[" + ";".join(" ".join(_mat(v) for v in row) for row in value) + "]"
        return "[" + " ".join(_mat(v) for v in value) + "]"
    return str(value)


def _js(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "_NaN_"
        if math.isinf(value):
            return "_Inf_" if value > 0 else "-_Inf_"
        return _num(float(_g(value)))
    if isinstance(value, (list, tuple)):
        return [_js(v) for v in value]
    return value


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _dumps(obj: object) -> str:
    """Pretty JSON with innermost numeric arrays on one line, as ScanImage writes it."""
    text = json.dumps(obj, indent=2)

    def join(match: re.Match[str]) -> str:
        return "[" + ",".join(item.strip() for item in match[1].split(",")) + "]"

    return re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]", join, text)


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


def _frame_data(spec: ScanSpec, plan: _Plan) -> dict[str, object]:
    """Return FrameData as ``{'SI.comp.prop': value}`` (a subset of a real header)."""
    fd: dict[str, object] = {}

    def put(component: str, **props: object) -> None:
        fd.update({".".join(filter(None, ("SI", component, k))): v for k, v in props.items()})

    year, v4 = int(str(spec.version)[:4]), plan.tiff_format >= 4
    fast, stacked = spec.stack == "fast", spec.stack != "none"
    nz, chans, rois, flyback = len(spec.zs), spec.channels, spec.rois, spec.flyback_frames
    x0 = min(r.center_xy[0] - r.size_xy[0] / 2 for r in rois)
    x1 = max(r.center_xy[0] + r.size_xy[0] / 2 for r in rois)
    y0 = min(r.center_xy[1] - r.size_xy[1] / 2 for r in rois)
    y1 = max(r.center_xy[1] + r.size_xy[1] / 2 for r in rois)
    fov = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    um = spec.objective_resolution
    raw_per_slice = 1 if fast else spec.num_frames * spec.average_factor
    volumes, slices = (spec.num_frames if fast else spec.volumes), (nz if stacked else 1)
    zs = list(spec.zs[:slices])
    steps = np.diff(zs)
    step = float(steps[0]) if steps.size else 1.0
    minor = spec.version_minor
    n_avail = spec.channels_available or max(4, *chans)
    table = spec.channel_table_size or n_avail
    put("", LINE_FORMAT_VERSION=1, TIFF_FORMAT_VERSION=plan.tiff_format)
    put("", VERSION_MAJOR=spec.version)
    put("", VERSION_MINOR=str(minor) if isinstance(spec.version, str) else minor)
    put("", acqState="grab", acqsPerLoop=1, extTrigEnable=False, loopAcqInterval=10)
    put("", imagingSystem="ImagingScanner", objectiveResolution=float(um))
    put("hBeams", powers=20, lengthConstants=math.inf, flybackBlanking=True)
    put("hChannels", channelSave=chans[0] if len(chans) == 1 else _Col(chans))
    put("hChannels", channelsActive=chans[0] if len(chans) == 1 else list(chans))
    put("hChannels", channelsAvailable=n_avail, loggingEnable=True)
    put("hChannels", channelName=_Cell(f"Channel {i + 1}" for i in range(table)))
    if spec.channel_table_size:  # vDAQ: long tables, but offsets and ranges for 2 rows
        put("hChannels", channelAdcResolution=_Cell(16 for _ in range(table)))
        put("hChannels", channelLUT=_Cell([0, 100] for _ in range(table)))
        put("hChannels", channelOffset=_Col((0, 0)), channelInputRange=[[-1, 1], [-1, 1]])
    put("hFastZ", enable=fast, hasFastZ=True, flybackTime=0.014, waveformType="sawtooth")
    put("hFastZ", discardFlybackFrames=flyback > 0, numDiscardFlybackFrames=flyback)
    put("hRoiManager", imagingFovDeg=fov)
    put("hRoiManager", imagingFovUm=[[x * um, y * um] for x, y in fov])
    put("hRoiManager", linePeriod=float(spec.line_period), mroiEnable=plan.mroi)
    # mROI: like real files, these hold the (stale) default-ROI size, not the page size
    put("hRoiManager", linesPerFrame=rois[0].pixels_xy[1])
    put("hRoiManager", pixelsPerLine=spec.page_width or rois[0].pixels_xy[0])
    put("hRoiManager", scanFrameRate=float(spec.frame_rate))
    put("hRoiManager", scanFramePeriod=1.0 / spec.frame_rate)
    rate = spec.frame_rate / (plan.pages_per_volume if fast else 1)
    put("hRoiManager", scanVolumeRate=rate, scanZoomFactor=float(spec.zoom))
    put("hRoiManager", scanType="frame", scanRotation=0)
    put("hScan2D", bidirectional=spec.bidirectional, channelsDataType=spec.dtype)
    put("hScan2D", fillFractionSpatial=0.9, fillFractionTemporal=0.712867)
    put("hScan2D", flybackTimePerFrame=0.001, flytoTimePerScanfield=spec.flyto_time)
    put("hScan2D", linePhase=0.0, logAverageFactor=spec.average_factor)
    put("hScan2D", logFramesPerFile=spec.frames_per_file or math.inf)
    put("hScan2D", logFramesPerFileLock=False, scanMode=spec.scan_mode)
    put("hScan2D", hasResonantMirror=spec.scan_mode == "resonant")
    put("hScan2D", scannerFrequency=1 / ((1 + spec.bidirectional) * spec.line_period))
    stale = spec.stale_num_slices if not stacked else None
    put("hStackManager", framesPerSlice=raw_per_slice, numSlices=stale or slices)
    put("hStackManager", stackZStepSize=step, stackReturnHome=True)
    if v4:
        # 2020+ (StackManager.replicateZsForMultipleFramesPerSlice): slow-stack zs
        # repeat every slice framesPerSlice times; numFramesPerVolume = numel(zs)
        if spec.stack == "slow" and year >= 2020:
            zs = [z for z in zs for _ in range(raw_per_slice)]
        uniform = steps.size == 0 or bool(np.allclose(steps, steps[0]))
        put("", VERSION_COMMIT="3baa4b74bec9938bfd4c7403bddbe78f2a0ccd93")
        put("hStackManager", enable=stacked, stackMode="fast" if fast else "slow")
        put("hStackManager", stackActuator="fastZ" if fast else "motor")
        put("hStackManager", stackDefinition="uniform" if uniform else "arbitrary")
        put("hStackManager", arbitraryZs=_Col(spec.zs) if nz > 1 else spec.zs[0])
        put("hStackManager", actualNumSlices=slices, actualNumVolumes=volumes)
        put("hStackManager", actualStackZStepSize=float(max(steps)) if nz > 1 else [])
        put("hStackManager", numVolumes=volumes, numFramesPerVolume=len(zs))
        put("hStackManager", numFramesPerVolumeWithFlyback=len(zs) + flyback)
        if year >= 2021:  # the real SI 2021.0 file has no hFastZ.numVolumes (doc: 2023)
            put("", VERSION_UPDATE=0, PREMIUM=True)
            put("hMotors", samplePosition=[0, 0, spec.zs[0]])
        else:
            put("hFastZ", numVolumes=volumes)
            put("hMotors", motorPosition=[0, 0, spec.zs[0]])
    else:
        put("hMotors", motorPosition=[0, 0, spec.zs[0]])
        put("hFastZ", numVolumes=volumes)
        put("hFastZ", numFramesPerVolume=nz + flyback if fast else 1)  # incl. flyback
        put("hStackManager", slicesPerAcq=slices, stackSlicesDone=0)
    put("hStackManager", zs=zs[0] if len(zs) == 1 else zs)
    return dict(sorted(fd.items()))


def _render_frame_data(spec: ScanSpec, fd: dict[str, object]) -> str:
    if spec.header_format == "matlab":
        return "".join(f"{key} = {_mat(value)}\n" for key, value in fd.items())
    root: dict[str, Any] = {}
    for key, value in fd.items():
        *parents, leaf = key.split(".")[1:]
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _js(value)
    return _dumps({"SI": root}) + "\n"


def _roi_groups(spec: ScanSpec, plan: _Plan, rng: np.random.Generator) -> str:
    def uuid() -> dict[str, object]:
        value = int(rng.integers(0, 2**64, dtype=np.uint64))
        return {"roiUuid": f"{value:X}", "roiUuiduint64": float(f"{float(value):.9e}")}

    def scanfield(roi: RoiSpec, index: int) -> dict[str, object]:
        (cx, cy), (sx, sy), (px, py) = roi.center_xy, roi.size_xy, roi.pixels_xy
        to_ref: list[list[float]] = [
            [sx / px, 0, cx - sx / 2 - sx / px / 2],
            [0, sy / py, cy - sy / 2 - sy / py / 2],
            [0, 0, 1],
        ]
        affine: list[list[float]] = [[sx, 0, cx - sx / 2], [0, sy, cy - sy / 2], [0, 0, 1]]
        return {
            "ver": 1,
            "classname": "scanimage.mroi.scanfield.fields.RotatedRectangle",
            "name": f"{roi.name} scanfield {index + 1}",
            "UserData": None,
            **uuid(),
            "centerXY": [_num(cx), _num(cy)],
            "sizeXY": [_num(sx), _num(sy)],
            "rotationDegrees": 0,
            "enable": 1,
            "pixelResolutionXY": [px, py],
            "pixelToRefTransform": [[_num(v) for v in row] for row in to_ref],
            "affine": [[_num(v) for v in row] for row in affine],
        }

    rois = []
    for roi in spec.rois:
        zs = [0.0] if roi.zs is None else list(roi.zs)
        fields = [scanfield(roi, i) for i in range(len(zs))]
        user = None
        if not plan.mroi:  # the default ROI records the settings it was built from
            px, py = roi.pixels_xy
            user = {"imagingSystem": "ImagingScanner", "scanZoomFactor": spec.zoom}
            user |= {"fillFractionSpatial": 0.9, "pixelsPerLine": px, "linesPerFrame": py}
        rois.append(
            {
                "ver": 1,
                "classname": "scanimage.mroi.Roi",
                "name": roi.name,
                "UserData": user,
                **uuid(),
                "zs": _num(zs[0]) if len(zs) == 1 else [_num(z) for z in zs],
                "scanfields": fields[0] if len(fields) == 1 else fields,
                "discretePlaneMode": int(roi.zs is not None),
                "powers": None,
                "pzAdjust": [],
                "Lzs": None,
                "interlaceDecimation": None,
                "interlaceOffset": None,
                "enable": 1,
            }
        )

    def group(name: str, members: object) -> dict[str, object]:
        head = {"ver": 1, "classname": "scanimage.mroi.RoiGroup", "name": name}
        return head | {"UserData": None, **uuid(), "rois": members}

    name = "MROI Imaging ROI Group" if plan.mroi else "Default Imaging ROI Group"
    imaging = group(name, rois[0] if len(rois) == 1 else rois)
    empty = {"_ArrayType_": "double", "_ArraySize_": [1, 0], "_ArrayData_": None}
    integration = group("", empty)
    body = {"imagingRoiGroup": imaging, "photostimRoiGroups": None}
    return _dumps({"RoiGroups": body | {"integrationRoiGroup": integration}}) + "\n"


def _description(spec: ScanSpec, plane: int, last_plane: int) -> str:
    """Return the frame-varying description of ScanImage frame ``plane`` (0-based)."""
    # slow stacks: one acquisition per slice; otherwise one acquisition in all
    per_acq = spec.num_frames if spec.stack == "slow" else plane + 1
    acq, in_acq = divmod(plane, per_acq)
    end_acq = plane == last_plane or (spec.stack == "slow" and in_acq == per_acq - 1)
    year = int(str(spec.version)[:4])
    values: dict[str, object] = {
        "frameNumbers": plane + 1,
        "acquisitionNumbers": acq + 1,
        "frameNumberAcquisition": in_acq + 1,
        # averaged pages are stamped with their raw frames' times
        "frameTimestamps_sec": plane
        * spec.average_factor
        / (spec.timestamp_rate or spec.frame_rate),
        "acqTriggerTimestamps_sec": (plane - in_acq) / spec.frame_rate + _ACQ_TRIGGER,
        "nextFileMarkerTimestamps_sec": -1.0,
        "endOfAcquisition": int(end_acq),
        "endOfAcquisitionMode": int(plane == last_plane),
        "dcOverVoltage": 0,
        "epoch": [year, 11, 5, 9, 50, 13.56],
        **{f"auxTrigger{i}": [] for i in range(4)},
        "I2CData": _Cell(),
    }
    if spec.description_format == "json":
        exact = {k: round(v, 9) for k, v in values.items() if isinstance(v, float)}
        return json.dumps({k: _js(v) for k, v in values.items()} | exact)
    text = {k: f"{v:.9f}" if isinstance(v, float) else _mat(v) for k, v in values.items()}
    text["epoch"] = f"[{year} 11  5  9 50 13.560]"  # MATLAB's num2str spacing
    return "\n".join(f"{k} = {v}" for k, v in text.items())


_Tag = tuple[int, int, bytes]  # TIFF type, count, inline value or offset


def _page(
    offset: int,
    image: npt.NDArray[Any],
    text: str,
    slot: int,
    last: bool,
    strips: int,
    shared: dict[int, _Tag],
) -> tuple[bytes, int]:
    """Return IFD + description + strips written at ``offset``, and the next IFD offset.

    ``shared`` holds the tags identical on every page (resolution, Software, Artist).
    """
    height, width = image.shape
    desc = (text + "\n").ljust(slot).encode("ascii") + b"\0"
    _require(len(desc) == slot + 1, "descriptions do not fit description_slot")
    rows = -(-height // strips)
    nstrips = -(-height // rows)
    row_bytes = width * image.itemsize
    desc_at = offset + _IFD_SIZE
    arrays_at = _align(desc_at + len(desc))
    data_at = arrays_at + (16 * nstrips if nstrips > 1 else 0)
    offsets = [data_at + i * rows * row_bytes for i in range(nstrips)]
    counts = [min(rows, height - i * rows) * row_bytes for i in range(nstrips)]
    pixels = image.astype(image.dtype.newbyteorder("<")).tobytes()
    end = data_at + len(pixels)
    next_ifd = 0 if last else _align(end)

    def short(value: int) -> _Tag:  # SHORT, or LONG when it does not fit
        if value < 65536:
            return 3, 1, struct.pack("<H", value)
        return 4, 1, struct.pack("<I", value)

    def inline_or_array(values: list[int], at: int) -> _Tag:
        return 16, len(values), struct.pack("<Q", values[0] if len(values) == 1 else at)

    tags = shared | {
        256: short(width),
        257: short(height),
        258: short(image.itemsize * 8),
        259: short(1),  # no compression
        262: short(1),  # min-is-black
        270: (2, len(desc), struct.pack("<Q", desc_at)),
        273: inline_or_array(offsets, arrays_at),
        274: short(1),
        277: short(1),
        278: short(rows),
        279: inline_or_array(counts, arrays_at + 8 * nstrips),
        284: short(1),
        296: short(3),  # centimetre
        339: short(2 if image.dtype.kind == "i" else 1),
    }
    ifd = struct.pack("<Q", len(tags)) + b"".join(
        struct.pack("<HHQ", tag, typ, count) + value.ljust(8, b"\0")
        for tag, (typ, count, value) in sorted(tags.items())
    )
    blob = ifd + struct.pack("<Q", next_ifd) + desc.ljust(arrays_at - desc_at, b"\0")
    if nstrips > 1:  # out-of-line StripOffsets and StripByteCounts arrays
        blob += struct.pack(f"<{2 * nstrips}Q", *offsets, *counts)
    blob += pixels + (b"" if last else b"\0" * (next_ifd - end))
    return blob, next_ifd


def _displace_odd_rows(block: npt.NDArray[Any], y0: int, shift: float) -> npt.NDArray[Any]:
    """What a mistimed bidirectional scan records: odd page rows moved right by ``shift``."""
    out = block.copy()
    x = np.arange(block.shape[1], dtype=np.float64)
    for row in range((y0 + 1) % 2, block.shape[0], 2):
        moved = np.interp(x - shift, x, block[row].astype(np.float64))
        out[row] = np.rint(moved).astype(block.dtype)
    return out


@dataclass(frozen=True)
class _Tissue:
    """Cells at fixed scan-angle positions of one depth, with shared activity traces."""

    centres: npt.NDArray[np.float64]  # (cells, 2) x, y in degrees
    radius: npt.NDArray[np.float64]  # degrees
    activity: npt.NDArray[np.float64]  # (frames, cells)
    noise: np.random.Generator
    channels: int

    @classmethod
    def make(cls, rng: np.random.Generator, spec: ScanSpec, channels: int) -> _Tissue:
        lows = [(r.center_xy[i] - r.size_xy[i] / 2) for r in spec.rois for i in (0, 1)]
        highs = [(r.center_xy[i] + r.size_xy[i] / 2) for r in spec.rois for i in (0, 1)]
        x0, y0, x1, y1 = min(lows[0::2]), min(lows[1::2]), max(highs[0::2]), max(highs[1::2])
        pixel = min(r.size_xy[0] / r.pixels_xy[0] for r in spec.rois)
        count = max(5, int((x1 - x0) * (y1 - y0) / (20 * pixel) ** 2))
        centres = np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])
        spikes = rng.random((spec.frames, count)) < 0.08
        activity = np.zeros((spec.frames, count))
        for t in range(spec.frames):
            activity[t] = (activity[t - 1] * 0.7 if t else 0) + spikes[t]
        return cls(centres, rng.uniform(2.0, 4.5, count) * pixel, activity, rng, channels)

    def render(self, roi: RoiSpec, frames: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
        """The ROI's movie ``(frames, channels, height, width)``, sampled at its pixel centres."""
        width, height = roi.pixels_xy
        (cx, cy), (sx, sy) = roi.center_xy, roi.size_xy
        xs = cx - sx / 2 + (np.arange(width) + 0.5) * sx / width
        ys = cy - sy / 2 + (np.arange(height) + 0.5) * sy / height
        dx = (xs[None, :] - self.centres[:, 0, None]) / self.radius[:, None]
        dy = (ys[None, :] - self.centres[:, 1, None]) / self.radius[:, None]
        blobs = np.exp(-0.5 * dy[:, :, None] ** 2) * np.exp(-0.5 * dx[:, None, :] ** 2)
        movie = np.empty((frames, self.channels, height, width))
        for c in range(self.channels):
            traces = (
                400.0 + 1500.0 * self.activity[:frames]
                if c == 0
                else np.full((frames, len(self.radius)), 900.0)
            )
            movie[:, c] = np.einsum("tk,khw->thw", traces, blobs) + 80.0
        movie += self.noise.normal(0.0, 40.0, movie.shape)
        info = np.iinfo(dtype)
        return np.clip(movie, max(info.min, 0), info.max).astype(dtype)


def _cells_movie(
    rng: np.random.Generator, frames: int, nch: int, height: int, width: int, dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    """Blob-shaped cells on a dim background: channel 1 flickers, others stay put."""
    count = max(3, height * width // 400)
    cy, cx = rng.uniform(0, height, count), rng.uniform(0, width, count)
    radius = rng.uniform(2.0, 4.5, count)
    yy, xx = np.mgrid[0:height, 0:width]
    blobs = np.exp(
        -((yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2)
        / (2 * radius[:, None, None] ** 2)
    )
    spikes = rng.random((frames, count)) < 0.08
    activity = np.zeros((frames, count))
    for t in range(frames):
        activity[t] = (activity[t - 1] * 0.7 if t else 0) + spikes[t]
    movie = np.empty((frames, nch, height, width))
    for c in range(nch):
        traces = 400.0 + 1500.0 * activity if c == 0 else np.full((frames, count), 900.0)
        movie[:, c] = np.einsum("tk,khw->thw", traces, blobs) + 80.0
    movie += rng.normal(0.0, 40.0, movie.shape)
    info = np.iinfo(dtype)
    return np.clip(movie, max(info.min, 0), info.max).astype(dtype)


def write_scan(
    directory: str | os.PathLike[str],
    spec: ScanSpec = ScanSpec(),
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


class LiveWriter:
    """Replay a written acquisition into another folder as ScanImage writes it: growing.

    The files of ``written`` are treated as one stream of bytes, file after file;
    :meth:`write_to` makes the first ``position`` bytes of that stream exist in
    ``directory`` by appending only (never rewriting), so a reader looking in
    between sees exactly what it would see mid-acquisition: a file cut inside an
    IFD, a description or pixels, or a new split file with only a few bytes.
    """

    def __init__(self, written: WrittenScan, directory: str | os.PathLike[str]) -> None:
        self.sources = written.paths
        self.targets = tuple(Path(directory) / p.name for p in written.paths)
        self.sizes = tuple(p.stat().st_size for p in written.paths)
        self.position = 0

    @property
    def total(self) -> int:
        """Bytes of the whole acquisition."""
        return sum(self.sizes)

    def write_to(self, position: int) -> None:
        """Append until the first ``position`` bytes of the stream are on disk."""
        position = min(position, self.total)
        start = 0
        for source, target, size in zip(self.sources, self.targets, self.sizes, strict=True):
            want = min(max(position - start, 0), size)
            have = target.stat().st_size if target.exists() else 0
            if want > have or (want and not target.exists()):
                with source.open("rb") as src, target.open("ab") as dst:
                    src.seek(have)
                    dst.write(src.read(want - have))
                    dst.flush()
            start += size
        self.position = max(self.position, position)

    def stream_offset(self, file: int, offset: int) -> int:
        """Position in the stream of byte ``offset`` of file ``file``."""
        return sum(self.sizes[:file]) + offset
