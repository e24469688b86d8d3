"""Live acquisitions: ``ScanSource.refresh`` counts only pages that are wholly on disk."""

from __future__ import annotations

import struct
import threading
import warnings

import numpy as np
import pytest
import tifffile

from napari_scanimage import ScanImageWarning
from napari_scanimage.scan.source import ScanSource
from napari_scanimage.testing import LiveWriter, ScanSpec


def open_live(paths):
    """Open files still being written (their cut tails warn, as they should)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScanImageWarning)
        return ScanSource.open([str(p) for p in paths])


def page_spans(path):
    """``(ifd, description, pixels, end)`` byte offsets of every page of a file."""
    spans = []
    with tifffile.TiffFile(path) as tif:
        for page in tif.pages:
            desc = page.tags["ImageDescription"].valueoffset
            data = page.dataoffsets[0]
            spans.append((page.offset, desc, data, data + sum(page.databytecounts)))
    return spans


def cut_points(live, file_index, span):
    """Stream positions inside each part of one page, and exactly at its end."""
    ifd, desc, data, end = span
    inside = [ifd + 1, ifd + 30, desc - 1, desc + 5, data - 1, data + 1, end - 1, end]
    return [live.stream_offset(file_index, p) for p in inside]


def all_pages(source):
    index = source.readers[0].index
    out = np.empty((source.num_pages, index.height, index.width), index.dtype)
    source.read(np.arange(source.num_pages), slice(None), slice(None), out)
    return out


def truth_pages(written):
    pages = []
    for path in written.paths:
        with tifffile.TiffFile(path) as tif:
            pages.extend(page.asarray() for page in tif.pages)
    return np.stack(pages)


@pytest.fixture
def growing(write, tmp_path):
    """A 2-channel, 5-frame acquisition split into files of 2 frames, replayed live."""
    written = write(ScanSpec(num_frames=5, channels=(1, 2), frames_per_file=2))
    folder = tmp_path / "live"
    folder.mkdir()
    return written, LiveWriter(written, folder)


def test_refresh_counts_only_complete_pages_at_every_cut(growing):
    written, live = growing
    spans = [page_spans(p) for p in written.paths]
    first = spans[0][0]
    live.write_to(live.stream_offset(0, first[3]))  # one page on disk
    source = open_live(live.targets[:1])
    assert source.num_pages == 1
    truth = truth_pages(written)
    complete = 1
    for f, file_spans in enumerate(spans):
        for k, span in enumerate(file_spans):
            if (f, k) == (0, 0):
                continue
            for position in cut_points(live, f, span):
                live.write_to(position)
                added = source.refresh()
                expected = complete + int(position >= live.stream_offset(f, span[3]))
                assert (source.num_pages, added) == (expected, expected - complete), position
                complete = expected
                np.testing.assert_array_equal(all_pages(source), truth[:complete])
    assert source.num_pages == written.num_pages
    assert source.refresh() == 0
    assert len(source.readers) == len(written.paths)
    assert source.acquisition_ended()
    source.close()


def test_a_new_file_counts_only_once_it_holds_a_page(growing):
    written, live = growing
    live.write_to(live.sizes[0])  # the whole first file
    source = open_live(live.targets[:1])
    assert source.num_pages == 4
    assert not source.acquisition_ended()
    second = page_spans(written.paths[1])[0]
    for inside in (1, 8, 20, second[0] + 3, second[1] + 10, second[2] + 7, second[3] - 1):
        live.write_to(live.stream_offset(1, inside))
        assert source.refresh() == 0, inside
        assert len(source.readers) == 1
    live.write_to(live.stream_offset(1, second[3]))
    assert source.refresh() == 1
    assert [r.path for r in source.readers] == [str(t) for t in live.targets[:2]]
    live.write_to(live.total)  # the rest: the second file completes and a third appears
    assert source.refresh() == written.num_pages - 5
    np.testing.assert_array_equal(all_pages(source), truth_pages(written))
    assert source.acquisition_ended()


def test_a_next_pointer_filled_in_late_is_followed(write, tmp_path):
    """Writers that leave the last next-IFD pointer 0 until the next page exists."""
    written = write(ScanSpec(num_frames=4))
    raw = written.paths[0].read_bytes()
    spans = page_spans(written.paths[0])
    path = tmp_path / "late_00001.tif"
    ifd = spans[1][0]
    (ntags,) = struct.unpack_from("<Q", raw, ifd)
    pointer = ifd + 8 + 20 * ntags
    cut = bytearray(raw[: spans[1][3]])
    cut[pointer : pointer + 8] = bytes(8)  # page 2 looks like the last page
    path.write_bytes(bytes(cut))
    source = open_live([path])
    assert source.num_pages == 2
    path.write_bytes(raw[: spans[2][3]])  # page 3 written and page 2 linked to it
    assert source.refresh() == 1
    path.write_bytes(raw)
    assert source.refresh() == 1
    np.testing.assert_array_equal(all_pages(source), truth_pages(written))


def test_a_page_with_a_blank_description_is_not_counted_yet(write, tmp_path):
    """Pixels down but the description slot still blank: the writer is not done."""
    written = write(ScanSpec(num_frames=3))
    raw = written.paths[0].read_bytes()
    spans = page_spans(written.paths[0])
    desc, data = spans[2][1], spans[2][2]
    blank = bytearray(raw)
    blank[desc:data] = b" " * (data - desc)
    path = tmp_path / "blank_00001.tif"
    path.write_bytes(bytes(blank[: spans[1][3]]))
    source = open_live([path])
    assert source.num_pages == 2
    path.write_bytes(bytes(blank))
    assert source.refresh() == 0
    path.write_bytes(raw)
    assert source.refresh() == 1


def test_reads_during_refresh_see_a_consistent_scan(growing):
    """napari's slicing thread reads while another thread refreshes."""
    written, live = growing
    live.write_to(live.sizes[0])
    source = open_live(live.targets[:1])
    truth = truth_pages(written)
    errors = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            n = source.num_pages
            page = np.array([n - 1])
            out = np.empty((1, *truth.shape[1:]), truth.dtype)
            try:
                source.read(page, slice(None), slice(None), out)
                np.testing.assert_array_equal(out[0], truth[n - 1])
            except Exception as exc:  # collected, checked below
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for position in range(live.sizes[0], live.total + 4096, 4096):
        live.write_to(position)
        source.refresh()
    stop.set()
    thread.join()
    assert errors == []
    assert source.num_pages == written.num_pages


