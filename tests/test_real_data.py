"""Recordings made by ScanImage itself (../shared/testdata, see its CATALOG.md)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_scanimage import read_scan
from tests.conftest import REAL_DATA, requires_real_data

pytestmark = requires_real_data

SI2021 = REAL_DATA / "si2021_2ch_512_00001_00001.tif"


def real_files():
    return sorted(REAL_DATA.glob("*.tif")) if REAL_DATA.is_dir() else []


@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_every_real_file_opens_and_agrees_with_tifffile(path):
    scan = read_scan(path)
    pages = tifffile.imread(path, key=slice(None))
    pages = pages.reshape(-1, *pages.shape[-2:])
    for f_index, field in enumerate(scan.fields):
        data = scan[f_index]  # (y, x, channels, frames)
        for t in range(scan.num_frames):
            for c in range(scan.num_channels):
                page = scan.layout.pages(np.array([t]), field.depth_index, np.array([c]))[0, 0]
                for ys, xs, oys, oxs in zip(
                    field.yslices, field.xslices, field.output_yslices, field.output_xslices,
                    strict=True,
                ):  # fmt: skip
                    np.testing.assert_array_equal(data[oys, oxs, c, t], pages[page][ys, xs])


def test_si2021_matches_the_catalog():
    scan = read_scan(SI2021)
    assert scan.version == "2021.0"
    assert scan.tiff_format_version == 4
    assert (scan.num_frames, scan.num_channels, scan.num_fields) == (1, 2, 1)
    assert (scan.field_heights, scan.field_widths) == ([512], [512])
    assert scan.fps == pytest.approx(30.0169)
    assert not scan.is_multiROI
    assert scan.is_bidirectional
    assert scan.zoom == 1
    data = scan[:]
    assert data.dtype == np.int16
    assert (int(data.min()), int(data.max())) == (46, 1447)
    assert float(data.mean()) == pytest.approx(1004.37, abs=0.01)
    # 18 x 18 degrees at 15 µm/degree, centred on the optical axis
    assert scan.fields[0].size_um == pytest.approx((270.0, 270.0))
    assert scan.fields[0].center_um == pytest.approx((0.0, 0.0))
    assert scan.frame_numbers().tolist() == [1]
    assert scan.frame_timestamps().tolist() == [0.0]
    assert scan.frame_description(0)["epoch"] == [2021, 11, 5, 9, 50, 13.56]


FASTZ = REAL_DATA / "fastz_2ch_flyback_10files"


def fastz_files():
    return sorted(FASTZ.glob("*.tif"))


def test_fastz_series_with_saved_flyback_matches_the_catalog():
    """10 files, 9 slices plus 7 flyback frames per volume on disk, channels 1 and 2."""
    files = fastz_files()
    assert len(files) == 10
    scan = read_scan(files[4])  # the API reads the files it is given: 10 volumes here
    assert (scan.num_files, scan.num_frames) == (1, 10)
    scan = read_scan(files)
    assert (scan.num_fields, scan.num_frames, scan.num_channels) == (9, 100, 2)
    assert scan.scanning_depths == [92.0, 94.0, 96.0, 98.0, 100.0, 102.0, 104.0, 106.0, 108.0]
    assert scan.fps == pytest.approx(32.7454)
    assert scan.timestamp_fps == pytest.approx(32.7454, rel=1e-3)  # header and pages agree
    pages = np.concatenate([tifffile.imread(f, key=slice(None)) for f in files])
    data = scan[:]  # (fields, y, x, channels, frames)
    for z in range(9):
        for t in (0, 9, 10, 57, 99):  # across file boundaries
            for c in range(2):
                np.testing.assert_array_equal(data[z, :, :, c, t], pages[(t * 16 + z) * 2 + c])
    stamps = []
    for f in files:
        with tifffile.TiffFile(f) as tif:
            stamps += [
                float(page.description.split("frameTimestamps_sec = ")[1].split()[0])
                for page in tif.pages[::2]
            ]
    np.testing.assert_allclose(scan.frame_timestamps(3), stamps[3::16], atol=1e-9)
    assert scan.frame_numbers(0).tolist() == list(range(1, 1601, 16))
