"""What a conversion writes, decided before anything touches the disk.

An :class:`ExportPlan` names one image per exported field (``"0"``, ``"1"``, ...
in export order), the shape and chunking of its array ``(t, c, [z,] y, x)``, the
*blocks* of frames that one task writes, and the *settings*: everything that
changes the bytes written.  A store is resumed only when its recorded settings
equal these.

NGFF 0.4 (Zarr format 2) stores one file per chunk, and a block is a chunk.
NGFF 0.5 (Zarr format 3) stores *shards*: one file holds many one-frame chunks,
so a 100,000-frame field is a few hundred files.  A shard is written whole, by
one task, so a block is a shard there: parallel workers never share a file.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.recipe import ScanRecipe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = [
    "FORMATS",
    "NGFF_VERSIONS",
    "SHARD_BYTES",
    "Compression",
    "ExportPlan",
    "ImagePlan",
    "NgffVersion",
    "codec_config",
    "shard_frames_for",
]

Compression = Literal["zstd", "blosc"]
NgffVersion = Literal["0.4", "0.5"]
NGFF_VERSIONS: tuple[NgffVersion, ...] = ("0.4", "0.5")
FORMATS = {"0.4": "OME-NGFF 0.4, Zarr format 2", "0.5": "OME-NGFF 0.5, Zarr format 3"}
"""Recorded in the settings, so one format is never resumed into a store of another."""

SHARD_BYTES = 128 * 2**20
"""Target shard size: 256 frames of 512x512 int16, so 100,000 frames make 391 files
per channel, while a task holds one shard (~128 MB, plus its encoded copy) in memory."""
SHARD_FRAMES_RANGE = (256, 1024)

_CODECS: dict[str, dict[str, Any]] = {
    # Level 3 / byte shuffle: most of the size saving on noisy int16 frames at a
    # fraction of the CPU time of higher levels; shuffle helps Blosc's zstd
    # because neighbouring pixels share their high bytes.
    "zstd": {"id": "zstd", "level": 3},
    "blosc": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0},
}


_CODECS_V3: dict[str, dict[str, Any]] = {
    "zstd": {"name": "zstd", "configuration": {"level": 3, "checksum": False}},
    "blosc": {
        "name": "blosc",
        "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle", "blocksize": 0},
    },
}


def codec_config(compression: str | None, zarr_format: int = 2) -> dict[str, Any] | None:
    """The codec configuration of a compression name (None: uncompressed).

    Zarr format 2 takes numcodecs' form, format 3 the specification's
    ``{"name", "configuration"}``.
    """
    if compression is None:
        return None
    if compression not in _CODECS:
        msg = f"compression must be None, 'zstd' or 'blosc', not {compression!r}"
        raise ExportError(msg)
    return dict((_CODECS if zarr_format == 2 else _CODECS_V3)[compression])


def shard_frames_for(frame_bytes: int, chunk_frames: int) -> int:
    """Frames per shard: about :data:`SHARD_BYTES`, a multiple of ``chunk_frames``.

    Examples
    --------
    >>> shard_frames_for(512 * 512 * 2, 1), shard_frames_for(64 * 64 * 2, 1)
    (256, 1024)
    >>> shard_frames_for(2048 * 2048 * 2, 1), shard_frames_for(256 * 256 * 2, 100)
    (256, 1000)
    """
    low, high = SHARD_FRAMES_RANGE
    frames = min(max(SHARD_BYTES // max(frame_bytes, 1), low), high)
    return max(chunk_frames, frames // chunk_frames * chunk_frames)


@dataclass(frozen=True)
class ImagePlan:
    """One field as one OME-Zarr image group."""

    path: str
    """Group name in the store: the field's position in the export."""
    field: Field
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    """Zarr chunks (inner chunks of the shards, in NGFF 0.5)."""
    shards: tuple[int, ...] | None
    """Zarr shards (NGFF 0.5), or None."""


