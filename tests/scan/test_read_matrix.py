"""Every version, layout and file split the writer produces reads back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage import ScanImageWarning, read_scan
from napari_scanimage.testing import RoiSpec, ScanSpec

TWO_ROIS = (
    RoiSpec(name="left", center_xy=(-5.0, 0.0), size_xy=(4.0, 3.0), pixels_xy=(40, 30)),
    RoiSpec(name="right", center_xy=(5.0, 1.0), size_xy=(4.0, 3.0), pixels_xy=(40, 30)),
)
THREE_ROIS = (
    RoiSpec(name="a", center_xy=(-6.0, 0.0), size_xy=(6.0, 4.0), pixels_xy=(32, 24)),
    RoiSpec(name="b", center_xy=(0.0, 5.0), size_xy=(3.0, 3.0), pixels_xy=(24, 20)),
    RoiSpec(name="c", center_xy=(6.0, -4.0), size_xy=(2.0, 2.0), pixels_xy=(16, 16)),
)

V3 = ("2016b", "2017a", "2018b")

CASES = {
    "2016b-plain-2ch": ScanSpec(version="2016b", channels=(1, 2), num_frames=5),
    "2017a-fastz-flyback": ScanSpec(
        version="2017a", stack="fast", zs=(0.0, 10.0, 20.0), flyback_frames=2, channels=(1, 2)
    ),
    "2018b-slow-averaged": ScanSpec(
        version="2018b", stack="slow", zs=(0.0, 5.0, 10.0), num_frames=2, average_factor=2
    ),
    "2019b-mroi-flyto-not-multiple": ScanSpec(
        version="2019b", rois=THREE_ROIS, flyto_time=0.00107, line_period=6.3e-05
    ),
    "2020-fastz-mroi-discrete-planes": ScanSpec(
        version=2020,
        stack="fast",
        zs=(0.0, 30.0),
        flyback_frames=1,
        channels=(1, 2),
        rois=(
            RoiSpec(name="deep", center_xy=(0, 0), pixels_xy=(32, 16), zs=(30.0,)),
            RoiSpec(name="both", center_xy=(5, 5), pixels_xy=(24, 24)),
            RoiSpec(name="top", center_xy=(-5, 5), pixels_xy=(32, 12), zs=(0.0,)),
        ),
    ),
    "2021-slow-stack": ScanSpec(version=2021, stack="slow", zs=(-10.0, 0.0), num_frames=3),
    "2022-json-header-and-descriptions": ScanSpec(
        version=2022, header_format="json", description_format="json", rois=TWO_ROIS
    ),
    "2023-split-files": ScanSpec(
        version=2023, stack="fast", zs=(0.0, 15.0), channels=(2,), num_frames=5, frames_per_file=3
    ),
    "linear-mroi": ScanSpec(version=2021, scan_mode="linear", rois=TWO_ROIS, bidirectional=False),
    "multistrip-irregular-uint16": ScanSpec(
        version=2022, dtype="uint16", strips_per_page=4, irregular_page=3, num_frames=6
    ),
    "json-header-2016": ScanSpec(version="2016b", header_format="json", rois=TWO_ROIS),
}


def _expected(written, index):
    """Truth of field ``index`` in the scan's (y, x, channels, frames) order."""
    return written.fields[index].data.transpose(2, 3, 1, 0)


