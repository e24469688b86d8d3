"""Lazy arrays over a scan: plain array-likes for napari, dask arrays for pipelines.

:mod:`~napari_scanimage.lazy.arrays` needs only numpy; importing this package
also imports dask.
"""

from napari_scanimage.lazy.arrays import FieldArray, MosaicArray
from napari_scanimage.lazy.dask_arrays import field_to_dask, mosaic_to_dask

__all__ = ["FieldArray", "MosaicArray", "field_to_dask", "mosaic_to_dask"]
