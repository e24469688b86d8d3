"""Edge cases found in review: each test pins one behaviour that was once wrong."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import zarr

from napari_scanimage import ScanImageIndexError, read_scan
from napari_scanimage.cli import main
from napari_scanimage.export import ExportError
from napari_scanimage.lazy import FieldArray, mosaic_to_dask
from napari_scanimage.testing import RoiSpec, ScanSpec


def test_existing_paths_with_glob_characters_open(write, tmp_path):
    written = write(ScanSpec(num_frames=2))
    folder = tmp_path / "mouse[1]*?"
    folder.mkdir()
    path = folder / written.paths[0].name
    shutil.copy(written.paths[0], path)
    assert read_scan(str(path)).num_frames == 2
    assert read_scan(path).reopen().num_frames == 2


def test_read_field_checks_channels_and_frames(write):
    scan = read_scan(write(ScanSpec(channels=(1, 2), num_frames=3)).paths)
    with pytest.raises(ScanImageIndexError, match="channels: index 2"):
        scan.read_field(0, channels=[2])
    with pytest.raises(ScanImageIndexError, match="frames: index 3"):
        scan.read_field(0, frames=[3])
    last = scan.read_field(0, channels=[-1], frames=[-1])
    np.testing.assert_array_equal(last[0, 0], scan[0, :, :, 1, 2])


def test_field_array_ellipsis(write):
    written = write(ScanSpec(num_frames=3))
    array = FieldArray(read_scan(written.paths), 0, 0)
    np.testing.assert_array_equal(array[..., 0], written.fields[0].data[:, 0, :, 0])
    np.testing.assert_array_equal(array[1, ...], written.fields[0].data[1, 0])


def test_mosaic_fills_coarser_fields_and_keeps_depths(write):
    rois = (
        RoiSpec(name="fine", center_xy=(0.0, 0.0), size_xy=(4.0, 4.0), pixels_xy=(64, 64)),
        RoiSpec(name="coarse", center_xy=(8.0, 0.0), size_xy=(4.0, 4.0), pixels_xy=(32, 32)),
    )
    spec = ScanSpec(rois=rois, num_frames=2, stack="fast", zs=(0.0, 10.0, 20.0))
    written = write(spec)
    scan = read_scan(written.paths)
    coarse = written.fields[1].data[0, 0]
    frame = mosaic_to_dask(scan)[0, 0].compute()
    np.testing.assert_array_equal(frame[:, 128:192][::2, ::2], coarse)
    np.testing.assert_array_equal(frame[:, 128:192][1::2, 1::2], coarse)
    # only the fields of depths 0 and 2: the mosaic still has a plane per scan depth
    chosen = [f.index for f in scan.fields if f.depth_index in (0, 2)]
    from napari_scanimage.scan.mosaic import Mosaic

    some = mosaic_to_dask(scan, 0, Mosaic.of(scan, chosen))
    assert some.shape[1] == 3
    assert not some[0, 1].compute().any()
    np.testing.assert_array_equal(some[0, 2, :, :64].compute(), written.fields[4].data[0, 0])


def test_reopen_keeps_the_phase_option_and_numpy_offsets_work(write):
    written = write(ScanSpec(num_frames=2))
    scan = read_scan(written.paths, fix_scan_phase=np.int64(1))
    assert scan.scan_phase(0) == (1.0,)
    assert scan.reopen().fix_scan_phase == 1


def test_views_share_their_files(write):
    scan = read_scan(write(ScanSpec(num_frames=2)).paths)
    view = scan.with_options(trim=(1, 1, 1, 1))
    view.close()
    with pytest.raises(Exception, match="closed"):
        scan[0]


def test_convert_rejects_a_bad_phase_argument(write, tmp_path, capsys):
    written = write(ScanSpec(num_frames=2))
    argv = ["convert", str(written.paths[0]), "--out", str(tmp_path / "x.zarr")]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--fix-scan-phase", "abc"])
    assert info.value.code == 2
    assert "expected a number of pixels, got 'abc'" in capsys.readouterr().err


def test_overwrite_never_replaces_a_store_we_did_not_write(write, tmp_path):
    scan = read_scan(write(ScanSpec(num_frames=2)).paths)
    foreign = tmp_path / "theirs.zarr"
    zarr.open_group(str(foreign), mode="w", zarr_format=2).attrs["mine"] = True
    with pytest.raises(ExportError, match="napari-scanimage did not write"):
        scan.to_zarr(foreign, overwrite=True)
    assert zarr.open_group(str(foreign), mode="r").attrs["mine"] is True
    ours = scan.to_zarr(tmp_path / "ours.zarr")
    assert scan.to_zarr(ours, overwrite=True, chunk_frames=1) == ours
