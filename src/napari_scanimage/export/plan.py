"""What a conversion writes, decided before anything touches the disk.

An :class:`ExportPlan` names one image per exported field (``"0"``, ``"1"``, ...
in export order), the shape and chunking of its array ``(t, c, [z,] y, x)``, the
list of chunks to write, and the *settings*: everything that changes the bytes
written.  A store is resumed only when its recorded settings equal these.
"""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.recipe import ScanRecipe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = ["FORMAT", "Compression", "ExportPlan", "ImagePlan", "codec_config"]

FORMAT = "OME-NGFF 0.4, Zarr format 2"
"""Recorded in the settings, so a future format is never resumed into an old store."""

Compression = Literal["zstd", "blosc"]

_CODECS: dict[str, dict[str, Any]] = {
    # Level 3 / byte shuffle: most of the size saving on noisy int16 frames at a
    # fraction of the CPU time of higher levels; shuffle helps Blosc's zstd
    # because neighbouring pixels share their high bytes.
    "zstd": {"id": "zstd", "level": 3},
    "blosc": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0},
}


def codec_config(compression: str | None) -> dict[str, Any] | None:
    """The numcodecs configuration of a compression name (None: uncompressed)."""
    if compression is None:
        return None
    if compression not in _CODECS:
        msg = f"compression must be None, 'zstd' or 'blosc', not {compression!r}"
        raise ExportError(msg)
    return dict(_CODECS[compression])


@dataclass(frozen=True)
class ImagePlan:
    """One field as one OME-Zarr image group."""

    path: str
    """Group name in the store: the field's position in the export."""
    field: Field
    shape: tuple[int, ...]
    chunks: tuple[int, ...]


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

    @classmethod
    def of(
        cls,
        scan: Scan,
        *,
        chunk_frames: int,
        compression: Compression | None,
        channels: Sequence[int] | None,
        fields: Sequence[int] | None,
    ) -> ExportPlan:
        """Check the options against the scan and plan the arrays."""
        if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int) or chunk_frames < 1:
            raise ExportError(f"chunk_frames must be a positive integer, not {chunk_frames!r}")
        codec_config(compression)
        chosen_channels = _indices(channels, scan.num_channels, "channels")
        chosen_fields = _indices(fields, scan.num_fields, "fields")
        has_z = scan.num_scanning_depths > 1
        images = []
        for position, index in enumerate(chosen_fields):
            f = scan.fields[index]
            z = (1,) if has_z else ()
            images.append(
                ImagePlan(
                    path=str(position),
                    field=f,
                    shape=(scan.num_frames, len(chosen_channels), *z, f.height, f.width),
                    chunks=(min(chunk_frames, scan.num_frames), 1, *z, f.height, f.width),
                )
            )
        return cls(
            recipe=ScanRecipe.of(scan),
            images=tuple(images),
            channels=chosen_channels,
            chunk_frames=chunk_frames,
            compression=compression,
            has_z=has_z,
        )

    @property
    def num_frames(self) -> int:
        """Frames of every field."""
        return self.recipe.num_frames

    @property
    def num_blocks(self) -> int:
        """Chunks along time per channel of each image."""
        return math.ceil(self.num_frames / self.chunk_frames)

    @property
    def num_chunks(self) -> int:
        """Chunks of the whole conversion."""
        return len(self.images) * len(self.channels) * self.num_blocks

    def frames(self, block: int) -> tuple[int, int]:
        """First and stop frame of a time block."""
        start = block * self.chunk_frames
        return start, min(start + self.chunk_frames, self.num_frames)

    def settings(self) -> dict[str, Any]:
        """Everything that changes the bytes written, as JSON values."""
        recipe = self.recipe
        return {
            "format": FORMAT,
            "files": [{"path": f, "bytes": os.path.getsize(f)} for f in recipe.files],
            "dtype": recipe.dtype,
            "join_contiguous": recipe.join_contiguous,
            "trim": list(recipe.trim),
            "scan_phase": None
            if recipe.scan_phase is None
            else [list(p) for p in recipe.scan_phase],
            "num_frames": recipe.num_frames,
            "fields": [image.field.index for image in self.images],
            "channels": list(self.channels),
            "chunk_frames": self.chunk_frames,
            "compression": self.compression,
        }


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
