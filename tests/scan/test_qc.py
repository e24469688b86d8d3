"""Scan phase, seams and the stitched mosaic, on synthetic scans with known flaws."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage import ScanImageError, read_scan
from napari_scanimage.lazy import mosaic_to_dask
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.phase import estimate_phase, shift_odd_rows
from napari_scanimage.scan.seams import check_seams
from napari_scanimage.testing import RoiSpec, ScanSpec

STRIPS = (
    RoiSpec(name="left", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(96, 128)),
    RoiSpec(name="right", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(96, 128)),
)


def blob_image(shift: float, rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Blobs on noise; odd rows sampled ``shift`` pixels to the left (content moves right)."""
    cy, cx = rng.uniform(0, size, 40), rng.uniform(0, size, 40)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    xx[1::2] -= shift
    image = sum(
        np.exp(-((yy - a) ** 2 + (xx - b) ** 2) / 18.0) for a, b in zip(cy, cx, strict=True)
    )
    return 1000 * image + rng.normal(0, 20, (size, size))


def test_sub_pixel_estimate_beats_an_integer_one():
    rng = np.random.default_rng(7)
    truth = np.linspace(-3.0, 3.0, 19)
    estimates = np.array([estimate_phase(blob_image(d, rng)) for d in truth])
    errors = np.abs(estimates - truth)
    integer_errors = np.abs(np.round(estimates) - truth)
    assert errors.max() < 0.2
    assert errors.mean() < 0.1
    assert errors.mean() < integer_errors.mean() / 2


def test_estimate_follows_page_row_parity():
    rng = np.random.default_rng(3)
    image = blob_image(1.5, rng)
    assert estimate_phase(image, first_row=0) == pytest.approx(1.5, abs=0.2)
    # the same rows starting on an odd page row: "odd" rows are the other half
    assert estimate_phase(image, first_row=1) == pytest.approx(-1.5, abs=0.2)


def test_shift_odd_rows_integer_and_fraction():
    block = np.tile(np.arange(6, dtype=np.int16), (4, 1))
    moved = shift_odd_rows(block, 2.0)
    assert moved[0].tolist() == [0, 1, 2, 3, 4, 5]
    assert moved[1].tolist() == [2, 3, 4, 5, 5, 5]
    half = shift_odd_rows(block.astype(float), 0.5, first_row=1)
    assert half[0].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.0]
    assert half[1].tolist() == [0, 1, 2, 3, 4, 5]


@pytest.fixture
def combed(write):
    """Two strips of continuous tissue, odd lines 1.6 px off; the right ROI starts on
    an odd page row (17 fly-to lines)."""
    spec = ScanSpec(rois=STRIPS, content="tissue", num_frames=12, scan_phase=1.6,
                    flyto_time=17 * 6.3e-05, channels=(1, 2))  # fmt: skip
    return write(spec)


def test_phase_is_estimated_per_roi_and_corrected_on_read(combed):
    assert combed.fields[1].y0 % 2 == 1
    raw = read_scan(combed.paths)
    for field in range(2):
        (offset,) = raw.estimate_scan_phase(field)
        assert offset == pytest.approx(1.6, abs=0.2)
    fixed = read_scan(combed.paths, fix_scan_phase=True)
    for field in range(2):
        truth = combed.fields[field].data.transpose(2, 3, 1, 0).astype(float)
        before = np.abs(raw[field].astype(float) - truth)[:, 4:-4].mean()
        after = np.abs(fixed[field].astype(float) - truth)[:, 4:-4].mean()
        assert after < before / 2
    assert fixed.scan_phase(0) == raw.estimate_scan_phase(0)


def test_phase_given_by_the_user(combed):
    scan = read_scan(combed.paths, fix_scan_phase=1.6)
    assert scan.scan_phase(1) == (1.6,)
    some = read_scan(combed.paths, fix_scan_phase={1: 0.5})
    assert some.scan_phase(1) == (0.5,)
    assert some.scan_phase(0)[0] == pytest.approx(1.6, abs=0.2)  # others estimated
    off = read_scan(combed.paths)
    assert off.scan_phase(0) == (0.0,)
    # reading a sub-window gives the same pixels as cropping the corrected field
    np.testing.assert_array_equal(scan[0, 10:20, 30:40], scan[0][10:20, 30:40])


