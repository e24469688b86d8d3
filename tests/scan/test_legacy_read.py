"""Every ScanImage generation, and re-saved files, read through the same API.

Each case is written by the faithful writers (``testing_legacy``), checked page by
page against tifffile, then read as ``scan[fields, y, x, channels, frames]``
and compared with the writer's truth.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tifffile

from napari_scanimage import read_scan
from napari_scanimage.errors import ScanImageWarning
from napari_scanimage.summary import format_summary, summarize
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan
from napari_scanimage.testing_legacy import LegacySpec, resave_scan, write_legacy_scan

GENERATIONS = ["3.x", "4.x", "5.0", "5.1", "5.2", "2015"]
STRIPS = (
    RoiSpec(name="s1", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="s2", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
)


def check_pages_against_tifffile(truth):
    """Every page tifffile reads is the writer's page, and carries a description."""
    with tifffile.TiffFile(truth.path, is_scanimage=False) as tif:
        assert len(tif.pages) == len(truth.pages)
        for page, expected in zip(tif.pages, truth.pages, strict=True):
            np.testing.assert_array_equal(page.asarray(), expected)
        return [page.description for page in tif.pages]


def check_scan(truth):
    descriptions = check_pages_against_tifffile(truth)
    with read_scan(str(truth.path)) as scan:
        nz, frames, nch = truth.data.shape[:3]
        assert scan.shape == (nz, truth.spec.height, truth.spec.width, nch, frames)
        np.testing.assert_array_equal(scan[:], truth.data.transpose(0, 3, 4, 2, 1))
        assert scan.channels == truth.spec.channels
        assert scan.scanning_depths == pytest.approx(list(truth.spec.zs))
        assert scan.fps == pytest.approx(truth.fps, rel=1e-5)
        assert scan.zoom == truth.spec.zoom
        assert scan.version == truth.version
        np.testing.assert_allclose(scan.frame_timestamps(0), truth.timestamps, rtol=1e-6)
        ours = [scan.description(p).rstrip() for p in range(len(descriptions))]
        assert ours == [d.rstrip() for d in descriptions]
        dy, dx = scan.fields[0].pixel_size_um
        if math.isnan(truth.pixel_size_um[0]):
            assert math.isnan(dy)
            assert math.isnan(dx)
        else:
            assert (dy, dx) == pytest.approx(truth.pixel_size_um)
        return scan.header


@pytest.mark.parametrize("average", [1, 2], ids=["noavg", "avg2"])
@pytest.mark.parametrize("zs", [(0.0,), (0.0, 5.0, 10.0)], ids=["1slice", "3slices"])
@pytest.mark.parametrize("channels", [(1,), (1, 2)], ids=["1ch", "2ch"])
@pytest.mark.parametrize("generation", GENERATIONS)
def test_every_generation_reads_like_its_truth(tmp_path, generation, channels, zs, average):
    spec = LegacySpec(
        generation=generation,
        channels=channels,
        zs=zs,
        stack="slow" if len(zs) > 1 else "none",
        average_factor=average,
        fov_um=(8.0, 12.0),
    )
    header = check_scan(write_legacy_scan(tmp_path, spec))
    assert header.container.startswith("classic TIFF")


@pytest.mark.parametrize("channels", [(1,), (2, 3)], ids=["1ch", "2ch"])
@pytest.mark.parametrize("generation", ["4.x", "5.0", "5.1", "5.2", "2015"])
def test_fast_z_volumes(tmp_path, generation, channels):
    spec = LegacySpec(
        generation=generation, channels=channels, zs=(0.0, 5.0, 10.0), stack="fast", num_frames=2
    )
    check_scan(write_legacy_scan(tmp_path, spec))


@pytest.mark.parametrize("generation", GENERATIONS)
def test_bigtiff_containers(tmp_path, generation):
    spec = LegacySpec(generation=generation, bigtiff=True, channels=(1, 2), rows_per_strip=16)
    header = check_scan(write_legacy_scan(tmp_path, spec))
    assert header.container.startswith("BigTIFF")


def test_2015_header_in_the_software_tag(tmp_path):
    spec = LegacySpec(generation="2015", header_in="software", channels=(1, 2), fov_um=(8, 12))
    check_scan(write_legacy_scan(tmp_path, spec))


def test_summary_says_the_pixel_size_is_unknown(tmp_path):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation="4.x"))
    with read_scan(str(truth.path)) as scan:
        info = summarize(scan)
    assert info["fields"][0]["size_um"] is None
    assert info["generation"] == "4.x"
    text = format_summary(info)
    assert "ScanImage 4.2 (classic TIFF without the static header block" in text
    assert "size in µm unknown" in text


# -- re-saved files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        (ScanSpec(channels=(1, 2), num_frames=3), {}),
        (ScanSpec(channels=(1, 2), num_frames=3, header_format="json"), {}),
        (ScanSpec(channels=(1, 2), num_frames=3), {"bigtiff": False}),
        (ScanSpec(rois=STRIPS, num_frames=2, version="2019b"), {}),
        (ScanSpec(rois=STRIPS, num_frames=2, stack="slow", zs=(0.0, 10.0), version="2018b"), {}),
        (ScanSpec(num_frames=3, stack="fast", zs=(0.0, 5.0), flyback_frames=1), {}),
    ],
    ids=["2ch", "json-header", "classic", "mroi", "mroi-slow-stack", "fast-flyback"],
)
def test_resaved_files_read_like_the_original(tmp_path, spec, options):
    written = write_scan(tmp_path, spec)
    out = resave_scan(written.paths[0], tmp_path / "resaved.tif", **options)
    with read_scan(str(out)) as scan, read_scan(str(written.paths[0])) as original:
        assert "without the static header block" in scan.header.container
        assert scan.shape == original.shape
        assert [f.pixel_size_um for f in scan.fields] == [f.pixel_size_um for f in original.fields]
        assert [f.top_left_um for f in scan.fields] == [f.top_left_um for f in original.fields]
        for i, field in enumerate(written.fields):
            np.testing.assert_array_equal(scan.read_field(i), field.data)
        np.testing.assert_array_equal(scan.frame_timestamps(0), original.frame_timestamps(0))


