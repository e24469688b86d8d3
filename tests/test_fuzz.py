"""Property-based fuzzing: any bytes end in our own error or a correct read, fast and small.

Set NAPARI_SCANIMAGE_FUZZ_EXAMPLES to run more inputs (CI runs the default), and
NAPARI_SCANIMAGE_FUZZ_REPORT to a path to get a JSON report of the slowest input
and the peak memory.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import struct
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import napari_scanimage.lazy  # noqa: F401 - import dask now, not inside the first timed input
from napari_scanimage import ScanImageError, ScanImageWarning, read_scan
from napari_scanimage.format.descriptions import parse_description, read_number
from napari_scanimage.format.header import decode_json
from napari_scanimage.format.matlab import parse_matlab_lines, parse_matlab_value
from napari_scanimage.scan.source import ScanSource
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

EXAMPLES = int(os.environ.get("NAPARI_SCANIMAGE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed by hand below: shared CI machines make deadlines flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TIME_LIMIT_S = 5.0
MEMORY_LIMIT_MB = 64.0
STATS = {"inputs": 0, "slowest_s": 0.0, "slowest_case": "", "peak_mb": 0.0, "outcomes": {}}


def _report() -> None:
    target = os.environ.get("NAPARI_SCANIMAGE_FUZZ_REPORT")
    if target and STATS["inputs"]:
        Path(target).write_text(json.dumps(STATS, indent=2))


atexit.register(_report)

WORK = Path(tempfile.mkdtemp(prefix="napari-scanimage-fuzz-"))


def _base(name: str, spec: ScanSpec) -> tuple[bytes, list[int]]:
    """A small valid file and the offsets worth corrupting (header fields, IFD entries)."""
    folder = WORK / name
    folder.mkdir()
    path = write_scan(folder, spec).paths[0]
    data = path.read_bytes()
    spots = [8, 16, 20, 24, 28]
    with tifffile.TiffFile(path) as tif:
        for page in tif.pages:
            spots.append(page.offset)
            spots.extend(tag.offset for tag in page.tags.values())
            spots.extend(tag.valueoffset for tag in page.tags.values())
            spots.append(page.offset + 8 + 20 * len(page.tags))  # next-IFD pointer
    return data, sorted({s for s in spots if s < len(data)})


BASES = {
    "plain-multistrip": _base(
        "plain", ScanSpec(num_frames=3, channels=(1, 2), strips_per_page=3, description_slot=400)
    ),
    "mroi-json": _base(
        "mroi",
        ScanSpec(
            header_format="json",
            description_format="json",
            rois=(
                RoiSpec(pixels_xy=(16, 8)),
                RoiSpec(name="b", center_xy=(9, 0), pixels_xy=(16, 8)),
            ),
            num_frames=3,
            stack="fast",
            zs=(0.0, 4.0),
            flyback_frames=1,
            description_slot=400,
        ),
    ),
}
NASTY = [0, 1, 7, 2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1]


def _exercise(data: bytes, case: str) -> None:
    """Open and read everything; only our own errors may escape, within time and memory."""
    path = WORK / "input_00001.tif"
    path.write_bytes(data)
    tracemalloc.start()
    start = time.perf_counter()
    outcome = "read"
    error: ScanImageError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScanImageWarning)
            scan = read_scan(path)
            for field in range(scan.num_fields):
                assert scan[field].shape[:2] == (
                    scan.field_heights[field],
                    scan.field_widths[field],
                )
            scan.frame_timestamps()
            scan.frame_description(0)
            scan.to_dask(0, 0)[:1].compute()
            scan.close()
    except ScanImageError as exc:
        outcome, error = type(exc).__name__, exc
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    if error is not None:
        assert str(error)  # a message, naming the file when there is one
        if getattr(error, "path", None):
            assert str(error).startswith(str(path))
    STATS["inputs"] += 1
    STATS["outcomes"][outcome] = STATS["outcomes"].get(outcome, 0) + 1
    STATS["peak_mb"] = max(STATS["peak_mb"], peak)
    if elapsed > STATS["slowest_s"]:
        STATS["slowest_s"], STATS["slowest_case"] = elapsed, case
    assert elapsed < TIME_LIMIT_S, f"{case} took {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT_MB, f"{case} allocated {peak:.0f} MB"


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_truncated_files(base, data):
    raw, _ = BASES[base]
    cut = data.draw(st.integers(0, len(raw)))
    _exercise(raw[:cut], f"{base} truncated at {cut}")


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_flipped_bytes(base, data):
    raw, spots = BASES[base]
    buf = bytearray(raw)
    near = st.sampled_from(spots).flatmap(
        lambda s: st.integers(max(0, s - 4), min(len(raw) - 1, s + 12))
    )
    where = st.one_of(near, st.integers(0, len(raw) - 1))
    edits = data.draw(st.lists(st.tuples(where, st.integers(0, 255)), min_size=1, max_size=8))
    for offset, value in edits:
        buf[offset] = value
    _exercise(bytes(buf), f"{base} bytes {edits}")


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_huge_and_negative_lengths_and_offsets(base, data):
    raw, spots = BASES[base]
    buf = bytearray(raw)
    offset = data.draw(st.sampled_from(spots))
    value = data.draw(st.sampled_from([*NASTY, len(raw), len(raw) + 1, len(raw) - 1]))
    width = data.draw(st.sampled_from([2, 4, 8]))
    value &= (1 << (8 * width)) - 1
    buf[offset : offset + width] = value.to_bytes(width, "little")[: len(buf) - offset]
    _exercise(bytes(buf), f"{base} {width}-byte {value} at {offset}")


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_ifd_loops(base, data):
    raw, _ = BASES[base]
    (first,) = struct.unpack_from("<Q", raw, 8)
    ifds = [first]
    while ifds[-1]:
        (ntags,) = struct.unpack_from("<Q", raw, ifds[-1])
        ifds.append(struct.unpack_from("<Q", raw, ifds[-1] + 8 + 20 * ntags)[0])
    ifds = ifds[:-1]
    k = data.draw(st.integers(0, len(ifds) - 1))
    target = data.draw(st.sampled_from(ifds[: k + 1]))
    buf = bytearray(raw)
    (ntags,) = struct.unpack_from("<Q", raw, ifds[k])
    struct.pack_into("<Q", buf, ifds[k] + 8 + 20 * ntags, target)
    _exercise(bytes(buf), f"{base} IFD {k} -> {target}")


def test_loop_is_reported(tmp_path):
    raw, _ = BASES["plain-multistrip"]
    (first,) = struct.unpack_from("<Q", raw, 8)
    (ntags,) = struct.unpack_from("<Q", raw, first)
    buf = bytearray(raw)
    struct.pack_into("<Q", buf, first + 8 + 20 * ntags, first)
    path = tmp_path / "loop.tif"
    path.write_bytes(bytes(buf))
    with pytest.raises(ScanImageError, match="loops back"):
        read_scan(path)


@FUZZ
@given(st.text())
def test_matlab_values_never_raise(text):
    parse_matlab_value(text)
    parse_matlab_lines(text)
    parse_matlab_lines(f"SI.a.b = {text}\nSI.a = {text}")


def _containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=6), children, max_size=4
    )


_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(),
    _containers,
    max_leaves=20,
)


@FUZZ
@given(_json)
def test_json_decoding_never_raises(value):
    decode_json(value)
    decode_json({"_ArrayType_": "double", "_ArrayData_": value})
    text = json.dumps(value)
    parse_description(text)
    parse_description("{" * 3000)


@FUZZ
@given(st.text(), st.sampled_from(["frameNumbers", "frameTimestamps_sec", "epoch"]))
def test_descriptions_never_raise(text, key):
    parse_description(text)
    number = read_number(text, key)
    assert number is None or isinstance(number, float)


def test_unpadded_description_reads(write):
    """A description slot without its space padding still reads (count = text + NUL)."""
    written = write(ScanSpec(num_frames=2, description_slot=400))
    raw = bytearray(written.paths[0].read_bytes())
    at = raw.index(b"frameNumbers = 2")
    end = raw.index(b"\0", at)
    raw[at:end] = raw[at:end].replace(b"  ", b"\n\n")
    path = written.paths[0]
    path.write_bytes(bytes(raw))
    scan = read_scan(path)
    assert scan.frame_numbers().tolist() == [1, 2]
    assert not math.isnan(scan.frame_timestamps()[1])
    np.testing.assert_array_equal(scan[0], written.fields[0].data.transpose(2, 3, 1, 0))


# -- headers and descriptions edited or with keys deleted ---------------------------------


def _header_base(name: str, spec: ScanSpec) -> tuple[bytes, list[tuple[int, int]], list[int]]:
    """A small file, the FrameData lines (start, end) and offsets of description values."""
    folder = WORK / f"header-{name}"
    folder.mkdir()
    data = write_scan(folder, spec).paths[0].read_bytes()
    (n0,) = struct.unpack_from("<I", data, 24)
    lines, at = [], 32
    for line in data[32 : 32 + n0].split(b"\n"):
        lines.append((at, at + len(line)))
        at += len(line) + 1
    values = []
    for key in (b"frameNumbers", b"acquisitionNumbers", b"endOfAcquisition"):
        start = 0
        while (start := data.find(key, start + 1)) >= 0:
            values.append(start + len(key) + 3 if spec.description_format == "keyvalue" else start)
    return data, lines, values


HEADER_BASES = {
    "slow-2ch": _header_base(
        "slow",
        ScanSpec(stack="slow", zs=(0.0, 2.0), channels=(1, 2), num_frames=2, description_slot=400),
    ),
    "fast-json": _header_base(
        "json",
        ScanSpec(
            header_format="json",
            channels=(1, 2),
            stack="fast",
            zs=(0.0, 3.0),
            num_frames=2,
            description_slot=400,
        ),
    ),
}
_VALUES = st.sampled_from(
    [b"0", b"1", b"2", b"3", b"-1", b"[]", b"[1;2]", b"[1 2 3]", b"NaN", b"Inf", b"true", b"''"]
)


@pytest.mark.parametrize("base", list(HEADER_BASES))
@FUZZ
@given(data=st.data())
def test_header_keys_deleted_or_edited(base, data):
    """Any header line blanked (key deleted) or its value replaced: our error or a read."""
    raw, lines, _ = HEADER_BASES[base]
    buf = bytearray(raw)
    for start, end in data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=4)):
        if data.draw(st.booleans()):
            buf[start:end] = b" " * (end - start)  # the key is gone, lengths unchanged
        else:
            sign = buf.find(b"=", start, end)
            sign = sign if sign >= 0 else buf.find(b":", start, end)  # JSON lines
            at = sign + 2 if 0 <= sign < end - 2 else start
            value = data.draw(_VALUES)[: end - at].ljust(end - at)
            buf[at:end] = value
    _exercise(bytes(buf), f"{base} header lines edited")


@pytest.mark.parametrize("base", list(HEADER_BASES))
@FUZZ
@given(data=st.data())
def test_description_values_edited(base, data):
    """frameNumbers / acquisitionNumbers / end flags changed page by page."""
    raw, _, values = HEADER_BASES[base]
    buf = bytearray(raw)
    edits = data.draw(
        st.lists(st.tuples(st.sampled_from(values), st.sampled_from(b"0123456789 -[")), max_size=6)
    )
    for offset, byte in edits:
        buf[offset] = byte
    _exercise(bytes(buf), f"{base} description bytes {edits}")


def _roi_numbers(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of every number in the RoiGroups JSON of a file."""
    n0, n1 = struct.unpack_from("<II", raw, 24)
    start = 32 + n0
    block = raw[start : start + n1]
    return [(start + m.start(), start + m.end()) for m in _NUMBER.finditer(block)]


