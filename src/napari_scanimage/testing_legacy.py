r"""Faithful synthetic files of older ScanImage generations, and re-saved 2016+ files.

Complements :mod:`napari_scanimage.testing` (2016+ BigTIFFs with the static
block).  Speed is not the point, so tifffile writes the TIFF container
(classic TIFF, or BigTIFF), one page per call, with the description format of
each generation, verified against ScanImage's own readers:

* 3.x: every page repeats the header as ``\r``-separated ``state.a.b=value``
  (``scim_openTif.m``: ``savingChannelN``/``acquiringChannelN``,
  ``numberOfFrames``, ``numberOfZSlices``, ``numAvgFramesSave``);
* 4.x: ``Frame Number =``, ``Frame Timestamp(s) =``, then ``scanimage.SI4.*``;
* 5.0/5.1: the same frame lines (plus ``Acq Trigger Timestamp(s)``, ``DC
  Overvoltage``; ``ReadTIFFHeader_SI5.m``), then ``scanimage.SI5.*``;
* 5.2/2015: ``frameNumbers =``, ``frameTimestamps_sec =`` ... (2015
  ``opentif.m``), then ``scanimage.SI.*`` in the description, or ``SI.*`` in
  the Software tag.

Pages are channel-interleaved; slow stacks go frame by frame within a slice,
fast-Z stacks plane by plane within a volume; pages hold averages when
averaging is on, and frame numbers count raw frames.  :func:`resave_scan`
copies a file of :func:`napari_scanimage.testing.write_scan` the way other
tools re-save ScanImage files: no static block, the header in the Software
tag and the RoiGroups JSON in the Artist tag of every page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import tifffile

from napari_scanimage.testing._matlab_text import _Col
from napari_scanimage.testing._matlab_text import _mat as _matlab_literal

if TYPE_CHECKING:
    import os

__all__ = ["LegacySpec", "LegacyTruth", "resave_scan", "write_legacy_scan"]

Generation = Literal["3.x", "4.x", "5.0", "5.1", "5.2", "2015"]


@dataclass(frozen=True, kw_only=True)
class LegacySpec:
    """Settings of a synthetic recording of an older ScanImage generation.

    Attributes
    ----------
    generation : {'3.x', '4.x', '5.0', '5.1', '5.2', '2015'}
        Which header and description format to write.
    bigtiff : bool
        BigTIFF container instead of classic TIFF.
    channels : tuple of int
        Saved channels (1-based), interleaved page by page.
    num_frames : int
        Saved (averaged) frames per slice, or volumes for ``stack='fast'``.
    zs : tuple of float
        Depths; one for ``stack='none'``, evenly spaced for stacks.
    stack : {'none', 'slow', 'fast'}
        Motor stack (frames within a slice consecutive) or fast-Z volumes.
    volumes : int
        Repeats of a slow stack, one after the other in the file.  No header of
        these generations records it: only the page count shows it.
    average_factor : int
        Raw frames averaged into each page.
    height, width, rows_per_strip : int
        Page size and TIFF strip height (old files use many strips per page).
    frame_rate, zoom : float
        Frame rate (Hz) and zoom written to the header.
    fov_um : tuple of float or None
        (height, width) of the field in µm, written (2015/5.2 only) as
        ``objectiveResolution`` and ``hRoiManager.imagingFovUm``; None leaves
        the pixel size unknown, as in real 3.x-5.1 files.
    header_in : {'description', 'software'}
        5.2/2015: the header in each description (``scanimage.SI.*``) or in the
        Software tag (``SI.*``).
    dtype : str
        Pixel type.
    seed : int
        Seed of the random pixels.
    first_frame : int
        ScanImage frames (planes) recorded before this file's first page: the
        next file of a split acquisition continues the frame numbers and times.
    """

    generation: Generation = "5.1"
    bigtiff: bool = False
    channels: tuple[int, ...] = (1,)
    num_frames: int = 3
    zs: tuple[float, ...] = (0.0,)
    stack: Literal["none", "slow", "fast"] = "none"
    volumes: int = 1
    average_factor: int = 1
    height: int = 16
    width: int = 24
    rows_per_strip: int = 4
    frame_rate: float = 15.0
    zoom: float = 2.0
    fov_um: tuple[float, float] | None = None
    header_in: Literal["description", "software"] = "description"
    dtype: str = "int16"
    seed: int = 0
    first_frame: int = 0


@dataclass(frozen=True, kw_only=True, eq=False)
class LegacyTruth:
    """What a correct reader must return for a :func:`write_legacy_scan` file.

    Attributes
    ----------
    spec : LegacySpec
        The settings used.
    path : pathlib.Path
        The file written.
    pages : numpy.ndarray
        ``(pages, height, width)``: every page as tifffile must read it.
    data : numpy.ndarray
        ``(depths, frames, channels, height, width)``: the fields' pixels (a repeated
        slow stack's frames volume-major).
    fps : float
        Frames (volumes for fast-Z) per second of one field.
    pixel_size_um : tuple of float
        (dy, dx) µm per pixel; NaN where the file does not say.
    timestamps : numpy.ndarray
        ``frameTimestamps_sec`` of each frame of field 0 (NaN for 3.x: not recorded).
    version : str
        The version the header states, as ``Scan.version`` should give it.
    """

    spec: LegacySpec
    path: Path
    pages: npt.NDArray[Any]
    data: npt.NDArray[Any]
    fps: float
    pixel_size_um: tuple[float, float]
    timestamps: npt.NDArray[np.float64]
    version: str


def _mat(value: object) -> str:
    """A MATLAB literal as ScanImage writes it; a tuple is a column vector."""
    return _matlab_literal(_Col(value) if type(value) is tuple else value)


def _channels(spec: LegacySpec) -> object:
    return spec.channels[0] if len(spec.channels) == 1 else tuple(spec.channels)


def _header(spec: LegacySpec) -> dict[str, object]:
    """The frame-invariant header as ``{full key: value}`` for ``spec.generation``."""
    nz, avg = len(spec.zs), spec.average_factor
    fast = spec.stack == "fast"
    raw_frames = 1 if fast else spec.num_frames * avg
    step = float(spec.zs[1] - spec.zs[0]) if nz > 1 else 1.0
    period = 1.0 / spec.frame_rate
    gen = spec.generation
    if gen == "3.x":
        values: dict[str, object] = {
            "state.configPath": "C:\\Users\\rig\\cfg",
            "state.software.version": 3.8,
            "state.software.minorRev": 0,
            "state.acq.numberOfZSlices": nz,
            "state.acq.zStepSize": step,
            "state.acq.numAvgFramesSave": avg,
            "state.acq.averaging": int(avg > 1),
            "state.acq.numberOfFrames": raw_frames,
            "state.acq.linesPerFrame": spec.height,
            "state.acq.pixelsPerLine": spec.width,
            "state.acq.frameRate": spec.frame_rate,
            "state.acq.zoomFactor": spec.zoom,
            "state.acq.numberOfChannelsSave": len(spec.channels),
        }
        for i in range(1, 5):
            values[f"state.acq.savingChannel{i}"] = int(i in spec.channels)
            values[f"state.acq.acquiringChannel{i}"] = int(i in spec.channels)
        return values
    if gen in ("4.x", "5.0", "5.1"):
        p = "scanimage.SI4." if gen == "4.x" else "scanimage.SI5."
        names = {
            "pixels": "scanPixelsPerLine" if gen == "4.x" else "pixelsPerLine",
            "lines": "scanLinesPerFrame" if gen == "4.x" else "linesPerFrame",
            "zoom": "scanZoomFactor" if gen == "4.x" else "zoomFactor",
        }
        version: dict[str, object] = (
            {"versionMajor": 4.2}
            if gen == "4.x"
            else {"VERSION_MAJOR": 5, "VERSION_MINOR": int(gen[-1])}
        )
        old: dict[str, object] = {
            **version,
            "acqNumAveragedFrames": avg,
            "acqNumFrames": raw_frames,
            "bidirectionalAcq": True,
            "channelsSave": _channels(spec),
            "fastZDiscardFlybackFrames": False,
            "fastZEnable": int(fast) if gen == "4.x" else fast,
            "fastZNumDiscardFrames": 0,
            "fastZNumVolumes": spec.num_frames if fast else 1,
            "fastZPeriod": nz * period if fast else [],
            names["lines"]: spec.height,
            "loggingFramesPerFile": math.inf,
            "motorPosition": [-33936.5, -106316, spec.zs[0]],
            names["pixels"]: spec.width,
            "scanFramePeriod": period,
            "stackNumSlices": nz,
            "stackZStepSize": step,
            names["zoom"]: spec.zoom,
        }
        if gen == "4.x":
            old["scanFrameRate"] = spec.frame_rate
        return {p + key: old[key] for key in sorted(old)}
    modern: dict[str, object] = {
        "VERSION_MAJOR": "2015" if gen == "2015" else "5.2",
        "VERSION_MINOR": "4" if gen == "2015" else "0",
        "acqState": "grab",
        "hChannels.channelSave": _channels(spec),
        "hFastZ.discardFlybackFrames": False,
        "hFastZ.enable": fast,
        "hFastZ.numDiscardFlybackFrames": 0,
        "hFastZ.numFramesPerVolume": nz if fast else 1,
        "hFastZ.numVolumes": spec.num_frames if fast else 1,
        "hRoiManager.linesPerFrame": spec.height,
        "hRoiManager.pixelsPerLine": spec.width,
        "hRoiManager.scanFramePeriod": period,
        "hRoiManager.scanFrameRate": spec.frame_rate,
        "hRoiManager.scanVolumeRate": spec.frame_rate / (nz if fast else 1),
        "hRoiManager.scanZoomFactor": spec.zoom,
        "hScan2D.bidirectional": True,
        "hScan2D.logAverageFactor": avg,
        "hStackManager.framesPerSlice": raw_frames,
        "hStackManager.numSlices": nz,
        "hStackManager.slicesPerAcq": nz,
        "hStackManager.stackZStepSize": step,
        "imagingSystem": "Resonant",
    }
    if spec.fov_um is not None:
        h, w = spec.fov_um
        modern["objectiveResolution"] = 15.0
        corners = [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]
        modern["hRoiManager.imagingFovUm"] = corners
    prefix = "SI." if spec.header_in == "software" else "scanimage.SI."
    return {prefix + key: modern[key] for key in sorted(modern)}


def _frame_lines(spec: LegacySpec, plane: int) -> list[str]:
    """The per-page lines of ScanImage frame ``plane`` (0-based, all pages of it share them)."""
    plane += spec.first_frame
    raw = (plane + 1) * spec.average_factor  # frame numbers count raw frames
    seconds = plane * spec.average_factor / spec.frame_rate
    gen = spec.generation
    if gen == "3.x":
        return []
    if gen == "4.x":
        return [f"Frame Number = {raw}", f"Frame Timestamp(s) = {seconds:.9f}"]
    if gen in ("5.0", "5.1"):
        return [
            f"Frame Number = {raw}",
            f"Frame Timestamp(s) = {seconds:.9f}",
            "Acq Trigger Timestamp(s) = -0.000083300",
            "Next File Marker Timestamp(s) = -1.000000000",
            "DC Overvoltage = 0",
        ]
    return [
        f"frameNumbers = {raw}",
        "acquisitionNumbers = 1",
        f"frameNumberAcquisition = {raw}",
        f"frameTimestamps_sec = {seconds:.9f}",
        "acqTriggerTimestamps_sec = ",
        "nextFileMarkerTimestamps_sec = ",
        "endOfAcquisition = 0",
        "endOfAcquisitionMode = 0",
        "dcOverVoltage = 0",
    ]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def write_legacy_scan(
    directory: str | os.PathLike[str],
    spec: LegacySpec = LegacySpec(),
    *,
    stem: str = "legacy",
    name: str | None = None,
) -> LegacyTruth:
    """Write one file of an older ScanImage generation and return its truth.

    The file is ``<stem>_00001.tif``, or ``name`` when given.

    Raises
    ------
    ValueError
        If the settings are inconsistent (e.g. fast-Z in ScanImage 3.x).
    """
    nz, nch = len(spec.zs), len(spec.channels)
    _require(spec.stack != "none" or nz == 1, "stack='none' takes one z")
    _require(spec.stack != "fast" or spec.generation != "3.x", "ScanImage 3.x has no fast-Z")
    _require(spec.stack != "fast" or spec.average_factor == 1, "no averaging with fast-Z")
    _require(min(spec.num_frames, spec.average_factor, nch, spec.volumes) >= 1, "counts >= 1")
    _require(spec.volumes == 1 or spec.stack == "slow", "volumes repeat a slow stack")
    rng = np.random.default_rng(spec.seed)
    info = np.iinfo(spec.dtype)
    frames = spec.num_frames * spec.volumes
    shape = (nz, frames, nch, spec.height, spec.width)
    data = rng.integers(int(info.min), int(info.max), shape, endpoint=True).astype(spec.dtype)
    if spec.stack == "slow":  # channel -> frame -> slice -> volume
        order = [
            (z, v * spec.num_frames + t)
            for v in range(spec.volumes)
            for z in range(nz)
            for t in range(spec.num_frames)
        ]
    else:  # channel -> plane -> frame/volume
        order = [(z, t) for t in range(spec.num_frames) for z in range(nz)]
    pages = np.stack([data[z, t, c] for z, t in order for c in range(nch)])
    header = _header(spec)
    software: str | bool = False
    separator = "\r" if spec.generation == "3.x" else "\n"
    text = [f"{key}={_mat(v)}" if spec.generation == "3.x" else f"{key} = {_mat(v)}"
            for key, v in header.items()]  # fmt: skip
    if spec.header_in == "software" and spec.generation in ("5.2", "2015"):
        software, text = "\n".join(text) + "\n", []
    path = Path(directory) / (name or f"{stem}_00001.tif")
    with tifffile.TiffWriter(path, bigtiff=spec.bigtiff) as tif:
        for plane in range(len(order)):
            description = separator.join(_frame_lines(spec, plane) + text) + separator
            for c in range(nch):
                tif.write(
                    pages[plane * nch + c],
                    description=description,
                    software=software,
                    metadata=None,
                    photometric="minisblack",
                    rowsperstrip=spec.rows_per_strip,
                )
    fast = spec.stack == "fast"
    if spec.fov_um is not None and spec.generation in ("5.2", "2015"):
        pixel = (spec.fov_um[0] / spec.height, spec.fov_um[1] / spec.width)
    else:
        pixel = (math.nan, math.nan)
    if spec.generation == "3.x":
        stamps = np.full(frames, math.nan)
    else:
        first_plane = [i for i, (z, _) in enumerate(order) if z == 0]
        planes = [spec.first_frame + p for p in first_plane]
        stamps = np.array([p * spec.average_factor / spec.frame_rate for p in planes])
    versions = {"3.x": "3.8", "4.x": "4.2", "5.0": "5.0", "5.1": "5.1", "5.2": "5.2"}
    return LegacyTruth(
        spec=spec,
        path=path,
        pages=pages,
        data=data,
        fps=spec.frame_rate / (nz if fast else spec.average_factor),
        pixel_size_um=pixel,
        timestamps=stamps,
        version=versions.get(spec.generation, "2015.4"),
    )


def resave_scan(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    keep_pages: int | None = None,
    channel_save: str | None = None,
    bigtiff: bool = True,
) -> Path:
    """Re-save a 2016+ ScanImage file the way other tools do: no static block.

    Every page keeps its description; the FrameData text goes to every page's
    Software tag and the RoiGroups JSON to its Artist tag.  ``keep_pages`` keeps
    only the first pages (a crop); ``channel_save`` rewrites the header's
    ``SI.hChannels.channelSave`` value (e.g. ``'1'`` while the pages hold two
    channels, as seen in real re-saved files).
    """
    target = Path(target)
    with tifffile.TiffFile(source) as src:
        first = src.pages.first
        software = first.software
        artist = first.tags.valueof(315, default="")
        if channel_save is not None:
            software = re.sub(
                r"(?m)^SI\.hChannels\.channelSave = .*$",
                f"SI.hChannels.channelSave = {channel_save}",
                software,
            )
        with tifffile.TiffWriter(target, bigtiff=bigtiff) as out:
            for number, page in enumerate(src.pages):
                if keep_pages is not None and number >= keep_pages:
                    break
                assert isinstance(page, tifffile.TiffPage)
                out.write(
                    page.asarray(),
                    description=page.description,
                    software=False,
                    metadata=None,
                    photometric="minisblack",
                    extratags=[(305, "s", 0, software, True), (315, "s", 0, artist, True)],
                )
    return target
