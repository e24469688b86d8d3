"""Bad input ends in the package's own error, naming the file, and never alters it."""

from __future__ import annotations

import hashlib
import os
import struct

import numpy as np
import pytest
import tifffile

from napari_scanimage import (
    MixedAcquisitionError,
    NotScanImageError,
    ScanImageError,
    ScanImageWarning,
    TruncatedFileError,
    UnsupportedVersionError,
    read_scan,
)
from napari_scanimage.testing import RoiSpec, ScanSpec


def fingerprint(path):
    stat = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size


def test_not_a_tiff(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("hello, not an image")
    with pytest.raises(NotScanImageError, match=r"notes\.tif: not a TIFF file") as info:
        read_scan(path)
    assert info.value.path == str(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    with pytest.raises(NotScanImageError, match=r"empty\.tif: not a TIFF"):
        read_scan(path)


@pytest.mark.parametrize("bigtiff", [False, True])
def test_plain_tiff_is_not_scanimage(tmp_path, bigtiff):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(
        path, np.zeros((3, 8, 8), np.uint16), bigtiff=bigtiff, photometric="minisblack"
    )
    match = "ScanImage's header block|without ScanImage metadata" if bigtiff else "classic"
    with pytest.raises(NotScanImageError, match=match):
        read_scan(path)


def test_big_endian_tiff(tmp_path):
    path = tmp_path / "be.tif"
    tifffile.imwrite(path, np.zeros((8, 8), ">u2"), byteorder=">", bigtiff=True)
    with pytest.raises(NotScanImageError, match="big-endian"):
        read_scan(path)


def test_missing_file_and_empty_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_scan(tmp_path / "nope.tif")
    with pytest.raises(ScanImageError, match=r"scan_\*\.tif: no file matches this pattern"):
        read_scan(str(tmp_path / "scan_*.tif"))
    with pytest.raises(ScanImageError, match="is a folder"):
        read_scan(tmp_path)
    with pytest.raises(ScanImageError, match="no files given"):
        read_scan([])


def _patch(path, offset, data):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_unsupported_tiff_format_version(write):
    path = write().paths[0]
    _patch(path, 20, struct.pack("<I", 2))
    with pytest.raises(UnsupportedVersionError, match="format version 2"):
        read_scan(path)


def test_header_lengths_past_the_end(write):
    path = write().paths[0]
    _patch(path, 24, struct.pack("<I", 2**27))
    with pytest.raises(NotScanImageError, match="run past the end"):
        read_scan(path)


def test_malformed_roi_json(write):
    written = write()
    path = written.paths[0]
    raw = path.read_bytes()
    n0 = struct.unpack_from("<I", raw, 24)[0]
    _patch(path, 32 + n0, b"{ nope")
    with pytest.raises(ScanImageError, match="RoiGroups JSON is malformed"):
        read_scan(path)


def test_header_without_needed_keys(write):
    """mROI geometry needs objectiveResolution; its absence is named."""
    written = write(ScanSpec(rois=(RoiSpec(name="a"), RoiSpec(name="b", center_xy=(9, 0)))))
    path = written.paths[0]
    raw = path.read_bytes()
    key = b"SI.objectiveResolution"
    at = raw.index(key)
    _patch(path, at, b"SI.objectiveResolutiox")
    with pytest.raises(ScanImageError, match=r"lacks SI\.objectiveResolution"):
        read_scan(path)


def test_truncated_inside_a_page_reads_complete_pages(write):
    written = write(ScanSpec(num_frames=6))
    path = written.paths[0]
    size = path.stat().st_size
    os.truncate(path, size - 100)
    with pytest.warns(ScanImageWarning, match="ends inside page 6|last page is incomplete"):
        scan = read_scan(path)
    assert scan.num_frames == 5
    np.testing.assert_array_equal(scan[0], written.fields[0].data[:5].transpose(2, 3, 1, 0))


def test_truncated_inside_the_first_ifd(write):
    path = write().paths[0]
    raw = path.read_bytes()
    first_ifd = struct.unpack_from("<Q", raw, 8)[0]
    os.truncate(path, first_ifd + 4)
    with pytest.raises(TruncatedFileError, match=r"\.tif: "):
        read_scan(path)


def test_ifd_loop_is_detected(write):
    written = write(ScanSpec(num_frames=4, irregular_page=1))  # irregular: forces a chain walk
    path = written.paths[0]
    with tifffile.TiffFile(path) as tif:
        offsets = [page.offset for page in tif.pages]
        ntags = len(tif.pages[2].tags)
    # make page 3 point back at page 2
    _patch(path, offsets[2] + 8 + 20 * ntags, struct.pack("<Q", offsets[1]))
    with pytest.raises(ScanImageError, match="loops back"):
        read_scan(path)


def test_files_of_different_acquisitions(write):
    one = write(ScanSpec(num_frames=2))
    other = write(ScanSpec(num_frames=2, zoom=2.0))
    with pytest.raises(MixedAcquisitionError, match=r"scan_00001\.tif: its ScanImage header"):
        read_scan([one.paths[0], other.paths[0]])


def test_split_files_of_two_acquisitions(write):
    first = write(ScanSpec(num_frames=2, frames_per_file=1), acquisition=1)
    second = write(ScanSpec(num_frames=2, frames_per_file=1), acquisition=2)
    with pytest.raises(MixedAcquisitionError, match="open them separately"):
        read_scan([*first.paths, *second.paths])


def test_plain_tiff_among_scanimage_files(write, tmp_path):
    written = write(ScanSpec(num_frames=2))
    plain = tmp_path / "scan_00001_00009.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.int16), bigtiff=True)
    with pytest.raises(NotScanImageError, match=r"scan_00001_00009\.tif"):
        read_scan([*written.paths, plain])


def test_trims_that_leave_nothing(write):
    written = write()
    with pytest.raises(ScanImageError, match="leave nothing"):
        read_scan(written.paths, trim=(40, 40, 0, 0))
    with pytest.raises(ScanImageError, match=">= 0"):
        read_scan(written.paths, trim=(-1, 0, 0, 0))


def test_reading_never_changes_the_files(write):
    written = write(ScanSpec(channels=(1, 2), num_frames=3, frames_per_file=2))
    before = [fingerprint(p) for p in written.paths]
    scan = read_scan(written.paths)
    scan[:]
    scan.to_dask(0, 1).compute()
    scan.frame_timestamps()
    scan.with_options(trim=(1, 1, 1, 1), join_contiguous=True)[0]
    scan.with_options(fix_scan_phase=True).to_zarr(written.paths[0].parent / "export.zarr")
    scan.reopen()
    scan.close()
    assert [fingerprint(p) for p in written.paths] == before


def test_closed_scan_says_so(write):
    written = write()
    scan = read_scan(written.paths)
    kept = scan[0, :, :, 0, 0]
    scan.close()
    with pytest.raises(ScanImageError, match="closed"):
        scan[0]
    assert kept.shape == (48, 64)  # arrays read before closing stay valid


def test_a_fifo_named_like_a_scan_never_hangs(tmp_path):
    """Opening a FIFO for reading waits for a writer forever: we never open one."""
    from napari_scanimage._napari._reader import napari_get_reader
    from napari_scanimage.format.header import is_scanimage_file

    fifo = tmp_path / "scan_00001.tif"
    os.mkfifo(fifo)
    assert not is_scanimage_file(fifo)
    assert napari_get_reader(str(fifo)) is None
    with pytest.raises(ScanImageError, match=r"scan_00001\.tif: is not a regular file"):
        read_scan(fifo)
    with pytest.raises(ScanImageError, match=r"scan_00001\.tif: is not a regular file"):
        read_scan(str(tmp_path / "*.tif"))


def test_a_header_of_millions_of_keys_is_refused_quickly(tmp_path):
    """A 46 MB FrameData of 2 million keys once took 14 s and 1 GB: now one clear error."""
    import time

    frame_data = "".join(f"SI.hX.k{i} = {i}\n" for i in range(2_000_000)).encode() + b"\0"
    roi = b'{"RoiGroups": {}}\0'
    block = struct.pack("<IIII", 0x07030301, 4, len(frame_data), len(roi)) + frame_data + roi
    path = tmp_path / "huge_00001.tif"
    head = b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 16 + len(block))
    path.write_bytes(head + block + bytes(64))  # an (empty) IFD after the header
    start = time.perf_counter()
    with pytest.raises(ScanImageError, match=r"huge_00001\.tif: its ScanImage header block is"):
        read_scan(path)
    assert time.perf_counter() - start < 5.0
