"""The npe2 reader, layers, sample data and dock widget, in a real napari viewer (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_scanimage._napari._layers import METADATA_KEY, layer_data
from napari_scanimage._napari._reader import napari_get_reader, read_scanimage
from napari_scanimage._napari._sample_data import make_sample_data
from napari_scanimage._napari._widget import ScanImageWidget
from napari_scanimage.lazy import FieldArray
from napari_scanimage.scan.scan import Scan, read_scan
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS


@pytest.fixture
def mroi(write):
    return write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=6, frames_per_file=4))


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def test_manifest_is_valid():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("napari-scanimage")
    manifest.validate_imports()
    assert [r.command for r in manifest.contributions.readers] == [
        "napari-scanimage.get_reader",
        "napari-scanimage.get_zarr_reader",  # our own OME-Zarr stores
    ]


def test_get_reader_declines_what_scanimage_did_not_write(tmp_path, mroi):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((4, 8, 8), np.uint16), photometric="minisblack")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    assert napari_get_reader(str(plain)) is None
    assert napari_get_reader(str(text)) is None
    assert napari_get_reader(str(tmp_path / "missing.tif")) is None
    assert napari_get_reader([str(mroi.paths[0]), str(plain)]) is None
    assert napari_get_reader(str(mroi.paths[0])) is read_scanimage
    assert napari_get_reader([str(p) for p in mroi.paths]) is read_scanimage


def test_layers_are_placed_in_micrometres(mroi):
    layers = layer_data(read_scan(mroi.paths))
    assert len(layers) == 3 * 2  # fields x channels
    data, kwargs, kind = layers[0]
    assert kind == "image"
    assert isinstance(data, FieldArray)  # a plain array-like, not a dask graph
    assert data.shape == (6, 32, 24)
    assert kwargs["name"] == "scan_00001 · field 1 · ch 1"
    assert kwargs["multiscale"] is False
    assert kwargs["colormap"] == "green"
    assert layers[1][1]["colormap"] == "magenta"
    # 6 degrees x 15 µm/degree over 24 px = 3.75 µm; 8 x 15 / 32 = 3.75 µm
    assert kwargs["scale"] == pytest.approx([1.0, 3.75, 3.75])
    # outer corner at (-60, -90) µm, napari's pixel centre half a pixel in
    assert kwargs["translate"] == pytest.approx([0.0, -60 + 1.875, -90 + 1.875])
    spot = layers[4][1]
    assert spot["translate"] == pytest.approx([0.0, 90 - 22.5 + 1.40625, 180 - 22.5 + 1.40625])
    info = kwargs["metadata"][METADATA_KEY]
    assert info["files"] == [str(p) for p in mroi.paths]
    assert info["fields"] == [0]
    assert kwargs["metadata"]["header"]["SI"]["hRoiManager"]["mroiEnable"] in (True, 1)
    lo, hi = kwargs["contrast_limits"]
    assert lo < hi


def test_fast_z_layers_get_a_z_axis(write):
    written = write(ScanSpec(stack="fast", zs=(0.0, 10.0, 20.0), flyback_frames=1, num_frames=3))
    layers = layer_data(read_scan(written.paths))
    assert len(layers) == 1  # one FOV imaged at three depths = one layer
    data, kwargs, _ = layers[0]
    assert data.shape == (3, 3, 48, 64)
    assert kwargs["scale"][:2] == [1.0, 10.0]
    assert kwargs["translate"][1] == 0.0
    assert kwargs["axis_labels"] == ["frame", "z", "y", "x"]
    for z in range(3):
        np.testing.assert_array_equal(data[:, z], written.fields[z].data[:, 0])


def test_contrast_reads_a_few_frames_not_the_recording(write, monkeypatch):
    written = write(ScanSpec(num_frames=60))
    scan = read_scan(written.paths)
    frames_read = []
    original = Scan.read_field

    def spy(self, field, channels=None, frames=None, rows=None, cols=None, out=None):
        frames_read.extend(np.atleast_1d(frames).tolist())
        return original(self, field, channels, frames, rows, cols, out)

    monkeypatch.setattr(Scan, "read_field", spy)
    layer_data(scan)
    assert 0 < len(frames_read) <= 5


def test_viewer_open_one_file_and_a_list(viewer, mroi):
    viewer.open(str(mroi.paths[0]), plugin="napari-scanimage")
    assert len(viewer.layers) == 6
    assert viewer.layers[0].data.shape == (6, 32, 24)  # with its sibling file
    viewer.layers.clear()
    viewer.open([str(p) for p in mroi.paths], plugin="napari-scanimage", stack=True)
    assert len(viewer.layers) == 6
    assert viewer.layers[0].data.shape == (6, 32, 24)
    np.testing.assert_array_equal(np.asarray(viewer.layers[0].data[5]), mroi.fields[0].data[5, 0])


def test_plain_tiff_still_opens_with_napari(viewer, tmp_path):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.arange(64, dtype=np.uint16).reshape(8, 8))
    viewer.open(str(plain), plugin="napari")
    assert viewer.layers[0].data.shape == (8, 8)


def test_sample_data(viewer):
    layers = make_sample_data()
    assert len(layers) == 3 * 2
    viewer.open_sample("napari-scanimage", "mroi")
    assert len(viewer.layers) == 6
    assert viewer.layers[0].data.ndim == 4  # frames, z, y, x
    assert {tuple(layer.data.shape[:2]) for layer in viewer.layers} == {(30, 2)}


def _widget_on(viewer, paths) -> ScanImageWidget:
    viewer.open([str(p) for p in paths], plugin="napari-scanimage", stack=True)
    widget = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


def test_widget_adopts_the_scan_opened_by_the_reader(viewer, mroi):
    widget = _widget_on(viewer, mroi.paths)
    assert widget.scan is not None
    assert widget.scan.filenames == [str(p) for p in mroi.paths]
    assert widget.display.fields.value == [0, 1, 2]
    assert widget.display.channels.value == [0, 1]
    assert len(widget.managed.images) == 6
    assert "ScanImage 2021.0" in widget.files.summary.value


def test_widget_survives_reset_choices(viewer, mroi):
    widget = _widget_on(viewer, mroi.paths)
    widget.reset_choices()
    viewer.layers.select_all()
    viewer.layers.remove_selected()  # napari resets choices when layers change
    widget.reset_choices()
    assert list(widget.display.fields.choices) == [0, 1, 2]
    assert list(widget.display.channels.choices) == [0, 1]


def test_widget_picks_fields_and_channels(viewer, mroi):
    widget = _widget_on(viewer, mroi.paths)
    widget.display.fields.value = [2]
    assert [layer.name for layer in viewer.layers] == [
        "scan_00001 · field 3 · ch 1",  # the panel's number for that field
        "scan_00001 · field 3 · ch 2",
    ]
    assert viewer.layers[0].data.shape == (6, 16, 16)
    widget.display.channels.value = [1]
    assert len(viewer.layers) == 1
    widget.display.fields.value = [0, 1, 2]
    assert len(viewer.layers) == 3


def test_widget_joins_and_trims_in_place(viewer, mroi):
    widget = _widget_on(viewer, mroi.paths)
    spot = next(layer for layer in viewer.layers if layer.data.shape[1:] == (16, 16))
    spot.contrast_limits = (5.0, 50.0)
    spot.colormap = "inferno"
    widget.display.join.value = True
    assert len(viewer.layers) == 4
    joined = [layer for layer in viewer.layers if layer.data.shape[1:] == (32, 48)]
    assert len(joined) == 2
    expected = np.concatenate([mroi.fields[0].data[3, 1], mroi.fields[1].data[3, 1]], axis=1)
    ch2 = next(layer for layer in joined if layer.name.endswith("ch 2"))
    np.testing.assert_array_equal(np.asarray(ch2.data[3]), expected)
    translate_before = np.array(spot.translate)
    widget.display.trims["left"].value = 2
    widget.display.trims["top"].value = 1
    assert spot in viewer.layers  # updated in place, not replaced
    assert spot.data.shape == (6, 15, 14)
    assert spot.contrast_limits == [5.0, 50.0]
    assert spot.colormap.name == "inferno"
    pixel = 3 * 15 / 16
    np.testing.assert_allclose(
        np.array(spot.translate) - translate_before, [0.0, pixel, 2 * pixel]
    )
    np.testing.assert_array_equal(np.asarray(spot.data[0]), mroi.fields[2].data[0, 0, 1:, 2:])
    assert widget.scan.trim.left == 2
    widget.display.join.value = False  # the strips come back, the spot keeps its look
    assert len(viewer.layers) == 6
    assert spot.colormap.name == "inferno"


def test_widget_rejects_trims_that_leave_nothing(viewer, mroi, monkeypatch):
    widget = _widget_on(viewer, mroi.paths)
    shown = []
    # patch the class: magicgui containers treat instance attributes as child widgets
    monkeypatch.setattr(ScanImageWidget, "show_error", lambda self, exc: shown.append(str(exc)))
    widget.display.trims["left"].value = 20
    assert shown
    assert "leave nothing" in shown[-1]
    assert len(viewer.layers) == 6


def test_widget_opens_files_itself(viewer, mroi, qtbot):
    widget = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.files.files.value = [str(p) for p in mroi.paths]
    widget.files.open.clicked.emit()
    qtbot.waitUntil(lambda: len(viewer.layers) == 6, timeout=20_000)
    assert widget.scan is not None
    assert widget.scan.num_frames == 6
