"""Malformed BigTIFF input ends in the package's own errors, naming the file and the problem."""

from __future__ import annotations

import errno
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_scanimage import NotScanImageError, TruncatedFileError, read_scan
from napari_scanimage.errors import ScanImageError
from napari_scanimage.format.tiff import TiffFileHandle
from napari_scanimage.testing import ScanSpec

ASCII, SHORT, LONG, LONG8, SLONG8 = 2, 3, 4, 16, 17
_FORMATS = {SHORT: "<H", LONG: "<I", LONG8: "<Q", SLONG8: "<q"}


def entry(typ, *values):
    """``(type, count, value)`` of an IFD entry with inline values (at most 8 bytes)."""
    return typ, len(values), b"".join(struct.pack(_FORMATS[typ], v) for v in values)


def bigtiff_header(first_ifd=16, offset_size=8, magic=43):
    return b"II" + struct.pack("<HHHQ", magic, offset_size, 0, first_ifd)


def write_tiff(path, *, width=4, height=3, bits=16, tags=None, pixels=None):
    """Write a one-page little-endian BigTIFF (IFD at byte 16, then the pixels).

    ``tags`` overrides the default strip-image tags: a value of None drops the tag,
    a callable receives the pixel offset.  Returns the pixel offset.
    """
    nbytes = width * height * bits // 8
    spec = {
        256: entry(SHORT, width),
        257: entry(SHORT, height),
        258: entry(SHORT, bits),
        259: entry(SHORT, 1),
        273: lambda at: entry(LONG8, at),
        277: entry(SHORT, 1),
        279: entry(LONG8, nbytes),
        339: entry(SHORT, 1),
    }
    spec |= tags or {}
    present = {code: tag for code, tag in spec.items() if tag is not None}
    data_at = 16 + 8 + 20 * len(present) + 8
    table = b""
    for code in sorted(present):
        tag = present[code]
        typ, count, value = tag(data_at) if callable(tag) else tag
        table += struct.pack("<HHQ", code, typ, count) + value.ljust(8, b"\0")
    ifd = struct.pack("<Q", len(present)) + table + struct.pack("<Q", 0)
    body = bytes(range(256)) * (nbytes // 256 + 1)
    path.write_bytes(bigtiff_header() + ifd + (body[:nbytes] if pixels is None else pixels))
    return data_at


def first_ifd(path):
    with TiffFileHandle(path) as handle:
        return handle.read_ifd(handle.first_ifd)


def patch(path, offset, data):
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(data)


# -- the 16-byte BigTIFF header -------------------------------------------------------------


def test_offset_size_other_than_8(tmp_path):
    path = tmp_path / "four.tif"
    write_tiff(path)
    patch(path, 4, struct.pack("<H", 4))
    with pytest.raises(NotScanImageError, match=r"four\.tif: malformed BigTIFF header$"):
        TiffFileHandle(path)


def test_offset_size_in_a_scanimage_file_is_reported_by_read_scan(write):
    path = write().paths[0]
    patch(path, 4, struct.pack("<H", 16))
    with pytest.raises(NotScanImageError) as info:
        read_scan(path)
    assert str(info.value) == f"{path}: malformed BigTIFF header"
    assert info.value.path == str(path)


@pytest.mark.parametrize("first", [0, 8, 15, 10**9])
def test_first_ifd_outside_the_file(tmp_path, first):
    path = tmp_path / "far.tif"
    write_tiff(path)
    size = path.stat().st_size
    patch(path, 8, struct.pack("<Q", first))
    expected = f"first IFD offset {first} lies outside the file ({size} bytes)"
    with pytest.raises(TruncatedFileError, match=re.escape(expected)):
        TiffFileHandle(path)


def test_first_ifd_at_the_very_end_of_the_file(tmp_path):
    path = tmp_path / "edge.tif"
    write_tiff(path)
    size = path.stat().st_size
    patch(path, 8, struct.pack("<Q", size))
    with pytest.raises(TruncatedFileError, match=f"first IFD offset {size} lies outside"):
        TiffFileHandle(path)


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(bigtiff_header(magic=44), id="version-44"),
        pytest.param(bigtiff_header()[:12], id="cut-bigtiff-header"),
        pytest.param(b"II+\0\x08\0", id="six-bytes"),
    ],
)
def test_not_a_tiff_header(tmp_path, head):
    path = tmp_path / "odd.tif"
    path.write_bytes(head)
    with pytest.raises(NotScanImageError, match=r"odd\.tif: not a TIFF file$"):
        TiffFileHandle(path)


