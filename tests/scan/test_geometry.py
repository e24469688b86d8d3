"""Scanfields per depth, their place in the page, the page order, and file-level fallbacks.

Header-level cases build a ``ScanImageHeader`` directly; file-level ones patch files
written by the package's faithful writer (in ``tmp_path``).
"""

from __future__ import annotations

import math
import os
import re
import struct

import numpy as np
import pytest
import tifffile

from napari_scanimage import (
    MixedAcquisitionError,
    NotScanImageError,
    ScanImageWarning,
    Trim,
    TruncatedFileError,
    UnsupportedVersionError,
    read_scan,
)
from napari_scanimage.errors import ScanImageFileError
from napari_scanimage.format.header import ScanImageHeader, read_header
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.format.tiff import TiffFileHandle
from napari_scanimage.scan.fields import RoiPlacement, _scanfield_at, rois_at_depth
from napari_scanimage.scan.layout import AcquisitionLayout
from napari_scanimage.scan.placement import flyto_lines, place_fields
from napari_scanimage.scan.source import ScanSource
from napari_scanimage.testing import ScanSpec

PATH = "synthetic_00001.tif"


def make_header(si=None, rois=None, *, version=4):
    """A header from ``{'hRoiManager.linePeriod': value, ...}`` (keys without 'SI.')."""
    tree = {}
    for dotted, value in (si or {}).items():
        *parents, leaf = dotted.split(".")
        node = tree
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    groups = {} if rois is None else {"RoiGroups": {"imagingRoiGroup": {"rois": rois}}}
    return ScanImageHeader(
        path=PATH,
        tiff_format_version=version,
        frame_data={"SI": tree},
        roi_groups=groups,
        style="matlab",
        raw=b"",
    )


def scanfield(center=(0.0, 0.0), size=(4.0, 2.0), pixels=(8, 10), **extra):
    base = {"centerXY": list(center), "sizeXY": list(size), "pixelResolutionXY": list(pixels)}
    return base | {"enable": 1} | extra


def roi(*fields, zs=0.0, discrete=0, name="roi", enable=1):
    return {
        "name": name,
        "zs": zs,
        "scanfields": fields[0] if len(fields) == 1 else list(fields),
        "discretePlaneMode": discrete,
        "enable": enable,
    }


def layout_of(depths=(0.0,)):
    return AcquisitionLayout(
        channels=(1,),
        depths=tuple(depths),
        slow_stack=False,
        planes_per_volume=len(depths),
        frames_per_slice=1,
        fps=30.0,
        average_factor=1,
    )


# resonant mROI, round(0.0003 s / 0.0001 s) = 3 fly-to lines
MROI = {
    "hRoiManager.mroiEnable": True,
    "objectiveResolution": 15.0,
    "hScan2D.scanMode": "resonant",
    "hScan2D.flytoTimePerScanfield": 0.0003,
    "hRoiManager.linePeriod": 0.0001,
}


def place(si, rois, height, width, *, depths=(0.0,), trim=None):
    header = make_header(si, rois)
    return place_fields(header, layout_of(depths), height, width, join=False, trim=trim or Trim())


def stack_of(count, si=MROI):
    return si, [roi(scanfield(), name=f"r{i}") for i in range(count)]


A = scanfield(center=(0.0, 0.0), size=(4.0, 2.0), pixels=(8, 10), name="A")
B = scanfield(center=(10.0, 20.0), size=(8.0, 6.0), pixels=(16, 12), name="B")
C = scanfield(center=(-10.0, 0.0), size=(2.0, 2.0), pixels=(4, 4), name="C")


# -- _scanfield_at: which scanfield an ROI images at a depth -----------------------------------


def test_discrete_plane_roi_exists_only_at_its_zs():
    r = roi(A, B, zs=[0.0, 20.0], discrete=1)
    assert _scanfield_at(r, 0.0) is A
    assert _scanfield_at(r, 20.0) is B
    assert _scanfield_at(r, 20.0 + 1e-7) is B
    assert _scanfield_at(r, 10.0) is None
    assert _scanfield_at(r, -20.0) is None


def test_discrete_plane_roi_with_one_scanfield():
    r = roi(A, zs=5.0, discrete=1)
    assert _scanfield_at(r, 5.0) is A
    assert _scanfield_at(r, 0.0) is None


