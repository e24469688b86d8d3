"""Export a scan to OME-Zarr: :func:`to_zarr`, also behind ``napari-scanimage convert``.

How the parts fit, in the order a conversion uses them:

- ``plan``: checks the options and decides the images (one per field), array
  shapes, chunks (and shards, for NGFF 0.5) and the *settings* that a resumed
  store must match.
- ``recipe``: a picklable way to re-open the scan in any worker process.
- ``describe``, ``ngff``, ``display``, ``ome_xml``: the metadata written, i.e.
  our record of the scan, each image's OME-NGFF 0.4 or 0.5 ``multiscales``/``omero``
  attributes, the channels' display windows, and the bioformats2raw OME-XML.
- ``store``: the Zarr hierarchy on disk: created (or resumed) with the arrays'
  metadata first, per-chunk done records while converting, and the OME metadata
  plus ``complete: True`` only at the end.
- ``chunks``: the per-chunk task (read, write, record), run anywhere.
- ``schedule``: runs the tasks on dask, locally or on a distributed client,
  reporting progress.
- ``convert``: :func:`to_zarr` puts the steps in order.
- ``progress``: the CLI's terminal progress bar.
- ``acquisitions`` and ``batch``: many acquisitions (folders, patterns) to one
  store each, with a summary table; ``command``: what ``napari-scanimage convert`` runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from napari_scanimage.export.batch import convert_batch
    from napari_scanimage.export.convert import DEFAULT_CHUNK_FRAMES, to_zarr
    from napari_scanimage.export.errors import ExportError

__all__ = ["DEFAULT_CHUNK_FRAMES", "ExportError", "convert_batch", "to_zarr"]

# Loaded when first used, so that the modules here that need neither zarr nor dask
# (summary_files, for ``napari-scanimage summary``) can be imported without them.
_HOMES = {
    "DEFAULT_CHUNK_FRAMES": "convert",
    "ExportError": "errors",
    "convert_batch": "batch",
    "to_zarr": "convert",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
