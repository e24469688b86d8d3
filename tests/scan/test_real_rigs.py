"""What real rigs write: many-channel light-beads scans, repeated slow stacks, odd rates.

Each case mirrors a real recording (see the knobs in ``napari_scanimage.testing``):
our tests once passed while every LBM file was refused, because our writer never
wrote more than four channels or more than one volume of a slow stack.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import tifffile

from napari_scanimage import ScanImageWarning, read_scan
from napari_scanimage.errors import HeaderMismatchError, ScanImageFileError
from napari_scanimage.format.legacy_index import open_handle
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.testing import RoiSpec, ScanSpec
from napari_scanimage.testing_legacy import LegacySpec, write_legacy_scan

# The real ScanImage 2023.1.0 LBM header: two 220 x 550 strips, 16 fly-to lines, 224 px pages.
LBM_STRIPS = (
    RoiSpec(name="strip 1", center_xy=(-2.5, 0.0), size_xy=(5.0, 12.5), pixels_xy=(220, 550)),
    RoiSpec(name="strip 2", center_xy=(2.5, 0.0), size_xy=(5.0, 12.5), pixels_xy=(220, 550)),
)


def lbm(channels: int, *, mroi: bool = True, **changes) -> ScanSpec:
    """A light-beads scan saving ``channels`` channels, as the real header has it."""
    settings = {
        "version": 2023,
        "version_minor": 1,
        "channels": tuple(range(1, channels + 1)),
        "channels_available": channels,
        "channel_table_size": 64,
        "stale_num_slices": 81,
        "num_frames": 2,
        "description_slot": 400,
    }
    if mroi:
        settings |= {"rois": LBM_STRIPS, "page_width": 224, "flyto_time": 16 * 6.3e-05}
    else:
        settings |= {"rois": (RoiSpec(pixels_xy=(40, 24)),)}
    return ScanSpec(**(settings | changes))


def truth(written, field=0):
    return written.fields[field].data.transpose(2, 3, 1, 0)


# -- light-beads microscopy: 14 to 30 channels ----------------------------------------------


@pytest.mark.parametrize("channels", [14, 30])
@pytest.mark.parametrize("mroi", [True, False], ids=["mroi", "single-field"])
def test_lbm_scans_read_pixel_exact(write, channels, mroi):
    written = write(lbm(channels, mroi=mroi))
    scan = read_scan(written.paths[0])
    assert scan.num_channels == channels
    assert scan.channels == tuple(range(1, channels + 1))
    assert (scan.num_frames, scan.num_scanning_depths) == (2, 1)  # numSlices 81 is stale
    assert scan.page_width == (224 if mroi else 40)
    assert scan.num_fields == len(written.fields)
    for i in range(scan.num_fields):
        np.testing.assert_array_equal(scan[i], truth(written, i))
    # the last channel of the last frame, alone: no channel read as time
    last = scan.read_field(scan.num_fields - 1, channels=[channels - 1], frames=[1])
    np.testing.assert_array_equal(last[0, 0], written.fields[-1].data[1, channels - 1])


def test_lbm_mroi_geometry_follows_the_real_header(write):
    written = write(lbm(14))
    assert (written.page_height, written.page_width, written.flyto_lines) == (1116, 224, 16)
    scan = read_scan(written.paths[0])
    assert [f.height for f in scan.fields] == [550, 550]
    assert [f.width for f in scan.fields] == [220, 220]
    assert [f.yslices[0].start for f in scan.fields] == [0, 566]  # 550 + 16 fly-to lines
    joined = scan.with_options(join_contiguous=True)
    assert (joined.num_fields, joined.field_widths) == (1, [440])


def test_opening_30_channels_costs_no_more_reads_than_2(write, monkeypatch):
    """Reconciling samples two frames of the header's channel count: five descriptions."""
    calls = {"n": 0}
    pread, preadv = os.pread, os.preadv

    def counted_pread(*args):
        calls["n"] += 1
        return pread(*args)

    def counted_preadv(*args):
        calls["n"] += 1
        return preadv(*args)

    monkeypatch.setattr(os, "pread", counted_pread)
    monkeypatch.setattr(os, "preadv", counted_preadv)
    reads = {}
    for channels in (2, 30):  # 60 pages either way: the page index samples the same IFDs
        path = write(lbm(channels, mroi=False, num_frames=60 // channels)).paths[0]
        calls["n"] = 0
        read_scan(path).close()
        reads[channels] = calls["n"]
    assert reads[30] <= reads[2]
    assert reads[2] < 40


def test_a_header_that_lists_fewer_channels_than_the_lbm_pages(write):
    written = write(lbm(14, mroi=False))
    path = written.paths[0]
    raw = bytearray(path.read_bytes())
    old = b"channelSave = [1;2;3;4;5;6;7;8;9;10;11;12;13;14]"
    at = raw.index(old)
    raw[at : at + len(old)] = b"channelSave = 1".ljust(len(old))
    path.write_bytes(bytes(raw))
    with pytest.warns(ScanImageWarning, match=r"lists 1 channel\(s\), but .* 14 page\(s\)"):
        scan = read_scan(path)
    assert scan.num_channels == 14
    np.testing.assert_array_equal(scan[0], truth(written))


def test_one_frame_number_on_more_pages_than_the_rig_has_channels_raises(write):
    written = write(ScanSpec(channels=(1, 2), num_frames=4, description_slot=400))
    path = written.paths[0]
    raw = path.read_bytes()
    for n in (2, 3, 4):
        raw = raw.replace(f"frameNumbers = {n}\n".encode(), b"frameNumbers = 1\n")
    path.write_bytes(raw)
    with pytest.raises(HeaderMismatchError, match=r"all 8 pages have frame number 1"):
        read_scan(path)


# -- slow stacks repeated over volumes ---------------------------------------------------------

# The real ScanImage 2023.0 file: 2 slices x 2 frames x 3 volumes, channels 1 and 4.
SLOW_2023 = ScanSpec(
    version=2023,
    stack="slow",
    zs=(0.0, 5.0),
    num_frames=2,
    volumes=3,
    channels=(1, 4),
    frame_rate=58.2068,
    description_slot=400,
)


@pytest.mark.parametrize("version", [2023, 2019, "2018b", "2016b"])
def test_a_repeated_slow_stack_keeps_every_volume(write, version):
    written = write(dataclasses.replace(SLOW_2023, version=version))
    assert written.num_pages == 24
    scan = read_scan(written.paths[0])
    assert (scan.num_frames, scan.num_fields, scan.dropped_pages) == (6, 2, 0)
    for field in range(2):
        np.testing.assert_array_equal(scan[field], truth(written, field))
    # volume-major: volume 0 frames 0-1, volume 1 frames 0-1, ... with their own numbers
    assert scan.frame_numbers(0).tolist() == [1, 2, 5, 6, 9, 10]
    assert scan.frame_numbers(1).tolist() == [3, 4, 7, 8, 11, 12]
    np.testing.assert_allclose(
        scan.frame_timestamps(1), (np.array([3, 4, 7, 8, 11, 12]) - 1) / 58.2068, atol=1e-6
    )
    assert scan.frame_description(5, field=1)["acquisitionNumbers"] == 6


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (1, "volume 4, slice 1 of 2, has 0 of 2 frames, and 1 of 2 channels of frame 1; "
            "dropped its 1 page"),
        (6, "volume 4, slice 2 of 2, has 1 of 2 frames; dropped its 6 pages"),
    ],
)  # fmt: skip
def test_a_last_volume_cut_short_drops_only_that_volume(write, extra, message):
    written = write(dataclasses.replace(SLOW_2023, volumes=4))
    full = written.paths[0]
    # cut the fourth volume short: keep 3 volumes (24 pages) plus `extra` pages of it
    with open_handle(str(full)) as handle:
        index = PageIndex.build(handle)
    end = int(index.data_offsets[24 + extra - 1]) + 48 * 64 * 2
    os.truncate(full, end)
    with pytest.warns(ScanImageWarning) as said:
        scan = read_scan(full)
    assert any(f"incomplete volume: {message}" in str(w.message) for w in said), said
    assert (scan.num_frames, scan.num_fields, scan.dropped_pages) == (6, 2, extra)
    for field in range(2):
        np.testing.assert_array_equal(scan[field], truth(written, field)[..., :6])


