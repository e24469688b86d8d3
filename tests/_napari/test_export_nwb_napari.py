"""The panel's Export section writes NWB: what it shows, in a worker, with the metadata given."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from napari_scanimage._napari._export import save_as_nwb
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS

pynwb = pytest.importorskip("pynwb")
# The exporter runs in Qt worker threads below; code a QThread runs first stays invisible
# to coverage, so load it here, in the main thread.
pytest.importorskip("napari_scanimage.export.nwb.build")

SPEC = ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=32)


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


@pytest.fixture
def panel(viewer, write):
    from napari_scanimage._napari._widget import ScanImageWidget

    written = write(SPEC)
    viewer.open([str(p) for p in written.paths], plugin="napari-scanimage", stack=True)
    widget = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


def finish(qtbot, worker):
    """Wait for the worker, which may have finished before the test got to look.

    Waiting for its ``finished`` signal misses one already sent, so wait for the
    thread pool it runs in, then let its queued signals reach the panel.
    """
    from qtpy.QtCore import QThreadPool

    assert worker is not None
    assert QThreadPool.globalInstance().waitForDone(60_000)
    qtbot.wait(100)


def test_save_as_nwb_runs_in_a_worker_with_a_progress_bar(viewer, write, tmp_path, qtbot):
    scan = read_scan(write(SPEC).paths)
    worker = save_as_nwb(scan, tmp_path / "saved.nwb", channels=[1])
    results = []
    worker.returned.connect(results.append)
    finish(qtbot, worker)
    assert results == [tmp_path / "saved.nwb"]
    assert (worker.pbar.n, worker.pbar.total) == (3, 3)  # 3 fields x 1 channel, one buffer each
    with pynwb.NWBHDF5IO(str(tmp_path / "saved.nwb"), "r") as io:
        data = io.read().acquisition["TwoPhotonSeriesField3Ch2"].data[:]
    np.testing.assert_array_equal(data, scan.read_field(2, channels=[1])[:, 0])


def test_the_panel_saves_what_it_shows_as_nwb(panel, tmp_path, qtbot):
    export = panel.export
    hidden = export.metadata.native.isHidden  # the viewer is not shown: ask if hidden
    assert hidden()
    export.format.value = "NWB"
    assert export.save.text.startswith("Save as NWB")
    assert export.path.filter == "*.nwb"
    assert not hidden()
    assert not export.overwrite.native.isHidden()
    panel.display.fields.value = [0, 2]
    panel.display.channels.value = [1]
    panel.display.trims["left"].value = 2
    meta = tmp_path / "meta.yaml"
    meta.write_text(yaml.safe_dump({"Subject": {"species": "Mus musculus", "subject_id": "m7"}}))
    export.metadata.value = str(meta)
    target = tmp_path / "shown.nwb"
    export.path.value = str(target)
    export.save.clicked.emit()
    finish(qtbot, export.worker)
    with pynwb.NWBHDF5IO(str(target), "r") as io:
        nwbfile = io.read()
        assert sorted(nwbfile.acquisition) == [
            "TwoPhotonSeriesField1Ch2",
            "TwoPhotonSeriesField3Ch2",
        ]
        assert nwbfile.subject.subject_id == "m7"
        data = nwbfile.acquisition["TwoPhotonSeriesField3Ch2"].data[:]
        comments = nwbfile.acquisition["TwoPhotonSeriesField3Ch2"].comments
    np.testing.assert_array_equal(data, panel.scan.read_field(2, channels=[1])[:, 0])
    assert data.shape == (32, 16, 14)  # trimmed by 2 on the left
    assert "trim (left, right, top, bottom) = (2, 0, 0, 0)" in comments


def test_an_existing_file_is_an_error_until_replace_is_ticked(panel, tmp_path, qtbot, monkeypatch):
    from napari_scanimage._napari._widget import ScanImageWidget

    errors = []
    # patched on the class: magicgui containers treat instance attributes as widgets
    monkeypatch.setattr(ScanImageWidget, "show_error", lambda self, exc: errors.append(exc))
    export = panel.export
    export.format.value = "NWB"
    target = tmp_path / "taken.nwb"
    target.write_bytes(b"keep")
    export.path.value = str(target)
    export.save.clicked.emit()
    finish(qtbot, export.worker)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert "taken.nwb: exists" in str(errors[0])
    assert target.read_bytes() == b"keep"
    export.overwrite.value = True
    export.save.clicked.emit()
    finish(qtbot, export.worker)
    with pynwb.NWBHDF5IO(str(target), "r") as io:
        assert len(io.read().acquisition) == 6


def test_switching_format_keeps_the_name_and_changes_the_suffix(panel, tmp_path):
    export = panel.export
    export.path.value = str(tmp_path / "mine.zarr")
    export.format.value = "NWB"
    assert export.path.value == tmp_path / "mine.nwb"
    export.format.value = "OME-Zarr"
    assert export.path.value == tmp_path / "mine.zarr"
    assert export.overwrite.native.isHidden()
