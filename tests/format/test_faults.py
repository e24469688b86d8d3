"""Files that change or fail under an open scan end in our error, never a signal."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import tifffile

from napari_scanimage import ScanImageError, read_scan
from napari_scanimage.errors import FileChangedError, FileReadError
from napari_scanimage.format import page_reader
from napari_scanimage.testing import ScanSpec


def truth(written, frames=slice(None)):
    return written.fields[0].data[frames].transpose(2, 3, 1, 0)


@pytest.fixture
def opened(write):
    written = write(ScanSpec(num_frames=6, channels=(1, 2)))
    return written, read_scan(written.paths[0])


def page_offset(path, page):
    with tifffile.TiffFile(path) as tif:
        return tif.pages[page].offset


def test_truncated_while_open_says_how_and_keeps_what_is_left(opened):
    written, scan = opened
    path = written.paths[0]
    size = path.stat().st_size
    cut = page_offset(path, 8) + 10  # frames 0-3 stay whole
    os.truncate(path, cut)
    with pytest.raises(FileChangedError) as info:
        scan[0, :, :, :, 5]
    message = str(info.value)
    assert message.startswith(str(path))
    assert f"shrank from {size} to {cut} bytes since it was opened" in message
    np.testing.assert_array_equal(scan[0, :, :, :, :4], truth(written, slice(0, 4)))
    with pytest.raises(FileChangedError):
        scan.read_field(0)  # the whole field needs the lost frames
    with pytest.raises(FileChangedError, match="shrank"):
        scan.description(11)


def test_truncated_to_nothing_is_an_error_not_a_crash(opened):
    written, scan = opened
    os.truncate(written.paths[0], 0)
    for frame in range(6):
        with pytest.raises(FileChangedError, match="shrank"):
            scan[0, :, :, 0, frame]
    with pytest.raises(ScanImageError):
        scan.frame_timestamps()


def test_rewritten_in_place_by_a_new_acquisition(write, tmp_path):
    """Same name and size, other contents: ScanImage overwrote the file."""
    first = write(ScanSpec(num_frames=3, seed=1))
    other = write(ScanSpec(num_frames=3, seed=2, frame_rate=15.0))
    path = first.paths[0]
    scan = read_scan(path)
    with path.open("r+b") as fh:  # in place: same inode, new bytes
        fh.write(other.paths[0].read_bytes())
    os.utime(path, ns=(0, 1))  # a clearly different modification time
    with pytest.raises(FileChangedError, match="was rewritten since it was opened"):
        scan[0, :, :, 0, 0]


def test_deleted_or_replaced_files_still_read_what_was_opened(opened, tmp_path):
    """The open descriptor keeps the original bytes: reads stay correct."""
    written, scan = opened
    path = written.paths[0]
    os.replace(path, tmp_path / "moved.tif")
    path.write_bytes(b"something else")
    np.testing.assert_array_equal(scan[0], truth(written))
    os.remove(path)
    np.testing.assert_array_equal(scan[0, :, :, 1, 2], truth(written)[:, :, 1, 2])


@pytest.mark.parametrize("code", [errno.EIO, errno.ESTALE])
def test_os_errors_become_our_error_naming_the_file(opened, monkeypatch, code):
    written, scan = opened

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "preadv", failing)
    with pytest.raises(FileReadError) as info:
        scan[0, :, :, 0, 1]
    assert str(info.value).startswith(str(written.paths[0]))
    assert os.strerror(code) in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    monkeypatch.undo()
    np.testing.assert_array_equal(scan[0, :, :, 0, 1], truth(written)[:, :, 0, 1])


def test_failing_status_and_description_reads(opened, monkeypatch):
    _, scan = opened

    def failing(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fstat", failing)
    with pytest.raises(FileReadError, match="Input/output error"):
        scan[0, :, :, 0, 0]
    monkeypatch.undo()
    monkeypatch.setattr(os, "preadv", failing)
    with pytest.raises(FileReadError, match=r"scan_00001\.tif: reading at byte"):
        scan.description(3)


def test_short_reads_are_completed_or_reported(opened, monkeypatch):
    written, scan = opened
    real = os.preadv
    calls = []

    def short_once(fd, buffers, offset):
        calls.append(offset)
        if len(calls) == 1:  # the kernel may return less than asked
            view = memoryview(buffers[0]).cast("B")
            return real(fd, [view[:100]], offset)
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", short_once)
    np.testing.assert_array_equal(scan[0], truth(written))
    monkeypatch.setattr(os, "preadv", lambda fd, buffers, offset: 0)  # end of file, always
    with pytest.raises(FileChangedError, match="ends early"):
        scan[0, :, :, 0, 0]


def test_big_reads_are_split_into_calls_and_gaps_are_skipped(write, monkeypatch):
    """Runs of pages go in few calls; neither the gap buffer nor a cap loses bytes."""
    written = write(ScanSpec(num_frames=40, channels=(1, 2)))
    monkeypatch.setattr(page_reader, "_MAX_IOV", 7)
    monkeypatch.setattr(page_reader, "_SCRATCH_BYTES", 5000)
    real, calls = os.preadv, []

    def counting(fd, buffers, offset):
        calls.append(len(buffers))
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", counting)
    scan = read_scan(written.paths[0])
    np.testing.assert_array_equal(scan[0], truth(written))
    assert max(calls) <= 7
    as_float = scan.with_options(dtype="float32")  # converted through scratch blocks
    np.testing.assert_array_equal(as_float[0], truth(written).astype("float32"))


def test_closed_scan_raises_and_reading_threads_finish(opened):
    _, scan = opened
    reader = scan._source.readers[0]
    with reader._using():  # a read in progress keeps the descriptor open
        scan.close()
        assert os.fstat(reader._fd)
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(reader._fd)  # closed once the read finished
    with pytest.raises(ScanImageError, match="closed"):
        scan[0]


def test_big_reads_split_over_threads_are_whole_and_fail_cleanly(write, monkeypatch):
    written = write(ScanSpec(num_frames=30, channels=(1, 2)))
    monkeypatch.setattr(page_reader, "_PARALLEL_BYTES", 4096)
    monkeypatch.setattr(page_reader, "_WORKERS", 2)
    scan = read_scan(written.paths[0])
    np.testing.assert_array_equal(scan[0], truth(written))
    os.truncate(written.paths[0], page_offset(written.paths[0], 50))
    with pytest.raises(FileChangedError, match="shrank"):
        scan.read_field(0)  # the lost pages fall in a part another thread reads


def test_the_message_says_whether_the_name_now_points_elsewhere(write, tmp_path):
    written = write(ScanSpec(num_frames=4))
    path = written.paths[0]
    scan = read_scan(path)
    os.truncate(path, 100)  # the opened file loses its pages ...
    other = tmp_path / "other.tif"
    other.write_bytes(b"new")
    os.replace(other, path)  # ... and the name now points at another file
    with pytest.raises(FileChangedError, match=r"was replaced by another file.*shrank"):
        scan[0]
    os.remove(path)
    with pytest.raises(FileChangedError, match=r"was deleted since it was opened; shrank"):
        scan[0]


@pytest.mark.parametrize("where", ["description", "pixels"])
@pytest.mark.parametrize("sample", [1, 2])
def test_bytes_rewritten_in_place_further_on_are_noticed(write, where, sample):
    """Pages spread over the file are fingerprinted, not the first alone."""
    written = write(ScanSpec(num_frames=30, description_slot=400))
    path = written.paths[0]
    scan = read_scan(path)
    scan[0, :, :, 0, 0]  # reads fine
    checked = scan._source.readers[0].index.checked  # pages the index read when opening
    assert len(checked) >= 4
    page = checked[sample]  # one third and two thirds of the way
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[page].tags
        at = (
            tags["ImageDescription"].valueoffset
            if where == "description"
            else tif.pages[page].dataoffsets[0]
        )
    with path.open("r+b") as fh:  # same size, same inode: only a few bytes differ
        fh.seek(at)
        old = fh.read(4)
        fh.seek(at)
        fh.write(bytes(b ^ 0xFF for b in old))
    os.utime(path, ns=(0, 2))
    with pytest.raises(FileChangedError, match="was rewritten since it was opened"):
        scan[0, :, :, 0, 1]
