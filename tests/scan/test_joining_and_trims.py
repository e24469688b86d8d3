"""Contiguous ROIs join into one field; trims cut every ROI once."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage import Trim, read_scan
from napari_scanimage.testing import RoiSpec, ScanSpec

# Three strips side by side (x = -6..0, 0..6, 6..12 degrees) and one apart.
STRIPS = (
    RoiSpec(name="s1", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="s2", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="s3", center_xy=(9.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="apart", center_xy=(0.0, 20.0), size_xy=(4.0, 4.0), pixels_xy=(16, 16)),
)


@pytest.fixture
def strips(write):
    return write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=3))


def truth(written, i):
    return written.fields[i].data.transpose(2, 3, 1, 0)


def test_join_contiguous(strips):
    scan = read_scan(strips.paths, join_contiguous=True)
    assert scan.num_fields == 2
    joined, apart = scan.fields
    assert joined.roi_names == ("s1", "s2", "s3")
    assert (joined.height, joined.width) == (32, 72)
    assert joined.output_xslices == (slice(0, 24), slice(24, 48), slice(48, 72))
    assert [s.start for s in joined.yslices] == [r.y0 for r in strips.fields[:3]]
    assert joined.size_um == pytest.approx((8 * 15.0, 18 * 15.0))
    assert joined.center_um == pytest.approx((0.0, 3 * 15.0))
    expected = np.concatenate([truth(strips, i) for i in range(3)], axis=1)
    np.testing.assert_array_equal(scan[0], expected)
    np.testing.assert_array_equal(scan[1], truth(strips, 3))
    assert apart.roi_names == ("apart",)


def test_join_is_off_by_default(strips):
    scan = read_scan(strips.paths)
    assert scan.num_fields == 4
    assert scan.join_contiguous is False


def test_trims_apply_to_every_roi_once(strips):
    trim = Trim(left=2, right=3, top=1, bottom=4)
    scan = read_scan(strips.paths, join_contiguous=True, trim=trim)
    joined = scan.fields[0]
    assert joined.width == 3 * (24 - 5)
    assert joined.height == 32 - 5
    expected = np.concatenate([truth(strips, i)[1:-4, 2:-3] for i in range(3)], axis=1)
    np.testing.assert_array_equal(scan[0], expected)
    # the field moves by the trimmed pixels: 6 degrees * 15 µm / 24 px = 3.75 µm per px
    assert joined.top_left_um == pytest.approx((-60.0 + 1 * 3.75, -90.0 + 2 * 3.75))
    np.testing.assert_array_equal(scan[1], truth(strips, 3)[1:-4, 2:-3])


def test_with_options_reuses_the_files(strips):
    scan = read_scan(strips.paths)
    joined = scan.with_options(join_contiguous=True, trim=(1, 1, 0, 0))
    assert joined.num_fields == 2
    assert joined.trim == Trim(left=1, right=1)
    assert joined.filenames == scan.filenames
    assert scan.num_fields == 4  # the original is unchanged


def test_rois_of_different_heights_do_not_join(write):
    rois = (
        RoiSpec(name="a", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
        RoiSpec(name="b", center_xy=(3.0, 0.0), size_xy=(6.0, 6.0), pixels_xy=(24, 24)),
    )
    scan = read_scan(write(ScanSpec(rois=rois)).paths, join_contiguous=True)
    assert scan.num_fields == 2


WINDOWS = [
    (slice(None), slice(None), [0, 1], list(range(9))),
    (slice(3, 20), slice(10, 60), [1], [8, 0, 4]),
    (slice(0, 1), slice(23, 25), [0], [5]),
    (slice(31, 32), slice(0, 72), [1, 0], [3, 4]),
    (slice(5, 6), slice(30, 40), [0], [2]),
]


@pytest.mark.parametrize("staging", [1, 1 << 22])
def test_joined_fields_read_in_one_pass_per_page_run(write, monkeypatch, staging):
    """The parts of a joined field come from one read of the rows spanning them."""
    from napari_scanimage.scan import scan as scan_module
    from napari_scanimage.scan.source import ScanSource

    written = write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=9, frames_per_file=4))
    scan = read_scan(written.paths, join_contiguous=True, dtype=np.float32)
    expected = np.concatenate([written.fields[i].data for i in range(3)], axis=3)
    monkeypatch.setattr(scan_module, "_STAGING_BYTES", staging)  # 1: a page at a time
    for rows, cols, chans, frames in WINDOWS:
        got = scan.read_field(0, chans, frames, rows, cols)
        want = expected[frames][:, chans][:, :, rows, cols]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    calls = []
    original = ScanSource.read
    monkeypatch.setattr(
        ScanSource, "read", lambda self, *a: calls.append(a[0].tolist()) or original(self, *a)
    )
    scan.read_field(0, frames=[1, 2])
    assert len(calls) == 2 * (1 if staging > 1 else 2)  # per channel (and page), not per ROI
