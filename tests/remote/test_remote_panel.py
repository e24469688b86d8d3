"""The panel's Open URL field: a recording served over HTTP opens as local ones do."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")


@pytest.fixture(autouse=True)
def _wait_for_workers():
    yield
    from superqt.utils._qthreading import WorkerBase

    WorkerBase.await_workers(msecs=60_000)


def test_open_url_shows_a_remote_split_acquisition(
    make_napari_viewer, http, recordings, qtbot, monkeypatch
):
    from napari_scanimage import read_scan
    from napari_scanimage._napari import _panel_files
    from napari_scanimage._napari._widget import ScanImageWidget

    said = []
    monkeypatch.setattr(_panel_files, "_notify_all_files", lambda *a: said.append(a))
    viewer = make_napari_viewer()
    panel = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(panel)
    url = f"{http.url}/{recordings.names('split')[1]}"
    panel.files.url.value = url
    panel.files.open_url.clicked.emit()
    qtbot.waitUntil(lambda: panel.scan is not None and len(viewer.layers) > 0, timeout=30_000)
    assert panel.scan.num_files == 3
    assert said == [("scan_00001", 3)]
    assert panel.scan.filenames[0] == f"{http.url}/split/scan_00001_00001.tif"
    layer = viewer.layers[0]
    viewer.dims.set_current_step(0, 7)
    local = read_scan(recordings.local("split"))
    np.testing.assert_array_equal(np.asarray(layer.data[7]), local[0, :, :, 0, 7])
    assert "scan_00001" in panel.files.summary.value


def test_view_opens_a_url(make_napari_viewer, http, recordings, monkeypatch):
    import napari

    from napari_scanimage._napari._launch import open_viewer

    monkeypatch.setattr(napari, "Viewer", lambda show=False: make_napari_viewer(show=show))
    url = f"{http.url}/{recordings.names('mroi')[0]}"
    viewer = open_viewer([url])
    assert len(viewer.layers) == 8
    assert viewer.layers[0].metadata["napari_scanimage"]["files"] == [url]
