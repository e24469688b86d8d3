"""Summary images (mean, max, std, local correlation) against numpy on the writer's data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from napari_scanimage.errors import ScanImageError
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.running_sums import RunningSums
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.scan.summary_images import (
    KINDS,
    SummaryCancelledError,
    stitched_summary_images,
    summary_images,
)
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import REAL_DATA, STRIPS, requires_real_data


def neighbour_correlation(movie: np.ndarray) -> np.ndarray:
    """Mean Pearson correlation with the 8 neighbours, from numpy's corrcoef (NaN -> 0)."""
    frames, height, width = movie.shape
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # constant traces give NaN
        matrix = np.nan_to_num(np.corrcoef(movie.reshape(frames, -1).astype(float).T))
    out = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            values = [
                matrix[y * width + x, yy * width + xx]
                for yy in range(max(0, y - 1), min(height, y + 2))
                for xx in range(max(0, x - 1), min(width, x + 2))
                if (yy, xx) != (y, x)
            ]
            out[y, x] = np.mean(values) if values else 0.0
    return out


def expected(movie: np.ndarray) -> dict[str, np.ndarray]:
    movie = movie.astype(np.float64)
    return {
        "mean": movie.mean(axis=0),
        "max": movie.max(axis=0),
        "std": movie.std(axis=0),
        "correlation": neighbour_correlation(movie),
    }


def assert_matches(ours: dict[str, np.ndarray], movie: np.ndarray) -> None:
    truth = expected(movie)
    assert list(ours) == list(truth)
    np.testing.assert_allclose(ours["mean"], truth["mean"], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(ours["max"], truth["max"])
    np.testing.assert_allclose(ours["std"], truth["std"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["correlation"], truth["correlation"], atol=2e-5)
    assert all(image.dtype == np.float64 for image in ours.values())


@pytest.mark.parametrize("chunk_frames", [1, 7, 64])
def test_every_kind_matches_numpy(write, chunk_frames):
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(14, 11)),), num_frames=23, content="cells")
    written = write(spec)
    scan = read_scan(written.paths)
    ours = summary_images(scan, 0, chunk_frames=chunk_frames)
    assert_matches(ours, written.fields[0].data[:, 0])
    assert ours["correlation"].max() > 0.5  # cells make neighbours correlate


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threads_meet_at_their_borders(write, workers):
    """Threads take interleaved rows: neighbours in another thread's rows count."""
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(9, 37)),), num_frames=11, content="cells")
    written = write(spec)
    scan = read_scan(written.paths)
    ours = summary_images(scan, 0, chunk_frames=5, workers=workers)
    assert_matches(ours, written.fields[0].data[:, 0])
    alone = summary_images(scan, 0, chunk_frames=5, workers=1)
    for kind in KINDS:
        np.testing.assert_array_equal(ours[kind], alone[kind])  # same sums, any thread count


@pytest.mark.parametrize(
    ("file_dtype", "dtype"), [("uint16", None), ("int16", "float32"), ("uint16", "float64")]
)
@pytest.mark.parametrize("kinds", [("max",), ("mean",), ("std", "mean"), ("correlation",)])
def test_any_subset_of_kinds_and_pixel_type(write, file_dtype, dtype, kinds):
    """Each subset sums only what it needs (0, 1, 2 or 6 planes), and sums it right."""
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(10, 6)),), num_frames=40, dtype=file_dtype)
    written = write(spec)
    scan = read_scan(written.paths, dtype=dtype)
    ours = summary_images(scan, 0, kinds=kinds, chunk_frames=35)
    assert list(ours) == list(kinds)
    truth = expected(written.fields[0].data[:, 0])
    for kind in kinds:
        np.testing.assert_allclose(ours[kind], truth[kind], rtol=1e-6, atol=2e-5)


def test_joining_trims_and_scan_phase_are_honoured(write):
    written = write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=9, scan_phase=1.0))
    scan = read_scan(written.paths, join_contiguous=True, trim=(2, 1, 3, 0), fix_scan_phase=1.0)
    assert scan.num_fields == 2  # the strips joined, the spot alone
    for field in range(scan.num_fields):
        movie = scan.read_field(field, channels=[1])[:, 0]
        ours = summary_images(scan, field, channel=1, chunk_frames=4)
        assert ours["mean"].shape == (scan.fields[field].height, scan.fields[field].width)
        assert_matches(ours, movie)


@pytest.mark.parametrize("frames", [slice(2, 11, 3), range(5, 1, -1), [0, 7, 3, 3, 12], -1])
def test_a_subset_of_frames(write, frames):
    written = write(ScanSpec(rois=(RoiSpec(pixels_xy=(9, 8)),), num_frames=13, content="cells"))
    scan = read_scan(written.paths)
    truth = written.fields[0].data[:, 0]
    picked = truth[np.atleast_1d(np.arange(13)[frames])]
    assert_matches(summary_images(scan, 0, frames=frames, chunk_frames=2), picked)