@pytest.mark.parametrize("z", [-100.0, 5.0, 1e6])
def test_one_scanfield_is_imaged_at_every_depth(z):
    assert _scanfield_at(roi(A, zs=5.0), z) is A


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        (0.0, {"centerXY": [0.0, 0.0], "sizeXY": [4.0, 2.0], "pixelResolutionXY": [8, 10]}),
        (2.5, {"centerXY": [2.5, 5.0], "sizeXY": [5.0, 3.0], "pixelResolutionXY": [8, 10]}),
        (7.5, {"centerXY": [7.5, 15.0], "sizeXY": [7.0, 5.0], "pixelResolutionXY": [16, 12]}),
        (10.0, {"centerXY": [10.0, 20.0], "sizeXY": [8.0, 6.0], "pixelResolutionXY": [16, 12]}),
    ],
)
def test_scanfields_are_interpolated_between_their_zs(z, expected):
    for r in (roi(A, B, zs=[0.0, 10.0]), roi(B, A, zs=[10.0, 0.0])):
        sf = _scanfield_at(r, z)
        assert {key: sf[key] for key in expected} == expected
        assert sf["name"] == ("A" if z < 5.0 else "B")  # the rest from the nearer one


@pytest.mark.parametrize("z", [-0.5, -1e-5, 10.0 + 1e-5, 10.5, math.nan])
def test_interpolated_roi_is_absent_outside_its_zs(z):
    assert _scanfield_at(roi(A, B, zs=[0.0, 10.0]), z) is None


def test_interpolation_tolerates_rounding_at_the_ends():
    sf = _scanfield_at(roi(A, B, zs=[0.0, 10.0]), 10.0 + 5e-7)
    assert sf["name"] == "B"
    assert sf["centerXY"] == pytest.approx([10.0, 20.0])


def test_three_scanfields_use_the_enclosing_pair():
    sf = _scanfield_at(roi(A, B, C, zs=[0.0, 10.0, 20.0]), 15.0)
    assert sf["centerXY"] == [0.0, 10.0]
    assert sf["sizeXY"] == [5.0, 4.0]
    assert sf["pixelResolutionXY"] == [4, 4]


def test_interpolation_keeps_values_that_are_not_lists():
    no_center = {k: v for k, v in B.items() if k != "centerXY"}
    sf = _scanfield_at(roi(A, no_center, zs=[0.0, 10.0]), 2.5)
    assert sf["centerXY"] == [0.0, 0.0]  # only A has one: taken as it is
    assert sf["sizeXY"] == [5.0, 3.0]


def test_more_zs_than_scanfields_uses_the_first_zs():
    r = roi(A, B, zs=[0.0, 10.0, 20.0])
    assert _scanfield_at(r, 5.0)["centerXY"] == [5.0, 10.0]
    assert _scanfield_at(r, 15.0) is None


def test_fewer_zs_than_scanfields_puts_the_rest_at_zero():
    r = roi(A, B, zs=[10.0])  # A at z=10, B at z=0
    sf = _scanfield_at(r, 5.0)
    assert sf["centerXY"] == [5.0, 10.0]
    assert sf["name"] == "A"
    assert _scanfield_at(r, 12.0) is None
    discrete = roi(A, B, zs=[10.0], discrete=1)
    assert _scanfield_at(discrete, 0.0) is B
    assert _scanfield_at(discrete, 10.0) is A


def test_scanfields_without_zs_all_sit_at_zero():
    r = roi(A, B, zs=None)
    assert _scanfield_at(r, 0.0)["name"] == "A"
    assert _scanfield_at(r, 1.0) is None


@pytest.mark.parametrize(
    "scanfields",
    [None, [], [1, "text", None]],
    ids=["null", "empty", "not-objects"],
)
def test_roi_without_usable_scanfields(scanfields):
    assert _scanfield_at({"zs": 0.0, "scanfields": scanfields}, 0.0) is None
    assert _scanfield_at({"zs": 0.0}, 0.0) is None


# -- rois_at_depth ---------------------------------------------------------------------------


def test_disabled_rois_and_scanfields_are_skipped():
    rois = [
        roi(A, name="off", enable=0),
        roi(scanfield(center=(1.0, -2.0)), name=""),
        roi(scanfield(enable=0), name="blank"),
    ]
    assert rois_at_depth(rois, 0.0, 3, 15.0) == [
        RoiPlacement(
            roi_id=1,
            name="ROI 2",
            depth_index=3,
            y0=0,
            height=10,
            width=8,
            top_left_um=(-45.0, -15.0),
            pixel_size_um=(3.0, 7.5),
        )
    ]


def test_scanfield_without_centre_or_size():
    placed = rois_at_depth([roi({"pixelResolutionXY": [8, 10]}, name="bare")], 0.0, 0, 1.0)
    assert [(p.top_left_um, p.pixel_size_um) for p in placed] == [((-5.0, -4.0), (1.0, 1.0))]


# -- fly-to lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flyto", "line_period", "lines"),
    [
        (0.001, 0.0004, 3),  # 2.5: MATLAB rounds halves away from zero, Python to even
        (0.0035, 0.001, 4),  # 3.5
        (0.00105, 0.0001, 10),  # 10.499999999999998
        (0.0003, 0.0001, 3),  # 2.9999999999999996
        (0.0, 0.0001, 0),
    ],
)
def test_flyto_lines_round_like_matlab(flyto, line_period, lines):
    si = {"hScan2D.flytoTimePerScanfield": flyto, "hRoiManager.linePeriod": line_period}
    assert flyto_lines(make_header(si)) == lines


