"""npe2 reader: ScanImage TIFFs in, lazy image layers out.

``napari_get_reader`` decides from the first 20 bytes of each file and returns
None for anything ScanImage did not write, so napari's own TIFF reader takes
it.  The returned reader may raise ``ScanImageError``; napari shows its message.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from napari_scanimage._napari._layers import layer_data
from napari_scanimage.format.header import is_scanimage_file
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["napari_get_reader", "read_scanimage"]

PathOrPaths = str | os.PathLike[str] | list[str | os.PathLike[str]]
LayerData = list[tuple[Any, dict[str, Any], str]]


def _as_list(path: PathOrPaths) -> list[str]:
    return [os.fspath(p) for p in path] if isinstance(path, list | tuple) else [os.fspath(path)]


def napari_get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], LayerData] | None:
    """Return the reader when every path is a ScanImage 2016+ TIFF, else None."""
    paths = _as_list(path)
    if not paths or not all(
        p.lower().endswith((".tif", ".tiff")) and is_scanimage_file(p) for p in paths
    ):
        return None
    return read_scanimage


def read_scanimage(path: PathOrPaths) -> LayerData:
    """Open the file(s) as one acquisition: one layer per field and channel."""
    scan = read_scan(_as_list(path))
    return layer_data(scan)
