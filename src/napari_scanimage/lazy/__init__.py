"""Lazy arrays over a scan: plain array-likes for napari, dask arrays for pipelines.

:mod:`~napari_scanimage.lazy.arrays` needs only numpy.  dask (about 0.2 s to
import) loads on the first use of a dask function, so napari's reader, which
needs only the plain arrays, opens a file without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_scanimage.lazy.arrays import FieldArray, MosaicArray

if TYPE_CHECKING:
    from napari_scanimage.lazy.dask_arrays import field_to_dask, mosaic_to_dask

__all__ = ["FieldArray", "MosaicArray", "field_to_dask", "mosaic_to_dask"]

_DASK = {"field_to_dask", "mosaic_to_dask"}


def __getattr__(name: str) -> Any:
    """The dask functions, imported on first use (PEP 562)."""
    if name in _DASK:
        from napari_scanimage.lazy import dask_arrays  # noqa: PLC0415

        return getattr(dask_arrays, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