@pytest.mark.parametrize(
    "line_period",
    [0, 0.0, "fast", None, [], math.nan, -0.0001, math.inf],
    ids=["zero", "zero-float", "text", "null", "empty", "nan", "negative", "inf"],
)
def test_bad_line_period_gives_no_flyto_lines(line_period):
    si = {"hScan2D.flytoTimePerScanfield": 0.001, "hRoiManager.linePeriod": line_period}
    assert flyto_lines(make_header(si)) == 0


def test_missing_timing_gives_no_flyto_lines():
    assert flyto_lines(make_header({"hScan2D.flytoTimePerScanfield": 0.001})) == 0
    assert flyto_lines(make_header({"hRoiManager.linePeriod": 0.0001})) == 0
    assert flyto_lines(make_header(MROI | {"hScan2D.flytoTimePerScanfield": "x"})) == 0


@pytest.mark.parametrize("mode", ["linear", "Linear", "linscan"])
def test_linear_scans_have_no_flyto_lines(mode):
    assert flyto_lines(make_header(MROI | {"hScan2D.scanMode": mode})) == 0


# -- stacking ROIs in the page ---------------------------------------------------------------


def offsets(fields):
    return [f.offsets for f in fields]


def test_rois_stack_with_the_headers_flyto_lines():
    si, rois = stack_of(2)
    assert offsets(place(si, rois, 23, 8)) == [((0, 0),), ((13, 0),)]


@pytest.mark.parametrize(
    ("count", "height", "starts"),
    [(2, 25, [0, 15]), (2, 20, [0, 10]), (3, 40, [0, 15, 30]), (3, 34, [0, 12, 24])],
)
def test_flyto_lines_follow_the_page_when_the_header_disagrees(count, height, starts):
    si, rois = stack_of(count)
    fields = place(si, rois, height, 8)
    assert offsets(fields) == [((y, 0),) for y in starts]
    assert [f.height for f in fields] == [10] * count


@pytest.mark.parametrize(
    ("count", "height", "width", "sizes"),
    [
        (3, 31, 8, "10x8, 10x8, 10x8"),  # 1 spare line cannot be split over 2 gaps
        (3, 25, 8, "10x8, 10x8, 10x8"),  # shorter than the ROIs themselves
        (2, 23, 6, "10x8, 10x8"),  # narrower than the ROIs
        (1, 8, 8, "10x8"),  # one ROI taller than the page
    ],
)
def test_rois_that_do_not_fit_the_page(count, height, width, sizes):
    si, rois = stack_of(count)
    expected = (
        f"{PATH}: the ROIs of depth 0 ({sizes} pixels with 3 fly-to lines) "
        f"do not fit the {height}x{width} page"
    )
    with pytest.raises(UnsupportedVersionError, match=f"^{re.escape(expected)}$"):
        place(si, rois, height, width)


def test_linear_mroi_stacks_without_gaps():
    si, rois = stack_of(2, MROI | {"hScan2D.scanMode": "linear"})
    assert offsets(place(si, rois, 20, 8)) == [((0, 0),), ((10, 0),)]
    # a page with spare lines is trusted over the header, for linear scans too
    assert offsets(place(si, rois, 22, 8)) == [((0, 0),), ((12, 0),)]


@pytest.mark.parametrize(
    "rois",
    [
        [roi(A, enable=0), roi(B, enable=0)],
        [roi(A, zs=5.0, discrete=1), roi(scanfield(enable=0))],
        [],
    ],
    ids=["disabled", "elsewhere", "none"],
)
def test_mroi_without_an_enabled_roi(rois):
    with pytest.raises(UnsupportedVersionError, match=f"^{PATH}: no enabled imaging ROI at any"):
        place(MROI, rois, 20, 16)


def test_depths_without_rois_are_left_out():
    rois = [roi(A, zs=10.0, discrete=1, name="deep"), roi(B, zs=10.0, discrete=1, name="deep2")]
    fields = place(MROI, rois, 25, 16, depths=(0.0, 10.0))
    assert [(f.index, f.depth_index, f.depth, f.roi_names) for f in fields] == [
        (0, 1, 10.0, ("deep",)),
        (1, 1, 10.0, ("deep2",)),
    ]
    assert offsets(fields) == [((0, 0),), ((13, 0),)]