def test_constant_traces_count_zero(write):
    written = write(ScanSpec(rois=(RoiSpec(pixels_xy=(6, 5)),), num_frames=4))
    scan = read_scan(written.paths)
    ours = summary_images(scan, 0, frames=[2, 2, 2])  # every trace constant
    np.testing.assert_array_equal(ours["mean"], written.fields[0].data[2, 0])
    np.testing.assert_array_equal(ours["std"], 0.0)
    np.testing.assert_array_equal(ours["correlation"], 0.0)


def test_constant_pixels_among_varying_ones_and_a_large_offset():
    """Pairs with a constant pixel count 0; a large baseline doesn't spoil float32 partials."""
    rng = np.random.default_rng(3)
    shared = rng.normal(0, 40, (300, 1, 1))
    movie = np.round(30_000 + shared + rng.normal(0, 20, (300, 9, 7))).astype(np.int16)
    movie[:, 4, :] = 1234  # a constant row
    movie[:, :, 0] = -5  # and a constant column
    sums = RunningSums((9, 7), set(KINDS))
    for start in range(0, 300, 100):  # each chunk is several float32 blocks
        sums.add(movie[start : start + 100])
    ours = {kind: sums.result(kind) for kind in KINDS}
    assert_matches(ours, movie)
    assert ours["correlation"][0, 3] > 0.5  # interior pixels share the common signal


def test_one_pixel_wide_and_one_frame(write):
    written = write(ScanSpec(rois=(RoiSpec(pixels_xy=(1, 5)),), num_frames=3, content="cells"))
    scan = read_scan(written.paths)
    assert_matches(summary_images(scan, 0), written.fields[0].data[:, 0])
    single = summary_images(scan, 0, frames=[1])
    np.testing.assert_array_equal(single["std"], 0.0)
    np.testing.assert_array_equal(single["correlation"], 0.0)


def test_scan_summary_image_is_one_kind(write):
    written = write(ScanSpec(rois=STRIPS, num_frames=5, content="cells"))
    scan = read_scan(written.paths)
    movie = written.fields[2].data[:, 0].astype(float)
    np.testing.assert_allclose(scan.summary_image(2), movie.mean(axis=0))
    np.testing.assert_allclose(scan.summary_image(2, kind="std", frames=slice(1, 4)),
                               movie[1:4].std(axis=0), rtol=1e-6)  # fmt: skip


def test_progress_and_cancel(write):
    scan = read_scan(write(ScanSpec(num_frames=10)).paths)
    reports: list[tuple[int, int]] = []
    summary_images(scan, 0, kinds=("mean",), chunk_frames=4, progress=lambda *r: reports.append(r))
    assert reports == [(4, 10), (8, 10), (10, 10)]
    with pytest.raises(SummaryCancelledError):
        summary_images(scan, 0, chunk_frames=4, cancel=lambda: len(reports) > 3,
                       progress=lambda *r: reports.append(r))  # fmt: skip
    assert reports[3:] == [(4, 10)]  # stopped after one chunk


def test_bad_requests_raise_our_error(write):
    scan = read_scan(write(ScanSpec(num_frames=3)).paths)
    with pytest.raises(ScanImageError, match="kinds must be among"):
        summary_images(scan, 0, kinds=("median",))
    with pytest.raises(ScanImageError, match="no frames selected"):
        summary_images(scan, 0, frames=[])
    with pytest.raises(ScanImageError, match="no field at depth"):
        stitched_summary_images(scan, depth=3)


def test_stitched_images_put_each_field_at_its_place(write):
    written = write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=6, content="cells"))
    scan = read_scan(written.paths)
    reports: list[tuple[int, int]] = []
    mosaic, images = stitched_summary_images(
        scan, channel=1, kinds=("max", "mean"), progress=lambda *r: reports.append(r)
    )
    assert list(images) == ["max", "mean"]
    grid = Mosaic.of(scan, [0, 1, 2])
    assert (mosaic.shape, mosaic.top_left_um) == (grid.shape, grid.top_left_um)
    assert images["mean"].shape == mosaic.shape
    assert reports[-1] == (18, 18)  # frames over the three fields
    for place in mosaic.placements[0]:
        truth = written.fields[place.field].data[:, 1].astype(float)
        shown = images["max"][place.rows, place.cols]
        np.testing.assert_array_equal(
            shown, truth.max(axis=0)[np.ix_(place.source_rows, place.source_cols)]
        )
    covered = np.zeros(mosaic.shape, bool)
    for place in mosaic.placements[0]:
        covered[place.rows, place.cols] = True
    assert not covered.all()  # the spot leaves a gap, shown as 0
    np.testing.assert_array_equal(images["mean"][~covered], 0.0)


