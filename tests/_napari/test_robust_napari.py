"""The napari side never raises for bad files and never touches the user's files."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from napari_scanimage._napari import _reader
from napari_scanimage._napari._reader import read_scanimage
from napari_scanimage._napari._widget import ScanImageWidget
from napari_scanimage.testing import RoiSpec, ScanSpec


@pytest.fixture
def notes(monkeypatch):
    said = []

    def notify(message, severity="info", actions=None):
        said.append((severity, message))

    monkeypatch.setattr(_reader, "_notify", notify)
    return said


def test_damaged_file_is_a_notification_not_an_exception(write, notes):
    path = write(ScanSpec(num_frames=3)).paths[0]
    raw = bytearray(path.read_bytes())
    raw[24:28] = (2**31).to_bytes(4, "little")  # FrameData length past the end
    path.write_bytes(bytes(raw))
    assert read_scanimage(str(path)) == [(None,)]
    ((severity, message),) = notes
    assert severity == "error"
    assert "could not open scan_00001.tif" in message
    assert "run past the end" in message


def test_dropped_frames_are_a_warning_notification(write, notes):
    written = write(ScanSpec(stack="fast", zs=(0.0, 1.0), num_frames=2, extra_pages=1))
    layers = read_scanimage(str(written.paths[0]))
    assert layers[0][0].shape[0] == 2
    assert [s for s, _ in notes] == ["warning"]
    assert "volume 3 has 1 of 2 planes; dropped its 1 page" in notes[0][1]


def test_a_list_of_two_acquisitions_gives_two_sets_of_layers(write, notes):
    first = write(ScanSpec(num_frames=2), acquisition=1)
    second = write(ScanSpec(num_frames=5, zoom=2.0), acquisition=2)
    layers = read_scanimage([str(first.paths[0]), str(second.paths[0])])
    assert [data.shape[0] for data, _, _ in layers] == [2, 5]
    assert notes == []


def fingerprints(paths):
    return [(hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in paths]


def test_viewer_and_widget_leave_the_files_untouched(make_napari_viewer, write):
    rois = (RoiSpec(name="a"), RoiSpec(name="b", center_xy=(4.2667, 0.0)))
    written = write(ScanSpec(rois=rois, channels=(1, 2), num_frames=4, frames_per_file=2))
    before = fingerprints(written.paths)
    viewer = make_napari_viewer()
    viewer.open(str(written.paths[0]), plugin="napari-scanimage")
    widget = ScanImageWidget(viewer)
    widget.display.join.value = True
    widget.display.trims["right"].value = 3
    widget.display.fields.value = [0]
    widget.display.channels.value = [1]
    for layer in viewer.layers:
        np.asarray(layer.data)
    viewer.layers.clear()
    assert fingerprints(written.paths) == before