def test_field_offsets_and_renumbering_with_trims():
    si, rois = stack_of(2)
    fields = place(si, rois, 25, 8, trim=Trim(left=2, top=1, bottom=1))
    assert offsets(fields) == [((1, 2),), ((16, 2),)]
    moved = fields[1].with_index(7)
    assert moved.index == 7
    assert (moved.yslices, moved.roi_names) == (fields[1].yslices, fields[1].roi_names)
    assert moved.with_index(1) == fields[1]


# -- plain (non-mROI) scans ------------------------------------------------------------------

FOV = [[-45, -30], [45, -30], [45, 30], [-45, 30]]  # (x, y) corners in µm


@pytest.mark.parametrize(
    ("si", "rois"),
    [
        ({"hRoiManager.imagingFovUm": FOV}, None),
        ({"hRoiManager.imagingFovUm": FOV}, []),
        ({"hRoiManager.imagingFovUm": FOV}, [roi(A)]),  # no objectiveResolution
        ({"hRoiManager.imagingFovUm": FOV, "objectiveResolution": 15.0}, [roi(A), roi(B)]),
        ({"hRoiManager.imagingFovUm": FOV, "objectiveResolution": 15.0}, [roi(A, enable=0)]),
    ],
    ids=["no-roi-group", "no-rois", "no-objective", "two-rois", "disabled-roi"],
)
def test_plain_scan_placed_by_the_imaging_fov(si, rois):
    (field,) = place(si | {"hRoiManager.mroiEnable": False}, rois, 30, 60)
    assert field.roi_names == ("Default Imaging Roi",)
    assert (field.yslices, field.xslices) == ((slice(0, 30),), (slice(0, 60),))
    assert field.top_left_um == (-30.0, -45.0)
    assert field.pixel_size_um == (2.0, 1.5)
    assert field.size_um == (60.0, 90.0)
    assert field.center_um == (0.0, 0.0)


@pytest.mark.parametrize(
    "fov",
    [None, [], [1, 2, 3, 4], "unknown"],
    ids=["absent", "empty", "flat", "text"],
)
def test_plain_scan_without_geometry_has_unknown_pixel_size(fov):
    si = {} if fov is None else {"hRoiManager.imagingFovUm": fov}
    fields = place(si, None, 30, 60, depths=(0.0, 12.0))
    assert [(f.index, f.depth_index, f.depth) for f in fields] == [(0, 0, 0.0), (1, 1, 12.0)]
    for f in fields:  # unknown, not invented (ScanImage 3.x-5.1 files)
        assert not f.pixel_size_known
        assert np.isnan([*f.top_left_um, *f.pixel_size_um, *f.size_um]).all()


def test_plain_scan_placed_by_its_one_scanfield():
    si = {"objectiveResolution": 15.0, "hRoiManager.imagingFovUm": FOV}
    (field,) = place(si, [roi(scanfield(center=(1.0, -2.0)), name="default")], 20, 16)
    assert field.roi_names == ("default",)
    assert field.top_left_um == (-45.0, -15.0)
    assert field.pixel_size_um == (1.5, 3.75)


def outcome(call):
    """What ``call()`` returns, or the problem of the ScanImageFileError it raises."""
    try:
        return call()
    except ScanImageFileError as exc:
        return exc.problem


@pytest.mark.parametrize("value", ["15x", [], None], ids=["text", "empty", "null"])
def test_plain_scan_with_a_non_numeric_objective_resolution(value):
    si = {"objectiveResolution": value, "hRoiManager.imagingFovUm": FOV}
    result = outcome(lambda: place(si, [roi(A)], 30, 60))
    if isinstance(result, str):
        assert "objectiveResolution" in result
    else:
        assert result[0].top_left_um == (-30.0, -45.0)


# -- page order from the stack keys ----------------------------------------------------------

BASE = {"hRoiManager.scanFrameRate": 30.0}


def layout(si, version=4):
    return AcquisitionLayout.from_header(make_header(BASE | si, version=version))


def test_v4_slow_stack_with_zs_replicated_per_frame():
    si = {
        "hScan2D.logAverageFactor": 2,
        "hStackManager.enable": True,
        "hStackManager.stackMode": "slow",
        "hStackManager.actualNumSlices": 3,
        "hStackManager.framesPerSlice": 4,
        "hStackManager.zs": [0, 0, 0, 0, 5, 5, 5, 5, 10, 10, 10, 10],
    }
    assert layout(si) == AcquisitionLayout(
        channels=(1,),
        depths=(0.0, 5.0, 10.0),
        slow_stack=True,
        planes_per_volume=3,
        frames_per_slice=2,
        fps=15.0,
        average_factor=2,
    )


FAST_V4 = {
    "hStackManager.enable": True,
    "hStackManager.stackMode": "fast",
    "hStackManager.numFramesPerVolume": 3,
    "hStackManager.zs": [0, 10, 20],
    "hFastZ.discardFlybackFrames": True,
    "hFastZ.numDiscardFlybackFrames": 2,
}