def test_joined_fields_are_corrected_per_part(combed):
    scan = read_scan(combed.paths, join_contiguous=True, fix_scan_phase=True)
    offsets = scan.scan_phase(0)
    assert len(offsets) == 2
    assert offsets == pytest.approx((1.6, 1.6), abs=0.2)


def test_seams_show_untrimmed_edges(write):
    spec = ScanSpec(rois=STRIPS, content="tissue", num_frames=12, edge_columns=3)
    written = write(spec)
    untrimmed = check_seams(read_scan(written.paths, join_contiguous=True))
    ((seam,),) = [untrimmed]
    assert (seam.left, seam.right, seam.column) == ("left", "right", 96)
    assert seam.edge_contrast < 0.5
    trimmed = check_seams(read_scan(written.paths, join_contiguous=True, trim=(3, 3, 0, 0)))
    assert 0.75 < trimmed[0].edge_contrast < 1.4
    assert check_seams(read_scan(written.paths)) == []  # no joined fields, no seams


def test_continuous_tissue_has_an_invisible_seam(write):
    written = write(ScanSpec(rois=STRIPS, content="tissue", num_frames=12))
    (seam,) = check_seams(read_scan(written.paths, join_contiguous=True))
    assert seam.ratio < 3
    assert 0.75 < seam.edge_contrast < 1.4


def test_mosaic_places_fields_by_geometry(write):
    rois = (*STRIPS, RoiSpec(name="far", center_xy=(12.0, 6.0), size_xy=(3.0, 2.0),
                             pixels_xy=(48, 32)))  # fmt: skip
    written = write(ScanSpec(rois=rois, num_frames=3, channels=(1, 2)))
    scan = read_scan(written.paths)
    mosaic = Mosaic.of(scan)
    pixel = 6.0 * 15 / 96  # µm per pixel, the same for every ROI here
    assert mosaic.pixel_size_um == pytest.approx((8.0 * 15 / 128, pixel))
    assert mosaic.top_left_um == pytest.approx((-60.0, -90.0))
    assert mosaic.shape == (round((105.0 - -60.0) / pixel), round((13.5 - -6.0) * 15 / pixel))
    array = mosaic_to_dask(scan, channel=1)
    assert array.shape == (3, *mosaic.shape)
    frame = array[2].compute()
    np.testing.assert_array_equal(frame[:128, :96], written.fields[0].data[2, 1])
    np.testing.assert_array_equal(frame[:128, 96:192], written.fields[1].data[2, 1])
    far = written.fields[2].data[2, 1]
    top = round((6.0 - 1.0) * 15 / (8.0 * 15 / 128)) + round(60.0 / (8.0 * 15 / 128))
    left = round((12.0 - 1.5 + 6.0) * 15 / pixel)
    np.testing.assert_array_equal(frame[top : top + 32, left : left + 48], far)
    assert frame[0, 200] == 0  # gap between ROIs stays empty


def test_mosaic_of_a_fast_z_scan_has_a_z_axis(write):
    written = write(ScanSpec(rois=STRIPS, stack="fast", zs=(0.0, 20.0), num_frames=2))
    array = mosaic_to_dask(read_scan(written.paths))
    assert array.shape == (2, 2, 128, 192)
    np.testing.assert_array_equal(array[1, 1, :, 96:].compute(), written.fields[3].data[1, 0])


def test_phase_per_roi_of_a_joined_field(combed):
    scan = read_scan(combed.paths, join_contiguous=True, fix_scan_phase={0: (1.0, 2.0)})
    assert scan.scan_phase(0) == (1.0, 2.0)
    bad = read_scan(combed.paths, join_contiguous=True, fix_scan_phase={0: (1.0,)})
    with pytest.raises(ScanImageError, match="field 0 has 2 ROIs, the scan phase gives 1"):
        bad[0]
