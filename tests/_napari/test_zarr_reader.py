"""Our own OME-Zarr stores reopen as the live scan's layers; other stores are declined."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from napari.errors import ReaderPluginError
from napari.layers import Image

from napari_scanimage._napari._layers import layer_data
from napari_scanimage._napari._preferences import set_default_reader
from napari_scanimage._napari._store_view import store_view
from napari_scanimage._napari._zarr_reader import (
    STORE_KEY,
    napari_get_zarr_reader,
    store_layer_data,
)
from napari_scanimage.export import to_zarr
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS

MROI = ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=6)
FAST_Z = ScanSpec(
    rois=STRIPS[:2], channels=(1, 2), num_frames=4, stack="fast", zs=(0.0, 25.0), flyback_frames=1
)
PLACEMENT = ("name", "colormap", "blending", "scale", "translate", "axis_labels", "units")


@pytest.fixture(params=["0.4", "0.5"])
def ngff(request):
    return request.param


@pytest.mark.parametrize("spec", [MROI, FAST_Z], ids=["mroi", "fast-z"])
def test_a_store_gives_the_live_layers(write, tmp_path, ngff, spec):
    scan = read_scan(write(spec).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", ngff=ngff, chunk_frames=2)
    assert napari_get_zarr_reader(str(out)) is not None
    assert napari_get_zarr_reader([str(out) + "/"]) is not None
    live = layer_data(scan)
    stored = napari_get_zarr_reader(str(out))(str(out))
    assert len(stored) == len(live)  # fast-z: one layer per ROI over both depths
    for (ours, kwargs, kind), (theirs, expected, _) in zip(stored, live, strict=True):
        assert kind == "image"
        assert {k: kwargs[k] for k in PLACEMENT} == {k: expected[k] for k in PLACEMENT}
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(np.asarray(ours[2]), np.asarray(theirs[2]))
        if scan.num_scanning_depths == 1:  # same frames sampled, same contrast
            assert kwargs["contrast_limits"] == pytest.approx(expected["contrast_limits"])
        info = kwargs["metadata"][STORE_KEY]
        assert info["store"] == str(out)
        assert info["fields"] == expected["metadata"]["napari_scanimage"]["fields"]


def test_layers_read_lazily_from_the_store(write, tmp_path):
    scan = read_scan(write(MROI).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", ngff="0.5")
    data, _, _ = store_layer_data(out, fields=[2], channels=[2])[0]
    assert data.chunks[0] == (1,) * 6  # one frame per read: the shards' inner chunks
    np.testing.assert_array_equal(np.asarray(data[4]), scan.read_field(2, [1], [4])[0, 0])


def test_other_paths_and_stores_are_declined(write, tmp_path):
    scan = read_scan(write(MROI).paths)
    ours = to_zarr(scan, tmp_path / "ours.zarr")
    foreign2 = zarr.open_group(str(tmp_path / "v2.zarr"), mode="w", zarr_format=2)
    foreign2.attrs["multiscales"] = []
    foreign3 = zarr.open_group(str(tmp_path / "v3.zarr"), mode="w", zarr_format=3)
    foreign3.attrs["ome"] = {"version": "0.5"}
    (tmp_path / "empty.zarr").mkdir()
    (tmp_path / "file.zarr").write_text("not a folder")
    broken = tmp_path / "broken.zarr"
    broken.mkdir()
    (broken / "zarr.json").write_text("{nope")
    for path in ["v2.zarr", "v3.zarr", "empty.zarr", "file.zarr", "broken.zarr", "missing.zarr"]:
        assert napari_get_zarr_reader(str(tmp_path / path)) is None, path
    assert napari_get_zarr_reader(str(write(MROI).paths[0])) is None
    assert napari_get_zarr_reader([str(ours), str(ours)]) is None
    # an unfinished conversion is not an image yet
    record = zarr.open_group(str(ours), mode="r+")
    attrs = dict(record.attrs["napari_scanimage"])
    record.attrs["napari_scanimage"] = {**attrs, "complete": False}
    assert napari_get_zarr_reader(str(ours)) is None


def test_a_store_damaged_after_writing_is_reported_not_raised(write, tmp_path, monkeypatch):
    from napari_scanimage._napari import _zarr_reader

    out = to_zarr(read_scan(write(MROI).paths), tmp_path / "scan.zarr", ngff="0.5")
    (out / "1" / "zarr.json").unlink()
    shown = []
    monkeypatch.setattr(_zarr_reader, "_notify", lambda *a: shown.append(a))
    reader = napari_get_zarr_reader(str(out))
    assert reader(str(out)) == [(None,)]  # napari's "nothing to add"
    assert shown[0][0].startswith("napari-scanimage could not open scan.zarr: ")
    assert shown[0][1] == "error"


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def test_napari_opens_a_store_where_the_tiffs_open(viewer, write, tmp_path, ngff):
    scan = read_scan(write(FAST_Z).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", ngff=ngff)
    viewer.open(str(out), plugin="napari-scanimage")
    live = {kwargs["name"]: Image(data, **kwargs) for data, kwargs, _ in layer_data(scan)}
    assert [layer.name for layer in viewer.layers] == list(live)
    for layer in viewer.layers:
        reference = live[layer.name]
        for point in [(0, 0, 0, 0), (3, 1, 5, 7), (1, 0, 15, 11)]:
            assert layer.data_to_world(point) == pytest.approx(reference.data_to_world(point))
        assert layer.colormap.name == reference.colormap.name


def test_the_store_view_shows_a_chosen_subset(viewer, write, tmp_path):
    scan = read_scan(write(MROI).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", ngff="0.5")
    viewer.open(str(out), plugin="napari-scanimage")
    view = store_view(viewer.layers[0])
    assert store_view(viewer.add_image(np.zeros((2, 2)))) is None
    text = view.summary_text()
    assert text.startswith("scan.zarr: OME-NGFF 0.5, Zarr format 3, 3 field(s), channels 1, 2")
    assert "frames: 6" in text
    assert view.field_choices() == [
        ("1: s1 (z 0 µm)", 0),
        ("2: s2 (z 0 µm)", 1),
        ("3: spot (z 0 µm)", 2),
    ]
    assert view.channel_choices() == [("channel 1", 0), ("channel 2", 1)]
    assert view.shown(viewer) == ([0, 1, 2], [0, 1])
    kept = viewer.layers["scan_00001 · field 3 · ch 2"]
    kept.contrast_limits = (0, 10)
    assert view.show(viewer, fields=[2, 0], channels=[1]) == []  # both shown already
    names = [layer.name for layer in viewer.layers if STORE_KEY in layer.metadata]
    assert names == ["scan_00001 · field 1 · ch 2", "scan_00001 · field 3 · ch 2"]
    assert viewer.layers["scan_00001 · field 3 · ch 2"] is kept  # untouched
    assert tuple(kept.contrast_limits) == (0, 10)
    added = view.show(viewer, fields=[0, 1], channels=[0, 1])
    assert sorted(layer.name for layer in added) == [
        "scan_00001 · field 1 · ch 1",
        "scan_00001 · field 2 · ch 1",
        "scan_00001 · field 2 · ch 2",
    ]
    assert view.shown(viewer) == ([0, 1], [0, 1])


def test_a_preferred_reader_that_declines_gives_no_fallback(viewer, write, tmp_path):
    # Why set-default-reader does not route "*.zarr/": napari calls only the preferred
    # reader, and when it declines, opening raises (the GUI shows the reader dialog with
    # "Tried opening with napari-scanimage, but failed") instead of trying the others.
    # Folders match a preference only with a trailing "/" (napari appends one).
    from napari.errors import MultipleReaderError
    from napari.settings import get_settings

    settings = get_settings()
    saved = dict(settings.plugins.extension2reader)
    ours = to_zarr(read_scan(write(MROI).paths), tmp_path / "ours.zarr")
    foreign = zarr.open_group(str(tmp_path / "foreign.zarr"), mode="w", zarr_format=2)
    foreign.create_array("0", shape=(4, 4), dtype="uint8")
    try:
        settings.plugins.extension2reader = {**saved, "*.zarr/": "napari-scanimage"}
        with pytest.raises(ReaderPluginError, match="Tried opening with napari-scanimage"):
            viewer.open(str(tmp_path / "foreign.zarr"), plugin=None)  # as a drop does
        viewer.open(str(ours), plugin=None)
        assert len(viewer.layers) == 6
        settings.plugins.extension2reader = {**saved, "*.zarr": "napari-scanimage"}
        with pytest.raises(MultipleReaderError):  # no trailing "/": no preference at all
            viewer.open(str(ours), plugin=None)
    finally:
        settings.plugins.extension2reader = saved
    assert not {"*.zarr", "*.zarr/"} & set(set_default_reader(settings))


def test_the_panel_shows_a_reopened_store(make_napari_viewer, write, tmp_path):
    from napari_scanimage._napari._widget import ScanImageWidget

    scan = read_scan(write(MROI).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", ngff="0.5")
    viewer = make_napari_viewer()
    viewer.open(str(out), plugin="napari-scanimage")
    panel = ScanImageWidget(viewer)
    assert panel.store is not None
    assert panel.scan is None
    assert panel.files.summary.value.startswith("scan.zarr: OME-NGFF 0.5")
    assert list(panel.display.fields.choices) == [0, 1, 2]
    assert panel.display.fields.value == [0, 1, 2]
    assert panel.display.channels.value == [0, 1]
    panel.display.channels.value = [1]
    panel.display.fields.value = [0]
    assert [layer.name for layer in viewer.layers] == ["scan_00001 · field 1 · ch 2"]
    panel.display.fields.value = [0, 2]
    assert len(viewer.layers) == 2
    assert panel.store is not None  # its own layers coming back did not replace it


def test_view_opens_a_store_and_refuses_a_foreign_one(launch, write, tmp_path):
    from napari_scanimage.errors import ScanImageFileError

    scan = read_scan(write(MROI).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr")
    viewer = launch([str(out) + "/"], show=False)
    assert len(viewer.layers) == 6  # three fields x two channels
    assert all(STORE_KEY in layer.metadata for layer in viewer.layers)
    assert viewer.window.dock_widgets["ScanImage scan"].store is not None
    foreign = zarr.create_group(tmp_path / "other.zarr")
    with pytest.raises(ScanImageFileError, match=r"other\.zarr: is not a complete OME-Zarr store"):
        launch([str(foreign.store.root)], show=False)