@pytest.mark.parametrize(
    ("extra", "planes_per_volume", "fps"),
    [
        ({"hRoiManager.scanVolumeRate": 6.5}, 5, 6.5),  # flyback from hFastZ
        ({}, 5, 6.0),  # no volume rate: frame rate / pages per volume
        ({"hFastZ.discardFlybackFrames": False}, 3, 10.0),
        ({"hStackManager.numFramesPerVolumeWithFlyback": 4}, 4, 7.5),  # wins over hFastZ
        ({"hStackManager.numFramesPerVolume": [3]}, 5, 6.0),
    ],
)
def test_v4_fast_stack(extra, planes_per_volume, fps):
    result = layout(FAST_V4 | extra)
    assert result.depths == (0.0, 10.0, 20.0)
    assert (result.slow_stack, result.frames_per_slice) == (False, 1)
    assert result.planes_per_volume == planes_per_volume
    assert result.fps == fps


def test_v4_fast_stack_of_one_plane_uses_the_frame_rate():
    si = FAST_V4 | {
        "hStackManager.numFramesPerVolume": 1,
        "hStackManager.numFramesPerVolumeWithFlyback": 2,
        "hRoiManager.scanVolumeRate": 99.0,
        "hStackManager.zs": 7.0,
    }
    result = layout(si)
    assert (result.depths, result.planes_per_volume, result.fps) == ((7.0,), 2, 15.0)


@pytest.mark.parametrize(
    "stack",
    [
        {"hStackManager.enable": False, "hStackManager.actualNumSlices": 5},
        {"hStackManager.enable": True, "hStackManager.actualNumSlices": 1},
        {"hStackManager.enable": [], "hStackManager.actualNumSlices": 5},
        {"hStackManager.enable": "false", "hStackManager.actualNumSlices": 5},
        {"hStackManager.enable": [0], "hStackManager.actualNumSlices": 5},
    ],
    ids=["disabled", "one-slice", "empty-enable", "text-false", "zero-in-list"],
)
def test_v4_keys_without_a_stack(stack):
    si = stack | {"hStackManager.zs": [7.5, 8.5], "hStackManager.framesPerSlice": 50}
    assert layout(si) == AcquisitionLayout(
        channels=(1,),
        depths=(7.5,),
        slow_stack=False,
        planes_per_volume=1,
        frames_per_slice=1,
        fps=30.0,
        average_factor=1,
    )


def test_v4_enable_given_as_a_list():
    si = {"hStackManager.enable": [1], "hStackManager.actualNumSlices": 2}
    si |= {"hStackManager.zs": [0, 4], "hStackManager.framesPerSlice": 3}
    result = layout(si)
    assert (result.slow_stack, result.depths, result.frames_per_slice) == (True, (0.0, 4.0), 3)


@pytest.mark.parametrize("slices_key", ["numSlices", "slicesPerAcq"])
def test_v3_slow_stack(slices_key):
    si = {
        f"hStackManager.{slices_key}": 3,
        "hStackManager.framesPerSlice": 2,
        "hStackManager.zs": [0, 2, 4],
        "hFastZ.enable": False,
    }
    assert layout(si, version=3) == AcquisitionLayout(
        channels=(1,),
        depths=(0.0, 2.0, 4.0),
        slow_stack=True,
        planes_per_volume=3,
        frames_per_slice=2,
        fps=30.0,
        average_factor=1,
    )


def test_v3_fast_stack_with_flyback_and_no_zs():
    si = {
        "hStackManager.numSlices": 4,
        "hStackManager.stackZStepSize": 2.5,
        "hFastZ.enable": True,
        "hFastZ.discardFlybackFrames": True,
        "hFastZ.numDiscardFlybackFrames": 1,
        "hRoiManager.scanVolumeRate": 6.0,
    }
    result = layout(si, version=3)
    assert result.depths == (0.0, 2.5, 5.0, 7.5)
    assert (result.slow_stack, result.planes_per_volume, result.fps) == (False, 5, 6.0)


def test_v3_fast_stack_of_one_slice():
    si = {"hStackManager.numSlices": 1, "hFastZ.enable": True}
    si |= {"hFastZ.discardFlybackFrames": True, "hFastZ.numDiscardFlybackFrames": 2}
    result = layout(si, version=3)
    assert (result.depths, result.planes_per_volume, result.fps) == ((0.0,), 3, 10.0)


def test_v3_without_a_stack():
    result = layout({"hStackManager.numSlices": 1, "hFastZ.enable": False}, version=3)
    assert (result.slow_stack, result.planes_per_volume, result.depths) == (False, 1, (0.0,))