def test_a_first_volume_cut_short_keeps_its_complete_slices(write):
    written = write(ScanSpec(stack="slow", zs=(0.0, 5.0, 10.0), num_frames=2, extra_pages=3,
                             volumes=1, description_slot=400))  # fmt: skip
    with pytest.warns(ScanImageWarning, match=r"volume 2, slice 2 of 3, has 1 of 2 frames;"):
        scan = read_scan(written.paths[0])  # a whole volume and 3 pages of the next one
    assert (scan.dropped_pages, scan.num_fields) == (3, 3)
    cut = write(ScanSpec(stack="slow", zs=(0.0, 5.0, 10.0), num_frames=2, description_slot=400))
    path = cut.paths[0]
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 10)  # slice 3 loses its last page
    with pytest.warns(ScanImageWarning) as said:
        scan = read_scan(path)
    assert any("incomplete slice: volume 1, slice 3 of 3" in str(w.message) for w in said)
    assert (scan.num_frames, scan.num_fields) == (2, 2)


def test_a_header_that_says_fewer_volumes_than_the_pages_hold(write):
    written = write(SLOW_2023)
    path = written.paths[0]
    raw = path.read_bytes()
    raw = raw.replace(b"actualNumVolumes = 3", b"actualNumVolumes = 1")
    path.write_bytes(raw)
    with pytest.warns(ScanImageWarning, match=r"actualNumVolumes gives 1 .* hold 3 complete"):
        scan = read_scan(path)
    assert scan.num_frames == 6
    np.testing.assert_array_equal(scan[1], truth(written, 1))


