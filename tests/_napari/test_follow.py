"""Following an acquisition while the project's writer records it, in a real viewer."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import tifffile

from napari_scanimage._napari._widget import ScanImageWidget
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import LiveWriter, RoiSpec, ScanSpec

FRAMES = 24


@pytest.fixture
def live(write, tmp_path):
    """An mROI, 2-channel recording split in files of 10 frames, replayed as it is recorded."""
    rois = (RoiSpec(name="a"), RoiSpec(name="b", center_xy=(4.0, 0.0)))
    written = write(ScanSpec(rois=rois, channels=(1, 2), num_frames=FRAMES, frames_per_file=10))
    folder = tmp_path / "live"
    folder.mkdir()
    return written, LiveWriter(written, folder)


def page_ends(written):
    """Stream position at the end of every page, in recording order."""
    ends, start = [], 0
    for path in written.paths:
        with tifffile.TiffFile(path) as tif:
            ends.extend(start + p.dataoffsets[0] + p.databytecounts[0] for p in tif.pages)
        start += path.stat().st_size
    return ends


def record(live, positions, pause):
    """ScanImage's part, from a thread: append the stream up to each position in turn."""

    def run():
        for position in positions:
            time.sleep(pause)
            live.write_to(position)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def panel_on(make_napari_viewer, path):
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-scanimage")  # napari shows its warning
    panel = ScanImageWidget(viewer)  # adopts the scan, opening it again without a second one
    viewer.window.add_dock_widget(panel)
    panel.follow.interval.value = 0.1
    return viewer, panel


def test_follow_grows_the_layers_until_the_acquisition_ends(make_napari_viewer, live, qtbot):
    written, live = live
    ends = page_ends(written)
    live.write_to(ends[2 * 3 - 1])  # three whole frames (2 channels each)
    viewer, panel = panel_on(make_napari_viewer, live.targets[0])
    layer = viewer.layers[0]
    layer.contrast_limits = (1.0, 99.0)
    layer.colormap = "inferno"
    assert layer.data.shape[0] == 3
    panel.follow.start()
    # stages cut anywhere: inside IFDs, descriptions, pixels, and between files
    stages = np.linspace(ends[5] + 1, live.total, 9).astype(int).tolist()
    thread = record(live, stages, pause=0.05)
    seen = set()
    qtbot.waitUntil(
        lambda: seen.add(layer.data.shape[0]) or not panel.follow.follow.value, timeout=30_000
    )
    thread.join()
    assert layer.data.shape[0] == FRAMES
    assert len(seen) > 2  # it grew in steps while the writer wrote
    assert all(layer.data.shape[0] <= FRAMES for layer in viewer.layers)
    assert viewer.dims.current_step[0] == FRAMES - 1  # stayed on the newest frame
    assert "acquisition ended" in panel.follow.status.value
    assert layer.contrast_limits == [1.0, 99.0]
    assert layer.colormap.name == "inferno"
    scan = read_scan(written.paths)
    field = layer.metadata["napari_scanimage"]["fields"][0]
    channel = layer.metadata["napari_scanimage"]["channel"]
    np.testing.assert_array_equal(
        np.asarray(layer.data[FRAMES - 1]), scan[field, :, :, channel, -1]
    )
    assert panel.scan.num_files == len(written.paths)


def test_unticking_stops_following(make_napari_viewer, live, qtbot):
    written, live = live
    ends = page_ends(written)
    live.write_to(ends[3])
    viewer, panel = panel_on(make_napari_viewer, live.targets[0])
    panel.follow.start()
    live.write_to(ends[7])
    qtbot.waitUntil(lambda: viewer.layers[0].data.shape[0] == 4, timeout=10_000)
    panel.follow.follow.value = False
    qtbot.waitUntil(lambda: panel.follow.worker is None, timeout=10_000)
    live.write_to(live.total)
    qtbot.wait(500)  # five poll periods
    assert viewer.layers[0].data.shape[0] == 4
    assert "4" in panel.follow.status.value


def test_a_failing_poll_is_a_notification(make_napari_viewer, live, qtbot, monkeypatch):
    _written, live = live
    live.write_to(live.sizes[0])
    _viewer, panel = panel_on(make_napari_viewer, live.targets[0])
    shown = []
    monkeypatch.setattr(ScanImageWidget, "show_error", lambda self, exc: shown.append(str(exc)))
    live.targets[0].write_bytes(b"")  # the share dropped: the file is empty now
    panel.follow.start()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert str(live.targets[0]) in shown[0]
    assert not panel.follow.follow.value


def test_view_follow_opens_a_following_viewer(launch, live, qtbot):
    from napari_scanimage.cli import build_parser

    assert build_parser().parse_args(["view", "--follow", "x.tif"]).follow
    _written, live = live
    live.write_to(live.sizes[0])  # the first file, whole: 10 frames
    viewer = launch([str(live.targets[0])], show=False, follow=True)
    assert viewer.layers[0].data.shape[0] == 10
    live.write_to(live.total)
    qtbot.waitUntil(lambda: viewer.layers[0].data.shape[0] == FRAMES, timeout=20_000)
    assert viewer.dims.current_step[0] == FRAMES - 1


def test_a_file_opened_mid_page_warns_once_and_follows(launch, live, qtbot, monkeypatch):
    """The reader says the tail is not complete yet; the panel, re-reading, stays quiet."""
    from napari_scanimage._napari import _reader

    said = []
    monkeypatch.setattr(_reader, "_notify", lambda message, *a, **k: said.append(message))
    _written, live = live
    live.write_to(live.sizes[0] // 2)  # ScanImage is half-way through the first file
    viewer = launch([str(live.targets[0])], show=False, follow=True)
    halfway = viewer.layers[0].data.shape[0]
    assert 0 < halfway < 10
    assert said  # the reader tells what it left out of the file's tail ...
    assert all(str(live.targets[0]) in m for m in said)
    assert all("ends inside" in m or "incomplete" in m for m in said)
    assert len(set(said)) == len(said)  # ... once: the panel adopting the layers stays quiet
    live.write_to(live.total)
    qtbot.waitUntil(lambda: viewer.layers[0].data.shape[0] == FRAMES, timeout=20_000)


def test_layers_work_with_napari_asynchronous_slicing(make_napari_viewer, write, qtbot):
    from napari.settings import get_settings

    settings = get_settings()
    settings.experimental.async_ = True
    try:
        written = write(ScanSpec(num_frames=30, channels=(1, 2)))
        viewer = make_napari_viewer()
        viewer.open(str(written.paths[0]), plugin="napari-scanimage")
        layer = viewer.layers[0]
        channel = layer.metadata["napari_scanimage"]["channel"]
        for frame in (29, 3, 17):
            viewer.dims.set_point(0, float(frame))
            truth = written.fields[0].data[frame, channel]
            qtbot.waitUntil(
                lambda truth=truth: np.array_equal(layer._slice.image.raw, truth), timeout=10_000
            )
    finally:
        settings.experimental.async_ = False