@pytest.mark.parametrize(
    ("zs", "step", "depths"),
    [
        (None, 2.5, (0.0, 2.5, 5.0)),  # zs missing: from 0 by the step size
        (10, 2.0, (10.0, 12.0, 14.0)),  # one z: the start
        ([0, 5], 4.0, (0.0, 4.0, 8.0)),  # 2 zs for 3 planes: not replicated
        ([math.nan, 3, 6, 9], 4.0, (3.0, 6.0, 9.0)),  # non-finite zs dropped
        (None, [], (0.0, 1.0, 2.0)),  # no usable step: 1 µm
        (None, math.inf, (0.0, 1.0, 2.0)),
        (None, None, (0.0, 1.0, 2.0)),
    ],
)
def test_depths_when_zs_do_not_match_the_planes(zs, step, depths):
    si = {"hStackManager.numSlices": 3, "hStackManager.framesPerSlice": 1}
    if zs is not None:
        si["hStackManager.zs"] = zs
    if step is not None:
        si["hStackManager.stackZStepSize"] = step
    assert layout(si, version=3).depths == depths


@pytest.mark.parametrize("version", [3, 4])
def test_frames_per_slice_inf(version):
    si = {"hStackManager.framesPerSlice": math.inf, "hScan2D.logAverageFactor": 2}
    if version == 3:
        si |= {"hStackManager.numSlices": 2, "hStackManager.zs": [0, 1]}
    else:
        si |= {"hStackManager.enable": True, "hStackManager.actualNumSlices": 2}
    result = layout(si, version=version)
    assert (result.slow_stack, result.frames_per_slice, result.fps) == (True, 1, 15.0)


@pytest.mark.parametrize("factor", [0, -3, "two", math.nan, [], [4]])
def test_average_factor_that_is_not_a_positive_number(factor):
    expected = 4 if factor == [4] else 1
    assert layout({"hScan2D.logAverageFactor": factor}).average_factor == expected


@pytest.mark.parametrize(
    ("save", "channels"),
    [(2, (2,)), ([1, 3], (1, 3)), ([[1], [2]], (1, 2)), ([[1, 2]], (1, 2)), (2.0, (2,))],
    ids=["scalar", "row", "column", "json-row", "float"],
)
def test_channel_save_shapes(save, channels):
    result = layout({"hChannels.channelSave": save})
    assert result.channels == channels
    assert result.num_channels == len(channels)


def test_channel_save_absent_means_channel_1():
    assert layout({}).channels == (1,)


@pytest.mark.parametrize("save", [[], "", [[]]], ids=["empty", "empty-text", "empty-nested"])
def test_channel_save_empty(save):
    with pytest.raises(ScanImageFileError, match=f"^{PATH}: SI.hChannels.channelSave is empty$"):
        layout({"hChannels.channelSave": save})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("hRoiManager.scanFrameRate", "30 Hz"),
        ("hRoiManager.scanFrameRate", []),
        ("hRoiManager.scanFrameRate", None),
        ("hRoiManager.scanVolumeRate", []),
        ("hRoiManager.scanVolumeRate", None),
    ],
)
def test_non_numeric_rates(key, value):
    si = FAST_V4 | {"hRoiManager.scanFrameRate": 30.0, key: value}
    result = outcome(lambda: layout(si).fps)
    if isinstance(result, str):
        assert key.split(".")[-1] in result
    else:
        assert math.isnan(result) or result == 6.0


# -- page index and source fallbacks (files) -------------------------------------------------


def pages_of(path):
    """``(IFD offset, pixel offset, description offset)`` of every page, per tifffile."""
    with tifffile.TiffFile(path) as tif:
        return [
            (p.offset, p.dataoffsets[0], p.tags["ImageDescription"].valueoffset) for p in tif.pages
        ]


def tag_positions(path, name):
    """``(entry offset, value offset)`` of one tag on every page."""
    with tifffile.TiffFile(path) as tif:
        return [(p.tags[name].offset, p.tags[name].valueoffset) for p in tif.pages]


def patch(path, offset, data):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def index_of(path):
    with TiffFileHandle(path) as handle:
        return PageIndex.build(handle)


def truth(written, frames=slice(None)):
    return written.fields[0].data[frames].transpose(2, 3, 1, 0)


def test_truncated_last_page_seen_by_the_stride_prediction(write):
    written = write(ScanSpec(num_frames=6))
    path = written.paths[0]
    pages = pages_of(path)
    os.truncate(path, pages[3][0] + 3000)  # inside the pixels of page 4
    index = index_of(path)
    assert index.stride == pages[1][0] - pages[0][0]
    assert index.truncation == "the file ends inside page 4; read the 3 complete pages"
    assert index.data_offsets.tolist() == [p[1] for p in pages[:3]]
    message = re.escape(f"{path}: the file ends inside page 4; read the 3 complete pages")
    with pytest.warns(ScanImageWarning, match=message):
        scan = read_scan(path)
    assert scan.num_frames == 3
    np.testing.assert_array_equal(scan[0], truth(written, slice(3)))


