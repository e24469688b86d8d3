"""Dask arrays over a scan, for pipelines and export: chunks of frames read on compute.

Each chunk calls :meth:`Scan.read_field` for its own frames only.  napari
gets the plain array-likes of :mod:`napari_scanimage.lazy.arrays` instead:
a dask graph costs time per chunk on every slice, which long recordings feel.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import dask.array as da
import numpy as np

from napari_scanimage.lazy.arrays import FieldArray, MosaicArray

if TYPE_CHECKING:
    from napari_scanimage.scan.mosaic import Mosaic
    from napari_scanimage.scan.scan import Scan

__all__ = ["field_to_dask", "mosaic_to_dask"]


def _from_array(array: FieldArray | MosaicArray, chunks: tuple[int, ...], name: str) -> da.Array:
    # A fresh name per call: a scan re-opened with other trims must never hit
    # chunks cached under an older array's name.
    dask_array: da.Array = da.from_array(  # type: ignore[no-untyped-call]
        array,
        chunks=chunks,
        name=f"{name}-{uuid.uuid4().hex}",
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * array.ndim, dtype=array.dtype),
    )
    return dask_array


def field_to_dask(
    scan: Scan, field: int, channel: int = 0, frames_per_chunk: int = 32
) -> da.Array:
    """Dask array ``(frames, y, x)`` of one field and channel, chunked along frames."""
    array = FieldArray(scan, field, channel)
    chunks = (max(1, frames_per_chunk), *array.shape[1:])
    return _from_array(array, chunks, f"scanimage-f{array.field.index}-c{channel}")


def mosaic_to_dask(scan: Scan, channel: int = 0, mosaic: Mosaic | None = None) -> da.Array:
    """Dask array of the stitched mosaic of one channel, one chunk per frame and depth."""
    array = MosaicArray(scan, channel, mosaic)
    chunks = (1, *(1,) * (array.ndim - 3), *array.shape[-2:])
    return _from_array(array, chunks, f"scanimage-mosaic-c{channel}")
