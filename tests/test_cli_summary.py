"""``napari-scanimage summary``: float32 TIFFs in µm per field, channel and kind, PNG previews."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_scanimage.cli import main
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.scan.summary_images import summary_images
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import STRIPS


def test_writes_a_tiff_per_field_channel_and_kind_and_a_stitched_preview(write, tmp_path, capsys):
    written = write(ScanSpec(rois=STRIPS, channels=(1, 3), num_frames=7, content="cells"))
    out = tmp_path / "qc"
    argv = ["summary", str(written.paths[0]), "--kind", "mean,correlation", "--out", str(out)]
    assert main([*argv, "--join", "--trim", "1", "0", "2", "0", "--chunk-frames", "3"]) == 0
    scan = read_scan(written.paths, join_contiguous=True, trim=(1, 0, 2, 0))
    names = {
        f"scan_00001_field{f}_ch{c}_{k}.tif"
        for f in (1, 2)
        for c in (1, 3)
        for k in ("mean", "correlation")
    } | {"scan_00001_ch1_stitched_mean.png", "scan_00001_ch3_stitched_mean.png"}
    assert {p.name for p in out.iterdir()} == names
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(out / name) for name in names)
    for field in scan.fields:
        truth = summary_images(scan, field.index, 1, ("mean", "correlation"))
        for kind in ("mean", "correlation"):
            path = out / f"scan_00001_field{field.index + 1}_ch3_{kind}.tif"
            with tifffile.TiffFile(path) as tif:
                image = tif.asarray()
                page = tif.pages[0]
                assert tif.imagej_metadata["unit"] == "um"
                x_resolution = page.tags["XResolution"].value
                origin = tif.imagej_metadata["xorigin"], tif.imagej_metadata["yorigin"]
            assert image.dtype == np.float32
            np.testing.assert_allclose(image, truth[kind], rtol=1e-6, atol=1e-6)
            dy, dx = field.pixel_size_um
            assert x_resolution[0] / x_resolution[1] == pytest.approx(1 / dx)
            assert origin == pytest.approx(
                (-field.top_left_um[1] / dx, -field.top_left_um[0] / dy)
            )
    preview = np.asarray(Image.open(out / "scan_00001_ch1_stitched_mean.png"))
    assert preview.dtype == np.uint8
    assert preview.shape == Mosaic.of(scan).shape
    assert preview.max() == 255
    assert preview.min() == 0  # the gap beside the spot


def test_every_acquisition_among_the_files(write, tmp_path):
    first = write(ScanSpec(rois=(RoiSpec(pixels_xy=(8, 6)),), num_frames=3))
    second = write(ScanSpec(rois=(RoiSpec(pixels_xy=(5, 4)),), num_frames=2, seed=4))
    second_path = second.paths[0].rename(second.paths[0].with_name("other_00002.tif"))
    out = tmp_path / "qc"
    argv = [str(first.paths[0]), str(second_path), "--kind", "max", "--out", str(out)]
    assert main(["summary", *argv]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "other_00002_ch1_stitched_mean.png",
        "other_00002_field1_ch1_max.tif",
        "scan_00001_ch1_stitched_mean.png",
        "scan_00001_field1_ch1_max.tif",
    ]
    maximum = tifffile.imread(out / "other_00002_field1_ch1_max.tif")
    np.testing.assert_array_equal(maximum, second.fields[0].data[:, 0].max(axis=0))


def test_an_unknown_kind_is_a_usage_error(write, tmp_path, capsys):
    written = write(ScanSpec(num_frames=2))
    argv = ["summary", str(written.paths[0]), "--kind", "mean,median", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "kinds must be among mean, max, std, correlation" in capsys.readouterr().err
