"""The first view a user gets: a window that fits the screen, every field in sight."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QApplication

from napari_scanimage._napari._widget import PANEL_WIDTH, ScanImageWidget
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS


def panel_of(viewer):
    return next(w for w in viewer.window.dock_widgets.values() if isinstance(w, ScanImageWidget))


def visible_world(viewer):
    """(min, max) of the (y, x) world box the canvas shows."""
    camera = viewer.scene.camera
    height, width = viewer.window._qt_viewer.canvas.size
    centre = np.asarray(camera.center[-2:])
    half = np.array([height, width]) / camera.zoom / 2
    return centre - half, centre + half


def test_view_fits_the_screen_and_frames_every_field(launch, write, qtbot):
    written = write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=3))
    viewer = launch([str(written.paths[0])], show=True)
    window = viewer.window._qt_window
    area = QApplication.primaryScreen().availableGeometry()
    assert window.width() <= area.width()
    assert window.height() <= area.height()
    panel = panel_of(viewer)
    canvas_width = viewer.window._qt_viewer.canvas.size[1]
    assert panel.native.width() == PANEL_WIDTH
    assert canvas_width > 1.5 * panel.native.width()  # the canvas gets the room
    low, high = visible_world(viewer)
    for layer in viewer.layers:
        extent = layer.extent.world[:, -2:]
        assert np.all(extent[0] >= low - 1e-6), layer.name
        assert np.all(extent[1] <= high + 1e-6), layer.name


def test_sections_fold_and_only_display_is_open_at_first(launch, write):
    written = write(ScanSpec(num_frames=2))
    panel = panel_of(launch([str(written.paths[0])]))
    folds = {title: section.fold.isExpanded() for title, section in panel.sections.items()}
    assert folds == {
        "Display": True,
        "Stitching QC": False,
        "Summary images": False,
        "Export": False,
        "Follow acquisition": False,
    }
    panel.sections["Export"].fold.expand(animate=False)
    assert panel.sections["Export"].fold.isExpanded()


def test_the_panel_opens_a_split_acquisition_whole(make_napari_viewer, write, qtbot, monkeypatch):
    from napari_scanimage._napari import _panel_files

    said = []
    monkeypatch.setattr(_panel_files, "_notify_all_files", lambda *a: said.append(a))
    written = write(ScanSpec(num_frames=6, frames_per_file=2))
    viewer = make_napari_viewer()
    panel = ScanImageWidget(viewer)
    panel.files.files.value = [written.paths[1]]
    panel.files.open.clicked.emit()
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    assert panel.scan.num_frames == 6
    assert said == [("scan_00001", 3)]
