"""Older ScanImage generations and re-saved files open in napari like 2016+ files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_scanimage._napari._reader import napari_get_reader, read_scanimage
from napari_scanimage.testing import ScanSpec, write_scan
from napari_scanimage.testing_legacy import LegacySpec, resave_scan, write_legacy_scan


@pytest.mark.parametrize("generation", ["3.x", "4.x", "5.0", "5.1", "5.2", "2015"])
def test_reader_accepts_every_generation(tmp_path, generation):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation=generation, channels=(1, 2)))
    assert napari_get_reader(str(truth.path)) is read_scanimage


def test_reader_accepts_resaved_and_declines_plain_tiffs(tmp_path):
    written = write_scan(tmp_path, ScanSpec(num_frames=2))
    assert napari_get_reader(str(resave_scan(written.paths[0], tmp_path / "re.tif"))) is not None
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((5, 8, 8), np.uint16), description="x" * 100_000)
    assert napari_get_reader(str(plain)) is None


def test_unknown_pixel_size_opens_in_pixels(make_napari_viewer, tmp_path):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation="5.0", channels=(1, 2)))
    viewer = make_napari_viewer()
    viewer.open(str(truth.path), plugin="napari-scanimage")
    assert len(viewer.layers) == 2
    layer = viewer.layers[0]
    assert tuple(layer.scale) == (1.0, 1.0, 1.0)
    assert [str(u) for u in layer.units][1:] == ["pixel", "pixel"]
    np.testing.assert_array_equal(np.asarray(layer.data[2]), truth.data[0, 2, 0])


def test_known_pixel_size_opens_in_um(make_napari_viewer, tmp_path):
    spec = LegacySpec(generation="2015", channels=(1,), fov_um=(8.0, 12.0))
    truth = write_legacy_scan(tmp_path, spec)
    viewer = make_napari_viewer()
    viewer.open(str(truth.path), plugin="napari-scanimage")
    (layer,) = viewer.layers
    assert tuple(layer.scale)[1:] == pytest.approx((0.5, 0.5))
    assert str(layer.units[1]) in ("micrometer", "µm")


def test_dropping_split_legacy_files_gives_one_set_of_layers(make_napari_viewer, tmp_path):
    spec = LegacySpec(generation="4.x", channels=(1, 2), num_frames=2)
    first = write_legacy_scan(tmp_path, spec, name="run_00001_00001.tif")
    later = LegacySpec(generation="4.x", channels=(1, 2), num_frames=2, first_frame=2, seed=3)
    second = write_legacy_scan(tmp_path, later, name="run_00001_00002.tif")
    viewer = make_napari_viewer()
    viewer.open([str(first.path), str(second.path)], plugin="napari-scanimage", stack=True)
    assert len(viewer.layers) == 2
    assert viewer.layers[1].data.shape[0] == 4
    np.testing.assert_array_equal(np.asarray(viewer.layers[1].data[3]), second.data[0, 1, 1])