# -- the IFD entry table --------------------------------------------------------------------


@pytest.mark.parametrize("ntags", [0, 4097, 2**40, 2**64 - 1])
def test_ifd_with_absurd_tag_count(tmp_path, ntags):
    path = tmp_path / "count.tif"
    write_tiff(path)
    patch(path, 16, struct.pack("<Q", ntags))
    with pytest.raises(NotScanImageError, match=f"IFD at byte 16 claims {ntags} entries"):
        first_ifd(path)


def test_ifd_table_running_past_the_end(tmp_path):
    path = tmp_path / "short.tif"
    write_tiff(path)
    size = path.stat().st_size
    patch(path, 16, struct.pack("<Q", 100))  # 100 entries need 2008 bytes
    expected = f"file ends at byte {size}, needed 2008 bytes at 24"
    with pytest.raises(TruncatedFileError, match=re.escape(expected)):
        first_ifd(path)


@pytest.mark.parametrize("where", ["past-end", "before-header"])
def test_read_ifd_outside_the_file(tmp_path, where):
    path = tmp_path / "ifd.tif"
    write_tiff(path)
    with TiffFileHandle(path) as handle:
        offset = handle.size - 7 if where == "past-end" else 8
        expected = f"IFD offset {offset} lies outside the file ({handle.size} bytes)"
        with pytest.raises(TruncatedFileError, match=re.escape(expected)):
            handle.read_ifd(offset)


def test_read_past_the_end(tmp_path):
    path = tmp_path / "read.tif"
    write_tiff(path)
    with TiffFileHandle(path) as handle:
        size = handle.size
        with pytest.raises(TruncatedFileError) as info:
            handle.read(size - 4, 16)
    assert info.value.problem == f"file ends at byte {size}, needed 16 bytes at {size - 4}"
    assert info.value.path == str(path)


def test_tag_values_past_the_end(tmp_path):
    path = tmp_path / "desc.tif"
    write_tiff(path, tags={270: (ASCII, 100, struct.pack("<Q", 10**6))})
    with pytest.raises(TruncatedFileError, match=r"desc\.tif: tag 270 of the IFD at byte 16 "):
        first_ifd(path)


def test_tag_of_huge_count_points_past_the_end(tmp_path):
    path = tmp_path / "huge.tif"
    write_tiff(path, tags={273: (LONG8, 2**60, struct.pack("<Q", 64))})
    with pytest.raises(TruncatedFileError, match="tag 273 of the IFD at byte 16 points past"):
        first_ifd(path)


def test_tags_of_unknown_type_are_skipped(tmp_path):
    path = tmp_path / "unknown.tif"
    data_at = write_tiff(path, tags={305: (99, 5, b"abcde"), 315: (0, 1, b"\0")})
    ifd = first_ifd(path)
    assert sorted(ifd.tags) == [256, 257, 258, 259, 273, 277, 279, 339]
    assert (ifd.width, ifd.height, ifd.dtype, ifd.data_offset) == (4, 3, np.dtype("<u2"), data_at)


def test_required_tag_of_unknown_type_counts_as_missing(tmp_path):
    path = tmp_path / "width.tif"
    write_tiff(path, tags={256: (99, 1, struct.pack("<H", 4))})
    with pytest.raises(NotScanImageError, match="IFD at byte 16 lacks tag 256"):
        first_ifd(path)


# -- what the tags describe -----------------------------------------------------------------


@pytest.mark.parametrize("code", [256, 257, 273, 279])
def test_missing_strip_image_tag(tmp_path, code):
    path = tmp_path / "lacks.tif"
    write_tiff(path, tags={code: None})
    expected = f"lacks.tif: IFD at byte 16 lacks tag {code}; not a strip image as ScanImage writes"
    with pytest.raises(NotScanImageError, match=re.escape(expected)):
        first_ifd(path)


@pytest.mark.parametrize("compression", [5, 7, 8, 32773])
def test_compressed_page(tmp_path, compression):
    path = tmp_path / "lzw.tif"
    write_tiff(path, tags={259: entry(SHORT, compression)})
    expected = "IFD at byte 16 is compressed; ScanImage writes uncompressed pages"
    with pytest.raises(NotScanImageError, match=expected):
        first_ifd(path)


