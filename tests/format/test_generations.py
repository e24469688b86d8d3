"""Headers of every ScanImage generation translate into the modern ``SI`` tree."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import tifffile

from napari_scanimage.errors import NotScanImageError, UnsupportedVersionError
from napari_scanimage.format.descriptions import parse_description, read_number
from napari_scanimage.format.header import is_scanimage_file, read_header
from napari_scanimage.format.legacy_header import read_legacy_header
from napari_scanimage.format.legacy_index import ClassicTiffHandle, index_pages, open_handle
from napari_scanimage.format.sniff import looks_like_scanimage
from napari_scanimage.testing import ScanSpec, write_scan
from napari_scanimage.testing_legacy import LegacySpec, resave_scan, write_legacy_scan

GENERATIONS = {"3.x": "3.x", "4.x": "4.x", "5.0": "5.0/5.1", "5.1": "5.0/5.1"}
GENERATIONS |= {"5.2": "5.2/2015", "2015": "5.2/2015"}


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_header_translates_to_modern_keys(tmp_path, generation):
    spec = LegacySpec(
        generation=generation, channels=(1, 3), zs=(0.0, 4.0), stack="slow", average_factor=2
    )
    truth = write_legacy_scan(tmp_path, spec)
    header = read_legacy_header(str(truth.path))
    assert header.generation == GENERATIONS[generation]
    assert "classic TIFF without the static header block" in header.container
    assert header.get("SI.hChannels.channelSave") == [1, 3]
    assert header.get("SI.hScan2D.logAverageFactor") == 2
    assert header.get("SI.hStackManager.framesPerSlice") == spec.num_frames * 2  # raw frames
    assert header.get("SI.hStackManager.numSlices") == 2
    assert header.get("SI.hStackManager.stackZStepSize") == 4
    assert header.get("SI.hRoiManager.pixelsPerLine") == spec.width
    assert header.get("SI.hRoiManager.linesPerFrame") == spec.height
    assert header.number("SI.hRoiManager.scanZoomFactor") == spec.zoom
    assert header.number("SI.hRoiManager.scanFrameRate") == pytest.approx(15.0, rel=1e-5)
    assert not header.flag("SI.hFastZ.enable")
    assert header.roi_groups == {}


@pytest.mark.parametrize(
    ("generation", "root", "key", "value"),
    [
        ("3.x", "state", ("acq", "numberOfFrames"), 6),
        ("4.x", "scanimage", ("SI4", "acqNumFrames"), 6),
        ("5.0", "scanimage", ("SI5", "acqNumFrames"), 6),
    ],
)
def test_the_files_own_keys_stay_available(tmp_path, generation, root, key, value):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation=generation, average_factor=2))
    header = read_legacy_header(str(truth.path))
    node = header.frame_data[root]
    for part in key:
        node = node[part]
    assert node == value


def test_versions_are_given_as_the_file_states_them(tmp_path):
    stated = {}
    for generation in GENERATIONS:
        folder = tmp_path / generation
        folder.mkdir()
        header = read_legacy_header(
            str(write_legacy_scan(folder, LegacySpec(generation=generation)).path)
        )
        stated[generation] = (header.get("SI.VERSION_MAJOR"), header.get("SI.VERSION_MINOR", None))
    assert stated == {
        "3.x": ("3.8", None),  # state.software.version=3.8
        "4.x": ("4.2", None),  # scanimage.SI4.versionMajor = 4.2
        "5.0": (5, 0),
        "5.1": (5, 1),
        "5.2": ("5.2", "0"),
        "2015": ("2015", "4"),
    }


def test_fast_z_keys_of_si4_and_si5(tmp_path):
    spec = LegacySpec(generation="4.x", zs=(0.0, 5.0, 10.0), stack="fast", num_frames=2)
    header = read_legacy_header(str(write_legacy_scan(tmp_path, spec).path))
    assert header.flag("SI.hFastZ.enable")
    assert header.get("SI.hFastZ.numVolumes") == 2
    assert header.get("SI.hStackManager.numSlices") == 3
    assert header.number("SI.hRoiManager.scanVolumeRate") == pytest.approx(5.0, rel=1e-5)


def test_header_in_the_software_tag(tmp_path):
    spec = LegacySpec(generation="2015", header_in="software", fov_um=(8.0, 12.0))
    truth = write_legacy_scan(tmp_path, spec)
    with tifffile.TiffFile(truth.path) as tif:
        assert tif.pages.first.software.startswith("SI.")
        assert "scanimage.SI" not in tif.pages.first.description
    header = read_legacy_header(str(truth.path))
    assert header.generation == "5.2/2015"
    assert "Software tag" in header.container
    assert header.number("SI.objectiveResolution") == 15.0


def test_descriptions_of_si4_and_si5_give_modern_names():
    text = "Frame Number = 10\nFrame Timestamp(s) = 0.666666667\nDC Overvoltage = 0"
    values = parse_description(text)
    assert values["frameNumbers"] == 10
    assert values["frameTimestamps_sec"] == pytest.approx(0.666666667)
    assert values["Frame Number"] == 10  # the file's own name stays
    assert read_number(text, "frameNumbers") == 10.0
    assert read_number("Frame Tag = 00000007\nscanimage.SI4.x = 1", "frameNumbers") is None
    assert read_number("state.acq.numberOfFrames=3", "frameTimestamps_sec") is None


def test_resaved_file_reads_software_and_artist_tags(tmp_path):
    written = write_scan(tmp_path, ScanSpec(channels=(1, 2), num_frames=2))
    out = resave_scan(written.paths[0], tmp_path / "cropped.tif")
    header = read_legacy_header(str(out))
    assert header.generation == "2016+"
    assert header.tiff_format_version == 4
    assert header.get("SI.hChannels.channelSave") == [1, 2]
    assert header.roi_groups["RoiGroups"]["imagingRoiGroup"]["rois"]["name"] == "ROI 1"
    with open_handle(out) as handle:
        assert read_header(handle).generation == "2016+"
        index = index_pages(handle)
    assert index.count == written.num_pages
    assert index.stride is None


def test_json_descriptions_of_2015(tmp_path):
    path = tmp_path / "json2015.tif"
    text = json.dumps(
        {
            "FrameHeader": {"frameNumbers": 1, "frameTimestamps_sec": 0.0},
            "SI": {"VERSION_MAJOR": "2015", "hChannels": {"channelSave": [1, 2]}},
        }
    )
    write_plain(path, description=text, metadata=None)
    assert is_scanimage_file(path)
    header = read_legacy_header(str(path))
    assert header.generation == "5.2/2015"
    assert header.get("SI.hChannels.channelSave") == [1, 2]
    assert header.style == "json"
    assert parse_description(text)["frameNumbers"] == 1


def test_classic_index_matches_tifffile(tmp_path):
    truth = write_legacy_scan(tmp_path, LegacySpec(channels=(1, 2), rows_per_strip=3))
    with open_handle(truth.path) as handle:
        assert isinstance(handle, ClassicTiffHandle)
        index = index_pages(handle)
        raw = np.fromfile(truth.path, dtype=np.uint8)
    with tifffile.TiffFile(truth.path, is_scanimage=False) as tif:
        assert index.count == len(tif.pages) == len(truth.pages)
        for k, page in enumerate(tif.pages):
            assert index.data_offsets[k] == page.dataoffsets[0]
            start, size = int(index.description_offsets[k]), int(index.description_nbytes[k])
            text = raw[start : start + size].tobytes().rstrip(b"\0").decode().rstrip()
            assert text == page.description


def write_plain(path, **kwargs):
    tifffile.imwrite(path, np.zeros((8, 8), np.uint16), **kwargs)
    return path


def test_compressed_pages_name_the_file_and_version(tmp_path):
    spec = LegacySpec(generation="4.x")
    truth = write_legacy_scan(tmp_path, spec)
    path = tmp_path / "zipped.tif"
    with tifffile.TiffFile(truth.path) as tif:
        page = tif.pages.first
        tifffile.imwrite(path, page.asarray(), description=page.description, compression="zlib")
    with pytest.raises(UnsupportedVersionError, match=r"zipped\.tif: ScanImage 4\.x .*4\.2.*comp"):
        read_legacy_header(str(path))


def test_mroi_without_roi_groups_is_unsupported(tmp_path):
    path = tmp_path / "mroi.tif"
    text = "frameNumbers = 1\nscanimage.SI.VERSION_MAJOR = '2015'\n"
    text += "scanimage.SI.hRoiManager.mroiEnable = true\n"
    write_plain(path, description=text, metadata=None)
    with pytest.raises(UnsupportedVersionError, match=r"mroi\.tif: ScanImage 5\.2/2015 .*2015"):
        read_legacy_header(str(path))


def test_plain_tiffs_are_not_scanimage(tmp_path):
    plain = write_plain(tmp_path / "plain.tif", description="hello")
    big = write_plain(tmp_path / "big.tif", bigtiff=True, software="ImageJ")
    for path in (plain, big):
        assert not is_scanimage_file(path)
        with pytest.raises(NotScanImageError, match="without ScanImage metadata"):
            read_legacy_header(str(path))


class CountingReader(io.BytesIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


@pytest.mark.parametrize("bigtiff", [False, True])
def test_sniffing_reads_a_few_kb_only(tmp_path, bigtiff):
    long_text = "x" * 2_000_000  # a non-ScanImage TIFF with a huge description
    path = write_plain(tmp_path / "long.tif", description=long_text, bigtiff=bigtiff)
    fh = CountingReader(path.read_bytes())
    assert not looks_like_scanimage(fh)
    assert fh.read_bytes < 10_000


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_sniffing_accepts_every_generation(tmp_path, generation):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation=generation))
    fh = CountingReader(truth.path.read_bytes())
    assert looks_like_scanimage(fh)
    assert fh.read_bytes < 10_000
    assert is_scanimage_file(truth.path)


def test_unknown_pixel_size_is_nan_not_invented(tmp_path):
    from napari_scanimage import read_scan

    truth = write_legacy_scan(tmp_path, LegacySpec(generation="5.1"))
    with read_scan(str(truth.path)) as scan:
        field = scan.fields[0]
        assert not field.pixel_size_known
        assert all(math.isnan(v) for v in field.pixel_size_um)


def test_big_endian_files_name_the_version(tmp_path):
    path = tmp_path / "motorola.tif"
    text = "Frame Number = 1\nscanimage.SI5.VERSION_MAJOR = 5\nscanimage.SI5.VERSION_MINOR = 1\n"
    write_plain(path, description=text, metadata=None, byteorder=">")
    with pytest.raises(
        UnsupportedVersionError, match=r"motorola\.tif: ScanImage 5\.0/5\.1 .*5 1.*big"
    ):
        read_legacy_header(str(path))


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_writer_output_is_scanimage_to_tifffile(tmp_path, generation):
    """tifffile's own rule (``TiffPage.is_scanimage``) recognises every written generation."""
    truth = write_legacy_scan(tmp_path, LegacySpec(generation=generation, channels=(1, 2)))
    with tifffile.TiffFile(truth.path, is_scanimage=False) as tif:
        pages = list(tif.pages)
        assert all(page.is_scanimage for page in pages)
        assert not tif.is_bigtiff
        assert all(len(page.dataoffsets) == 4 for page in pages)  # several strips per page
        text = pages[0].description
    separator = "\r" if generation == "3.x" else "\n"
    assert text.count(separator) > 10
    if generation == "3.x":
        assert text.startswith("state.")
        assert "\n" not in text


def test_opening_a_big_endian_scanimage_file_names_the_version(tmp_path):
    from napari_scanimage import read_scan

    path = tmp_path / "be.tif"
    text = "Frame Number = 1\nscanimage.SI4.versionMajor = 4.2\n"
    write_plain(path, description=text, metadata=None, byteorder=">")
    with pytest.raises(
        UnsupportedVersionError, match=r"be\.tif: ScanImage 4\.x .*4\.2.*big-endian"
    ):
        read_scan(str(path))
    plain = write_plain(tmp_path / "plain_be.tif", byteorder=">")
    with pytest.raises(NotScanImageError, match=r"plain_be\.tif"):
        read_scan(str(plain))
