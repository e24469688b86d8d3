"""scan[fields, y, x, channels, frames] behaves like numpy applied axis by axis.

Ints drop their axis, slices and lists keep it; lists on several axes select
independently (outer indexing, as scanreader does), not numpy's broadcasting.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage import (
    FieldDimensionMismatch,
    FieldSizeMismatchError,
    ScanImageIndexError,
    read_scan,
)
from napari_scanimage.testing import RoiSpec, ScanSpec

SAME_SIZE_ROIS = tuple(
    RoiSpec(name=f"r{i}", center_xy=(8.0 * i, 0.0), size_xy=(4.0, 4.0), pixels_xy=(20, 12))
    for i in range(3)
)


@pytest.fixture(scope="module")
def scan_and_truth(tmp_path_factory):
    from napari_scanimage.testing import write_scan

    folder = tmp_path_factory.mktemp("indexing")
    written = write_scan(
        folder,
        ScanSpec(rois=SAME_SIZE_ROIS, channels=(1, 2), num_frames=7, frames_per_file=4),
    )
    truth = np.stack([f.data.transpose(2, 3, 1, 0) for f in written.fields])
    return read_scan(written.paths), truth


KEYS = [
    (),
    0,
    -1,
    (slice(None), 3),
    (0, slice(2, 9, 3)),
    (1, slice(None, None, -1)),
    (slice(None), slice(None), -4),
    (2, 5, 7, 1, 6),
    (-3, -12, -20, -2, -7),
    ([0, 2], slice(1, 4), [0, 19, 5]),
    ((2, 0), [11, 0, 3], slice(None), [1, 0]),
    (np.array([1, 1]), slice(None), slice(None), 0, [6, 0, 3]),
    (slice(None), slice(5, 2), 0),
    (Ellipsis, 3),
    (0, Ellipsis, [1], slice(1, None, 2)),
    (slice(None), slice(-100, 100)),
    ([], 0),
    (np.int64(1), np.int32(2)),
]


def outer_index(array, key):
    """numpy on one axis at a time: lists select independently, as in scanreader."""
    from napari_scanimage.scan.indexing import split_key

    parts = split_key(key)
    for axis, part in reversed(list(enumerate(parts))):
        if isinstance(part, slice):
            array = array[(slice(None),) * axis + (part,)]
        else:
            array = np.take(array, part, axis=axis)
    return array


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_matches_numpy_per_axis(scan_and_truth, key):
    scan, truth = scan_and_truth
    expected = outer_index(truth, key)
    got = scan[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_shape_and_len(scan_and_truth):
    scan, truth = scan_and_truth
    assert scan.shape == truth.shape
    assert len(scan) == truth.shape[0]
    assert scan.ndim == 5


@pytest.mark.parametrize(
    ("key", "match"),
    [
        (3, "fields: index 3 is out of range for length 3"),
        ((0, 12), "y: index 12 is out of range"),
        ((0, slice(None), -21), "x: index -21 is out of range"),
        ((0, 0, 0, 2), "channels: index 2"),
        ((0, 0, 0, 0, 7), "frames: index 7"),
        ((0, 0, 0, 0, [0, 9]), "frames: index 9"),
        (np.array([True, False, True]), "boolean"),
        ((0, [True] * 12), "boolean"),
        (True, "boolean"),
        (None, "new axes"),
        ((0, 0, 0, 0, 0, 0), "too many indices"),
        ((Ellipsis, 0, Ellipsis), "single ellipsis"),
        ("a", "cannot index with str"),
        (([[0, 1]],), "flat list of ints"),
        ((0, 1.5), "cannot index with float"),
    ],
)
def test_bad_indexes_raise_index_errors(scan_and_truth, key, match):
    scan, _ = scan_and_truth
    with pytest.raises(ScanImageIndexError, match=match) as info:
        scan[key]
    assert isinstance(info.value, IndexError)


def test_fields_of_different_sizes_cannot_be_stacked(write):
    rois = (RoiSpec(name="big", pixels_xy=(30, 20)), RoiSpec(name="small", center_xy=(9, 0)))
    written = write(ScanSpec(rois=rois))
    scan = read_scan(written.paths)
    with pytest.raises(FieldSizeMismatchError, match="field 0: 20x30, field 1: 48x64"):
        scan[:]
    with pytest.raises(FieldDimensionMismatch):
        _ = scan.shape
    # one field at a time works, and so does a list of one
    np.testing.assert_array_equal(scan[1], written.fields[1].data.transpose(2, 3, 1, 0))
    assert scan[[0], 0, 0, 0, 0].shape == (1,)


def test_read_field_rows_and_cols(scan_and_truth):
    scan, truth = scan_and_truth
    block = scan.read_field(1, channels=[1], frames=[6, 2], rows=slice(3, 8), cols=slice(10, 20))
    np.testing.assert_array_equal(
        block, truth[1, 3:8, 10:20][:, :, [1]][..., [6, 2]].transpose(3, 2, 0, 1)
    )


# scan[f, y, x, c, t] with ints f, c, step-1 slices y, x and an int or step-1 slice t
# (what scanreader pipelines read per frame) skips the general resolution.
PLAIN_KEYS = [
    (0, slice(None), slice(None), 0, 3),
    (-1, slice(None), slice(None), -1, -7),
    (np.int64(2), slice(None), slice(None), np.int32(1), np.int64(6)),
    (1, slice(None), slice(None), 0, slice(2, 5)),
    (1, slice(2, 9), slice(-5, None), 1, slice(None, None, 1)),
    (0, slice(None), slice(None), 0, slice(-3, None)),
    (2, slice(None), slice(None), 1, slice(-100, 100)),
    (0, slice(None), slice(None), 0, slice(5, 2)),
    (0, slice(4, 2), slice(None), 0, 1),
]

GENERAL_KEYS = [
    (0, slice(None), slice(None), 0, [3, -1]),
    (0, slice(None), slice(None), [1, 0], 2),
    (0, slice(None), slice(None), 0, slice(0, 6, 2)),
    (0, slice(None, None, -1), slice(None), 0, 2),
    (slice(None), slice(None), slice(None), 0, 1),
    (0, 3, slice(None), 0, 1),
    (0, slice(None), slice(None), slice(None), 1),
    (0, slice(None), slice(None), 0),
    (0, Ellipsis, 1),
]


def assert_same_array(got, expected):
    assert got.shape == expected.shape
    assert (got.strides, got.dtype) == (expected.strides, expected.dtype)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("key", PLAIN_KEYS, ids=repr)
def test_plain_keys_take_the_fast_path_and_read_what_the_general_one_reads(scan_and_truth, key):
    from napari_scanimage.scan.indexing import select_outer, select_plain

    scan, truth = scan_and_truth
    fast = select_plain(scan, *key)
    assert fast is not None
    assert_same_array(fast, select_outer(scan, key))
    assert_same_array(scan[key], fast)
    np.testing.assert_array_equal(fast, outer_index(truth, key))


@pytest.mark.parametrize("key", GENERAL_KEYS, ids=repr)
def test_other_keys_read_the_general_way(scan_and_truth, key):
    from napari_scanimage.scan.indexing import select_plain

    scan, truth = scan_and_truth
    if isinstance(key, tuple) and len(key) == 5:
        assert select_plain(scan, *key) is None
    np.testing.assert_array_equal(scan[key], outer_index(truth, key))


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ((0, slice(None), slice(None), 0, 7), "frames: index 7 is out of range"),
        ((0, slice(None), slice(None), 0, -8), "frames: index -8 is out of range"),
        ((3, slice(None), slice(None), 0, 0), "fields: index 3 is out of range"),
        ((0, slice(None), slice(None), -3, 0), "channels: index -3 is out of range"),
        ((True, slice(None), slice(None), 0, 0), "boolean"),
        ((0, slice(None), slice(None), 0, 1.0), "cannot index with float"),
    ],
)
def test_plain_form_errors_as_the_general_path(scan_and_truth, key, match):
    scan, _ = scan_and_truth
    with pytest.raises(ScanImageIndexError, match=match):
        scan[key]


def test_fast_path_on_joined_phase_corrected_split_files(write):
    from napari_scanimage.scan.indexing import select_outer, select_plain

    touching = tuple(
        RoiSpec(name=f"r{i}", center_xy=(4.0 * i, 0.0), size_xy=(4.0, 4.0), pixels_xy=(16, 10))
        for i in range(2)
    )
    written = write(
        ScanSpec(rois=touching, channels=(1, 2), num_frames=6, frames_per_file=4, scan_phase=1.0)
    )
    scan = read_scan(written.paths, join_contiguous=True, fix_scan_phase=1.0)
    assert scan.num_fields == 1
    assert scan.num_files > 1
    for key in [
        (0, slice(None), slice(None), 1, 4),
        (0, slice(None), slice(None), 0, slice(1, 6)),
        (0, slice(2, 7), slice(5, 25), -1, slice(-4, -1)),
    ]:
        fast = select_plain(scan, *key)
        assert fast is not None
        assert_same_array(fast, select_outer(scan, key))
    block = scan[0, :, :, 0, 1:5]
    expected = scan.read_field(0, 0, range(1, 5))[:, 0].transpose(1, 2, 0)
    assert_same_array(block, expected)
