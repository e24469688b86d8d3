"""Dask arrays over a scan: one chunk per run of frames, read on compute.

napari and export code use these; each chunk calls :meth:`Scan.read_field` for
its own frames only, so showing frame 5000 reads frame 5000.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import dask.array as da
import numpy as np

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["FieldArray", "field_to_dask"]


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
        parts = key if isinstance(key, tuple) else (key,)
        parts = parts + (slice(None),) * (3 - len(parts))
        tkey, ykey, xkey = parts[:3]
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