def test_compressed_page_in_a_scanimage_file(write):
    path = write(ScanSpec(num_frames=2)).paths[0]
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offset, value_at = page.offset, page.tags["Compression"].valueoffset
    patch(path, value_at, struct.pack("<H", 5))
    with pytest.raises(NotScanImageError) as info:
        read_scan(path)
    assert info.value.path == str(path)
    expected = f"IFD at byte {offset} is compressed; ScanImage writes uncompressed pages"
    assert info.value.problem == expected


def test_three_samples_per_pixel(tmp_path):
    path = tmp_path / "rgb.tif"
    write_tiff(path, tags={277: entry(SHORT, 3)})
    with pytest.raises(NotScanImageError, match=r"rgb\.tif: IFD at byte 16 has several samples"):
        first_ifd(path)


def test_bits_per_sample_for_every_sample(tmp_path):
    path = tmp_path / "rgb.tif"
    write_tiff(path, tags={258: entry(SHORT, 16, 16, 16)})
    with pytest.raises(NotScanImageError, match="tag 258 has 3 values, expected one"):
        first_ifd(path)


@pytest.mark.parametrize(
    ("bits", "fmt"),
    [(12, 1), (24, 2), (16, 3), (8, 3), (16, 4), (32, 0), (1, 1)],
)
def test_unsupported_sample_type(tmp_path, bits, fmt):
    path = tmp_path / "bits.tif"
    write_tiff(path, bits=bits, tags={339: entry(SHORT, fmt)})
    expected = f"IFD at byte 16 has unsupported samples ({bits} bits, format {fmt})"
    with pytest.raises(NotScanImageError, match=re.escape(expected)):
        first_ifd(path)


@pytest.mark.parametrize(
    ("bits", "fmt", "dtype"),
    [(8, 1, "u1"), (8, 2, "i1"), (16, 2, "<i2"), (32, 3, "<f4"), (64, 1, "<u8"), (64, 3, "<f8")],
)
def test_supported_sample_types(tmp_path, bits, fmt, dtype):
    path = tmp_path / "ok.tif"
    write_tiff(path, bits=bits, tags={339: entry(SHORT, fmt)})
    ifd = first_ifd(path)
    assert ifd.dtype == np.dtype(dtype)
    assert ifd.data_nbytes == 12 * bits // 8


def test_absent_optional_tags_take_tiff_defaults(tmp_path):
    """Compression, SamplesPerPixel and SampleFormat may be absent (TIFF defaults: 1)."""
    path = tmp_path / "defaults.tif"
    write_tiff(path, tags={259: None, 277: None, 339: None})
    ifd = first_ifd(path)
    assert ifd.dtype == np.dtype("<u2")  # SampleFormat defaults to unsigned
    assert sorted(ifd.tags) == [256, 257, 258, 273, 279]
    assert ifd.end == 16 + 8 + 20 * 5 + 8
    assert ifd.strip_offsets == (ifd.end,)
    assert ifd.strip_byte_counts == (24,)
    assert ifd.next_offset == 0
    assert ifd.location(270) is None
    # BitsPerSample absent means 1 bit per sample in TIFF, which ScanImage never writes
    write_tiff(path, tags={258: None})
    with pytest.raises(NotScanImageError, match=r"unsupported samples \(1 bits, format 1\)"):
        first_ifd(path)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param({256: entry(SHORT, 0)}, id="zero-width"),
        pytest.param({257: entry(LONG8, 2**64 - 1)}, id="height-wraps-negative"),
        pytest.param({273: lambda at: entry(LONG, at, at + 12)}, id="two-offsets-one-count"),
        pytest.param({273: (LONG8, 0, b""), 279: (LONG8, 0, b"")}, id="no-strips"),
    ],
)
def test_malformed_image_size(tmp_path, tags):
    path = tmp_path / "size.tif"
    write_tiff(path, tags=tags)
    with pytest.raises(NotScanImageError, match=r"size\.tif: IFD at byte 16 has a malformed"):
        first_ifd(path)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(
            {273: lambda at: entry(LONG, at, at + 16), 279: entry(LONG, 12, 12)}, id="gap"
        ),
        pytest.param(
            {273: lambda at: entry(LONG, at + 12, at), 279: entry(LONG, 12, 12)}, id="reversed"
        ),
        pytest.param({279: entry(LONG8, 20)}, id="too-few-bytes"),
        pytest.param({279: entry(LONG8, 26)}, id="too-many-bytes"),
    ],
)
def test_strips_that_are_not_one_block(tmp_path, tags):
    path = tmp_path / "strips.tif"
    write_tiff(path, tags=tags)
    expected = "IFD at byte 16 has strips that are not one contiguous block of pixels"
    with pytest.raises(NotScanImageError, match=expected):
        first_ifd(path)


