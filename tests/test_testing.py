"""The synthetic ScanImage writer, checked byte by byte with tifffile as referee."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from tifffile.tifffile import matlabstr2py

from napari_scanimage.testing import RoiSpec, ScanSpec, WrittenScan, write_scan

REAL_2021 = (
    Path(__file__).resolve().parents[2] / "shared" / "testdata" / "si2021_2ch_512_00001_00001.tif"
)

TWO_ROIS = (
    RoiSpec(name="left", center_xy=(-4.0, 0.0), pixels_xy=(40, 24)),
    RoiSpec(name="right", center_xy=(4.0, 1.0), size_xy=(5.0, 4.0), pixels_xy=(32, 16)),
)
# ROI "deep" is imaged only at z=25: depths have different stacked heights
Z_ROIS = (
    RoiSpec(name="all", pixels_xy=(36, 20)),
    RoiSpec(name="deep", center_xy=(5.0, 0.0), pixels_xy=(24, 12), zs=(25.0,)),
)

TAGS = [256, 257, 258, 259, 262, 270, 273, 274, 277, 278, 279, 282, 283, 284, 296, 305, 315, 339]

SPECS = {
    "nonmroi_2016b_v3": ScanSpec(
        version="2016b", num_frames=3, rois=(RoiSpec(pixels_xy=(40, 30)),)
    ),
    # 0.00091 / 6.3e-05 = 14.44 lines: round -> 14, ceil -> 15, even-ceil -> 16
    "mroi_resonant_flyto": ScanSpec(rois=TWO_ROIS, flyto_time=0.00091, num_frames=2),
    "mroi_linear": ScanSpec(rois=TWO_ROIS, scan_mode="linear", bidirectional=False, num_frames=2),
    "fastz_flyback_2ch_2023": ScanSpec(
        version=2023,
        rois=Z_ROIS,
        channels=(1, 2),
        stack="fast",
        zs=(0.0, 25.0, 50.0),
        flyback_frames=2,
        num_frames=3,
    ),
    "fastz_v3_2017": ScanSpec(
        version="2017a", stack="fast", zs=(0.0, 10.0), flyback_frames=1, num_frames=2
    ),
    "slow_avg_2020": ScanSpec(
        version=2020,
        stack="slow",
        zs=(0.0, 5.0, 10.0),
        num_frames=3,
        average_factor=4,
        channels=(2,),
    ),
    "split_mid_volume": ScanSpec(
        version=2022,
        stack="fast",
        zs=(0.0, 10.0),
        flyback_frames=1,
        channels=(1, 2),
        num_frames=3,
        frames_per_file=4,
        extra_pages=2,
    ),
    "json_header_json_desc_2019b": ScanSpec(
        version="2019b",
        header_format="json",
        description_format="json",
        rois=TWO_ROIS,
        num_frames=2,
    ),
    "multistrip_uint16": ScanSpec(
        dtype="uint16", strips_per_page=5, rois=(RoiSpec(pixels_xy=(24, 23)),)
    ),
    "irregular_int16": ScanSpec(num_frames=6, irregular_page=2, channels=(1, 3)),
}


@pytest.fixture(scope="module", params=sorted(SPECS))
def scan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WrittenScan:
    """Write each spec of the matrix once."""
    return write_scan(tmp_path_factory.mktemp(request.param), SPECS[request.param])


def read_static(path: Path) -> tuple[tuple[int, int, int, int], bytes, bytes]:
    """Return (magic, version, n0, n1), FrameData and RoiGroups bytes (with NULs)."""
    raw = path.read_bytes()
    head = struct.unpack_from("<IIII", raw, 16)
    n0, n1 = head[2], head[3]
    return head, raw[32 : 32 + n0], raw[32 + n0 : 32 + n0 + n1]


def frame_data(path: Path) -> dict[str, Any]:
    """Return FrameData as a flat ``{'SI.x.y': value}`` dict, MATLAB or JSON style."""
    _, text, _ = read_static(path)
    if text.startswith(b"{"):
        flat: dict[str, Any] = {}

        def walk(prefix: str, node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    walk(f"{prefix}.{key}", value)
            else:
                flat[prefix] = node

        walk("SI", json.loads(text[:-1])["SI"])
        return flat
    return dict(matlabstr2py(text[:-1].decode()))


def expected_role(spec: ScanSpec, page: int) -> tuple[int, int, int] | None:
    """Return (time, depth, channel index) of a page, None for flyback/extra pages."""
    plane, channel = divmod(page, len(spec.channels))
    nz = len(spec.zs)
    if spec.stack == "slow":
        depth, time = divmod(plane, spec.num_frames)
    else:
        time, depth = divmod(plane, nz + spec.flyback_frames)
    if time >= spec.num_frames or depth >= nz:
        return None
    return time, depth, channel


def pages_of(tif: tifffile.TiffFile) -> list[tifffile.TiffPage]:
    """Return all pages as full TiffPage objects."""
    pages = list(tif.pages)
    assert all(isinstance(page, tifffile.TiffPage) for page in pages)
    return pages  # type: ignore[return-value]


def all_pages(scan: WrittenScan) -> list[tuple[np.ndarray, str, int]]:
    """Return (pixels, description, description tag count) of every page of every file."""
    out = []
    for path in scan.paths:
        with tifffile.TiffFile(path) as tif:
            for page in pages_of(tif):
                count = page.tags["ImageDescription"].count
                out.append((page.asarray(), page.description, count))
    return out


def test_container_and_static_block(scan: WrittenScan) -> None:
    """BigTIFF, magic at 16, FrameData at 32, RoiGroups after it, shared tags."""
    spec = scan.spec
    expected_version = spec.tiff_format or (3 if str(spec.version) < "2019" else 4)
    for path in scan.paths:
        (magic, version, n0, n1), fd, rg = read_static(path)
        assert (magic, version) == (0x07030301, expected_version)
        for block in (fd, rg):  # n0 and n1 count exactly one trailing NUL
            assert block.endswith(b"\0")
            assert b"\0" not in block[:-1]
        rois = json.loads(rg[:-1])["RoiGroups"]["imagingRoiGroup"]["rois"]
        assert isinstance(rois, dict) == (len(spec.rois) == 1)
        assert frame_data(path)["SI.TIFF_FORMAT_VERSION"] == version
        with tifffile.TiffFile(path) as tif:
            assert tif.is_bigtiff
            assert tif.byteorder == "<"
            for page in pages_of(tif):
                tags = page.tags
                assert [tag.code for tag in tags] == TAGS
                assert (tags["Software"].count, tags["Software"].valueoffset) == (n0, 32)
                assert (tags["Artist"].count, tags["Artist"].valueoffset) == (n1, 32 + n0)
                desc = tags["ImageDescription"]
                assert desc.valueoffset == page.offset + 8 + 18 * 20 + 8
                signed = np.dtype(spec.dtype).kind == "i"
                assert tags["SampleFormat"].value == (2 if signed else 1)
                assert page.dtype == np.dtype(spec.dtype)
            if spec.header_format == "matlab":
                assert tif.is_scanimage
                meta = tif.scanimage_metadata
                assert meta is not None
                assert meta["version"] == version
                assert meta["FrameData"] == frame_data(path)
                assert meta["RoiGroups"]["imagingRoiGroup"]["rois"] is not None
            else:  # tifffile does not recognise JSON FrameData (doc §2.2)
                assert fd.startswith(b'{\n  "SI": {')
                assert not tif.is_scanimage
        (ifd0,) = struct.unpack_from("<Q", path.read_bytes(), 8)
        assert 32 + n0 + n1 <= ifd0 < 32 + n0 + n1 + 8  # IFD 0 right after the static block
        assert len({read_static(p)[1:] for p in scan.paths}) == 1  # same static block


def test_page_count_and_files(scan: WrittenScan) -> None:
    """Page totals, file names and the split at ScanImage-frame boundaries."""
    spec = scan.spec
    nch, nz = len(spec.channels), len(spec.zs)
    per_volume = {"none": 1, "fast": nz + spec.flyback_frames}.get(spec.stack)
    assert scan.pages_per_volume == (per_volume or nz * spec.num_frames)
    planes = scan.pages_per_volume * (1 if spec.stack == "slow" else spec.num_frames)
    assert scan.num_pages == planes * nch + spec.extra_pages
    counts = []
    for path in scan.paths:
        with tifffile.TiffFile(path) as tif:
            counts.append(len(tif.pages))
    assert sum(counts) == scan.num_pages
    if spec.frames_per_file is None:
        assert [p.name for p in scan.paths] == ["scan_00001.tif"]
    else:
        per_file = spec.frames_per_file * nch
        assert counts[:-1] == [per_file] * (len(counts) - 1)
        assert 0 < counts[-1] <= per_file
        names = [f"scan_00001_{k + 1:05d}.tif" for k in range(len(counts))]
        assert [p.name for p in scan.paths] == names


def test_pixels_match_truth(scan: WrittenScan) -> None:
    """Every truth field sits at its y0 in the right page; the rest is junk."""
    spec = scan.spec
    flyto = 0
    if spec.scan_mode == "resonant" and len(spec.rois) > 1:
        flyto = math.floor(spec.flyto_time / spec.line_period + 0.5)
    assert scan.flyto_lines == flyto
    by_depth: dict[int, list[Any]] = {}
    for field in scan.fields:
        by_depth.setdefault(field.depth_index, []).append(field)
        assert field.data.shape == (spec.num_frames, len(spec.channels), field.height, field.width)
        assert field.data.dtype == np.dtype(spec.dtype)
        roi = spec.rois[field.roi_index]
        assert (field.width, field.height) == roi.pixels_xy
        assert field.z == spec.zs[field.depth_index]
    heights = []
    for depth, fields in sorted(by_depth.items()):
        y = 0
        for k, field in enumerate(fields):
            assert field.y0 == y + k * flyto
            y += field.height
        heights.append(y + (len(fields) - 1) * flyto)
        z = spec.zs[depth]
        expected = [i for i, r in enumerate(spec.rois) if r.zs is None or z in r.zs]
        assert [f.roi_index for f in fields] == expected
    assert scan.page_height == max(heights)
    assert scan.page_width == max(r.pixels_xy[0] for r in spec.rois)
    checked = 0
    for g, (image, _, _) in enumerate(all_pages(scan)):
        assert image.shape == (scan.page_height, scan.page_width)
        role = expected_role(spec, g)
        if role is None:
            continue
        time, depth, channel = role
        covered = np.zeros(image.shape, bool)
        for field in by_depth[depth]:
            window = image[field.y0 : field.y0 + field.height, : field.width]
            np.testing.assert_array_equal(window, field.data[time, channel])
            covered[field.y0 : field.y0 + field.height, : field.width] = True
            checked += 1
        if not covered.all():  # fly-to lines / unused area: random, not zeros
            assert np.count_nonzero(image[~covered]) > 0.9 * np.count_nonzero(~covered)
    assert checked == len(scan.fields) * spec.num_frames * len(spec.channels)


def test_descriptions(scan: WrittenScan) -> None:
    """Per-page descriptions parse; frame numbers run per plane across files."""
    spec = scan.spec
    nch = len(spec.channels)
    for g, (_, text, count) in enumerate(all_pages(scan)):
        if spec.description_format == "json":
            values = json.loads(text)
            assert values["I2CData"] == []
        else:
            values = matlabstr2py(text)
            assert text.splitlines()[0] == f"frameNumbers = {g // nch + 1}"
            assert text.splitlines()[-1] == "I2CData = {}"
        assert values["frameNumbers"] == g // nch + 1
        expected_t = (values["frameNumbers"] - 1) * spec.average_factor / spec.frame_rate
        assert values["frameTimestamps_sec"] == pytest.approx(expected_t, abs=1e-9)
        assert values["nextFileMarkerTimestamps_sec"] == -1
        assert values["endOfAcquisitionMode"] == int(g // nch == (scan.num_pages - 1) // nch)
        if spec.stack == "slow":
            acq, in_acq = divmod(g // nch, spec.num_frames)
            assert values["acquisitionNumbers"] == acq + 1
            assert values["frameNumberAcquisition"] == in_acq + 1
        else:
            assert values["frameNumberAcquisition"] == values["frameNumbers"]
        assert len(values["epoch"]) == 6
        assert count == spec.description_slot + 1 + (1064 if g == spec.irregular_page else 0)


def test_frame_data_keys(scan: WrittenScan) -> None:
    """Version-specific FrameData keys and values agree with the layout."""
    spec = scan.spec
    fd = frame_data(scan.paths[0])
    nz, nch, fast = len(spec.zs), len(spec.channels), spec.stack == "fast"
    save = fd["SI.hChannels.channelSave"]
    if nch == 1:
        assert save == spec.channels[0]
    elif spec.header_format == "matlab":
        assert save == [[c] for c in spec.channels]  # column vector [1;2]
    else:
        assert save == list(spec.channels)
    inf = "_Inf_" if spec.header_format == "json" else math.inf
    per_file = spec.frames_per_file
    assert fd["SI.hScan2D.logFramesPerFile"] == (inf if per_file is None else per_file)
    assert fd["SI.hScan2D.logAverageFactor"] == spec.average_factor
    assert fd["SI.hScan2D.scanMode"] == spec.scan_mode
    assert bool(fd["SI.hRoiManager.mroiEnable"]) == (len(spec.rois) > 1)
    assert fd["SI.hRoiManager.scanFrameRate"] == pytest.approx(spec.frame_rate)
    assert fd["SI.hRoiManager.linePeriod"] == pytest.approx(spec.line_period)
    assert fd["SI.hScan2D.flytoTimePerScanfield"] == pytest.approx(spec.flyto_time)
    assert fd["SI.objectiveResolution"] == spec.objective_resolution
    assert np.shape(fd["SI.hRoiManager.imagingFovUm"]) == (4, 2)
    assert fd["SI.hScan2D.channelsDataType"] == spec.dtype
    raw = spec.num_frames * spec.average_factor
    assert fd["SI.hStackManager.framesPerSlice"] == (1 if fast else raw)
    if len(spec.rois) == 1:
        assert fd["SI.hRoiManager.linesPerFrame"] == scan.page_height
        assert fd["SI.hRoiManager.pixelsPerLine"] == scan.page_width
    expected_rate = spec.frame_rate / (scan.pages_per_volume if fast else 1)
    assert fd["SI.hRoiManager.scanVolumeRate"] == pytest.approx(expected_rate, rel=1e-5)
    zs = fd["SI.hStackManager.zs"]
    zs = zs if isinstance(zs, list) else [zs]
    if fd["SI.TIFF_FORMAT_VERSION"] == 3:
        assert isinstance(fd["SI.VERSION_MAJOR"], str)
        assert "SI.hStackManager.actualNumSlices" not in fd
        assert fd["SI.hStackManager.slicesPerAcq"] == (nz if spec.stack != "none" else 1)
        assert fd["SI.hFastZ.numVolumes"] == (spec.num_frames if fast else 1)
        frames_per_volume = nz + spec.flyback_frames if fast else 1
        assert fd["SI.hFastZ.numFramesPerVolume"] == frames_per_volume
        assert sorted(set(zs)) == sorted(spec.zs)
    else:
        assert bool(fd["SI.hStackManager.enable"]) == (spec.stack != "none")
        slices = fd["SI.hStackManager.actualNumSlices"]
        assert slices == (nz if spec.stack != "none" else 1)
        volumes = spec.num_frames if fast else 1
        assert fd["SI.hStackManager.actualNumVolumes"] == volumes
        with_flyback = fd["SI.hStackManager.numFramesPerVolumeWithFlyback"]
        assert with_flyback - fd["SI.hStackManager.numFramesPerVolume"] == spec.flyback_frames
        assert fd["SI.hStackManager.numFramesPerVolume"] == len(zs)
        if spec.stack == "slow" and int(str(spec.version)[:4]) >= 2020:
            assert len(zs) == slices * fd["SI.hStackManager.framesPerSlice"]
        assert fd["SI.hStackManager.stackMode"] == ("fast" if fast else "slow")
        has_volumes = "SI.hFastZ.numVolumes" in fd
        assert has_volumes == (int(str(spec.version)[:4]) < 2021)
        if spec.stack == "none":
            assert zs == [spec.zs[0]]
    assert bool(fd["SI.hFastZ.enable"]) == fast
    assert fd["SI.hFastZ.numDiscardFlybackFrames"] == spec.flyback_frames


def test_roi_groups(scan: WrittenScan) -> None:
    """RoiGroups JSON has the scanfield geometry and the object/list conventions."""
    spec = scan.spec
    _, _, rg = read_static(scan.paths[0])
    groups = json.loads(rg[:-1])["RoiGroups"]
    rois = groups["imagingRoiGroup"]["rois"]
    rois = rois if isinstance(rois, list) else [rois]
    assert [r["name"] for r in rois] == [r.name for r in spec.rois]
    for roi, roi_spec in zip(rois, spec.rois, strict=True):
        fields = roi["scanfields"]
        fields = fields if isinstance(fields, list) else [fields]
        n_fields = 1 if roi_spec.zs is None else len(roi_spec.zs)
        assert len(fields) == n_fields
        assert roi["discretePlaneMode"] == int(roi_spec.zs is not None)
        assert roi["zs"] == (0 if roi_spec.zs is None else roi_spec.zs[0])
        assert roi["enable"] == 1
        for field in fields:
            assert field["centerXY"] == list(roi_spec.center_xy)
            assert field["sizeXY"] == list(roi_spec.size_xy)
            assert field["pixelResolutionXY"] == list(roi_spec.pixels_xy)
            assert np.shape(field["affine"]) == (3, 3)
    empty = groups["integrationRoiGroup"]["rois"]
    assert empty == {"_ArrayType_": "double", "_ArraySize_": [1, 0], "_ArrayData_": None}


def test_layout_on_disk(scan: WrittenScan) -> None:
    """IFD, slot, strips, next pointers; irregular pages break the stride."""
    spec = scan.spec
    for path in scan.paths:
        raw = path.read_bytes()
        with tifffile.TiffFile(path) as tif:
            pages = pages_of(tif)
            offsets = [page.offset for page in pages]
            for page in pages:
                strip_offsets = page.tags["StripOffsets"].value
                counts = page.tags["StripByteCounts"].value
                rows = page.tags["RowsPerStrip"].value
                assert len(strip_offsets) == -(-scan.page_height // rows)
                assert rows == -(-scan.page_height // spec.strips_per_page)
                assert sum(counts) == scan.page_height * scan.page_width * page.bitspersample // 8
                assert np.all(np.diff(strip_offsets) == counts[:-1])  # contiguous
                desc_end = page.tags["ImageDescription"].valueoffset
                assert strip_offsets[0] >= desc_end + page.tags["ImageDescription"].count
        last = offsets[-1]
        (ntags,) = struct.unpack_from("<Q", raw, last)
        assert struct.unpack_from("<Q", raw, last + 8 + 20 * ntags) == (0,)
        strides = set(np.diff(offsets).tolist())
        if spec.irregular_page is not None and path == scan.paths[0]:
            k = spec.irregular_page
            regular = offsets[1] - offsets[0] if k != 0 else offsets[2] - offsets[1]
            assert offsets[k + 1] - offsets[k] == regular + 1064
            assert len(strides) == 2
        else:
            assert len(strides) <= 1


def test_fly_to_rounding(tmp_path: Path) -> None:
    """14.44 lines -> 14 (MATLAB round), 15.87 -> 16; linear scans have none."""
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    assert write_scan(tmp_path / "a", SPECS["mroi_resonant_flyto"]).flyto_lines == 14
    high = ScanSpec(rois=TWO_ROIS, num_frames=1)  # 0.001 / 6.3e-05 = 15.87
    assert write_scan(tmp_path / "b", high).flyto_lines == 16
    assert write_scan(tmp_path / "c", SPECS["mroi_linear"]).flyto_lines == 0


def test_fast_z_page_heights(tmp_path: Path) -> None:
    """A ROI present only at some depths: page height is the tallest depth."""
    scan = write_scan(tmp_path, SPECS["fastz_flyback_2ch_2023"])
    assert [(f.depth_index, f.roi_name) for f in scan.fields] == [
        (0, "all"),
        (1, "all"),
        (1, "deep"),
        (2, "all"),
    ]
    assert scan.page_height == 20 + scan.flyto_lines + 12
    assert scan.pages_per_volume == 5
    assert scan.num_pages == 3 * 5 * 2


def test_split_last_file_mid_volume(tmp_path: Path) -> None:
    """4 frames per file, 3 planes per volume: files of 8, 8 and 4 pages."""
    scan = write_scan(tmp_path, SPECS["split_mid_volume"], stem="run", acquisition=7)
    assert [p.name for p in scan.paths] == [
        "run_00007_00001.tif",
        "run_00007_00002.tif",
        "run_00007_00003.tif",
    ]
    assert scan.num_pages == 20
    first_planes = []
    for path in scan.paths:
        with tifffile.TiffFile(path) as tif:
            first_planes.append(matlabstr2py(tif.pages.first.description)["frameNumbers"])
    assert first_planes == [1, 5, 9]


def test_deterministic(tmp_path: Path) -> None:
    """The same spec and seed give the same bytes; another seed does not."""
    spec = SPECS["mroi_resonant_flyto"]
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    one = write_scan(tmp_path / "a", spec).paths[0].read_bytes()
    two = write_scan(tmp_path / "b", spec).paths[0].read_bytes()
    other = ScanSpec(rois=TWO_ROIS, flyto_time=0.00091, num_frames=2, seed=1)
    three = write_scan(tmp_path / "c", other).paths[0].read_bytes()
    assert one == two
    assert one != three


@pytest.mark.skipif(not REAL_2021.exists(), reason="shared test data not available")
def test_key_spellings_match_real_2021_file(tmp_path: Path) -> None:
    """Every FrameData key written for SI 2021 exists in the real SI 2021 header."""
    with tifffile.TiffFile(REAL_2021) as tif:
        meta = tif.scanimage_metadata
        assert meta is not None
        real = meta["FrameData"]
        real_rois = meta["RoiGroups"]["imagingRoiGroup"]["rois"]
    ours = frame_data(write_scan(tmp_path, ScanSpec(channels=(1, 2))).paths[0])
    assert set(ours) - set(real) == set()
    _, _, rg = read_static(write_scan(tmp_path, ScanSpec()).paths[0])
    our_rois = json.loads(rg[:-1])["RoiGroups"]["imagingRoiGroup"]["rois"]
    assert set(our_rois) == set(real_rois)
    assert set(our_rois["scanfields"]) == set(real_rois["scanfields"])


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"stack": "none", "zs": (0.0, 1.0)}, "zs"),
        ({"flyback_frames": 1}, "flyback"),
        ({"stack": "fast", "zs": (0.0, 1.0), "average_factor": 2}, "averag"),
        ({"extra_pages": 1}, "extra_pages"),
        ({"frames_per_file": 1, "irregular_page": 1}, "irregular_page"),
        ({"mroi": False, "rois": TWO_ROIS}, "mroi"),
        ({"dtype": "float32"}, "dtype"),
        ({"rois": (RoiSpec(zs=(5.0,)),)}, "no ROI"),
        ({"description_slot": 100}, "fit"),
    ],
)
def test_invalid_specs(tmp_path: Path, changes: dict[str, Any], match: str) -> None:
    """Inconsistent settings raise ValueError."""
    with pytest.raises(ValueError, match=match):
        write_scan(tmp_path, ScanSpec(**changes))
