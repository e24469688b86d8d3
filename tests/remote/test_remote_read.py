"""Reading recordings from S3 (moto) and HTTP: same pixels as local, few requests."""

from __future__ import annotations

import time

import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.format.header import is_scanimage_file
from napari_scanimage.lazy import FieldArray
from napari_scanimage.lazy.prefetch import prefetcher
from napari_scanimage.scan.files import expand_paths, whole_acquisitions
from tests.remote.conftest import BUCKET


def remote_object(scan, index=0):
    return scan._source.readers[index]._remote


def test_a_remote_scan_reads_as_the_local_one(remote, recordings):
    [name] = recordings.names("mroi")
    with read_scan(remote.url(name), storage_options=remote.options) as scan:
        local = read_scan(recordings.local("mroi"))
        assert scan.filenames == [remote.url(name)]
        assert (scan.num_frames, scan.num_fields, scan.num_channels) == (12, 4, 2)
        for field in range(scan.num_fields):
            np.testing.assert_array_equal(scan[field], local[field])
        np.testing.assert_array_equal(
            scan.read_field(2, frames=[3, 0, 3], rows=slice(5, 9), cols=slice(7, 40)),
            local.read_field(2, frames=[3, 0, 3], rows=slice(5, 9), cols=slice(7, 40)),
        )
        as_float = scan.with_options(dtype="float32", trim=(1, 2, 3, 4))
        expected = local.with_options(dtype="float32", trim=(1, 2, 3, 4))
        np.testing.assert_array_equal(as_float[1], expected[1])
        assert scan.frame_timestamps().tolist() == local.frame_timestamps().tolist()


def test_ten_thousand_pages_open_count_and_show_a_frame_in_few_requests(remote, recordings):
    [name] = recordings.names("long")
    scan = read_scan(remote.url(name), storage_options=remote.options)
    assert scan.num_frames == 10_000
    frame = scan[0, :, :, 0, 0]
    requests = remote.traffic.requests
    assert len(requests) <= 15, [r[:3] for r in requests]
    assert remote.traffic.bytes < 400_000  # the head and a few windows, not the IFD chain
    local = read_scan(recordings.local("long"))
    np.testing.assert_array_equal(frame, local[0, :, :, 0, 0])
    np.testing.assert_array_equal(scan[0, :, :, 0, -1], local[0, :, :, 0, -1])


def test_a_whole_field_comes_in_large_ranges_within_a_tenth_of_the_object(remote, recordings):
    [name] = recordings.names("long")
    size = recordings.written["long"].paths[0].stat().st_size
    scan = read_scan(remote.url(name), storage_options=remote.options)
    remote.traffic.reset()
    data = scan.read_field(0)
    assert data.shape == (10_000, 1, 48, 48)
    reads = remote.traffic.reads(name)
    sent = sum(r[2] for r in reads)
    assert sent <= 1.1 * size
    big = [r[2] for r in reads if r[2] >= 8 * 2**20]
    assert sum(big) >= 0.95 * size  # everything but the change guard in >= 8 MB ranges
    assert len(reads) <= 6
    local = read_scan(recordings.local("long")).read_field(0, frames=[0, 4999, 9999])
    np.testing.assert_array_equal(data[[0, 4999, 9999]], local)


def test_an_mroi_field_fetches_only_its_own_rows(remote, recordings):
    [name] = recordings.names("mroi")
    scan = read_scan(remote.url(name), storage_options=remote.options)
    field = scan.fields[1]
    remote.traffic.reset()
    data = scan.read_field(1, channels=[0])
    assert data.shape == (12, 1, field.height, field.width)
    field_bytes = 12 * field.height * field.width * 2
    sent = sum(r[2] for r in remote.traffic.reads(name))
    assert sent <= 1.1 * field_bytes + 8192  # its rows (and the change guard), no neighbours
    np.testing.assert_array_equal(
        data, read_scan(recordings.local("mroi")).read_field(1, channels=[0])
    )


def test_a_napari_step_over_every_field_and_channel_is_one_batch(remote, recordings):
    [name] = recordings.names("mroi")
    scan = read_scan(remote.url(name), storage_options=remote.options)
    local = read_scan(recordings.local("mroi"))
    ahead = prefetcher(scan)
    ahead.ahead = ahead.behind = 0  # the step alone
    layers = [FieldArray(scan, f, c) for f in range(4) for c in range(2)]
    source = remote_object(scan)
    before = source.batches
    remote.traffic.reset()
    frames = [layer[5] for layer in layers]
    assert source.batches == before + 1
    assert len(remote.traffic.reads(name)) <= 3  # the frame's pages merged, and the guard
    for (f, c), frame in zip([(f, c) for f in range(4) for c in range(2)], frames, strict=True):
        np.testing.assert_array_equal(frame, local[f, :, :, c, 5])


def test_stepping_prefetches_the_next_frames_in_the_background(remote, recordings):
    [name] = recordings.names("mroi")
    scan = read_scan(remote.url(name), storage_options=remote.options)
    layer = FieldArray(scan, 0, 1)
    layer[3]
    ahead = prefetcher(scan)
    deadline = time.monotonic() + 10
    while ahead.fetched_frames < 1 + ahead.ahead + ahead.behind and time.monotonic() < deadline:
        time.sleep(0.01)
    remote.traffic.reset()
    shown = layer[4]  # fetched ahead: no request now
    assert remote.traffic.reads(name) == []
    np.testing.assert_array_equal(shown, read_scan(recordings.local("mroi"))[0, :, :, 1, 4])
    local_layer = FieldArray(read_scan(recordings.local("mroi")), 0, 1)
    assert prefetcher(local_layer.scan) is None  # local files: the page cache does this