@pytest.mark.parametrize("name", list(CASES))
def test_reads_back_exactly(write, name):
    written = write(CASES[name])
    scan = read_scan([str(p) for p in written.paths])
    spec = written.spec
    assert scan.num_fields == len(written.fields)
    assert scan.num_channels == len(spec.channels)
    assert scan.channels == spec.channels
    assert scan.num_frames == spec.num_frames
    assert scan.num_files == len(written.paths)
    assert scan.dtype == np.dtype(spec.dtype)
    assert scan.is_multiROI == (len(spec.rois) > 1)
    assert scan.is_bidirectional == spec.bidirectional
    assert scan.num_scanning_depths == len(spec.zs)
    assert scan.scanning_depths == pytest.approx(list(spec.zs))
    assert scan.tiff_format_version == (3 if spec.version in V3 else 4)
    for i, (field, truth) in enumerate(zip(scan.fields, written.fields, strict=True)):
        assert (field.depth_index, field.roi_ids) == (truth.depth_index, (truth.roi_index,))
        assert field.roi_names == (truth.roi_name,)
        assert (field.height, field.width) == (truth.height, truth.width)
        assert field.depth == pytest.approx(truth.z)
        assert field.yslices[0].start == truth.y0
        res = spec.objective_resolution
        assert (
            field.size_um == pytest.approx((truth.size_xy[1] * res, truth.size_xy[0] * res))
            or not scan.is_multiROI
        )
        if scan.is_multiROI:
            assert field.center_um == pytest.approx(
                (truth.center_xy[1] * res, truth.center_xy[0] * res)
            )
        np.testing.assert_array_equal(scan[i], _expected(written, i))


def test_fps_is_the_volume_rate_for_fast_z(write):
    written = write(CASES["2017a-fastz-flyback"])
    scan = read_scan(written.paths[0])
    planes = len(written.spec.zs) + written.spec.flyback_frames
    assert scan.fps == pytest.approx(written.spec.frame_rate / planes, rel=1e-3)
    plain = read_scan(write(CASES["2016b-plain-2ch"]).paths[0])
    assert plain.fps == pytest.approx(30.0)


def test_incomplete_last_volume_is_dropped_with_a_warning(write):
    spec = ScanSpec(
        version=2021, stack="fast", zs=(0.0, 5.0, 10.0), channels=(1, 2), num_frames=4,
        frames_per_file=5, extra_pages=5,
    )  # fmt: skip
    written = write(spec)
    cut = r"volume 5 has 2 of 3 planes, and 1 of 2 channels of plane 3; dropped its 5 pages"
    with pytest.warns(ScanImageWarning, match=rf"incomplete volume: {cut}"):
        scan = read_scan(written.paths)
    assert scan.num_frames == 4
    assert scan.dropped_pages == 5
    for i in range(scan.num_fields):
        np.testing.assert_array_equal(scan[i], _expected(written, i))
    trimmed = scan.with_options(trim=(1, 1, 0, 0))  # said once: views don't repeat it
    assert trimmed.dropped_pages == 5


def test_glob_pattern_orders_files_naturally(write):
    written = write(ScanSpec(num_frames=12, frames_per_file=1))
    folder = written.paths[0].parent
    scan = read_scan(str(folder / "scan_*.tif"))
    assert scan.filenames == [str(p) for p in written.paths]
    np.testing.assert_array_equal(scan[0], _expected(written, 0))
    # a reversed list is put back in acquisition order
    again = read_scan([str(p) for p in reversed(written.paths)])
    assert again.filenames == scan.filenames


def test_frame_timestamps_and_numbers(write):
    written = write(CASES["2023-split-files"])
    scan = read_scan(written.paths)
    planes = written.pages_per_volume
    numbers = scan.frame_numbers(field=0)
    np.testing.assert_array_equal(numbers, 1 + planes * np.arange(scan.num_frames))
    np.testing.assert_allclose(
        scan.frame_timestamps(field=0), (numbers - 1) / written.spec.frame_rate, atol=1e-6
    )
    deeper = scan.frame_numbers(field=scan.num_fields - 1)
    np.testing.assert_array_equal(deeper, numbers + 1)
    assert scan.frame_description(-1)["frameNumbers"] == numbers[-1]


def test_dtype_conversion(write):
    written = write(CASES["2016b-plain-2ch"])
    scan = read_scan(written.paths, dtype=np.float32)
    assert scan.dtype == np.float32
    out = scan[0]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, _expected(written, 0).astype(np.float32))


def test_iterating_yields_each_field(write):
    written = write(CASES["2019b-mroi-flyto-not-multiple"])
    scan = read_scan(written.paths)
    fields = list(scan)
    assert len(fields) == 3
    for i, data in enumerate(fields):
        np.testing.assert_array_equal(data, _expected(written, i))
