"""Scan-phase, mosaic, outlines and seams in the dock widget, in a real viewer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage._napari._layers import mosaic_layer_data, outline_layer_data
from napari_scanimage._napari._widget import ScanImageWidget
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import RoiSpec, ScanSpec

STRIPS = (
    RoiSpec(name="left", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(64, 96)),
    RoiSpec(name="right", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(64, 96)),
)


@pytest.fixture
def flawed(write):
    spec = ScanSpec(rois=STRIPS, content="tissue", num_frames=10, scan_phase=1.5,
                    edge_columns=3, stack="fast", zs=(0.0, 30.0))  # fmt: skip
    return write(spec)


@pytest.fixture
def widget(make_napari_viewer, flawed):
    viewer = make_napari_viewer()
    viewer.open(str(flawed.paths[0]), plugin="napari-scanimage")
    panel = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(panel)
    return panel


def test_mosaic_and_outline_layer_data(flawed):
    scan = read_scan(flawed.paths)
    ((mosaic, kwargs, kind),) = mosaic_layer_data(scan)
    assert kind == "image"
    assert mosaic.shape == (10, 2, 96, 128)  # frames, depths, and both strips on one grid
    assert kwargs["scale"][2:] == pytest.approx([8 * 15 / 96, 6 * 15 / 64])
    shapes, kwargs, kind = outline_layer_data(scan)
    assert kind == "shapes"
    assert [s.shape for s in shapes] == [(4, 3)] * 4  # z, y, x corners
    assert kwargs["features"]["roi"] == ["left", "right", "left", "right"]
    np.testing.assert_allclose(shapes[1][0], [0.0, -60.0, 0.0])
    np.testing.assert_allclose(shapes[3][2], [30.0, 60.0, 90.0])


def test_phase_correction_from_the_widget(widget):
    viewer = widget.viewer
    layer = viewer.layers[0]
    raw = np.asarray(layer.data[3]).astype(float)
    widget.stitching.phase.value = True
    assert (
        "field 1: +1.5" in widget.stitching.phase_info.value
        or "field 1: +1.4" in widget.stitching.phase_info.value
    )
    fixed = np.asarray(layer.data[3]).astype(float)
    assert layer in viewer.layers
    comb = lambda img: np.abs(np.diff(img[..., 8:-8], axis=-2)).mean()  # noqa: E731
    assert comb(fixed) < comb(raw)
    widget.stitching.phase_field.value = 1
    widget.stitching.phase_value.value = 0.0
    widget.stitching.phase_set.clicked.emit()
    assert "field 2: +0.00 (set)" in widget.stitching.phase_info.value
    assert widget.scan.scan_phase(1) == (0.0,)


def test_mosaic_outlines_and_seams(widget):
    viewer = widget.viewer
    widget.display.join.value = True
    widget.stitching.phase.value = True  # the comb smears the dim edges inwards; undo it first
    widget.stitching.seams.clicked.emit()
    assert "left | right" in widget.stitching.seams_info.value
    assert "dim edges: trim more" in widget.stitching.seams_info.value
    widget.display.trims["left"].value = 3
    widget.display.trims["right"].value = 3
    widget.stitching.seams.clicked.emit()
    assert "dim edges" not in widget.stitching.seams_info.value
    widget.stitching.mosaic.value = True
    names = [layer.name for layer in viewer.layers]
    assert names == ["scan_00001 · mosaic · ch 1"]
    widget.stitching.outlines.value = True
    assert viewer.layers[-1].name == "scan_00001 · ROI outlines"
    assert len(viewer.layers[-1].data) == 4  # 2 ROIs x 2 depths
    widget.stitching.mosaic.value = False
    assert sorted(layer.name for layer in viewer.layers) == [
        "scan_00001 · ROI outlines",
        "scan_00001 · field 1 · ch 1",
    ]
    assert viewer.layers["scan_00001 · field 1 · ch 1"].data.shape == (10, 2, 96, 2 * 58)
    widget.stitching.outlines.value = False
    assert len(viewer.layers) == 1


def test_trims_keep_the_field_selection_when_napari_resets_choices(widget):
    widget.display.fields.value = [0]
    widget.display.trims["left"].value = 2
    widget.reset_choices()  # napari does this whenever layers change
    assert widget.display.fields.value == [0]
    assert len(widget.viewer.layers) == 1


def test_panel_error_paths_and_buttons(make_napari_viewer, write, qtbot, monkeypatch):
    from napari.settings import get_settings
    from napari.utils import notifications

    from napari_scanimage._napari import _panel_stitching

    shown = []
    monkeypatch.setattr(notifications, "show_error", lambda message: shown.append(("e", message)))
    monkeypatch.setattr(notifications, "show_info", lambda message: shown.append(("i", message)))
    written = write(ScanSpec(rois=(RoiSpec(name="only"),), num_frames=3))
    viewer = make_napari_viewer()
    viewer.open(str(written.paths[0]), plugin="napari-scanimage")
    panel = ScanImageWidget(viewer)
    # trims that leave nothing: the real error path, a notification, layers unchanged
    panel.display.trims["left"].value = 70
    assert shown[-1][0] == "e"
    assert "leave nothing" in shown[-1][1]
    panel.display.trims["left"].value = 0
    # no ROIs touch: the seam check says so
    panel.stitching.seams.clicked.emit()
    assert panel.stitching.seams_info.value == "no touching ROIs"
    # the default-reader button saves napari's preferences
    panel.files.default_reader.clicked.emit()
    assert get_settings().plugins.extension2reader["*.tif"] == "napari"
    assert shown[-1][0] == "i"
    assert "Reader preferences saved" in shown[-1][1]
    panel.files.default_reader.clicked.emit()
    assert shown[-1] == ("i", "Already the default.")
    # saving without a path writes next to the files
    panel.export.save.clicked.emit()
    saved = ("i", f"Saved {written.paths[0].with_name('scan_00001.zarr')}")
    qtbot.waitUntil(lambda: saved in shown, timeout=30_000)
    # a layer whose files are gone cannot be adopted: an error, not an exception
    layer = viewer.layers[0]
    meta = dict(layer.metadata)
    meta["napari_scanimage"] = {**meta["napari_scanimage"], "files": ["/nonexistent/x_00001.tif"]}
    viewer.add_image(np.zeros((4, 4)), metadata=meta)
    assert shown[-1][0] == "e"
    assert "no such file" in shown[-1][1]
    assert _panel_stitching.edge_hint(1.6) == " (bright edges: trim more)"
    assert _panel_stitching.edge_hint(1.0) == ""


def test_a_new_panel_adopts_mosaic_and_outline_layers(widget):
    viewer = widget.viewer
    widget.stitching.mosaic.value = True
    widget.stitching.outlines.value = True
    names = sorted(layer.name for layer in viewer.layers)
    second = ScanImageWidget(viewer)  # adopts what is in the viewer, kinds included
    assert second.managed.outlines is viewer.layers["scan_00001 · ROI outlines"]
    assert ((), -1, 0) in second.managed.images
    assert second.stitching.mosaic.value
    assert second.stitching.outlines.value
    second.display.trims["left"].value = 1  # updates the mosaic layer in place, not a second one
    assert sorted(layer.name for layer in viewer.layers) == names
