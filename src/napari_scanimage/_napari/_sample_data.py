"""``File > Open Sample > napari-scanimage``: a synthetic mROI scan written on the fly."""

from __future__ import annotations

import tempfile
from typing import Any

from napari_scanimage._napari._layers import layer_data
from napari_scanimage.sample import write_sample_scan
from napari_scanimage.scan.scan import read_scan

__all__ = ["make_sample_data"]


def make_sample_data() -> list[tuple[Any, dict[str, Any], str]]:
    """Write the sample scan into a fresh temporary folder and return its layers.

    The folder is left in place: the layers read it lazily for as long as they live.
    """
    folder = tempfile.mkdtemp(prefix="napari-scanimage-sample-")
    return layer_data(read_scan(write_sample_scan(folder)))
