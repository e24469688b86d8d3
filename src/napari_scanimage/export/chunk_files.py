"""Writing a task's chunk, or whole shard, straight to its file, laid out as zarr would.

zarr-python's write path (an asyncio pipeline, a codec call and a thread hop per
chunk, 256 per shard) took 1.1-2.7x the time of the bytes' own ``cp`` on a 1 GB
field; encoding with the same numcodecs codecs and writing each file in one go,
0.75-1.6x (``benchmarks/bench_export.py --zarr``).  This covers only the layouts this
package creates on a local disk: Zarr v2 arrays with no filters and no compressor,
Zstd or Blosc; Zarr v3 arrays of one ``sharding_indexed`` codec over ``bytes``
(little-endian) and optionally ``zstd``, indexed at the end by ``bytes`` + ``crc32c``.
Anything else returns None from :meth:`ChunkFiles.of` and goes through zarr.
Keys come from zarr's own chunk-key encoding, and tests check the files are
byte-identical to zarr's; zarr writes the metadata and reads everything back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import google_crc32c
import numcodecs  # type: ignore[import-untyped]
import numpy as np

from napari_scanimage.export.errors import ExportError

if TYPE_CHECKING:
    import zarr

__all__ = ["ChunkFiles"]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_EMPTY = np.uint64(2**64 - 1)
"""Shard index entry of an inner chunk that was never written (offset and length)."""


@dataclass(frozen=True)
class ChunkFiles:
    """Where and how one array's chunks (or shards) are written as files."""

    folder: Path
    metadata: Any
    """The array's zarr metadata: its key encoding names each file."""
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    """Chunk shape (v2) or inner chunk shape of the shards (v3)."""
    shards: tuple[int, ...] | None
    dtype: np.dtype[Any]
    codec: Any
    """numcodecs compressor of each (inner) chunk, or None for raw bytes."""

    @classmethod
    def of(cls, array: zarr.Array[Any]) -> ChunkFiles | None:
        """The writer for ``array``, or None where only zarr knows how to write it."""
        root = getattr(array.store, "root", None)
        meta = array.metadata
        dtype = np.dtype(array.dtype)
        if root is None or dtype.byteorder == ">" or dtype.kind not in "iuf":
            return None
        folder = Path(root) / array.path if array.path else Path(root)
        # one channel per chunk, whole frames (and z) in it: the tasks' shape
        block = tuple(array.shards or array.chunks)
        if block[1] != 1 or block[2:] != tuple(array.shape[2:]):
            return None
        if meta.zarr_format == 2:
            if meta.filters or meta.order != "C" or not _known(meta.compressor):
                return None
            return cls(folder, meta, array.shape, array.chunks, None, dtype, meta.compressor)
        found = _shard_layout(meta.codecs)
        if found is None:
            return None
        inner, codec = found
        if inner[1:] != block[1:] or block[0] % inner[0]:
            return None
        return cls(folder, meta, array.shape, inner, block, dtype, codec)

    def write(self, start: int, position: int, data: np.ndarray) -> None:
        """Store ``data`` (frames from ``start`` on the ``c`` position ``position``).

        ``data`` must cover one whole chunk (v2) or shard (v3) along ``t``, or what
        of it lies inside the array; all other axes whole.
        """
        data = np.ascontiguousarray(data, dtype=self.dtype)
        block = self.chunks[0] if self.shards is None else self.shards[0]
        coords = (start // block, position) + (0,) * (len(self.shape) - 2)
        path = self.folder / self.metadata.encode_chunk_key(coords)
        if self.shards is None:
            pieces = [self._encode(self._padded(data, self.chunks[0]))]
        else:
            pieces = self._shard(data, self.shards[0] // self.chunks[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # never through a link planted in the store: it could point anywhere
            fd = os.open(path, _CREATE, 0o666)
        except OSError as exc:
            kind = "a symbolic link" if path.is_symlink() else exc.strerror
            raise ExportError(f"cannot write {path}: {kind}") from exc
        with open(fd, "wb", buffering=0) as fh:
            for piece in pieces:
                view = memoryview(piece).cast("B")
                while view:  # a write may be short (signals, some file systems)
                    view = view[fh.write(view) :]

    def _shard(self, data: np.ndarray, count: int) -> list[Any]:
        """The ``count`` inner chunks encoded in order, then the index and its CRC-32C."""
        step = self.chunks[0]
        index = np.full((count, 2), _EMPTY, dtype="<u8")
        pieces: list[Any] = []
        offset = 0
        for i in range(count):
            part = data[i * step : (i + 1) * step]
            if not len(part):
                break  # past the array's end: never written, as zarr leaves it
            encoded = self._encode(self._padded(part, step))
            size = memoryview(encoded).nbytes
            index[i] = (offset, size)
            pieces.append(encoded)
            offset += size
        raw = index.tobytes()
        pieces.append(raw)
        pieces.append(np.array([google_crc32c.value(raw)], dtype="<u4").tobytes())
        return pieces

    def _padded(self, data: np.ndarray, frames: int) -> np.ndarray:
        """An edge chunk filled out to its whole shape with the fill value (0), as zarr does."""
        if len(data) == frames:
            return data
        whole = np.zeros((frames, *data.shape[1:]), dtype=self.dtype)
        whole[: len(data)] = data
        return whole

    def _encode(self, chunk: np.ndarray) -> Any:
        return chunk if self.codec is None else self.codec.encode(chunk)


def _known(codec: Any) -> bool:
    return codec is None or isinstance(codec, numcodecs.Zstd | numcodecs.Blosc)


def _shard_layout(codecs: Any) -> tuple[tuple[int, ...], Any] | None:
    """``(inner chunk shape, numcodecs compressor)`` of the one shard layout written here."""
    from zarr.codecs import (  # noqa: PLC0415 - zarr is loaded by the caller already
        BytesCodec,
        Crc32cCodec,
        ShardingCodec,
        ZstdCodec,
    )
    from zarr.codecs.sharding import ShardingCodecIndexLocation  # noqa: PLC0415

    if len(codecs) != 1 or not isinstance(codecs[0], ShardingCodec):
        return None
    sharding = codecs[0]
    little = ("little", None)
    index = sharding.index_codecs
    if (
        sharding.index_location != ShardingCodecIndexLocation.end
        or len(index) != 2
        or not isinstance(index[0], BytesCodec)
        or getattr(index[0].endian, "value", index[0].endian) not in little
        or not isinstance(index[1], Crc32cCodec)
    ):
        return None
    inner = sharding.codecs
    if not inner or not isinstance(inner[0], BytesCodec):
        return None
    if getattr(inner[0].endian, "value", inner[0].endian) not in little:
        return None
    if len(inner) == 1:
        return tuple(sharding.chunk_shape), None
    if len(inner) == 2 and isinstance(inner[1], ZstdCodec):
        zstd = numcodecs.Zstd(level=inner[1].level, checksum=inner[1].checksum)
        return tuple(sharding.chunk_shape), zstd
    return None
