"""The first chunk's frames are read while zarr and dask load, and used exactly once."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.export import session, to_zarr
from napari_scanimage.scan.scan import Scan
from napari_scanimage.testing import ScanSpec


@pytest.fixture
def written(write):
    return write(ScanSpec(channels=(1, 2), num_frames=9))


@pytest.fixture
def reads(monkeypatch):
    """Every ``read_field`` call's (field, channels, frames, thread name)."""
    calls = []
    real = Scan.read_field

    def counting(self, field, channels=None, frames=None, **kwargs):
        key = (field, tuple(np.atleast_1d(channels)), tuple(np.atleast_1d(frames)))
        calls.append((*key, threading.current_thread().name))
        return real(self, field, channels=channels, frames=frames, **kwargs)

    monkeypatch.setattr(Scan, "read_field", counting)
    return calls


def test_every_chunk_is_read_once_the_first_one_early(written, reads, tmp_path):
    scan = read_scan(written.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    chunk_reads = [r[:3] for r in reads if len(r[2]) in (4, 1) and r[2][0] % 4 == 0]
    # 3 blocks (4 + 4 + 1 frames) x 2 channels, each read once, the first before the rest
    assert sorted(chunk_reads) == sorted(
        (0, (c,), tuple(range(s, min(s + 4, 9)))) for s in (0, 4, 8) for c in (0, 1)
    )
    assert reads[0] == (0, (0,), (0, 1, 2, 3), "napari-scanimage-early-read")
    stored = zarr.open_array(str(out / "0" / "0"), mode="r")
    np.testing.assert_array_equal(stored[...], scan.read_field(0))
    assert session.count() == 0  # nothing read early is left behind


def test_a_complete_store_drops_what_was_read_early(written, tmp_path):
    scan = read_scan(written.paths)
    to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)  # nothing to do
    assert session.count() == 0


def test_a_refused_store_drops_what_was_read_early(written, tmp_path):
    from napari_scanimage.export import ExportError

    scan = read_scan(written.paths)
    to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    with pytest.raises(ExportError, match="other settings"):
        to_zarr(scan, tmp_path / "out.zarr", chunk_frames=2)
    assert session.count() == 0


def test_a_failed_early_read_is_read_again_by_its_task(written, tmp_path, monkeypatch):
    real = Scan.read_field
    failures = []

    def once_failing(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise OSError("a passing hiccup")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Scan, "read_field", once_failing)
    scan = read_scan(written.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    assert failures == [1]
    monkeypatch.setattr(Scan, "read_field", real)
    np.testing.assert_array_equal(
        zarr.open_array(str(out / "0" / "0"), mode="r")[...], scan.read_field(0)
    )
