"""Opening an acquisition the way users do: one file, a whole drop, the launcher."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import yaml

from napari_scanimage._napari import _reader
from napari_scanimage._napari._preferences import (
    PLAIN_TIFF_PATTERNS,
    SCANIMAGE_PATTERNS,
    set_default_reader,
)
from napari_scanimage.testing import ScanSpec


@pytest.fixture
def split(write):
    """An acquisition in three files: frames 0-3, 4-7, 8-9."""
    return write(ScanSpec(channels=(1, 2), num_frames=10, frames_per_file=4))


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


@pytest.fixture
def notes(monkeypatch):
    said = []

    def notify(message, severity="info", actions=None):
        said.append((message, actions or []))

    monkeypatch.setattr(_reader, "_notify", notify)
    return said


def test_one_file_opens_its_whole_acquisition(viewer, split, notes):
    viewer.open(str(split.paths[1]), plugin="napari-scanimage")
    assert len(viewer.layers) == 2  # one field, two channels
    assert viewer.layers[0].data.shape[0] == 10
    np.testing.assert_array_equal(np.asarray(viewer.layers[0].data[9]), split.fields[0].data[9, 0])
    ((message, actions),) = notes
    assert "Opened all 3 files" in message
    assert actions[0][0] == "Open only scan_00001_00002.tif"
    actions[0][1]()  # the user clicks "open only"
    assert len(viewer.layers) == 2
    assert viewer.layers[0].data.shape[0] == 4
    np.testing.assert_array_equal(np.asarray(viewer.layers[0].data[0]), split.fields[0].data[4, 0])


def test_dropping_every_file_gives_one_set_of_layers(viewer, split, notes):
    viewer.open([str(p) for p in split.paths], plugin="napari-scanimage", stack=False)
    assert len(viewer.layers) == 2
    assert viewer.layers[0].data.shape[0] == 10
    assert len(notes) == 1


def test_stacked_files_open_exactly_as_given(viewer, split, notes):
    viewer.open([str(p) for p in split.paths[:2]], plugin="napari-scanimage", stack=True)
    assert viewer.layers[0].data.shape[0] == 8
    assert notes == []


def test_a_neighbour_of_another_acquisition_is_left_out(viewer, write, notes):
    ours = write(ScanSpec(num_frames=4, frames_per_file=2))
    other = write(ScanSpec(num_frames=2, frames_per_file=2, zoom=3.0))
    stray = ours.paths[0].with_name("scan_00001_00003.tif")
    stray.write_bytes(other.paths[0].read_bytes())
    viewer.open(str(ours.paths[0]), plugin="napari-scanimage")
    assert viewer.layers[0].data.shape[0] == 2
    assert "Opened only scan_00001_00001.tif" in notes[0][0]


def test_set_default_reader_keeps_other_preferences(tmp_path):
    from napari.settings import NapariSettings

    settings = NapariSettings(config_path=tmp_path / "settings.yaml")
    settings.plugins.extension2reader = {"*.tiff": "someone-else", "*.czi": "bioio"}
    changes = set_default_reader(settings)
    assert changes == {
        SCANIMAGE_PATTERNS[0]: "napari-scanimage",
        SCANIMAGE_PATTERNS[1]: "napari-scanimage",
        "*.tif": "napari",
    }
    prefs = settings.plugins.extension2reader
    assert prefs["*.tiff"] == "someone-else"
    assert prefs["*.czi"] == "bioio"
    assert set_default_reader(settings) == {}


def test_after_set_default_reader_files_open_without_asking(viewer, split, tmp_path):
    from napari.plugins.utils import get_preferred_reader

    set_default_reader()
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.arange(64, dtype=np.uint16).reshape(8, 8))
    assert get_preferred_reader(plain) == "napari"
    assert get_preferred_reader(split.paths[0]) == "napari-scanimage"
    viewer.open(str(plain), plugin=None)
    assert viewer.layers[-1].data.shape == (8, 8)
    viewer.open(str(split.paths[0]), plugin=None)
    assert viewer.layers[-1].data.shape[0] == 10  # ours: the whole acquisition
    assert len(viewer.layers) == 3


def test_set_default_reader_command(tmp_path):
    config = tmp_path / "napari" / "settings.yaml"
    env = {**os.environ, "NAPARI_CONFIG": str(config)}
    out = subprocess.run(
        [sys.executable, "-m", "napari_scanimage.cli", "set-default-reader"],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    for pattern in (*SCANIMAGE_PATTERNS, *PLAIN_TIFF_PATTERNS):
        assert pattern in out.stdout
    saved = yaml.safe_load(config.read_text())["plugins"]["extension2reader"]
    assert saved[SCANIMAGE_PATTERNS[0]] == "napari-scanimage"
    assert saved["*.tif"] == "napari"


def test_view_command_starts_napari_with_the_layers(split, tmp_path):
    env = {**os.environ, "NAPARI_CONFIG": str(tmp_path / "settings.yaml")}
    pattern = str(split.paths[0].parent / "scan_*.tif")
    with subprocess.Popen(
        [sys.executable, "-m", "napari_scanimage.cli", "view", pattern],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    ) as process:  # fmt: skip
        try:
            line = process.stdout.readline()
            assert line.strip() == "napari-scanimage: showing 2 layers", process.stderr.read()
            assert process.poll() is None  # napari is running
        finally:
            process.terminate()
            process.wait(timeout=30)