def test_prefetching_stays_within_its_memory_budget(remote, recordings, monkeypatch):
    [name] = recordings.names("mroi")
    scan = read_scan(remote.url(name), storage_options=remote.options)
    frame_bytes = 2 * scan.page_height * scan.page_width * 2
    monkeypatch.setenv("NAPARI_SCANIMAGE_PREFETCH_MB", str(3 * frame_bytes / 2**20))
    layer = FieldArray(scan, 2, 0)
    for t in range(12):
        layer[t]
    ahead = prefetcher(scan)
    time.sleep(0.2)
    assert len(ahead._held) <= 3


def test_globs_and_split_acquisitions_are_listed_through_the_filesystem(remote, recordings):
    names = recordings.names("split")
    assert len(names) == 3
    pattern = remote.url("split/scan_00001_*.tif")
    files = expand_paths(pattern, remote.options)
    assert files == [remote.url(n) for n in names]
    grown, notes = whole_acquisitions([remote.url(names[1])], remote.options)
    assert grown == files
    assert notes == [("scan_00001", 3)]
    scan = read_scan(pattern, storage_options=remote.options)
    local = read_scan(recordings.local("split"))
    assert scan.num_files == 3
    np.testing.assert_array_equal(scan[0], local[0])


def test_scanimage_files_are_recognised_by_url(remote, recordings):
    [name] = recordings.names("mroi")
    assert is_scanimage_file(remote.url(name), remote.options)
    assert not is_scanimage_file(remote.url("other/notes.tif"), remote.options)
    assert not is_scanimage_file(remote.url("other/missing.tif"), remote.options)


def test_the_napari_reader_takes_urls(s3, recordings, monkeypatch):
    from napari_scanimage._napari._layers import METADATA_KEY
    from napari_scanimage._napari._reader import napari_get_reader

    monkeypatch.setitem(__import__("fsspec").config.conf, "s3", dict(s3.options))
    url = f"s3://{BUCKET}/{recordings.names('mroi')[0]}"
    reader = napari_get_reader(url)
    assert reader is not None
    layers = reader(url)
    assert len(layers) == 8  # 4 fields x 2 channels
    data, meta, kind = layers[0]
    assert kind == "image"
    assert meta["metadata"][METADATA_KEY]["files"] == [url]
    np.testing.assert_array_equal(
        np.asarray(data[3]), read_scan(recordings.local("mroi"))[0, :, :, 0, 3]
    )
    assert napari_get_reader(f"s3://{BUCKET}/other/notes.tif") is None


def test_following_picks_up_files_uploaded_since(s3, recordings):
    fs = s3.filesystem()
    local = recordings.local("split")
    for path in local[:2]:
        fs.put(path, f"{BUCKET}/growing/{path.rsplit('/', 1)[1]}")
    scan = read_scan(f"s3://{BUCKET}/growing/scan_00001_*.tif", storage_options=s3.options)
    assert (scan.num_files, scan.num_frames) == (2, 8)
    fs.put(local[2], f"{BUCKET}/growing/{local[2].rsplit('/', 1)[1]}")
    assert scan.refresh() == 1
    assert scan.num_files == 3
    np.testing.assert_array_equal(scan[0], read_scan(local)[0])
    assert scan.reopen().num_frames == 9


@pytest.mark.parametrize(
    ("url", "problem"),
    [("nosuchscheme://bucket/scan.tif", "cannot open this kind of URL")],
)
def test_urls_fsspec_cannot_open_are_our_error(url, problem):
    from napari_scanimage.errors import ScanImageFileError

    with pytest.raises(ScanImageFileError, match=f"^{url}: {problem}"):
        read_scan(url)
    assert not is_scanimage_file(url)


def test_an_s3a_url_lists_its_series_once(s3, recordings):
    """s3a:// is s3fs too: listed names keep the user's scheme (found in review)."""
    names = recordings.names("split")
    url = f"s3a://{BUCKET}/{names[1]}"
    grown, notes = whole_acquisitions([url], s3.options)
    assert grown == [f"s3a://{BUCKET}/{n}" for n in names]
    assert notes == [("scan_00001", 3)]
    scan = read_scan(grown, storage_options=s3.options)
    np.testing.assert_array_equal(scan[0], read_scan(recordings.local("split"))[0])


@pytest.mark.parametrize("name", ["resaved_big", "resaved_classic"])
def test_files_without_the_static_block_are_refused_at_a_url(remote, recordings, name):
    from napari_scanimage.errors import ScanImageFileError

    url = remote.url(f"other/{name}.tif")
    read_scan(recordings.folder / "other" / f"{name}.tif").close()  # readable from a disk
    remote.traffic.reset()
    with pytest.raises(ScanImageFileError, match="local disks only; download it first"):
        read_scan(url, storage_options=remote.options)
    assert remote.traffic.count <= 4  # decided from the head, not by walking the file
