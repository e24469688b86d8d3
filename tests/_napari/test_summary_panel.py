"""The *Summary images* piece: layers where the fields are, in a worker, cancellable."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage._napari._layers import layer_data
from napari_scanimage._napari._summary_panel import (
    SUMMARY_KEY,
    SummaryImagesPanel,
    summary_layer_data,
)
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.scan.summary_images import stitch_summaries, summary_images
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def run_to_end(panel, qtbot):
    panel._run.clicked.emit()
    qtbot.waitUntil(lambda: panel.worker is not None, timeout=5_000)
    with qtbot.waitSignal(panel.worker.finished, timeout=30_000, raising=False):
        pass
    qtbot.waitUntil(lambda: panel._run.enabled, timeout=5_000)


def test_summary_layers_sit_on_the_field_layers(viewer, write, qtbot):
    written = write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=8, content="cells"))
    scan = read_scan(written.paths, trim=(1, 1, 0, 0))
    for data, kwargs, _ in layer_data(scan, contrast=False):
        viewer.add_image(data, **kwargs)
    panel = SummaryImagesPanel(viewer, lambda: scan, lambda: ([2, 0], [1]))
    panel._kinds.value = ["mean", "correlation"]
    run_to_end(panel, qtbot)
    assert panel.status == "6 summary layers."  # 2 fields + 1 mosaic, 2 kinds, 1 channel
    mean = viewer.layers["scan_00001 · field 1 · ch 2 · mean"]
    field = viewer.layers["scan_00001 · field 1 · ch 2"]
    np.testing.assert_allclose(mean.data, summary_images(scan, 0, 1, ("mean",))["mean"])
    assert mean.data.shape == field.data.shape[1:]
    # the same pixel lands on the same point in µm
    for y, x in [(0, 0), (5, 7), (31, 21)]:
        assert mean.data_to_world((y, x)) == pytest.approx(field.data_to_world((3, y, x))[1:])
    assert mean.visible
    assert not viewer.layers["scan_00001 · field 1 · ch 2 · correlation"].visible
    assert mean.metadata[SUMMARY_KEY]["kind"] == "mean"
    stitched = viewer.layers["scan_00001 · mosaic · ch 2 · mean"]
    mosaic = Mosaic.of(scan, [0, 2])
    images = {f: summary_images(scan, f, 1, ("mean",)) for f in (0, 2)}
    np.testing.assert_allclose(
        stitched.data, stitch_summaries(mosaic, 0, images, ("mean",))["mean"]
    )
    corner = (-0.5, -0.5)  # outer corner of pixel (0, 0); the mosaic's pixels are finer
    assert stitched.data_to_world(corner) == pytest.approx(mean.data_to_world(corner))
    assert panel.worker.pbar.n == 16  # frames of two fields
    # a second run updates the same layers instead of adding more
    count = len(viewer.layers)
    run_to_end(panel, qtbot)
    assert len(viewer.layers) == count


def test_depths_get_a_z_axis_like_the_field_layers(write):
    spec = ScanSpec(rois=STRIPS[:2], num_frames=3, stack="fast", zs=(0.0, 25.0), content="cells")
    scan = read_scan(write(spec).paths)
    layers = {
        kw["name"]: (data, kw)
        for data, kw, _ in summary_layer_data(scan, [0, 1, 2, 3], [0], ["max"])
    }
    field_layers = {kw["name"]: kw for _, kw, _ in layer_data(scan, contrast=False)}
    for name, (data, kwargs) in layers.items():
        if "mosaic" in name:
            assert data.shape[0] == 2  # both depths on one grid
            continue
        field = field_layers[name.removesuffix(" · max")]
        assert kwargs["scale"] == field["scale"][1:]
        assert kwargs["translate"] == field["translate"][1:]
        assert data.ndim == 3


def test_cancel_stops_the_worker_and_adds_nothing(viewer, write, qtbot):
    written = write(ScanSpec(rois=STRIPS, num_frames=400))
    scan = read_scan(written.paths)
    panel = SummaryImagesPanel(viewer, lambda: scan)
    panel._kinds.value = list(panel._kinds.choices)
    panel.chunk_frames = 1
    panel._run.clicked.emit()
    assert panel._cancel.enabled
    assert not panel._run.enabled
    panel._cancel.clicked.emit()
    with qtbot.waitSignal(panel.worker.finished, timeout=30_000, raising=False):
        pass
    qtbot.waitUntil(lambda: panel.status == "Cancelled.", timeout=5_000)
    assert panel.worker.pbar.n < 3 * 400
    assert len(viewer.layers) == 0
    assert panel._run.enabled
    assert not panel._cancel.enabled


def test_without_a_scan_nothing_starts(viewer):
    panel = SummaryImagesPanel(viewer, lambda: None)
    panel._run.clicked.emit()
    assert panel.worker is None
    assert panel.status == "No ScanImage scan open."
