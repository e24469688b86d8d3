"""Acquisitions cut short, missing and mixed files, files still growing."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import tifffile

from napari_scanimage import (
    MissingFileError,
    MixedAcquisitionError,
    NotScanImageError,
    ScanImageWarning,
    read_scan,
    read_scans,
)
from napari_scanimage.testing import ScanSpec


@pytest.fixture
def split(write):
    """Four files of 3 planes x 2 channels each (fast-Z, 3 depths), 4 volumes."""
    spec = ScanSpec(stack="fast", zs=(0.0, 5.0, 10.0), channels=(1, 2), num_frames=4,
                    frames_per_file=3)  # fmt: skip
    return write(spec)


def truth(written, field, frames=slice(None)):
    return written.fields[field].data[frames].transpose(2, 3, 1, 0)


def test_missing_file_in_the_middle_is_named(split):
    files = list(split.paths)
    del files[1]
    with pytest.raises(MissingFileError, match=r"scan_00001_00002\.tif: file 2 of the series"):
        read_scan(files)
    assert issubclass(MissingFileError, FileNotFoundError)


def test_gap_in_frame_numbers_is_found_whatever_the_names(split, tmp_path):
    renamed = []
    for i, path in enumerate([split.paths[0], split.paths[2]]):
        target = tmp_path / f"part{i}.tif"
        shutil.copy(path, target)
        renamed.append(target)
    with pytest.raises(MissingFileError, match=r"part1\.tif: its first frame is number 7"):
        read_scan(renamed)


def test_last_file_cut_inside_a_page(split):
    last = split.paths[-1]
    os.truncate(last, last.stat().st_size - 1000)
    with pytest.warns(ScanImageWarning) as record:
        scan = read_scan(split.paths)
    messages = [str(w.message) for w in record]
    assert any("scan_00001_00004.tif" in m and "incomplete" in m for m in messages)
    assert scan.num_frames == 3  # the 4th volume lost a page
    assert scan.dropped_pages == 5
    for field in range(3):
        np.testing.assert_array_equal(scan[field], truth(split, field, slice(0, 3)))


def test_last_file_cut_inside_an_ifd(split):
    last = split.paths[-1]
    with tifffile.TiffFile(last) as tif:
        second_ifd = tif.pages[1].offset
    os.truncate(last, second_ifd + 30)
    with pytest.warns(ScanImageWarning, match="incomplete"):
        scan = read_scan(split.paths)
    assert scan.num_frames == 3
    np.testing.assert_array_equal(scan[2], truth(split, 2, slice(0, 3)))


def test_a_growing_file_can_be_reopened(write, tmp_path):
    written = write(ScanSpec(num_frames=8, channels=(1, 2)))
    full = written.paths[0].read_bytes()
    live = tmp_path / "live_00001.tif"
    with tifffile.TiffFile(written.paths[0]) as tif:
        cut = tif.pages[6].offset + 100  # ScanImage is writing page 7
    live.write_bytes(full[:cut])
    with pytest.warns(ScanImageWarning):
        scan = read_scan(live)
    assert scan.num_frames == 3
    live.write_bytes(full)  # the rest arrives
    again = scan.reopen()
    assert again.num_frames == 8
    np.testing.assert_array_equal(again[0], truth(written, 0))


def test_reopen_picks_up_new_files_of_the_series(split, tmp_path):
    for path in split.paths[:2]:
        shutil.copy(path, tmp_path / path.name)
    scan = read_scan(str(tmp_path / "scan_*.tif"))
    assert (scan.num_files, scan.num_frames) == (2, 2)
    for path in split.paths[2:]:
        shutil.copy(path, tmp_path / path.name)
    assert scan.reopen().num_frames == 4


def test_two_acquisitions_and_a_plain_tiff_open_separately(write, tmp_path):
    first = write(ScanSpec(num_frames=2, frames_per_file=1), acquisition=1)
    second = write(ScanSpec(num_frames=3, frames_per_file=2, zoom=2.0), acquisition=2)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint16))
    everything = [*first.paths, *second.paths, plain]
    with pytest.raises(NotScanImageError, match=r"plain\.tif: .*classic"):
        read_scan(everything)
    with pytest.raises(
        MixedAcquisitionError, match=r"scan_00002_00001\.tif: its ScanImage header"
    ):
        read_scan(everything[:-1])
    with pytest.warns(ScanImageWarning, match=r"left out: .*plain\.tif"):
        scans = read_scans(everything)
    assert [s.num_frames for s in scans] == [2, 3]
    assert [s.num_files for s in scans] == [2, 2]
    assert scans[1].zoom == 2.0


def _first_page(path):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return page.offset, page.tags["ImageDescription"].valueoffset, page.dataoffsets[0]


@pytest.mark.parametrize(
    "where", ["empty", "header block", "first IFD", "description", "pixels", "before IFD"]
)
def test_last_file_without_a_complete_page_is_left_out(split, where):
    """ScanImage stopped right after creating the last file: the others open."""
    last = split.paths[-1]
    ifd, desc, data = _first_page(last)
    cut = {
        "empty": 0,
        "header block": 100,
        "first IFD": ifd + 30,
        "description": desc + 50,
        "pixels": data + 10,
        "before IFD": ifd,
    }[where]
    os.truncate(last, cut)
    with pytest.warns(ScanImageWarning, match=r"scan_00001_00004\.tif: left out") as record:
        scan = read_scan(split.paths)
    assert scan.num_files == 3
    assert scan.num_frames == 3
    assert not [w for w in record if "scan_00001_00003" in str(w.message)]
    for field in range(3):
        np.testing.assert_array_equal(scan[field], truth(split, field, slice(0, 3)))


def test_a_damaged_last_file_is_still_an_error(split):
    """Only a file cut short is left out; one with bad contents stays an error."""
    last = split.paths[-1]
    raw = bytearray(last.read_bytes())
    raw[0:4] = b"GIF8"
    last.write_bytes(bytes(raw))
    with pytest.raises(NotScanImageError, match=r"scan_00001_00004\.tif"):
        read_scan(split.paths)