@pytest.mark.parametrize(
    ("cut", "problem"),
    [
        (100, "file ends at byte {end}, needed 368 bytes at {ifd8}"),
        (4, "IFD offset {ifd} lies outside the file ({end} bytes)"),
    ],
    ids=["inside-entries", "inside-count"],
)
def test_second_ifd_truncated(write, cut, problem):
    written = write(ScanSpec(num_frames=3))
    path = written.paths[0]
    ifd = pages_of(path)[1][0]
    os.truncate(path, ifd + cut)
    index = index_of(path)
    detail = problem.format(end=ifd + cut, ifd8=ifd + 8, ifd=ifd)
    assert index.truncation == f"the last page is incomplete ({detail})"
    assert (index.count, index.stride) == (1, None)
    with pytest.warns(ScanImageWarning, match=re.escape(f"{path}: the last page is incomplete")):
        scan = read_scan(path)
    assert scan.num_frames == 1
    np.testing.assert_array_equal(scan[0], truth(written, slice(1)))


def test_truncated_last_page_found_by_the_chain_walk(write):
    written = write(ScanSpec(num_frames=6, irregular_page=1))  # not uniform: walks
    path = written.paths[0]
    pages = pages_of(path)
    os.truncate(path, path.stat().st_size - 100)
    index = index_of(path)
    assert index.truncation == (
        f"the last page is incomplete (pixels of the IFD at byte {pages[5][0]} "
        "end past the end of the file)"
    )
    assert (index.count, index.stride) == (5, None)
    assert index.data_offsets.tolist() == [p[1] for p in pages[:5]]


def shrink_pages(path, pages, height):
    """Make the given pages ``height`` rows tall (pixels stay one contiguous strip)."""
    lengths = tag_positions(path, "ImageLength")
    counts = tag_positions(path, "StripByteCounts")
    with tifffile.TiffFile(path) as tif:
        row_bytes = tif.pages[0].imagewidth * 2
    for k in pages:
        patch(path, lengths[k][1], struct.pack("<H", height))
        patch(path, counts[k][1], struct.pack("<Q", height * row_bytes))


def test_sampled_page_of_another_size(write):
    path = write(ScanSpec(num_frames=6)).paths[0]
    shrink_pages(path, [3], 24)
    expected = f"{path}: page 4 is 64x24 int16, page 1 is 64x48 int16"
    with pytest.raises(UnsupportedVersionError, match=f"^{re.escape(expected)}$"):
        read_scan(path)


def test_damaged_interior_ifd_is_reported_by_the_chain_walk(write):
    path = write(ScanSpec(num_frames=6)).paths[0]
    ifd = pages_of(path)[3][0]
    patch(path, ifd, struct.pack("<Q", 0))
    with pytest.raises(NotScanImageError, match=re.escape(f"IFD at byte {ifd} claims 0 entries")):
        index_of(path)


def test_moved_strip_falls_back_to_the_chain_walk(write):
    path = write(ScanSpec(num_frames=6)).paths[0]
    pages = pages_of(path)
    patch(path, tag_positions(path, "StripOffsets")[2][1], struct.pack("<Q", pages[0][1]))
    index = index_of(path)
    assert index.stride is None
    expected = [p[1] for p in pages]
    expected[2] = pages[0][1]
    assert index.data_offsets.tolist() == expected


def next_pointer(path, page):
    """Offset of the next-IFD pointer of ``page`` (after its 18 entries)."""
    return pages_of(path)[page][0] + 8 + 18 * 20


def test_chain_that_skips_a_page_is_followed(write):
    path = write(ScanSpec(num_frames=6)).paths[0]
    pages = pages_of(path)
    patch(path, next_pointer(path, 2), struct.pack("<Q", pages[4][0]))
    index = index_of(path)
    assert (index.stride, index.truncation) == (None, None)
    assert index.data_offsets.tolist() == [pages[k][1] for k in (0, 1, 2, 4, 5)]


def test_last_page_pointing_past_the_end(write):
    path = write(ScanSpec(num_frames=6)).paths[0]
    pages = pages_of(path)
    size = path.stat().st_size
    patch(path, next_pointer(path, 5), struct.pack("<Q", 10**12))
    index = index_of(path)
    assert index.stride is None
    assert index.truncation == (
        f"the last page is incomplete (IFD offset {10**12} lies outside the file ({size} bytes))"
    )
    assert index.data_offsets.tolist() == [p[1] for p in pages]


def hide_descriptions(path, pages):
    """Give the ImageDescription entry of ``pages`` an unknown TIFF type (0)."""
    for k, (entry, _) in enumerate(tag_positions(path, "ImageDescription")):
        if k in pages:
            patch(path, entry + 2, struct.pack("<H", 0))