@requires_real_data
def test_a_real_recording():
    scan = read_scan(REAL_DATA / "si2021_2ch_512_00001_00001.tif")
    movie = scan.read_field(0, channels=[1])[:, 0]
    ours = summary_images(scan, 0, channel=1)
    np.testing.assert_array_equal(ours["mean"], movie.mean(axis=0))
    np.testing.assert_array_equal(ours["max"], movie.max(axis=0))
    if len(movie) == 1:  # one frame: every trace is constant
        np.testing.assert_array_equal(ours["std"], 0.0)
        np.testing.assert_array_equal(ours["correlation"], 0.0)
    else:
        assert_matches(ours, movie)


def test_a_dark_first_frame_does_not_spoil_std_or_correlation():
    """Shifting by the first chunk's mean, not its first frame: a blank frame 0 costs nothing."""
    rng = np.random.default_rng(5)
    movie = (65_530 + rng.integers(-2, 3, (2000, 5, 6))).astype(np.uint16)
    movie[:, 2:4, 2:4] += rng.integers(0, 3, (2000, 1, 1)).astype(np.uint16)  # a small cell
    movie[0] = 0  # the shutter opened late
    sums = RunningSums((5, 6), set(KINDS))
    for start in range(0, 2000, 64):
        sums.add(movie[start : start + 64])
    truth = expected(movie)
    np.testing.assert_allclose(sums.result("mean"), truth["mean"], rtol=1e-12)
    np.testing.assert_allclose(sums.result("std"), truth["std"], rtol=1e-6)
    np.testing.assert_allclose(sums.result("correlation"), truth["correlation"], atol=1e-6)


def test_nan_and_byte_order_behave_as_in_numpy():
    movie = np.arange(60, dtype=">f4").reshape(5, 3, 4) + 1  # big-endian, as read_scan allows
    movie[2, 0, 0] = movie[0, 0, 1] = np.nan
    sums = RunningSums((3, 4), {"max", "mean"})
    sums.add(movie)
    np.testing.assert_array_equal(sums.result("max"), movie.max(axis=0))  # NaN wins anywhere
    np.testing.assert_allclose(sums.result("mean"), movie.astype(float).mean(axis=0))


def test_a_chunk_of_another_shape_is_refused():
    sums = RunningSums((4, 4), {"mean"})
    for bad in (np.zeros((2, 4, 5), np.int16), np.zeros((0, 4, 4), np.int16), np.zeros((4, 4))):
        with pytest.raises(ValueError, match=r"chunks must be \(frames >= 1"):
            sums.add(bad)


def test_chunks_of_another_dtype_are_refused():
    sums = RunningSums((2, 3), {"mean", "max"})
    sums.add(np.ones((2, 2, 3), ">i2"))  # byte order does not count
    sums.add(np.ones((1, 2, 3), "<i2"))
    with pytest.raises(ValueError, match="chunks must share one dtype: int16, then float32"):
        sums.add(np.ones((1, 2, 3), np.float32))
    np.testing.assert_array_equal(sums.result("mean"), 1.0)


def test_the_kernel_compiles_without_a_writable_cache(monkeypatch):
    """A read-only install and home: numba cannot cache, the summary still runs."""
    from numba.core.caching import CacheImpl

    from napari_scanimage.scan.running_sums_kernel import _add_rows, _compile

    monkeypatch.setattr(CacheImpl, "_locator_classes", [])  # numba finds no folder
    kernel = _compile(_add_rows)
    chunk = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    totals = np.zeros((1, 3, 4))
    kernel(chunk, np.zeros((3, 4), np.float32), 0, 1, totals, chunk[0].copy(),
           np.zeros((8, 4), np.float32))  # fmt: skip
    np.testing.assert_array_equal(totals[0], chunk.sum(axis=0))


def test_memory_does_not_grow_with_recording_length(write):
    """Peak memory is two chunks and a few float64 images, the same for 10x the frames."""
    import tracemalloc

    def peak(num_frames: int) -> int:
        spec = ScanSpec(rois=(RoiSpec(pixels_xy=(64, 64)),), num_frames=num_frames)
        scan = read_scan(write(spec).paths)
        summary_images(scan, 0, chunk_frames=8)  # compiled and warm before counting
        tracemalloc.start()
        try:
            summary_images(scan, 0, chunk_frames=8)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak(40), peak(400)
    assert long <= short * 1.1 + 16_384
    two_chunks, image = 2 * 8 * 64 * 64 * 2, 64 * 64 * 8
    assert long < two_chunks + 32 * image  # the 400 frames alone are 3.3 MB