def test_contiguous_strips_are_one_block(tmp_path):
    path = tmp_path / "strips.tif"
    data_at = write_tiff(
        path, tags={273: lambda at: entry(LONG, at, at + 12), 279: entry(LONG, 12, 12)}
    )
    ifd = first_ifd(path)
    assert ifd.strip_offsets == (data_at, data_at + 12)
    assert ifd.strip_byte_counts == (12, 12)
    assert ifd.data_offset == data_at


def test_pixels_past_the_end(tmp_path):
    path = tmp_path / "cut.tif"
    write_tiff(path, pixels=b"\0" * 23)  # 4 x 3 x 16 bits need 24 bytes
    expected = "cut.tif: pixels of the IFD at byte 16 end past the end of the file"
    with pytest.raises(TruncatedFileError, match=re.escape(expected)):
        first_ifd(path)


def test_pixels_past_the_end_of_a_scanimage_file(write):
    path = write(ScanSpec(num_frames=1)).paths[0]
    os.truncate(path, path.stat().st_size - 1)
    with pytest.raises(TruncatedFileError, match=r"_00001\.tif: pixels of the IFD at byte \d+ "):
        read_scan(path)


@pytest.mark.parametrize(
    "offset", [entry(LONG8, 2**64 - 16), entry(SLONG8, -16)], ids=["LONG8", "SLONG8"]
)
def test_strip_offset_that_wraps_negative(tmp_path, offset):
    path = tmp_path / "wrap.tif"
    write_tiff(path, tags={273: offset})
    with pytest.raises((NotScanImageError, TruncatedFileError), match="IFD at byte 16"):
        first_ifd(path)


# -- paths that cannot be read --------------------------------------------------------------


def test_missing_file_is_our_not_found_error(tmp_path):
    """A file that vanished after its name was checked: ours, and still a FileNotFoundError."""
    path = tmp_path / "absent.tif"
    with pytest.raises(FileNotFoundError, match=r"absent\.tif: no such file") as info:
        TiffFileHandle(path)
    assert isinstance(info.value, ScanImageError)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert info.value.__cause__.errno == errno.ENOENT


def test_permission_denied(tmp_path, monkeypatch):
    """Root can read anything, so the refusal of ``open`` is simulated for this one file."""
    path = tmp_path / "locked.tif"
    write_tiff(path)
    real_open = os.open

    def refuse(name, flags, *args, **kwargs):
        if os.fspath(name) == str(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(NotScanImageError) as info:
        TiffFileHandle(path)
    assert str(info.value) == f"{path}: cannot open for reading (Permission denied)"
    assert isinstance(info.value.__cause__, PermissionError)


def test_symlink_loop(tmp_path):
    path = tmp_path / "loop.tif"
    path.symlink_to(path)
    with pytest.raises(NotScanImageError) as info:
        TiffFileHandle(path)
    assert info.value.problem == f"cannot open for reading ({os.strerror(errno.ELOOP)})"
    assert info.value.path == str(path)


def test_path_through_a_file(tmp_path):
    parent = tmp_path / "plain.tif"
    write_tiff(parent)
    path = parent / "inner.tif"
    with pytest.raises(NotScanImageError) as info:
        TiffFileHandle(path)
    assert info.value.problem == f"cannot open for reading ({os.strerror(errno.ENOTDIR)})"


def test_directory(tmp_path):
    with pytest.raises(NotScanImageError, match="is a folder, not a file"):
        TiffFileHandle(tmp_path)


# -- the file descriptor --------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_failed_open_closes_its_descriptor(tmp_path):
    path = tmp_path / "bad.tif"
    write_tiff(path)
    patch(path, 4, struct.pack("<H", 4))
    before = sorted(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(NotScanImageError, match="malformed BigTIFF header"):
            TiffFileHandle(path)
    assert sorted(os.listdir("/proc/self/fd")) == before


def test_close_is_idempotent(tmp_path):
    path = tmp_path / "ok.tif"
    write_tiff(path)
    with TiffFileHandle(path) as handle:
        assert handle.fd >= 0
        assert handle.first_ifd == 16
    assert handle.fd == -1
    handle.close()  # a second close does nothing
    assert handle.fd == -1
