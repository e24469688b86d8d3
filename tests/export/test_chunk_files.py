"""Chunks written straight to their files are the very bytes zarr writes, or zarr writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.export import to_zarr
from napari_scanimage.export.chunk_files import ChunkFiles
from napari_scanimage.export.store import RECORDS
from napari_scanimage.testing import ScanSpec
from tests.conftest import STRIPS

if TYPE_CHECKING:
    from pathlib import Path

METADATA = {".zarray", ".zattrs", ".zgroup", "zarr.json", "METADATA.ome.xml"}


def chunk_files(store: Path) -> dict[str, bytes]:
    """Every chunk or shard file of a store's images (records and metadata left out)."""
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name not in METADATA and RECORDS not in p.parts
    }


def through_zarr(monkeypatch, scan, out, **options):
    """The same conversion with every chunk written by zarr itself."""
    with monkeypatch.context() as patch:
        patch.setattr(ChunkFiles, "of", classmethod(lambda cls, array: None))
        return to_zarr(scan, out, **options)


@pytest.fixture
def scans(write):
    return {
        "mroi": write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=11, frames_per_file=4)),
        "fast-z": write(
            ScanSpec(channels=(1, 2), num_frames=7, stack="fast", zs=(0.0, 10.0, 20.0))
        ),
    }


@pytest.mark.parametrize("kind", ["mroi", "fast-z"])
@pytest.mark.parametrize(
    "options",
    [
        {"ngff": "0.4", "chunk_frames": 4},  # 11 frames: the last chunk is cut short
        {"ngff": "0.4", "chunk_frames": 4, "compression": "zstd"},
        {"ngff": "0.4", "chunk_frames": 4, "compression": "blosc"},
        {"ngff": "0.5", "shard_frames": 4},  # the last shard holds 3 of its 4 chunks
        {"ngff": "0.5", "shard_frames": 4, "compression": "zstd"},
        {"ngff": "0.5", "chunk_frames": 2, "shard_frames": 4},  # a last chunk cut short
    ],
    ids=lambda o: "-".join(str(v) for v in o.values()),
)
def test_the_files_are_the_bytes_zarr_writes(scans, kind, options, tmp_path, monkeypatch):
    scan = read_scan(scans[kind].paths)
    ours = to_zarr(scan, tmp_path / "ours.zarr", **options)
    theirs = through_zarr(monkeypatch, scan, tmp_path / "zarr.zarr", **options)
    written = chunk_files(ours)
    assert len(written) > 1
    assert written == chunk_files(theirs)
    for i in range(len(scan.fields)):
        array = zarr.open_array(str(ours / str(i) / "0"), mode="r")
        assert ChunkFiles.of(array) is not None  # the fast path was taken
        stored = array[...] if array.ndim == 4 else array[:, :, 0]
        np.testing.assert_array_equal(stored, scan.read_field(i))  # (t, c, y, x)


def test_a_layout_it_does_not_know_goes_through_zarr(scans, tmp_path):
    scan = read_scan(scans["mroi"].paths)
    out = to_zarr(scan, tmp_path / "blosc.zarr", ngff="0.5", shard_frames=4, compression="blosc")
    array = zarr.open_array(str(out / "0" / "0"), mode="r")
    assert ChunkFiles.of(array) is None
    np.testing.assert_array_equal(array[:, 1], scan.read_field(0, channels=[1])[:, 0])


def test_unsharded_v3_arrays_and_other_stores_go_through_zarr(tmp_path):
    plain = zarr.create_array(
        str(tmp_path / "v3.zarr"), shape=(4, 1, 8, 8), chunks=(2, 1, 8, 8), dtype="int16"
    )
    assert ChunkFiles.of(plain) is None
    array = zarr.create_array(
        zarr.storage.MemoryStore(), shape=(4, 1, 8, 8), chunks=(2, 1, 8, 8), dtype="int16"
    )
    assert ChunkFiles.of(array) is None


def test_chunks_that_split_a_frame_go_through_zarr(tmp_path):
    options = {"shape": (4, 1, 8, 8), "dtype": "int16", "zarr_format": 2, "compressors": None}
    array = zarr.create_array(str(tmp_path / "a.zarr"), chunks=(2, 1, 4, 8), **options)
    assert ChunkFiles.of(array) is None
    whole = zarr.create_array(str(tmp_path / "b.zarr"), chunks=(2, 1, 8, 8), **options)
    assert ChunkFiles.of(whole) is not None


def test_a_link_planted_where_a_chunk_goes_is_refused_not_followed(tmp_path):
    from napari_scanimage.export import ExportError

    array = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=(4, 1, 8, 8), chunks=(2, 1, 8, 8), dtype="int16",
        zarr_format=2, compressors=None, chunk_key_encoding={"name": "v2", "separator": "/"},
    )  # fmt: skip
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    link = tmp_path / "a.zarr" / "0" / "0" / "0" / "0"
    link.parent.mkdir(parents=True)
    link.symlink_to(victim)
    files = ChunkFiles.of(array)
    with pytest.raises(ExportError, match="symbolic link"):
        files.write(0, 0, np.ones((2, 1, 8, 8), dtype="int16"))
    assert victim.read_text() == "keep"
    files.write(2, 0, np.ones((2, 1, 8, 8), dtype="int16"))  # other chunks are written
    np.testing.assert_array_equal(array[2:], 1)
