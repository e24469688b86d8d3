"""An exported OME-Zarr opens in napari (napari-ome-zarr) where the live scan's layers are."""

from __future__ import annotations

import re

import numpy as np
import pytest
import zarr
from napari.layers import Image

from napari_scanimage._napari._export import save_as_zarr
from napari_scanimage._napari._layers import METADATA_KEY, layer_data
from napari_scanimage.export import to_zarr
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS

pytest.importorskip("napari_ome_zarr")

SPECS = {
    "mroi": ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=6),
    "fast-z": ScanSpec(
        rois=STRIPS[:2],
        channels=(1, 2),
        num_frames=4,
        stack="fast",
        zs=(0.0, 25.0),
        flyback_frames=1,
    ),
}
# The channels' OME labels, which repeat the live layers' names.
NAME = re.compile(r"scan_00001 · field (\d+) · ch (\d+)")


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def live_layers(scan):
    """The live scan's layers by (field index, ScanImage channel), with the field's z index."""
    layers = {}
    for data, kwargs, _ in layer_data(scan, contrast=False):
        info = kwargs["metadata"][METADATA_KEY]
        layer = Image(data, scale=kwargs["scale"], translate=kwargs["translate"])
        for z, field in enumerate(info["fields"]):
            layers[field, scan.channels[info["channel"]]] = (layer, z)
    return layers


@pytest.mark.parametrize("ngff", ["0.4", "0.5"])
@pytest.mark.parametrize("kind", list(SPECS))
def test_exported_fields_open_where_the_live_layers_are(viewer, write, tmp_path, kind, ngff):
    scan = read_scan(write(SPECS[kind]).paths)
    out = to_zarr(scan, tmp_path / "scan.zarr", chunk_frames=2, ngff=ngff)
    viewer.open(str(out), plugin="napari-ome-zarr")  # the store's root opens every field
    assert len(viewer.layers) == scan.num_fields * scan.num_channels
    live = live_layers(scan)
    stacked = scan.num_scanning_depths > 1  # (t, z, y, x) layers; z has length 1 in ours
    for layer in viewer.layers:
        number, channel = map(int, NAME.fullmatch(layer.name).groups())
        field = number - 1
        reference, z = live[field, channel]
        frames = layer.data[0] if layer.multiscale else layer.data  # one level either way
        frame = np.asarray(frames[1])
        truth = scan.read_field(field, channels=[scan.channels.index(channel)], frames=[1])
        np.testing.assert_array_equal(frame.reshape(truth.shape), truth)
        # The same pixel lands on the same world point in y, x and z.  Time differs
        # on purpose: the live layers count frames (scale 1), the export is in
        # seconds (scale 1 / fps).  No half-pixel correction is needed: the live
        # layers translate by the field's corner plus half a pixel because napari
        # puts data index 0 at a pixel's centre, and NGFF's convention is the same,
        # so the export's translation already includes that half pixel.
        for t, y, x in [(0, 0, 0), (3, 5, 7), (1, 15, 11)]:
            ours = layer.data_to_world((t, 0, y, x) if stacked else (t, y, x))
            theirs = reference.data_to_world((t, z, y, x) if stacked else (t, y, x))
            assert ours[1:] == pytest.approx(theirs[1:])
            assert ours[0] == pytest.approx(theirs[0] / scan.fps)
        assert list(layer.scale[-2:]) == pytest.approx(list(reference.scale[-2:]))
        assert layer.scale[0] == pytest.approx(1 / scan.fps)
        assert reference.scale[0] == 1.0


def test_save_as_zarr_runs_in_a_worker_with_a_progress_bar(viewer, write, tmp_path, qtbot):
    written = write(SPECS["mroi"])
    scan = read_scan(written.paths)
    worker = save_as_zarr(scan, tmp_path / "saved.zarr", chunk_frames=2, compression="zstd")
    results = []
    worker.returned.connect(results.append)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        pass
    assert results == [tmp_path / "saved.zarr"]
    assert (worker.pbar.n, worker.pbar.total) == (18, 18)  # 3 fields x 2 channels x 3 blocks
    root = zarr.open_group(str(tmp_path / "saved.zarr"), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is True
    np.testing.assert_array_equal(root["2/0"][...], written.fields[2].data)


def test_the_panel_saves_what_it_shows(viewer, write, tmp_path, qtbot):
    from napari_scanimage._napari._widget import ScanImageWidget

    written = write(SPECS["mroi"])
    viewer.open([str(p) for p in written.paths], plugin="napari-scanimage", stack=True)
    panel = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(panel)
    panel.display.fields.value = [2]
    panel.display.channels.value = [1]
    panel.display.trims["left"].value = 2
    panel.stitching.phase.value = True
    target = tmp_path / "shown.zarr"
    panel.export.path.value = str(target)
    panel.export.save.clicked.emit()
    qtbot.waitUntil(lambda: (target / "zarr.json").exists() or (target / ".zattrs").exists(),
                    timeout=30_000)  # fmt: skip
    with qtbot.waitSignal(panel.export.worker.finished, timeout=30_000, raising=False):
        pass
    root = zarr.open_group(str(target), mode="r")
    record = root.attrs["napari_scanimage"]
    assert record["complete"] is True
    array = root["0/0"]
    expected = panel.scan.read_field(2, channels=[1])
    assert array.shape == (6, 1, 16, 14)
    np.testing.assert_array_equal(array[...], expected)
