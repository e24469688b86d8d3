"""The static header: FrameData (MATLAB or JSON) and the RoiGroups JSON."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.testing._matlab_text import _Cell, _Col, _dumps, _js, _mat, _num

if TYPE_CHECKING:
    from napari_scanimage.testing._layout import _Plan
    from napari_scanimage.testing._specs import RoiSpec, ScanSpec


def _frame_data(spec: ScanSpec, plan: _Plan) -> dict[str, object]:
    """Return FrameData as ``{'SI.comp.prop': value}`` (a subset of a real header)."""
    fd: dict[str, object] = {}

    def put(component: str, **props: object) -> None:
        fd.update({".".join(filter(None, ("SI", component, k))): v for k, v in props.items()})

    year, v4 = int(str(spec.version)[:4]), plan.tiff_format >= 4
    fast, stacked = spec.stack == "fast", spec.stack != "none"
    nz, chans, rois, flyback = len(spec.zs), spec.channels, spec.rois, spec.flyback_frames
    x0 = min(r.center_xy[0] - r.size_xy[0] / 2 for r in rois)
    x1 = max(r.center_xy[0] + r.size_xy[0] / 2 for r in rois)
    y0 = min(r.center_xy[1] - r.size_xy[1] / 2 for r in rois)
    y1 = max(r.center_xy[1] + r.size_xy[1] / 2 for r in rois)
    fov = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    um = spec.objective_resolution
    raw_per_slice = 1 if fast else spec.num_frames * spec.average_factor
    volumes, slices = (spec.num_frames if fast else spec.volumes), (nz if stacked else 1)
    zs = list(spec.zs[:slices])
    steps = np.diff(zs)
    step = float(steps[0]) if steps.size else 1.0
    minor = spec.version_minor
    n_avail = spec.channels_available or max(4, *chans)
    table = spec.channel_table_size or n_avail
    put("", LINE_FORMAT_VERSION=1, TIFF_FORMAT_VERSION=plan.tiff_format)
    put("", VERSION_MAJOR=spec.version)
    put("", VERSION_MINOR=str(minor) if isinstance(spec.version, str) else minor)
    put("", acqState="grab", acqsPerLoop=1, extTrigEnable=False, loopAcqInterval=10)
    put("", imagingSystem="ImagingScanner", objectiveResolution=float(um))
    put("hBeams", powers=20, lengthConstants=math.inf, flybackBlanking=True)
    put("hChannels", channelSave=chans[0] if len(chans) == 1 else _Col(chans))
    put("hChannels", channelsActive=chans[0] if len(chans) == 1 else list(chans))
    put("hChannels", channelsAvailable=n_avail, loggingEnable=True)
    put("hChannels", channelName=_Cell(f"Channel {i + 1}" for i in range(table)))
    if spec.channel_table_size:  # vDAQ: long tables, but offsets and ranges for 2 rows
        put("hChannels", channelAdcResolution=_Cell(16 for _ in range(table)))
        put("hChannels", channelLUT=_Cell([0, 100] for _ in range(table)))
        put("hChannels", channelOffset=_Col((0, 0)), channelInputRange=[[-1, 1], [-1, 1]])
    put("hFastZ", enable=fast, hasFastZ=True, flybackTime=0.014, waveformType="sawtooth")
    put("hFastZ", discardFlybackFrames=flyback > 0, numDiscardFlybackFrames=flyback)
    put("hRoiManager", imagingFovDeg=fov)
    put("hRoiManager", imagingFovUm=[[x * um, y * um] for x, y in fov])
    put("hRoiManager", linePeriod=float(spec.line_period), mroiEnable=plan.mroi)
    # mROI: like real files, these hold the (stale) default-ROI size, not the page size
    put("hRoiManager", linesPerFrame=rois[0].pixels_xy[1])
    put("hRoiManager", pixelsPerLine=spec.page_width or rois[0].pixels_xy[0])
    put("hRoiManager", scanFrameRate=float(spec.frame_rate))
    put("hRoiManager", scanFramePeriod=1.0 / spec.frame_rate)
    rate = spec.frame_rate / (plan.pages_per_volume if fast else 1)
    put("hRoiManager", scanVolumeRate=rate, scanZoomFactor=float(spec.zoom))
    put("hRoiManager", scanType="frame", scanRotation=0)
    put("hScan2D", bidirectional=spec.bidirectional, channelsDataType=spec.dtype)
    put("hScan2D", fillFractionSpatial=0.9, fillFractionTemporal=0.712867)
    put("hScan2D", flybackTimePerFrame=0.001, flytoTimePerScanfield=spec.flyto_time)
    put("hScan2D", linePhase=0.0, logAverageFactor=spec.average_factor)
    put("hScan2D", logFramesPerFile=spec.frames_per_file or math.inf)
    put("hScan2D", logFramesPerFileLock=False, scanMode=spec.scan_mode)
    put("hScan2D", hasResonantMirror=spec.scan_mode == "resonant")
    put("hScan2D", scannerFrequency=1 / ((1 + spec.bidirectional) * spec.line_period))
    stale = spec.stale_num_slices if not stacked else None
    put("hStackManager", framesPerSlice=raw_per_slice, numSlices=stale or slices)
    put("hStackManager", stackZStepSize=step, stackReturnHome=True)
    if v4:
        # 2020+ (StackManager.replicateZsForMultipleFramesPerSlice): slow-stack zs
        # repeat every slice framesPerSlice times; numFramesPerVolume = numel(zs)
        if spec.stack == "slow" and year >= 2020:
            zs = [z for z in zs for _ in range(raw_per_slice)]
        uniform = steps.size == 0 or bool(np.allclose(steps, steps[0]))
        put("", VERSION_COMMIT="3baa4b74bec9938bfd4c7403bddbe78f2a0ccd93")
        put("hStackManager", enable=stacked, stackMode="fast" if fast else "slow")
        put("hStackManager", stackActuator="fastZ" if fast else "motor")
        put("hStackManager", stackDefinition="uniform" if uniform else "arbitrary")
        put("hStackManager", arbitraryZs=_Col(spec.zs) if nz > 1 else spec.zs[0])
        put("hStackManager", actualNumSlices=slices, actualNumVolumes=volumes)
        put("hStackManager", actualStackZStepSize=float(max(steps)) if nz > 1 else [])
        put("hStackManager", numVolumes=volumes, numFramesPerVolume=len(zs))
        put("hStackManager", numFramesPerVolumeWithFlyback=len(zs) + flyback)
        if year >= 2021:  # the real SI 2021.0 file has no hFastZ.numVolumes (doc: 2023)
            put("", VERSION_UPDATE=0, PREMIUM=True)
            put("hMotors", samplePosition=[0, 0, spec.zs[0]])
        else:
            put("hFastZ", numVolumes=volumes)
            put("hMotors", motorPosition=[0, 0, spec.zs[0]])
    else:
        put("hMotors", motorPosition=[0, 0, spec.zs[0]])
        put("hFastZ", numVolumes=volumes)
        put("hFastZ", numFramesPerVolume=nz + flyback if fast else 1)  # incl. flyback
        put("hStackManager", slicesPerAcq=slices, stackSlicesDone=0)
    put("hStackManager", zs=zs[0] if len(zs) == 1 else zs)
    return dict(sorted(fd.items()))


def _render_frame_data(spec: ScanSpec, fd: dict[str, object]) -> str:
    if spec.header_format == "matlab":
        return "".join(f"{key} = {_mat(value)}\n" for key, value in fd.items())
    root: dict[str, Any] = {}
    for key, value in fd.items():
        *parents, leaf = key.split(".")[1:]
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _js(value)
    return _dumps({"SI": root}) + "\n"


def _roi_groups(spec: ScanSpec, plan: _Plan, rng: np.random.Generator) -> str:
    def uuid() -> dict[str, object]:
        value = int(rng.integers(0, 2**64, dtype=np.uint64))
        return {"roiUuid": f"{value:X}", "roiUuiduint64": float(f"{float(value):.9e}")}

    def scanfield(roi: RoiSpec, index: int) -> dict[str, object]:
        (cx, cy), (sx, sy), (px, py) = roi.center_xy, roi.size_xy, roi.pixels_xy
        to_ref: list[list[float]] = [
            [sx / px, 0, cx - sx / 2 - sx / px / 2],
            [0, sy / py, cy - sy / 2 - sy / py / 2],
            [0, 0, 1],
        ]
        affine: list[list[float]] = [[sx, 0, cx - sx / 2], [0, sy, cy - sy / 2], [0, 0, 1]]
        return {
            "ver": 1,
            "classname": "scanimage.mroi.scanfield.fields.RotatedRectangle",
            "name": f"{roi.name} scanfield {index + 1}",
            "UserData": None,
            **uuid(),
            "centerXY": [_num(cx), _num(cy)],
            "sizeXY": [_num(sx), _num(sy)],
            "rotationDegrees": 0,
            "enable": 1,
            "pixelResolutionXY": [px, py],
            "pixelToRefTransform": [[_num(v) for v in row] for row in to_ref],
            "affine": [[_num(v) for v in row] for row in affine],
        }

    rois = []
    for roi in spec.rois:
        zs = [0.0] if roi.zs is None else list(roi.zs)
        fields = [scanfield(roi, i) for i in range(len(zs))]
        user = None
        if not plan.mroi:  # the default ROI records the settings it was built from
            px, py = roi.pixels_xy
            user = {"imagingSystem": "ImagingScanner", "scanZoomFactor": spec.zoom}
            user |= {"fillFractionSpatial": 0.9, "pixelsPerLine": px, "linesPerFrame": py}
        rois.append(
            {
                "ver": 1,
                "classname": "scanimage.mroi.Roi",
                "name": roi.name,
                "UserData": user,
                **uuid(),
                "zs": _num(zs[0]) if len(zs) == 1 else [_num(z) for z in zs],
                "scanfields": fields[0] if len(fields) == 1 else fields,
                "discretePlaneMode": int(roi.zs is not None),
                "powers": None,
                "pzAdjust": [],
                "Lzs": None,
                "interlaceDecimation": None,
                "interlaceOffset": None,
                "enable": 1,
            }
        )

    def group(name: str, members: object) -> dict[str, object]:
        head = {"ver": 1, "classname": "scanimage.mroi.RoiGroup", "name": name}
        return head | {"UserData": None, **uuid(), "rois": members}

    name = "MROI Imaging ROI Group" if plan.mroi else "Default Imaging ROI Group"
    imaging = group(name, rois[0] if len(rois) == 1 else rois)
    empty = {"_ArrayType_": "double", "_ArraySize_": [1, 0], "_ArrayData_": None}
    integration = group("", empty)
    body = {"imagingRoiGroup": imaging, "photostimRoiGroups": None}
    return _dumps({"RoiGroups": body | {"integrationRoiGroup": integration}}) + "\n"