@dataclass(frozen=True)
class ExportPlan:
    """The images, chunks and settings of one conversion."""

    recipe: ScanRecipe
    images: tuple[ImagePlan, ...]
    channels: tuple[int, ...]
    """Scan channel indices (0-based), in the order of the ``c`` axis."""
    chunk_frames: int
    compression: Compression | None
    has_z: bool
    """Whether arrays carry a (length-1) z axis: the scan has several depths."""
    ngff: NgffVersion = "0.4"
    shard_frames: int | None = None
    """Frames per shard (NGFF 0.5), None without shards."""

    @classmethod
    def of(
        cls,
        scan: Scan,
        *,
        chunk_frames: int,
        compression: Compression | None,
        channels: Sequence[int] | None,
        fields: Sequence[int] | None,
        ngff: NgffVersion = "0.4",
        shard_frames: int | None = None,
    ) -> ExportPlan:
        """Check the options against the scan and plan the arrays."""
        if ngff not in NGFF_VERSIONS:
            raise ExportError(f"ngff must be '0.4' or '0.5', not {ngff!r}")
        _check_count("chunk_frames", chunk_frames)
        codec_config(compression)
        if ngff == "0.4" and shard_frames is not None:
            raise ExportError("shard_frames needs ngff='0.5' (Zarr format 2 has no shards)")
        if ngff == "0.5":
            if shard_frames is None:
                frame_bytes = max(f.height * f.width for f in scan.fields) * scan.dtype.itemsize
                shard_frames = shard_frames_for(frame_bytes, chunk_frames)
            _check_count("shard_frames", shard_frames)
            if shard_frames % chunk_frames:
                msg = (
                    f"shard_frames ({shard_frames}) must be a multiple "
                    f"of chunk_frames ({chunk_frames})"
                )
                raise ExportError(msg)
            # no shard longer than the recording (rounded up to whole chunks)
            whole = -(-scan.num_frames // chunk_frames) * chunk_frames
            shard_frames = min(shard_frames, max(whole, chunk_frames))
        chosen_channels = _indices(channels, scan.num_channels, "channels")
        chosen_fields = _indices(fields, scan.num_fields, "fields")
        has_z = scan.num_scanning_depths > 1
        images = []
        for position, index in enumerate(chosen_fields):
            f = scan.fields[index]
            z = (1,) if has_z else ()
            frame = (1, *z, f.height, f.width)
            if shard_frames is None:
                chunks, shards = (min(chunk_frames, scan.num_frames), *frame), None
            else:
                chunks, shards = (chunk_frames, *frame), (shard_frames, *frame)
            images.append(
                ImagePlan(
                    path=str(position),
                    field=f,
                    shape=(scan.num_frames, len(chosen_channels), *z, f.height, f.width),
                    chunks=chunks,
                    shards=shards,
                )
            )
        return cls(
            recipe=ScanRecipe.of(scan),
            images=tuple(images),
            channels=chosen_channels,
            chunk_frames=chunk_frames,
            compression=compression,
            has_z=has_z,
            ngff=ngff,
            shard_frames=shard_frames,
        )

    @property
    def zarr_format(self) -> int:
        """2 for NGFF 0.4, 3 for NGFF 0.5."""
        return 2 if self.ngff == "0.4" else 3

    @property
    def block_frames(self) -> int:
        """Frames one task writes: a chunk (NGFF 0.4) or a shard (NGFF 0.5)."""
        return self.chunk_frames if self.shard_frames is None else self.shard_frames

    @property
    def num_frames(self) -> int:
        """Frames of every field."""
        return self.recipe.num_frames

    @property
    def num_blocks(self) -> int:
        """Blocks (tasks) along time per channel of each image."""
        return math.ceil(self.num_frames / self.block_frames)

    @property
    def num_chunks(self) -> int:
        """Blocks (tasks) of the whole conversion: chunks in NGFF 0.4, shards in 0.5."""
        return len(self.images) * len(self.channels) * self.num_blocks

    def frames(self, block: int) -> tuple[int, int]:
        """First and stop frame of a time block."""
        start = block * self.block_frames
        return start, min(start + self.block_frames, self.num_frames)

    def settings(self) -> dict[str, Any]:
        """Everything that changes the bytes written, as JSON values."""
        recipe = self.recipe
        settings = {
            "format": FORMATS[self.ngff],
            "files": recipe.file_records(),
            **recipe.read_settings(),
            "num_frames": recipe.num_frames,
            "fields": [image.field.index for image in self.images],
            "channels": list(self.channels),
            "chunk_frames": self.chunk_frames,
            "compression": self.compression,
        }
        if self.shard_frames is not None:  # 0.4 settings stay as they were: old stores resume
            settings["shard_frames"] = self.shard_frames
        return settings


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExportError(f"{name} must be a positive integer, not {value!r}")


def _indices(chosen: Sequence[int] | None, count: int, what: str) -> tuple[int, ...]:
    if chosen is None:
        return tuple(range(count))
    values = []
    for value in chosen:
        try:
            index = operator.index(value)
        except TypeError:
            index = -1
        if isinstance(value, bool) or not 0 <= index < count:
            raise ExportError(f"{what}: {value!r} is not an index below {count}")
        values.append(index)
    if not values:
        raise ExportError(f"{what}: choose at least one")
    if len(set(values)) != len(values):
        raise ExportError(f"{what}: {values} repeats an index")
    return tuple(values)