@pytest.mark.parametrize("generation", ["3.x", "4.x", "5.1", "2015"])
def test_older_generations_repeat_slow_stacks_too(tmp_path, generation):
    spec = LegacySpec(
        generation=generation, stack="slow", zs=(0.0, 2.0, 4.0), num_frames=2, volumes=3,
        channels=(1, 2),
    )  # fmt: skip
    written = write_legacy_scan(tmp_path, spec)
    scan = read_scan(written.path)
    assert (scan.num_frames, scan.num_fields) == (6, 3)
    for z in range(3):
        np.testing.assert_array_equal(scan[z], written.data[z].transpose(2, 3, 1, 0))
    np.testing.assert_allclose(scan.frame_timestamps(0), written.timestamps, atol=1e-9)


# -- impossible ROI geometry ------------------------------------------------------------------


MROI = ScanSpec(
    header_format="json",
    rois=(RoiSpec(pixels_xy=(16, 8)), RoiSpec(name="b", center_xy=(9, 0), pixels_xy=(16, 8))),
    num_frames=2,
    description_slot=400,
)


def set_roi_value(path, key, value):
    """Replace the first ROI's ``key`` in the RoiGroups JSON, keeping the block's length.

    The value is followed by a comma and indentation, which the new value may use up.
    """
    raw = path.read_bytes()
    start = raw.index(f'"{key}": '.encode()) + len(key) + 4
    comma = raw.index(b",", raw.index(b"]", start) if raw[start : start + 1] == b"[" else start)
    end = comma + 1
    while raw[end : end + 1] in (b" ", b"\n"):
        end += 1
    region = value + b","
    assert len(region) <= end - start, "no room for the value"
    path.write_bytes(raw[:start] + region.ljust(end - start) + raw[end:])


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("pixelResolutionXY", b"[0,0]", "has pixelResolutionXY = [0, 0]"),
        ("pixelResolutionXY", b"[-16,8]", "has pixelResolutionXY = [-16, 8]"),
        ("pixelResolutionXY", b"null", "has pixelResolutionXY = None"),
        ("sizeXY", b"[0,6]", "has sizeXY = [0, 6]"),
        ("sizeXY", b"[6,-6]", "has sizeXY = [6, -6]"),
        ("sizeXY", b'"6 6"', "has sizeXY = '6 6'"),
        ("centerXY", b"[1e999,0]", "has centerXY = [inf, 0]"),
        ("sizeXY", b"[1e308,6]", "lies beyond any field of view"),
    ],
)
def test_impossible_roi_geometry_is_our_error_naming_file_and_roi(write, key, value, problem):
    path = write(MROI).paths[0]
    set_roi_value(path, key, value)
    with pytest.raises(ScanImageFileError) as caught:
        read_scan(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: imaging ROI 1 ('ROI 1')")
    assert problem in message


# -- the header's rate against the pages' timestamps -------------------------------------------


def test_a_header_rate_the_timestamps_contradict_warns_with_both(write, capsys):
    spec = ScanSpec(
        stack="fast", zs=(0.0, 2.0, 4.0), num_frames=3, frame_rate=26.6, timestamp_rate=522.0,
        description_slot=400,
    )  # fmt: skip
    written = write(spec)
    with pytest.warns(
        ScanImageWarning, match=r"header gives 8.867 volumes/s, but .* advance 174 volumes/s"
    ):
        scan = read_scan(written.paths[0])
    assert scan.fps == pytest.approx(26.6 / 3)  # the header's value is kept
    assert scan.timestamp_fps == pytest.approx(174.0)
    from napari_scanimage.cli import main

    assert main(["info", str(written.paths[0])]) == 0
    out, err = capsys.readouterr()
    assert "8.867 Hz (header; 174 Hz by the pages' timestamps)" in out
    assert err.count("napari-scanimage: warning: ") == 1
    assert "header gives 8.867 volumes/s" in err


def test_rates_within_ten_percent_say_nothing(write):
    written = write(ScanSpec(num_frames=3, frame_rate=30.0, timestamp_rate=32.0))
    scan = read_scan(written.paths[0])  # pytest turns any warning into an error
    assert scan.timestamp_fps == pytest.approx(32.0)


def test_a_slow_stack_cut_short_keeps_each_slice_at_its_own_z(write):
    """Two of four slices recorded: the second is at 10 µm, not at 20 (found in review)."""
    for version in (2023, "2018b"):
        spec = ScanSpec(version=version, stack="slow", zs=(0.0, 10.0, 20.0, 30.0), num_frames=1,
                        description_slot=400)  # fmt: skip
        path = write(spec).paths[0]
        with tifffile.TiffFile(path) as tif:
            cut = tif.pages[2].offset  # slices 1 and 2 stay whole
        os.truncate(path, cut)
        with pytest.warns(ScanImageWarning):
            scan = read_scan(path)
        assert scan.scanning_depths == [0.0, 10.0]
        assert [f.depth for f in scan.fields] == [0.0, 10.0]
