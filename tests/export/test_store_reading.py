"""The core store reader (no napari): checked opening, frames read as numpy indexes them,
guarded chunk reads."""

from __future__ import annotations

import os
import threading

import dask.array as da
import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.errors import StoreError
from napari_scanimage.export import to_zarr
from napari_scanimage.export.stored import complete_record, open_store
from napari_scanimage.export.stored_arrays import Planes
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import STRIPS

FAST_Z = ScanSpec(
    rois=STRIPS[:2], channels=(1, 2), num_frames=5, stack="fast", zs=(0.0, 25.0), flyback_frames=1
)


@pytest.fixture(params=["0.4", "0.5"])
def ngff(request):
    return request.param


@pytest.fixture
def fast_z(write, tmp_path, ngff):
    written = write(FAST_Z)
    store = to_zarr(read_scan(written.paths), tmp_path / "z.zarr", ngff=ngff, chunk_frames=2)
    return written, store


def test_a_store_opens_checked(fast_z):
    _, store = fast_z
    stored = open_store(store)
    assert stored.path == str(store.resolve())
    assert stored.channels == (1, 2)
    assert stored.has_z
    assert stored.num_frames == 5
    assert sorted(stored.fields) == [0, 1, 2, 3]
    assert stored.depths == {0: 0.0, 1: 25.0}
    assert stored.z_axis(1) == (25.0, 25.0, "µm")
    for image in stored.images.values():
        for low, high in image.limits:
            assert -32768 <= low < high <= 32767
    assert complete_record(store) == stored.record
    assert complete_record(store.parent) is None  # not a *.zarr folder


@pytest.mark.parametrize(
    "key",
    [
        3,
        -1,
        slice(None),
        slice(1, 4),
        slice(None, None, 2),
        (2, 1),
        (slice(0, 2), 0, slice(3, 9), slice(None, None, 3)),
        (slice(None), [1, 0]),
        ([4, 0, 2],),
        (1, slice(None), [0, 5, 2]),
        (np.int64(2), np.array([True, False]), slice(1, 3)),
    ],
    ids=str,
)
def test_planes_index_as_dask_does(fast_z, key):
    """Integers, slices and one list per key, as dask indexes (outer indexing)."""
    written, store = fast_z
    stored = open_store(store)
    fields = [stored.fields[0], stored.fields[2]]  # one ROI at both depths
    planes = Planes(stored.path, [stored.images[f.index].array for f in fields], 1, has_z=True)
    truth = np.stack([written.fields[f.index].data[:, 1] for f in fields], axis=1)  # t, z, y, x
    assert planes.shape == truth.shape
    expected = np.asarray(da.from_array(truth, chunks=(2, 1, -1, -1))[key])
    np.testing.assert_array_equal(planes[key], expected)
    np.testing.assert_array_equal(np.asarray(stored.planes(fields, 1)[key]), expected)


def test_out_of_range_indices_raise_index_errors(fast_z):
    _, store = fast_z
    stored = open_store(store)
    planes = Planes(stored.path, [stored.images[0].array], 0, has_z=True)
    with pytest.raises(IndexError):
        planes[5]
    with pytest.raises(IndexError):
        planes[:, :, [0, 99]]


def test_a_chunk_replaced_by_a_fifo_or_a_link_out_fails_fast(write, tmp_path, ngff):
    written = write(ScanSpec(rois=(RoiSpec(pixels_xy=(16, 8)),), num_frames=4))
    store = to_zarr(read_scan(written.paths), tmp_path / "s.zarr", ngff=ngff, chunk_frames=2)
    chunks = sorted(
        p
        for p in (store / "0" / "0").rglob("*")
        if p.is_file() and p.name not in (".zarray", ".zattrs", "zarr.json")
    )
    layer = open_store(store).planes([open_store(store).fields[0]], 0)
    chunks[0].unlink()
    os.mkfifo(chunks[0])
    result = {}
    thread = threading.Thread(target=lambda: result.update(error=_error(layer, 0)), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "hangs on a FIFO"
    assert isinstance(result["error"], StoreError)
    assert "not a regular file" in str(result["error"])
    chunks[-1].unlink()
    chunks[-1].symlink_to("/dev/zero")
    assert "links out of the store" in str(_error(layer, 3))


def _error(layer, frame):
    try:
        np.asarray(layer[frame])
    except StoreError as exc:
        return exc
    return None
