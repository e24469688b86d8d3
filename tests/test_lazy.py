"""Dask arrays read only the chunks computed."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.lazy import FieldArray
from napari_scanimage.testing import LiveWriter, RoiSpec, ScanSpec


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


KEYS = [
    3,
    -1,
    slice(None),
    (slice(2, 5), 4),
    (slice(None, None, -2), slice(1, 9, 3), [0, 5, 2]),
    ([4, 0, 4], -3, slice(None)),
    (np.int64(1), slice(None), np.int32(-2)),
    (Ellipsis, slice(3, 6)),
    (slice(7, 2), slice(None)),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_field_array_follows_numpy(written, key):
    array = FieldArray(read_scan(written.paths), 1, 0)
    np.testing.assert_array_equal(array[key], written.fields[1].data[:, 0][key])


def test_field_array_with_a_z_axis(write):
    written = write(ScanSpec(stack="fast", zs=(0.0, 10.0, 20.0), num_frames=5, channels=(1, 2)))
    scan = read_scan(written.paths)
    array = FieldArray(scan, [0, 1, 2], 1)
    truth = np.stack([written.fields[i].data[:, 1] for i in range(3)], axis=1)
    assert array.shape == truth.shape == (5, 3, *truth.shape[2:])
    assert array.ndim == 4
    assert array.dtype == truth.dtype
    for key in [(2, 1), (-1,), (slice(None), 2, 3), (1, [2, 0], slice(0, 4)), (0, 1, 5, 6)]:
        np.testing.assert_array_equal(array[key], truth[key])


def test_array_shape_follows_a_growing_scan(written, tmp_path):
    live = LiveWriter(written, tmp_path)
    live.write_to(live.sizes[0])  # the first file: 4 frames of 2 channels
    scan = read_scan(live.targets[0])
    array, view = FieldArray(scan, 0, 1), FieldArray(scan.with_options(trim=(1, 1, 0, 0)), 1, 0)
    assert array.shape[0] == len(array) == view.shape[0] == 4
    with pytest.raises(IndexError):
        array[4]
    live.write_to(live.total)
    assert scan.refresh() == 6
    assert array.shape == written.fields[0].data[:, 1].shape == (10, 48, 64)
    assert view.shape == (10, 16, 30)  # a view of the same files grows too
    np.testing.assert_array_equal(array[9], written.fields[0].data[9, 1])
    np.testing.assert_array_equal(view[-1], written.fields[1].data[9, 0, :, 1:-1])


def test_frame_read_is_one_read_field_call(written, monkeypatch):
    scan = read_scan(written.paths)
    calls = []
    original = scan.read_field

    def spy(field, channels=None, frames=None, rows=None, cols=None, out=None):
        calls.append((field, list(channels), np.asarray(frames).tolist(), rows, cols))
        return original(field, channels, frames, rows, cols, out)

    monkeypatch.setattr(scan, "read_field", spy)
    FieldArray(scan, 1, 1)[6, 2:4]
    assert calls == [(1, [1], [6], slice(2, 4), slice(0, 32))]
