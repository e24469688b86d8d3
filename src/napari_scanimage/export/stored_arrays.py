"""A store's arrays opened through guarded reads, checked, and read lazily as frames.

Zarr reads a store's files itself; :class:`GuardedStore` makes every one of its
reads go through :func:`~napari_scanimage.export.store_files.checked_size`
first (a regular file inside the store, never a FIFO or a device) and bounds its
size, so a hostile chunk or shard cannot hang or exhaust memory either.
:func:`open_image_array` opens one image's array that way and checks what Zarr
parsed: a numeric type, and chunks (and shards) of whole frames of one channel,
as :mod:`~napari_scanimage.export.store` writes them, of bounded size.
:class:`Planes` presents the frames of one channel (of one or more depths) to
dask, which slices it like an array; its blocks follow the array's own chunks.
"""

from __future__ import annotations

import asyncio
import math
import os
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import LocalStore

from napari_scanimage.errors import StoreError
from napari_scanimage.export.store_files import (
    METADATA_BYTES,
    METADATA_NAMES,
    checked_size,
    read_json,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import dask.array as da
    from zarr.abc.store import ByteRequest
    from zarr.core.buffer import Buffer, BufferPrototype

__all__ = [
    "MAX_BLOCKS",
    "MAX_BLOCK_BYTES",
    "MAX_CHUNK_BYTES",
    "GuardedStore",
    "Planes",
    "open_image_array",
]

MAX_CHUNK_BYTES = 2**30
"""Largest chunk (or shard) read whole; ours hold a few frames (16 MB for 32 of 512 x 512)."""
MAX_BLOCKS = 50_000
"""Most blocks along time in a layer's dask array: dask's slicing cost grows with them."""
MAX_BLOCK_BYTES = 64 * 2**20
"""Largest block made of several chunks: napari turns dask's fusion off, so showing one
frame reads its whole block."""


class GuardedStore(LocalStore):
    """A read-only local Zarr store that checks each file before reading it.

    Every read is of a regular file inside the store, at most ``max_read`` bytes
    (metadata at most :data:`~napari_scanimage.export.store_files.METADATA_BYTES`).
    """

    def __init__(self, root: str, *, max_read: int = MAX_CHUNK_BYTES) -> None:
        super().__init__(root, read_only=True)
        self.max_read = max_read

    def with_read_only(self, read_only: bool = False) -> GuardedStore:
        """The same store: a guarded store never writes."""
        return type(self)(str(self.root), max_read=self.max_read)

    async def get(
        self,
        key: str,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        """The bytes of ``key`` (None if absent), after the checks."""
        if not self._is_open:
            await self._open()
        return await asyncio.to_thread(self._read, key, prototype, byte_range)

    def get_sync(
        self,
        key: str,
        *,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        """As :meth:`get`, in the calling thread."""
        self._ensure_open_sync()
        return self._read(key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        """Several reads."""
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    def _read(
        self, key: str, prototype: BufferPrototype | None, byte_range: ByteRequest | None
    ) -> Buffer | None:
        root = str(self.root)
        limit = METADATA_BYTES if key.rsplit("/", 1)[-1] in METADATA_NAMES else self.max_read
        size = checked_size(root, key, METADATA_BYTES if limit == METADATA_BYTES else 2**62)
        if size is None:
            return None
        start, stop = _span(byte_range, size)
        if stop - start > limit:
            raise StoreError(root, f"{key}: a read of {stop - start} bytes, over {limit}")
        try:
            with open(os.path.join(root, key), "rb") as handle:
                handle.seek(start)
                raw = handle.read(stop - start)
        except OSError as exc:
            raise StoreError(root, f"cannot read {key}: {exc.strerror or exc}") from exc
        return (prototype or default_buffer_prototype()).buffer.from_bytes(raw)


def _span(byte_range: ByteRequest | None, size: int) -> tuple[int, int]:
    """First and stop byte of a request, within the file."""
    if isinstance(byte_range, RangeByteRequest):
        start, stop = byte_range.start, byte_range.end
    elif isinstance(byte_range, OffsetByteRequest):
        start, stop = byte_range.offset, size
    elif isinstance(byte_range, SuffixByteRequest):
        start, stop = size - byte_range.suffix, size
    else:
        start, stop = 0, size
    start = min(max(start, 0), size)
    return start, min(max(stop, start), size)


def open_image_array(root: str, zarr_format: int, name: str, where: str) -> zarr.Array[Any]:
    """The array ``name`` of the store, opened through a :class:`GuardedStore` and checked."""
    metadata = ("zarr.json",) if zarr_format == 3 else (".zarray", ".zattrs")
    for file in metadata:
        read_json(root, f"{name}/{file}")  # sizes, links, nesting: before Zarr parses them
    array = _open(root, zarr_format, name, where, MAX_CHUNK_BYTES)
    dtype = np.dtype(array.dtype)
    if dtype.kind not in "iuf" or dtype.itemsize > 8:
        raise StoreError(root, f"{where}: its array holds {dtype}, not numbers")
    chunks = tuple(int(c) for c in array.chunks)
    shards = None if array.shards is None else tuple(int(s) for s in array.shards)
    shape = tuple(int(n) for n in array.shape)
    for grid in (chunks, shards):
        if grid is None:
            continue
        if len(grid) != len(shape) or min(grid) < 1:
            raise StoreError(root, f"{where}: its array's chunks {list(grid)} are not all >= 1")
        # as written: whole frames of one channel, so a frame is one read, not thousands
        if grid[1:-2] != (1,) * (len(shape) - 3) or grid[-2:] != shape[-2:]:
            msg = f"{where}: its array's chunks {list(grid)} do not hold whole frames {shape}"
            raise StoreError(root, msg)
        if math.prod(grid) * dtype.itemsize > MAX_CHUNK_BYTES * (1 if grid is chunks else 64):
            raise StoreError(root, f"{where}: its array's chunks {list(grid)} are too large")
    frame = math.prod(shape[1:]) * dtype.itemsize
    if frame > MAX_CHUNK_BYTES:  # one frame of every channel is read at least once
        raise StoreError(root, f"{where}: its frames of {list(shape[1:])} are too large")
    unit = math.prod(shards or chunks) * dtype.itemsize
    # again, reads now bounded by what one chunk (or shard) of this array can take
    bounded = _open(root, zarr_format, name, where, 2 * unit + 2**20)
    if (bounded.shape, bounded.chunks, bounded.shards) != (
        array.shape,
        array.chunks,
        array.shards,
    ):
        raise StoreError(root, f"{where}: its array changed while it was opened")
    return bounded


def _open(root: str, zarr_format: int, name: str, where: str, max_read: int) -> zarr.Array[Any]:
    try:
        array = zarr.open_array(
            store=GuardedStore(root, max_read=max_read),
            path=name,
            mode="r",
            zarr_format=zarr_format,  # type: ignore[arg-type]
        )
    except StoreError:
        raise
    except Exception as exc:  # Zarr's parser on hostile metadata: any error is the store's
        raise StoreError(root, f"{where}: its array cannot be opened ({_brief(exc)})") from exc
    return array


class Planes:
    """Frames of one channel over consecutive depths: an ``(t, [z,] y, x)`` array for dask.

    Indexing reads only what is asked for, from each depth's array; any failure
    of a read (a damaged chunk) is a :class:`StoreError` naming the store.
    """

    def __init__(self, store: str, arrays: Sequence[Any], position: int, *, has_z: bool):
        first = arrays[0]
        self.store = store
        self.arrays = list(arrays)
        self.position = position
        self.has_z = has_z
        frame = tuple(first.shape[-2:])
        self.shape: tuple[int, ...] = (
            (first.shape[0], len(arrays), *frame) if has_z else (first.shape[0], *frame)
        )
        self.dtype = np.dtype(first.dtype)
        self.ndim = len(self.shape)
        self.time_chunk = int(first.chunks[0])

    def __getitem__(self, key: Any) -> np.ndarray:
        """The frames at ``key``: an integer, a slice or a list of indices per axis."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > self.ndim:
            raise IndexError(f"{len(key)} indices into a {self.ndim}-d array")
        key = (*key, *(slice(None),) * (self.ndim - len(key)))
        parts = [_span_of(k, n) for k, n in zip(key, self.shape, strict=True)]
        picks = [pick for _, pick in parts]
        out = self._read([span for span, _ in parts])
        for axis in reversed(range(self.ndim)):  # last axis first: earlier axes keep their place
            pick = picks[axis]
            if isinstance(pick, int):
                out = out[(slice(None),) * axis + (pick,)]
            elif isinstance(pick, np.ndarray):
                out = np.take(out, pick, axis=axis)
        return out

    def _read(self, spans: Sequence[slice]) -> np.ndarray:
        t, *rest = spans
        try:
            if self.has_z:
                z, y, x = rest
                planes = [a[t, self.position, 0, y, x] for a in self.arrays[z]]
                if planes:
                    return np.stack(planes, axis=1)
                shape = [len(range(n)[s]) for s, n in zip(spans, self.shape, strict=True)]
                return np.empty(shape, self.dtype)
            y, x = rest
            return np.asarray(self.arrays[0][t, self.position, y, x])
        except StoreError:
            raise
        except Exception as exc:  # a damaged chunk, whatever Zarr's codecs make of it
            raise StoreError(self.store, f"cannot read its frames ({_brief(exc)})") from exc

    def to_dask(self) -> da.Array:
        """The lazy dask array: blocks of whole chunks along time, one plane each.

        A block is one chunk of frames; only a store declaring more frames than
        :data:`MAX_BLOCKS` chunks gets longer blocks, up to :data:`MAX_BLOCK_BYTES`,
        and one declaring more still is refused (more than a layer can show).
        """
        import dask.array as da  # noqa: PLC0415

        frames = self.shape[0]
        step = self.time_chunk
        if frames > step * MAX_BLOCKS:  # a huge declared length: fewer, longer blocks
            step *= math.ceil(frames / (step * MAX_BLOCKS))
            plane = math.prod(self.shape[-2:]) * self.dtype.itemsize
            if step * plane > max(MAX_BLOCK_BYTES, self.time_chunk * plane):
                msg = f"declares {frames} frames of {plane} bytes, more than a layer can show"
                raise StoreError(self.store, msg)
        blocks = (max(1, min(step, frames)), *((1,) if self.has_z else ()), *self.shape[-2:])
        # a new name per opening: a store replaced under the same path is read afresh
        name = f"napari-scanimage-store-{uuid.uuid4().hex}"
        array: da.Array = da.from_array(  # type: ignore[no-untyped-call]
            self,
            chunks=blocks,
            name=name,
            inline_array=True,
            asarray=True,
            fancy=True,  # dask then hands a frame's index to __getitem__: only it is read
            meta=np.empty((0,) * self.ndim, self.dtype),
        )
        return array


def _span_of(key: Any, length: int) -> tuple[slice, int | np.ndarray | None]:
    """The span to read along an axis, and what to pick from it afterwards.

    A slice is read as it is (None: keep all); an integer reads one index (then
    drops the axis); a list of indices (dask passes at most one) reads from the
    smallest to the largest and picks them out.
    """
    if isinstance(key, slice):
        span = range(length)[key]
        return slice(span.start, span.stop, span.step), None
    if isinstance(key, int | np.integer):
        index = range(length)[int(key)]  # IndexError when out of range, as numpy's
        return slice(index, index + 1), 0
    indices = np.asarray(key)
    if indices.dtype == bool and indices.shape == (length,):
        indices = np.flatnonzero(indices)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise IndexError(f"unsupported index {key!r}")
    indices = np.where(indices < 0, indices + length, indices)
    if indices.size and (indices.min() < 0 or indices.max() >= length):
        raise IndexError(f"index out of range 0..{length - 1}")
    low = int(indices.min()) if indices.size else 0
    high = int(indices.max()) + 1 if indices.size else 0
    return slice(low, high), indices - low


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"
