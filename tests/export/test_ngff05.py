"""NGFF 0.5 export: Zarr v3, sharded arrays, the ``ome`` attribute key, resuming by shard."""

from __future__ import annotations

import json
import math
import tracemalloc

import dask
import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.export import ExportError, to_zarr
from napari_scanimage.export import chunks as chunk_module
from napari_scanimage.export.plan import ExportPlan, shard_frames_for
from napari_scanimage.export.store import RECORDS
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import STRIPS
from tests.export.test_zarr import Counting


@pytest.fixture
def mroi(write):
    return write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=10, frames_per_file=4))


def attributes(path):
    return json.loads((path / "zarr.json").read_text())["attributes"]


def test_sharded_store_round_trips_pixel_exact(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", ngff="0.5", shard_frames=4)
    for i, truth in enumerate(mroi.fields):
        array = zarr.open_array(str(out / str(i) / "0"), mode="r")
        assert array.metadata.zarr_format == 3
        assert array.chunks == (1, 1, truth.height, truth.width)  # one frame per chunk
        assert array.shards == (4, 1, truth.height, truth.width)
        assert array.metadata.dimension_names == ("t", "c", "y", "x")
        np.testing.assert_array_equal(array[...], truth.data)
    # one file per shard: 3 shards of 4 frames (the last holds 2) x 2 channels
    shards = [p for p in (out / "0" / "0" / "c").rglob("*") if p.is_file()]
    assert len(shards) == 3 * 2
    assert not (out / "0" / ".zarray").exists()


def test_ngff_05_metadata_sits_under_ome(mroi, tmp_path):
    out = to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr", ngff="0.5")
    root = attributes(out)
    assert root["ome"] == {"version": "0.5", "bioformats2raw.layout": 3}
    record = root["napari_scanimage"]
    assert record["complete"] is True
    assert (record["project"], record["ngff"]) == ("napari-scanimage", "0.5")
    assert record["settings"]["format"] == "OME-NGFF 0.5, Zarr format 3"
    assert record["settings"]["shard_frames"] == 10  # never longer than the recording
    assert [f.rsplit("/", 1)[-1] for f in record["files"]] == [p.name for p in mroi.paths]
    image = attributes(out / "2")
    assert image["napari_scanimage"]["field"] == 2
    ome = image["ome"]
    assert ome["version"] == "0.5"
    multiscale = ome["multiscales"][0]
    assert "version" not in multiscale  # 0.5 states it once, in "ome"
    scale, translation = multiscale["datasets"][0]["coordinateTransformations"]
    assert scale["scale"] == pytest.approx([1 / 30, 1.0, 2.8125, 2.8125])
    assert translation["translation"] == pytest.approx(
        [0, 0, 90 - 22.5 + 1.40625, 180 - 22.5 + 1.40625]
    )
    assert [c["color"] for c in ome["omero"]["channels"]] == ["00FF00", "FF00FF"]
    assert attributes(out / "OME")["ome"] == {"version": "0.5", "series": ["0", "1", "2"]}
    assert (out / "OME" / "METADATA.ome.xml").is_file()


def test_fast_z_and_compression(write, tmp_path):
    rois = (RoiSpec(name="a", pixels_xy=(20, 12)), RoiSpec(name="b", center_xy=(8.0, 0.0)))
    spec = ScanSpec(
        rois=rois, channels=(1, 2), num_frames=5, stack="fast", zs=(0.0, 10.0), content="cells"
    )
    written = write(spec)
    out = to_zarr(read_scan(written.paths), tmp_path / "z.zarr", ngff="0.5", compression="blosc")
    for i, truth in enumerate(written.fields):
        array = zarr.open_array(str(out / str(i) / "0"), mode="r")
        assert array.metadata.dimension_names == ("t", "c", "z", "y", "x")
        np.testing.assert_array_equal(array[:, :, 0], truth.data)
    out = to_zarr(read_scan(written.paths), tmp_path / "s.zarr", ngff="0.5", compression="zstd")
    array = zarr.open_array(str(out / "1" / "0"), mode="r")
    np.testing.assert_array_equal(array[:, :, 0], written.fields[1].data)


def test_shards_hold_hundreds_of_frames():
    # 512 x 512 int16 frames: 256 frames (128 MB) per shard, so 100,000 frames are
    # 391 files per channel; small frames stop at 1024, huge ones at 256.
    frame = 512 * 512 * 2
    assert shard_frames_for(frame, 1) == 256
    assert math.ceil(100_000 / shard_frames_for(frame, 1)) == 391
    assert shard_frames_for(32 * 32 * 2, 1) == 1024
    assert shard_frames_for(4096 * 4096 * 2, 1) == 256
    assert shard_frames_for(256 * 256 * 2, 3) == 1023  # whole inner chunks


def test_an_interrupted_sharded_conversion_resumes_by_shard(mroi, tmp_path, monkeypatch):
    scan = read_scan(mroi.paths)
    path = tmp_path / "out.zarr"
    total = 3 * 2 * 3  # fields x channels x shards of 4 frames
    monkeypatch.setattr(chunk_module, "write_chunk", Counting(fail_after=5))
    with dask.config.set(scheduler="synchronous"), pytest.raises(RuntimeError, match="interr"):
        to_zarr(scan, path, ngff="0.5", shard_frames=4)
    root = zarr.open_group(str(path), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is False
    assert "ome" not in root.attrs
    recorded = [
        (image, block, channel)
        for image in "012"
        for block, channel in np.argwhere(root[RECORDS][image][...] >= 0)
    ]
    assert len(recorded) == 5
    # damage one recorded shard: it fails its checksum and is written again
    image, block, channel = recorded[0]
    array = zarr.open_array(str(path / image / "0"), mode="r+")
    array[4 * block : 4 * block + 4, channel] = 0
    again = Counting()
    monkeypatch.setattr(chunk_module, "write_chunk", again)
    calls = []
    to_zarr(scan, path, ngff="0.5", shard_frames=4, progress=lambda *a: calls.append(a))
    assert (again.written, again.kept) == (total - 5 + 1, 4)
    assert calls[-1] == (total, total)
    for i, truth in enumerate(mroi.fields):
        np.testing.assert_array_equal(zarr.open_array(str(path / str(i) / "0"))[...], truth.data)
    assert attributes(path)["napari_scanimage"]["complete"] is True
    assert not (path / RECORDS).exists()


def test_distributed_workers_write_whole_shards(mroi, tmp_path):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        out = to_zarr(
            read_scan(mroi.paths), tmp_path / "d.zarr", ngff="0.5", shard_frames=2, client=client
        )
    for i, truth in enumerate(mroi.fields):
        np.testing.assert_array_equal(zarr.open_array(str(out / str(i) / "0"))[...], truth.data)


def test_a_store_of_the_other_version_is_not_resumed(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    path = to_zarr(scan, tmp_path / "out.zarr")
    with pytest.raises(
        ExportError, match=r"other settings \(chunk_frames, format, shard_frames\)"
    ):
        to_zarr(scan, path, ngff="0.5")
    to_zarr(scan, path, ngff="0.5", overwrite=True)
    assert not (path / ".zattrs").exists()
    assert attributes(path)["napari_scanimage"]["ngff"] == "0.5"
    to_zarr(scan, path, overwrite=True)  # and back
    assert not (path / "zarr.json").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ngff": "0.6"}, "ngff must be '0.4' or '0.5'"),
        ({"shard_frames": 8}, "shard_frames needs ngff='0.5'"),
        ({"ngff": "0.5", "shard_frames": 0}, "shard_frames must be a positive integer"),
        (
            {"ngff": "0.5", "chunk_frames": 3, "shard_frames": 8},
            r"shard_frames \(8\) must be a multiple of chunk_frames \(3\)",
        ),
    ],
)
def test_bad_sharding_options(mroi, tmp_path, options, message):
    with pytest.raises(ExportError, match=message):
        to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr", **options)
    assert not (tmp_path / "out.zarr").exists()


def test_plan_counts_shard_tasks(mroi):
    plan = ExportPlan.of(
        read_scan(mroi.paths), chunk_frames=1, compression=None, channels=None, fields=[0],
        ngff="0.5", shard_frames=4,
    )  # fmt: skip
    assert (plan.block_frames, plan.num_blocks, plan.num_chunks) == (4, 3, 6)
    assert plan.frames(2) == (8, 10)


def test_memory_stays_near_a_few_shards(write, tmp_path):
    roi = RoiSpec(size_xy=(6.0, 6.0), pixels_xy=(128, 128))
    scan = read_scan(write(ScanSpec(rois=(roi,), num_frames=480), keep_truth=False).paths)
    shard_bytes = 32 * 128 * 128 * 2  # 1 MB
    field_bytes = 480 * 128 * 128 * 2  # 15.7 MB: 15 shards
    to_zarr(scan, tmp_path / "warm.zarr", ngff="0.5", shard_frames=32)  # imports, caches
    tracemalloc.start()
    try:
        to_zarr(scan, tmp_path / "out.zarr", ngff="0.5", shard_frames=32, compression="zstd")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * shard_bytes, f"peak {peak / 1e6:.1f} MB for 1 MB shards"
    assert peak < field_bytes / 2