def test_cut_short_last_file_opens_later_files_and_warns(growing):
    written, live = growing
    second = page_spans(written.paths[1])[0]
    live.write_to(live.stream_offset(1, second[0] + 30))  # inside the 2nd file's first IFD
    with pytest.warns(ScanImageWarning, match=r"live/scan_00001_00002\.tif: left out"):
        source = ScanSource.open([str(t) for t in live.targets[:2]])
    assert source.num_pages == 4
    live.write_to(live.total)
    assert source.refresh() == written.num_pages - 4


def test_acquisition_end_falls_back_to_end_of_acquisition(write):
    written = write(ScanSpec(num_frames=3))
    path = written.paths[0]
    source = open_live([path])
    assert source.acquisition_ended()
    raw = path.read_bytes()
    last = raw.rindex(b"endOfAcquisitionMode")
    patched = raw[:last] + b"endOfAcquisitionModX" + raw[last + 20 :]
    path.write_bytes(patched)  # older files: no mode flag, endOfAcquisition = 1 still ends it
    assert source.acquisition_ended()
    at = patched.rindex(b"endOfAcquisition = 1")
    path.write_bytes(patched[:at] + b"endOfAcquisition = 0" + patched[at + 20 :])
    assert not source.acquisition_ended()


def test_extending_a_uniform_index_keeps_its_stride(write, tmp_path):
    written = write(ScanSpec(num_frames=12))
    raw = written.paths[0].read_bytes()
    spans = page_spans(written.paths[0])
    path = tmp_path / "uniform_00001.tif"
    path.write_bytes(raw[: spans[4][3]])
    source = open_live([path])
    before = source.readers[0].index
    path.write_bytes(raw)
    assert source.refresh() == 7
    after = source.readers[0].index
    assert after.stride == before.stride
    assert np.all(np.diff(after.data_offsets) == after.stride)
    assert after.ifd_offsets.tolist() == [s[0] for s in spans]
