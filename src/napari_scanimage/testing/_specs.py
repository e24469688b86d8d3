"""What a synthetic scan is made of (the knobs) and what a reader must return (the truth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pathlib import Path

    import numpy.typing as npt


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