_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_NASTY_NUMBERS = [b"0", b"-1", b"-0", b"1e999", b"-1e999", b"1e308", b"1e-320", b"0.5",
                  b"99999999", b"null", b"true", b'"x"', b"[]", b"{}", b"NaN"]  # fmt: skip


@pytest.mark.parametrize("base", ["mroi-json", "plain-multistrip"])
@FUZZ
@given(data=st.data())
def test_roi_group_numbers_edited(base, data):
    """Sizes, centres, resolutions and transforms of the ROIs made impossible: our error."""
    raw, _ = BASES[base]
    numbers = _roi_numbers(raw)
    buf = bytearray(raw)
    for start, end in data.draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=4)):
        fits = [t for t in _NASTY_NUMBERS if len(t) <= end - start]
        token = data.draw(st.sampled_from(fits))
        buf[start:end] = token.ljust(end - start)
    _exercise(bytes(buf), f"{base} RoiGroups numbers edited")


@pytest.mark.parametrize("base", ["plain-multistrip", "mroi-json"])
@FUZZ
@given(data=st.data())
def test_refresh_after_any_cut_matches_a_fresh_open(base, data):
    """A file opened while cut anywhere, then completed, refreshes to what a new open sees."""
    raw, _ = BASES[base]
    cut = data.draw(st.integers(0, len(raw)))
    path = WORK / "growing_00001.tif"
    path.write_bytes(raw[:cut])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScanImageWarning)
        try:
            source = ScanSource.open([str(path)])
        except ScanImageError:
            return  # nothing complete to open yet at this cut
        with path.open("ab") as fh:
            fh.write(raw[cut:])
        before = source.num_pages
        assert source.refresh() == source.num_pages - before
        fresh = ScanSource.open([str(path)])
    assert source.num_pages == fresh.num_pages
    index = fresh.readers[0].index
    shape = (fresh.num_pages, index.height, index.width)
    grown, reference = np.empty(shape, index.dtype), np.empty(shape, index.dtype)
    pages = np.arange(fresh.num_pages)
    source.read(pages, slice(None), slice(None), grown)
    fresh.read(pages, slice(None), slice(None), reference)
    np.testing.assert_array_equal(grown, reference)
    source.close()
    fresh.close()
