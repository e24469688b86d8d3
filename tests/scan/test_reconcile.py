"""Headers that disagree with the pages: follow the pages and warn, or raise; never misread."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage import ScanImageWarning, read_scan
from napari_scanimage.errors import HeaderMismatchError
from napari_scanimage.testing import ScanSpec


def edit(path, old, new, count=1, start=0):
    """Replace bytes in place (same length), the ``count`` occurrences from ``start`` on."""
    assert len(old) == len(new)
    raw = bytearray(path.read_bytes())
    at = start
    for _ in range(count):
        at = raw.index(old, at)
        raw[at : at + len(old)] = new
        at += len(old)
    path.write_bytes(bytes(raw))


def truth(written, field=0):
    return written.fields[field].data.transpose(2, 3, 1, 0)


@pytest.mark.parametrize("header_format", ["matlab", "json"])
def test_missing_channel_keys_are_inferred_from_frame_numbers(write, header_format):
    written = write(ScanSpec(channels=(1, 2), num_frames=3, header_format=header_format))
    path = written.paths[0]
    raw = path.read_bytes()
    edit(path, b"hChannels", b"hChannelZ", count=raw.count(b"hChannels"))
    with pytest.warns(
        ScanImageWarning, match=r"channelSave is missing.*show 2 page\(s\) per frame"
    ):
        scan = read_scan(path)
    assert (scan.num_channels, scan.num_frames) == (2, 3)
    np.testing.assert_array_equal(scan[0], truth(written))


def test_channel_save_that_lists_too_few_channels(write):
    written = write(ScanSpec(channels=(1, 2), num_frames=4))
    path = written.paths[0]
    edit(path, b"channelSave = [1;2]", b"channelSave = 1    ")
    with pytest.warns(ScanImageWarning, match=r"lists 1 channel\(s\), but .* reading 2"):
        scan = read_scan(path)
    assert list(scan.channels) == [1, 2]
    np.testing.assert_array_equal(scan[0], truth(written))


def test_channel_save_that_lists_too_many_channels(write):
    """Every page has its own frame number: one channel, whatever channelSave says."""
    written = write(ScanSpec(channels=(1, 2), num_frames=4))
    path = written.paths[0]
    raw = bytearray(path.read_bytes())
    at = 0
    for page in range(8):  # renumber the pages 1, 2, ..., 8
        at = raw.index(b"frameNumbers = ", at) + len(b"frameNumbers = ")
        raw[at : at + 1] = str(page + 1).encode()
    path.write_bytes(bytes(raw))
    with pytest.warns(
        ScanImageWarning, match=r"lists 2 channel\(s\), but .* 1 page\(s\) per frame"
    ):
        scan = read_scan(path)
    assert (scan.num_channels, scan.num_frames) == (1, 8)
    pages = written.fields[0].data.reshape(8, *written.fields[0].data.shape[2:])
    np.testing.assert_array_equal(scan[0, :, :, 0], pages.transpose(1, 2, 0))


def test_frame_numbers_that_do_not_group_raise_naming_the_file(write):
    written = write(ScanSpec(channels=(1, 2), num_frames=4))
    path = written.paths[0]
    raw = path.read_bytes()
    second_page_of_frame_2 = raw.index(b"frameNumbers = 2", raw.index(b"frameNumbers = 2") + 1)
    edit(path, b"frameNumbers = 2", b"frameNumbers = 3", start=second_page_of_frame_2)
    with pytest.raises(HeaderMismatchError, match=r"scan_00001\.tif: frameNumbers"):
        read_scan(path)


def test_frames_per_slice_disagreeing_with_the_pages(write):
    written = write(ScanSpec(channels=(1, 2), stack="slow", zs=(0.0, 2.0, 4.0), num_frames=3))
    path = written.paths[0]
    edit(path, b"framesPerSlice = 3", b"framesPerSlice = 2")
    with pytest.warns(ScanImageWarning, match=r"framesPerSlice gives 2 .* show 3"):
        scan = read_scan(path)
    assert (scan.num_frames, len(scan.field_depths)) == (3, 3)
    for field in range(3):
        np.testing.assert_array_equal(scan[field], truth(written, field))


def test_a_file_shorter_than_one_slice_reads_what_it_holds(write):
    """Re-saved or cut: fewer frames than framesPerSlice, all of one acquisition."""
    written = write(ScanSpec(stack="slow", zs=(0.0, 2.0), num_frames=4))
    path = written.paths[0]
    edit(path, b"framesPerSlice = 4", b"framesPerSlice = 9")
    with pytest.warns(ScanImageWarning, match=r"framesPerSlice gives 9 .* show 4"):
        scan = read_scan(path)
    assert scan.num_frames == 4
    np.testing.assert_array_equal(scan[0], truth(written, 0))
