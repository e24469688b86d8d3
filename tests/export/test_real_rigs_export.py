"""OME-Zarr export of what real rigs write: LBM channels and repeated slow stacks."""

from __future__ import annotations

import numpy as np
import zarr

from napari_scanimage.export import to_zarr
from napari_scanimage.scan.scan import read_scan
from tests.scan.test_real_rigs import SLOW_2023, lbm


def test_lbm_exports_every_channel_pixel_exact(write, tmp_path):
    written = write(lbm(14, num_frames=2))
    out = to_zarr(read_scan(written.paths[0]), tmp_path / "lbm.zarr")
    for i, truth in enumerate(written.fields):
        array = zarr.open_array(str(out / str(i) / "0"), mode="r")
        assert array.shape == (2, 14, 550, 220)
        np.testing.assert_array_equal(array[...], truth.data)
        omero = zarr.open_group(str(out / str(i)), mode="r").attrs["omero"]
        assert [c["active"] for c in omero["channels"]] == [True] + [False] * 13
        assert omero["channels"][13]["label"].endswith("ch 14")


def test_a_repeated_slow_stack_exports_every_volume(write, tmp_path):
    written = write(SLOW_2023)
    out = to_zarr(read_scan(written.paths[0]), tmp_path / "slow.zarr", ngff="0.5")
    for i, truth in enumerate(written.fields):
        array = zarr.open_array(str(out / str(i) / "0"), mode="r")
        assert array.shape == (6, 2, 1, 48, 64)  # 3 volumes x 2 frames; a z axis of one
        np.testing.assert_array_equal(array[:, :, 0], truth.data)