def test_pages_without_descriptions_keep_the_stride(write):
    written = write(ScanSpec(num_frames=4))
    path = written.paths[0]
    hide_descriptions(path, range(4))
    index = index_of(path)
    assert index.stride is not None
    assert index.description_offsets.tolist() == [-1, -1, -1, -1]
    assert index.description_nbytes.tolist() == [0, 0, 0, 0]
    scan = read_scan(path)
    assert np.isnan(scan.frame_timestamps()).all()
    assert scan.frame_numbers().tolist() == [-1, -1, -1, -1]
    assert scan.frame_description(0) == {}
    np.testing.assert_array_equal(scan[0], truth(written))


def test_one_page_with_a_description_among_pages_without(write):
    path = write(ScanSpec(num_frames=4)).paths[0]
    pages = pages_of(path)
    hide_descriptions(path, [0, 1, 3])
    index = index_of(path)
    assert index.stride is None
    assert index.description_offsets.tolist() == [-1, -1, pages[2][2], -1]
    assert index.data_offsets.tolist() == [p[1] for p in pages]


def test_pages_of_different_sizes_across_files(write):
    written = write(ScanSpec(num_frames=4, frames_per_file=2))
    first, second = written.paths
    shrink_pages(second, [0, 1], 24)
    expected = f"{second}: pages are 24x64 int16, those of {first} 48x64 int16"
    with pytest.raises(MixedAcquisitionError, match=f"^{re.escape(expected)}$"):
        read_scan(written.paths)


def test_split_files_without_frame_numbers_open_together(write):
    written = write(ScanSpec(num_frames=4, frames_per_file=2))
    for path in written.paths:
        hide_descriptions(path, range(2))
    scan = read_scan(written.paths)
    assert (scan.num_files, scan.num_frames) == (2, 4)
    assert scan.frame_numbers().tolist() == [-1, -1, -1, -1]
    np.testing.assert_array_equal(scan[0], truth(written))


def rewrite_header_line(path, line):
    """Replace one FrameData line by ``line``, padded to the same length."""
    old = b"SI.hScan2D.logFramesPerFileLock = false"
    raw = path.read_bytes()
    assert raw.count(old) == 1
    patch(path, raw.index(old), line.encode().ljust(len(old)))


def header_of(path):
    with TiffFileHandle(path) as handle:
        return read_header(handle)


@pytest.mark.parametrize(
    ("key", "values", "first"),
    [
        ("logFileCounter", ("1", "2"), 1),
        ("logFileStem", ("'scan'", "'run2'"), "scan"),
        ("logFilePath", ("'C:\\a'", "'D:\\b'"), "C:\\a"),
    ],
)
def test_files_whose_headers_differ_only_in_per_file_keys(write, key, values, first):
    written = write(ScanSpec(num_frames=4, frames_per_file=2))
    for path, value in zip(written.paths, values, strict=True):
        rewrite_header_line(path, f"SI.hScan2D.{key} = {value}")
    one, two = (header_of(path) for path in written.paths)
    assert one.raw != two.raw
    assert (one.get(f"SI.hScan2D.{key}"), two.get(f"SI.hScan2D.{key}")) != (first, first)
    scan = read_scan(written.paths)
    assert (scan.num_files, scan.num_frames) == (2, 4)
    assert scan.header.get(f"SI.hScan2D.{key}") == first
    np.testing.assert_array_equal(scan[0], truth(written))


def test_files_whose_headers_differ_in_another_key(write):
    written = write(ScanSpec(num_frames=4, frames_per_file=2))
    for path, value in zip(written.paths, "12", strict=True):
        rewrite_header_line(path, f"SI.hScan2D.logFileCounters = {value}")
    first, second = written.paths
    expected = f"{second}: its ScanImage header differs from that of {first}"
    with pytest.raises(MixedAcquisitionError, match=f"^{re.escape(expected)}"):
        read_scan(written.paths)


def test_source_rejects_pages_it_does_not_hold(write):
    path = write(ScanSpec(num_frames=4)).paths[0]
    source = ScanSource.open([str(path)])
    try:
        assert source.num_pages == 4
        for bad in (4, -1):
            message = f"^{re.escape(f'{path}: page {bad} requested, the acquisition has 4')}$"
            with pytest.raises(TruncatedFileError, match=message):
                source.locate(np.array([0, bad]))
        files, local = source.locate(np.array([3, 0]))
        assert (files.tolist(), local.tolist()) == ([0, 0], [3, 0])
        out = np.full((1, 2, 2), 7, dtype=np.int16)
        source.read(np.array([], dtype=np.int64), slice(0, 2), slice(0, 2), out)
        assert (out == 7).all()  # nothing requested, nothing written
    finally:
        source.close()
