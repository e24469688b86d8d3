"""A reopened store looks like the live scan: the same layers with the same contrast."""

from __future__ import annotations

import pytest

from napari_scanimage._napari._layers import layer_data
from napari_scanimage._napari._zarr_reader import store_layer_data
from napari_scanimage.export import to_zarr
from napari_scanimage.sample import SAMPLE_SPEC
from napari_scanimage.scan.scan import read_scan


@pytest.mark.parametrize("ngff", ["0.4", "0.5"])
def test_reopened_store_has_the_live_layers_contrast(write, tmp_path, ngff):
    """The sample: 3 ROIs at 2 depths (one z layer per ROI), 2 channels."""
    written = write(SAMPLE_SPEC)
    scan = read_scan(written.paths[0])
    live = {kwargs["name"]: kwargs["contrast_limits"] for _, kwargs, _ in layer_data(scan)}
    store = to_zarr(scan, tmp_path / "sample.zarr", ngff=ngff)
    reopened = {kw["name"]: kw["contrast_limits"] for _, kw, _ in store_layer_data(store)}
    assert len(live) == 6
    assert reopened.keys() == live.keys()
    for name, limits in live.items():
        assert reopened[name] == pytest.approx(limits), name
