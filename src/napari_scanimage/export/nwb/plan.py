"""What an NWB export writes, decided before anything touches the disk.

One ``TwoPhotonSeries`` per exported field and channel, named so a user can pick
one for suite2p (``nwb_series``): ``TwoPhotonSeriesField2Ch1`` is field 2
(1-based, as users count fields everywhere) and ScanImage's channel 1.  Its data
``(frames, y, x)`` are chunked so that one frame is a few chunk reads (bands of
rows, a few frames deep) and written from buffers of whole frames, so memory
stays the same however long the recording.

No pynwb here: the batch counts progress totals without importing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.plan import _indices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = [
    "BAND_ROWS",
    "BUFFER_BYTES",
    "CHUNK_BYTES",
    "GENERATOR",
    "ChunkLayout",
    "NwbCompression",
    "NwbPlan",
    "SeriesPlan",
    "plane_name",
    "series_name",
]

NwbCompression = Literal["gzip"]

CHUNK_BYTES = 2 * 2**20
"""Target HDF5 chunk size: a viewer showing one frame (neurosift, remote h5py)
decodes a few chunks of this size, not a whole block of the recording."""
BAND_ROWS = 128
"""Most rows in one chunk: a 512-row frame is 4 bands, a 128-row one 1."""
GENERATOR = "napari-scanimage"
"""The name in a file's ``was_generated_by`` that marks files this exporter completed."""
BUFFER_BYTES = 64 * 2**20
"""Frames read and written at once: the write's memory, whatever the recording's length."""


def series_name(field: int, channel_number: int) -> str:
    """``TwoPhotonSeriesField2Ch1`` for field index 1 (0-based) and ScanImage channel 1.

    Examples
    --------
    >>> series_name(1, 1)
    'TwoPhotonSeriesField2Ch1'
    """
    return f"TwoPhotonSeriesField{field + 1}Ch{channel_number}"


def plane_name(field: int) -> str:
    """``ImagingPlaneField2`` for field index 1 (0-based)."""
    return f"ImagingPlaneField{field + 1}"


@dataclass(frozen=True)
class ChunkLayout:
    """HDF5 chunks and write buffers of one ``(frames, y, x)`` series."""

    shape: tuple[int, int, int]
    chunk: tuple[int, int, int]
    """``(frames, rows, width)``: a band of rows over a few frames."""
    buffer_frames: int
    """Frames per write buffer: a multiple of the chunk's frames, or all frames."""

    @classmethod
    def of(cls, num_frames: int, height: int, width: int, itemsize: int) -> ChunkLayout:
        """Chunks of about :data:`CHUNK_BYTES`, buffers of about :data:`BUFFER_BYTES`.

        Examples
        --------
        >>> ChunkLayout.of(1000, 512, 512, 2)
        ChunkLayout(shape=(1000, 512, 512), chunk=(16, 128, 512), buffer_frames=128)
        """
        bands = math.ceil(height / BAND_ROWS)
        rows = math.ceil(height / bands)
        frames = max(1, min(num_frames, CHUNK_BYTES // (rows * width * itemsize)))
        per_buffer = max(1, BUFFER_BYTES // (height * width * itemsize) // frames) * frames
        return cls((num_frames, height, width), (frames, rows, width), min(per_buffer, num_frames))

    @property
    def num_buffers(self) -> int:
        """Buffers the series is written in (the unit of progress)."""
        return math.ceil(self.shape[0] / self.buffer_frames)


@dataclass(frozen=True)
class SeriesPlan:
    """One field and channel, and the series it becomes."""

    field: Field
    channel: int
    """Index into the scan's saved channels (0-based)."""
    channel_number: int
    """ScanImage's channel number (1-based)."""
    name: str
    layout: ChunkLayout


@dataclass(frozen=True)
class NwbPlan:
    """The series of an export, their chunks, and the compression."""

    fields: tuple[Field, ...]
    channels: tuple[int, ...]
    series: tuple[SeriesPlan, ...]
    num_frames: int
    compression: NwbCompression | None
    compression_level: int

    @classmethod
    def of(
        cls,
        scan: Scan,
        *,
        fields: Sequence[int] | None = None,
        channels: Sequence[int] | None = None,
        compression: NwbCompression | None = "gzip",
        compression_level: int = 4,
    ) -> NwbPlan:
        """Check the options against the scan and lay out every series.

        ``num_frames`` is fixed here: frames a followed acquisition adds while
        the file is written are not half-included.
        """
        if compression not in ("gzip", None):
            raise ExportError(f"NWB compression must be 'gzip' or None, not {compression!r}")
        level_ok = isinstance(compression_level, int) and not isinstance(compression_level, bool)
        if not level_ok or not 0 <= compression_level <= 9:
            raise ExportError(f"compression_level must be 0-9, not {compression_level!r}")
        chosen_fields = tuple(scan.fields[i] for i in _indices(fields, scan.num_fields, "fields"))
        chosen_channels = _indices(channels, scan.num_channels, "channels")
        num_frames = scan.num_frames
        itemsize = scan.dtype.itemsize
        series = tuple(
            SeriesPlan(
                field=f,
                channel=c,
                channel_number=scan.channels[c],
                name=series_name(f.index, scan.channels[c]),
                layout=ChunkLayout.of(num_frames, f.height, f.width, itemsize),
            )
            for f in chosen_fields
            for c in chosen_channels
        )
        return cls(
            chosen_fields, chosen_channels, series, num_frames, compression, compression_level
        )

    @property
    def num_buffers(self) -> int:
        """Write buffers over all series: the total of the progress count."""
        return sum(s.layout.num_buffers for s in self.series)
