"""Dask arrays over a scan: one chunk per run of frames, read on compute.

napari and export code use these; each chunk calls :meth:`Scan.read_field` for
its own frames only, so showing frame 5000 reads frame 5000.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import dask.array as da
import numpy as np

from napari_scanimage.scan.indexing import split_key
from napari_scanimage.scan.mosaic import Mosaic

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["FieldArray", "MosaicArray", "field_to_dask", "mosaic_to_dask"]


class FieldArray:
    """A numpy-like ``(frames, y, x)`` view of one field and channel.

    Implements just enough of the array protocol (``shape``, ``dtype``,
    ``ndim``, ``__getitem__``) for ``dask.array.from_array`` and napari.
    """

    def __init__(self, scan: Scan, field: int, channel: int) -> None:
        self.scan = scan
        self.field = scan.fields[field]
        self.channel = channel
        self.shape = (scan.num_frames, self.field.height, self.field.width)
        self.dtype = scan.dtype
        self.ndim = 3

    def __getitem__(self, key: object) -> np.ndarray:
        """Read ``[frames, y, x]``; any numpy key on those axes works."""
        tkey, ykey, xkey = split_key(key, 3)
        return self.scan[self.field.index, ykey, xkey, self.channel, tkey].transpose(
            *_frames_first(tkey, ykey, xkey)
        )

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        """The whole field (avoid on large scans)."""
        return self[:]


def _frames_first(tkey: object, ykey: object, xkey: object) -> tuple[int, ...]:
    """Axis order turning the scan's ``(y, x, frames)`` result into ``(frames, y, x)``."""
    kept = [not isinstance(k, int | np.integer) for k in (ykey, xkey, tkey)]
    n = sum(kept)
    if not kept[2]:
        return tuple(range(n))
    return (n - 1, *range(n - 1))


def field_to_dask(
    scan: Scan, field: int, channel: int = 0, frames_per_chunk: int = 32
) -> da.Array:
    """Dask array ``(frames, y, x)`` of one field and channel, chunked along frames."""
    array = FieldArray(scan, field, channel)
    chunks = (max(1, frames_per_chunk), array.shape[1], array.shape[2])
    # A fresh name per call: a scan re-opened with other trims must never hit
    # chunks cached under an older array's name.
    name = f"scanimage-f{array.field.index}-c{channel}-{uuid.uuid4().hex}"
    dask_array: da.Array = da.from_array(  # type: ignore[no-untyped-call]
        array,
        chunks=chunks,
        name=name,
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0, 0, 0), dtype=scan.dtype),
    )
    return dask_array


class MosaicArray:
    """A numpy-like ``(frames, [z,] y, x)`` stitched view of one channel.

    Has a z axis when the scan has several depths.  Each read assembles the
    requested frames from their fields; nothing is cached.
    """

    def __init__(self, scan: Scan, channel: int, mosaic: Mosaic | None = None) -> None:
        self.scan = scan
        self.channel = channel
        self.mosaic = mosaic or Mosaic.of(scan)
        depth_axis = (len(self.mosaic.depths),) if scan.num_scanning_depths > 1 else ()
        self.shape = (scan.num_frames, *depth_axis, *self.mosaic.shape)
        self.dtype = scan.dtype
        self.ndim = len(self.shape)

    def __getitem__(self, key: object) -> np.ndarray:
        """Read a block; frames, depths, rows and columns each take an int or a slice."""
        parts = key if isinstance(key, tuple) else (key,)
        parts = parts + (slice(None),) * (self.ndim - len(parts))
        frames = np.arange(self.shape[0])[parts[0]]
        depth_key = parts[1] if self.ndim == 4 else slice(None)
        depths = np.array(self.mosaic.depths)[depth_key]
        canvas = np.zeros((np.size(frames), np.size(depths), *self.mosaic.shape), dtype=self.dtype)
        for zi, depth in enumerate(np.atleast_1d(depths)):
            images = {
                place.field: self.scan.read_field(
                    place.field, channels=[self.channel], frames=np.atleast_1d(frames)
                )[:, 0]
                for place in self.mosaic.placements.get(int(depth), [])
            }
            self.mosaic.paste(int(depth), images, canvas[:, zi])
        result = canvas[:, :, parts[-2], parts[-1]]
        if np.ndim(depths) == 0 or self.ndim == 3:
            result = result[:, 0]
        if np.ndim(frames) == 0:
            result = result[0]
        return np.asarray(result)


def mosaic_to_dask(scan: Scan, channel: int = 0, mosaic: Mosaic | None = None) -> da.Array:
    """Dask array of the stitched mosaic of one channel, one chunk per frame and depth."""
    array = MosaicArray(scan, channel, mosaic)
    chunks = (1, *(1,) * (array.ndim - 3), *array.shape[-2:])
    dask_array: da.Array = da.from_array(  # type: ignore[no-untyped-call]
        array,
        chunks=chunks,
        name=f"scanimage-mosaic-c{channel}-{uuid.uuid4().hex}",
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * array.ndim, dtype=scan.dtype),
    )
    return dask_array
