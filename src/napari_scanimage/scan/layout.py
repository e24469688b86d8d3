"""How pages map to (frame, depth, channel): read from the header's stack keys.

ScanImage writes channels fastest.  Plain time series and fast-Z volumes then
go plane by plane within a volume (flyback planes included, then discarded),
volume after volume; slow (motor) stacks go frame by frame within a slice,
slice after slice, and the whole stack may repeat (``hStackManager.numVolumes``,
2019+; older rigs too, which only the page count shows).  A field's frames are
then every volume's frames, volume-major.  Which keys describe the stack changed
in TIFF format 4 (2019) and moved again in 2023, so the keys *present* decide,
not the version number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import ScanImageFileError

if TYPE_CHECKING:
    from napari_scanimage.format.header import ScanImageHeader

__all__ = ["AcquisitionLayout"]


@dataclass(frozen=True, kw_only=True)
class AcquisitionLayout:
    """Page order of one acquisition."""

    channels: tuple[int, ...]
    """Saved channels, as ScanImage numbers them (1-based)."""
    depths: tuple[float, ...]
    """z of each scanning depth (µm, ScanImage's stage/fast-z coordinates)."""
    slow_stack: bool
    """True for motor stacks (frames within a slice are consecutive)."""
    planes_per_volume: int
    """Pages per channel in one volume, discarded flyback planes included; for slow
    stacks the number of slices."""
    frames_per_slice: int
    """Frames per slice of a slow stack (after averaging); 1 otherwise."""
    volumes: int | None = None
    """Volumes a slow stack says it repeats (``actualNumVolumes``/``numVolumes``);
    None where the header does not say.  The pages decide how many are read."""
    fps: float
    """Frames per second of one field: the volume rate for fast-Z."""
    average_factor: int
    """``logAverageFactor``: raw frames averaged into each page."""

    @classmethod
    def from_header(
        cls,
        header: ScanImageHeader,
        num_pages: int | None = None,
        *,
        channels: tuple[int, ...] | None = None,
        frames_per_slice: int | None = None,
    ) -> AcquisitionLayout:
        """Work out the page order from FrameData.

        ``num_pages`` (the pages the files hold) bounds the depths listed, so a
        damaged plane count cannot make us build a list of a trillion depths.
        ``channels`` and ``frames_per_slice``, where given, replace the header's
        values (what the pages showed, see ``scan.reconcile``).
        """
        with header.interpreting("ScanImage header's channel and stack settings"):
            get = header.get
            if channels is None:
                channels = tuple(int(c) for c in _as_list(get("SI.hChannels.channelSave", 1)))
            if not channels:
                raise ScanImageFileError(header.path, "SI.hChannels.channelSave is empty")
            average = max(1, _as_int(get("SI.hScan2D.logAverageFactor", 1)))
            frame_rate = header.number("SI.hRoiManager.scanFrameRate")
            fast, slow, planes, flyback, per_slice, volumes = _stack_keys(header, average)
            per_slice = per_slice if frames_per_slice is None else frames_per_slice
            most = planes if num_pages is None else max(1, num_pages // len(channels))
            depths = _depths(header, planes, min(planes, most))
            if fast:
                volume_rate = header.number("SI.hRoiManager.scanVolumeRate")
                fps = (
                    volume_rate
                    if math.isfinite(volume_rate) and planes > 1
                    else frame_rate / (planes + flyback)
                )
            else:
                fps = frame_rate / average
            return cls(
                channels=channels,
                depths=depths,
                slow_stack=slow,
                planes_per_volume=planes + flyback if fast else 1 if not slow else planes,
                frames_per_slice=per_slice if slow else 1,
                volumes=volumes if slow else None,
                fps=fps,
                average_factor=average,
            )

    @property
    def num_channels(self) -> int:
        """Number of saved channels."""
        return len(self.channels)

    def pages(self, frames: np.ndarray, depth: int, channels: np.ndarray) -> np.ndarray:
        """Global page numbers, shape ``(len(frames), len(channels))``."""
        frames = np.asarray(frames, dtype=np.int64)[:, None]
        chans = np.asarray(channels, dtype=np.int64)[None, :]
        if self.slow_stack:
            volume, frame = np.divmod(frames, self.frames_per_slice)
            slices = self.planes_per_volume
            plane = (volume * slices + depth) * self.frames_per_slice + frame
        else:
            plane = frames * self.planes_per_volume + depth
        return plane * self.num_channels + chans

    def count_frames(self, num_pages: int) -> tuple[int, int, int]:
        """``(frames, depths, dropped pages)`` that ``num_pages`` pages hold completely.

        Slow stacks keep every complete volume; a first volume cut short keeps
        its complete slices (fewer depths), as ScanImage's own reader does.
        """
        channels = self.num_channels
        if self.slow_stack:
            per_slice = self.frames_per_slice * channels
            per_volume = self.planes_per_volume * per_slice
            volumes = num_pages // per_volume
            if volumes:
                frames = volumes * self.frames_per_slice
                return frames, len(self.depths), num_pages - volumes * per_volume
            slices = min(len(self.depths), num_pages // per_slice)
            return self.frames_per_slice, slices, num_pages - slices * per_slice
        per_volume = self.planes_per_volume * channels
        frames = num_pages // per_volume
        return frames, len(self.depths), num_pages - frames * per_volume

    def describe_cut(self, num_pages: int) -> str:
        """What an acquisition of ``num_pages`` pages left incomplete (1-based, as ScanImage).

        Examples
        --------
        >>> slow = AcquisitionLayout(channels=(1, 4), depths=(0.0, 5.0), slow_stack=True,
        ...     planes_per_volume=2, frames_per_slice=2, fps=58.2, average_factor=1)
        >>> slow.describe_cut(6)
        'an incomplete slice: volume 1, slice 2 of 2, has 1 of 2 frames'
        >>> slow.describe_cut(17).split(": ")[1]
        'volume 3, slice 1 of 2, has 0 of 2 frames, and 1 of 2 channels of frame 1'
        """
        channels = self.num_channels
        plane, channel = divmod(num_pages, channels)

        def part(unit: str, number: int) -> str:
            return f", and {channel} of {channels} channels of {unit} {number}" if channel else ""

        if self.slow_stack:
            volume, rest = divmod(plane, self.planes_per_volume * self.frames_per_slice)
            slice_, frame = divmod(rest, self.frames_per_slice)
            unit = "volume" if volume else "slice"
            return (
                f"an incomplete {unit}: volume {volume + 1}, slice {slice_ + 1} of "
                f"{self.planes_per_volume}, has {frame} of {self.frames_per_slice} frames"
                + part("frame", frame + 1)
            )
        if self.planes_per_volume > 1:
            volume, inside = divmod(plane, self.planes_per_volume)
            return (
                f"an incomplete volume: volume {volume + 1} has {inside} of "
                f"{self.planes_per_volume} planes" + part("plane", inside + 1)
            )
        return f"an incomplete frame: frame {plane + 1} has {channel} of {channels} channels"


def _stack_keys(
    header: ScanImageHeader, average: int
) -> tuple[bool, bool, int, int, int, int | None]:
    """``(fast, slow, image planes, flyback planes, frames per slice, slow-stack volumes)``."""
    get = header.get
    flyback = 0
    if header.flag("SI.hFastZ.discardFlybackFrames"):
        flyback = max(0, _as_int(get("SI.hFastZ.numDiscardFlybackFrames", 0)))
    per_slice_raw = get("SI.hStackManager.framesPerSlice", 1)
    per_slice = max(1, _as_int(per_slice_raw) // average) if _finite(per_slice_raw) else 1
    volumes = _slow_volumes(header)
    if header.has("SI.hStackManager.actualNumSlices") or header.has("SI.hStackManager.enable"):
        # TIFF format 4 (2019+) StackManager.
        enabled = header.flag("SI.hStackManager.enable")
        mode = str(get("SI.hStackManager.stackMode", "slow")).lower()
        if enabled and mode == "fast":
            planes = _as_int(get("SI.hStackManager.numFramesPerVolume", 1))
            total = get("SI.hStackManager.numFramesPerVolumeWithFlyback", None)
            flyback = _as_int(total) - planes if total is not None else flyback
            return True, False, max(1, planes), max(0, flyback), 1, None
        # A disabled stack keeps its (stale) numSlices: one plane, not a stack.
        slices = _as_int(get("SI.hStackManager.actualNumSlices", 1)) if enabled else 1
        if slices > 1:
            return False, True, slices, 0, per_slice, volumes
        return False, False, 1, 0, 1, None
    # TIFF format 3 (2016-2018): hFastZ carries fast stacks.
    slices = _as_int(get("SI.hStackManager.numSlices", get("SI.hStackManager.slicesPerAcq", 1)))
    if header.flag("SI.hFastZ.enable") and slices >= 1:
        return True, False, max(1, slices), flyback, 1, None
    if slices > 1:
        return False, True, slices, 0, per_slice, volumes
    return False, False, 1, 0, 1, None


def _slow_volumes(header: ScanImageHeader) -> int | None:
    """How often a slow stack repeats, where the header says (2019+); else None."""
    for key in ("SI.hStackManager.actualNumVolumes", "SI.hStackManager.numVolumes"):
        value = header.get(key, None)
        if _finite(value) and value >= 1:
            return int(value)
    return None


def _depths(header: ScanImageHeader, planes: int, limit: int) -> tuple[float, ...]:
    """Z of the first ``limit`` of ``planes`` planes from ``hStackManager.zs``.

    ``zs`` is de-replicated against the header's plane count (2020+ repeats each
    slow-stack z once per frame of its slice) before it is cut to ``limit``, the
    planes the pages can hold, so a stack cut short keeps each slice's own z.
    """
    zs = [float(z) for z in _as_list(header.get("SI.hStackManager.zs", [])) if _finite(z)]
    if len(zs) == planes:
        return tuple(zs[:limit])
    if zs and len(zs) % planes == 0:
        return tuple(zs[:: len(zs) // planes][:limit])
    start = zs[0] if zs else 0.0
    step = header.get("SI.hStackManager.stackZStepSize", 1.0)
    step = float(step) if _finite(step) else 1.0
    return tuple(start + step * i for i in range(limit))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(_as_list(item))
        return flat
    return [] if value is None or value == "" else [value]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _as_int(value: Any) -> int:
    if isinstance(value, list):
        value = value[0] if value else 0
    try:
        return int(value) if _finite(value) or isinstance(value, bool) else 0
    except (TypeError, ValueError):
        return 0
