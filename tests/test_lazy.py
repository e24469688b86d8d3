"""Dask arrays read only the chunks computed."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.lazy import FieldArray
from napari_scanimage.testing import RoiSpec, ScanSpec


@pytest.fixture
def written(write):
    rois = (RoiSpec(name="a"), RoiSpec(name="b", center_xy=(8.0, 0.0), pixels_xy=(32, 16)))
    return write(ScanSpec(rois=rois, channels=(1, 2), num_frames=10, frames_per_file=4))


def test_to_dask_matches_the_truth(written):
    scan = read_scan(written.paths)
    array = scan.to_dask(1, channel=1, frames_per_chunk=3)
    assert isinstance(array, da.Array)
    assert array.shape == (10, 16, 32)
    assert array.chunks[0] == (3, 3, 3, 1)
    np.testing.assert_array_equal(array.compute(), written.fields[1].data[:, 1])
    np.testing.assert_array_equal(array[7, 2:5].compute(), written.fields[1].data[7, 1, 2:5])


def test_chunks_read_only_their_frames(written, monkeypatch):
    scan = read_scan(written.paths)
    requested = []
    original = scan.read_field

    def spy(field, channels=None, frames=None, rows=None, cols=None, out=None):
        requested.append(np.asarray(frames).tolist())
        return original(field, channels, frames, rows, cols, out)

    monkeypatch.setattr(scan, "read_field", spy)
    array = scan.to_dask(0, channel=0, frames_per_chunk=2)
    np.testing.assert_array_equal(array[5].compute(), written.fields[0].data[5, 0])
    assert requested == [[4, 5]]


def test_field_array_keys(written):
    scan = read_scan(written.paths)
    array = FieldArray(scan, 0, 1)
    truth = written.fields[0].data[:, 1]
    assert array.shape == truth.shape
    assert array.ndim == 3
    np.testing.assert_array_equal(array[3], truth[3])
    np.testing.assert_array_equal(array[2:5, 4], truth[2:5, 4])
    np.testing.assert_array_equal(array[-1, :, 7], truth[-1, :, 7])
    np.testing.assert_array_equal(array[1, 2, 3], truth[1, 2, 3])
    np.testing.assert_array_equal(np.asarray(array), truth)