def test_cropped_resave_keeps_the_pages_it_has(tmp_path):
    written = write_scan(tmp_path, ScanSpec(channels=(1, 2), num_frames=8))
    out = resave_scan(written.paths[0], tmp_path / "crop.tif", keep_pages=6)
    with read_scan(str(out)) as scan:
        assert scan.num_frames == 3
        np.testing.assert_array_equal(scan.read_field(0), written.fields[0].data[:3])


def test_resave_whose_header_lost_a_channel_follows_the_pages(tmp_path):
    written = write_scan(tmp_path, ScanSpec(channels=(1, 2), num_frames=3))
    out = resave_scan(written.paths[0], tmp_path / "one.tif", channel_save="1")
    with pytest.warns(ScanImageWarning, match=r"one\.tif: .*reading 2 channel"):
        scan = read_scan(str(out))
    with scan:
        assert scan.channels == (1, 2)
        np.testing.assert_array_equal(scan.read_field(0), written.fields[0].data)


def test_cropped_slow_stack_follows_the_pages(tmp_path):
    spec = ScanSpec(num_frames=4, stack="slow", zs=(0.0, 10.0), version="2018b")
    written = write_scan(tmp_path, spec)
    out = resave_scan(written.paths[0], tmp_path / "short.tif", keep_pages=3)
    with pytest.warns(ScanImageWarning, match=r"short\.tif"):
        scan = read_scan(str(out))
    with scan:  # the pages show one slice of three frames: read that, and say so
        assert (scan.num_scanning_depths, scan.num_frames) == (1, 3)
        np.testing.assert_array_equal(scan.read_field(0), written.fields[0].data[:3])


@pytest.mark.parametrize(
    ("stated", "written"), [("5.3", "2018b"), ("5.4", "2018b"), ("5.7", "2019b")]
)
@pytest.mark.parametrize("resaved", [False, True], ids=["static-block", "resaved"])
def test_scanimage_basic_53_to_57_in_the_modern_format(tmp_path, stated, written, resaved):
    """ScanImage Basic "5.x" writes the 2016+ format: dispatch on the keys, not the number."""
    spec = ScanSpec(channels=(1, 2), num_frames=3, version=written)
    original = write_scan(tmp_path, spec)
    path = original.paths[0]
    data = path.read_bytes()
    old = f"SI.VERSION_MAJOR = '{written}'".encode()
    new = f"SI.VERSION_MAJOR = '{stated}'".encode().ljust(len(old))  # same length: offsets kept
    path.write_bytes(data.replace(old, new, 1))
    if resaved:
        path = resave_scan(path, tmp_path / "resaved.tif")
    with read_scan(str(path)) as scan:
        assert scan.version == stated
        assert scan.header.generation == "2016+"
        assert scan.tiff_format_version == (3 if written < "2019" else 4)
        np.testing.assert_array_equal(scan.read_field(0), original.fields[0].data)


@pytest.mark.parametrize("generation", ["4.x", "5.1", "2015"])
def test_split_legacy_acquisition_reads_as_one(tmp_path, generation):
    spec = LegacySpec(generation=generation, channels=(1, 2), num_frames=3)
    first = write_legacy_scan(tmp_path, spec, name="run_00001_00001.tif")
    later = LegacySpec(generation=generation, channels=(1, 2), num_frames=3, first_frame=3, seed=1)
    second = write_legacy_scan(tmp_path, later, name="run_00001_00002.tif")
    with read_scan(str(first.path)) as scan:  # one file: itself only
        assert scan.num_frames == 3
    with read_scan([str(first.path), str(second.path)]) as scan:
        assert (scan.num_files, scan.num_frames) == (2, 6)
        expected = np.concatenate([first.data, second.data], axis=1)
        np.testing.assert_array_equal(scan[0], expected[0].transpose(2, 3, 1, 0))
        np.testing.assert_allclose(scan.frame_timestamps(0), np.arange(6) / spec.frame_rate)


def test_legacy_files_of_different_acquisitions_do_not_mix(tmp_path):
    from napari_scanimage.errors import MixedAcquisitionError

    a = write_legacy_scan(tmp_path, LegacySpec(generation="5.1"), name="a_00001.tif")
    b = write_legacy_scan(tmp_path, LegacySpec(generation="5.1", zoom=3.0), name="b_00001.tif")
    with pytest.raises(MixedAcquisitionError, match=r"b_00001\.tif"):
        read_scan([str(a.path), str(b.path)])


def test_a_folder_of_legacy_files_groups_by_acquisition(tmp_path):
    from napari_scanimage.scan.grouping import group_acquisitions

    spec = LegacySpec(generation="5.1", num_frames=2)
    a1 = write_legacy_scan(tmp_path, spec, name="run_00001_00001.tif").path
    later = dataclasses.replace(spec, first_frame=2)
    a2 = write_legacy_scan(tmp_path, later, name="run_00001_00002.tif").path
    other = write_legacy_scan(tmp_path, LegacySpec(generation="3.x"), name="old_00001.tif").path
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint16))
    with pytest.warns(ScanImageWarning, match=r"left out: .*plain\.tif"):
        groups = group_acquisitions([str(a1), str(a2), str(other), str(plain)])
    assert sorted(groups) == sorted([[str(a1), str(a2)], [str(other)]])
