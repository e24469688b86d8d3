"""The microscope and where it imaged: one ``Device``, one ``ImagingPlane`` per field.

Each field's plane says where the field sits in ScanImage's reference space, the
same µm the napari layers use: ``origin_coords`` are the x, y of the outer
top-left corner of pixel (0, 0) and the field's z, ``grid_spacing`` the µm per
pixel in x and y.  mROI fields thereby sit side by side as they were imaged.
Files that give no pixel size (ScanImage 3.x-5.1) get neither: no µm are made
up, and the plane's description says so.  Every saved channel is an
``OpticalChannel`` named after ``SI.hChannels.channelName``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pynwb.device import Device, DeviceModel
from pynwb.ophys import ImagingPlane, OpticalChannel

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb.plan import plane_name
from napari_scanimage.scan.files import acquisition_stem

if TYPE_CHECKING:
    from pynwb import NWBFile

    from napari_scanimage.export.nwb.metadata import NwbMetadata
    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = ["REFERENCE_FRAME", "add_device", "add_imaging_planes", "channel_names"]

REFERENCE_FRAME = (
    "ScanImage's reference space in µm (scan angle x SI.objectiveResolution): x to the "
    "right, y down, z as ScanImage's z; origin_coords is the outer top-left corner of "
    "pixel (0, 0) and the plane's z, pixel centres lie half a grid_spacing further"
)
UNKNOWN = "unknown"


def add_device(nwbfile: NWBFile, scan: Scan, metadata: NwbMetadata) -> Device:
    """The microscope, described as run by ScanImage (name and version from the header)."""
    given = metadata.device
    name = given.get("name", "Microscope")
    software = f"ScanImage {scan.version}"
    description = given.get("description")
    ours = f"two-photon microscope run by {software} ({scan.header.generation} file format)"
    model = None
    if "manufacturer" in given:
        model = DeviceModel(
            name=given.get("model", f"{name} model"),
            manufacturer=given["manufacturer"],
        )
        nwbfile.add_device_model(model)
    elif "model" in given:
        raise ExportError(f"{metadata.source}: Ophys.Device[0].model needs a manufacturer")
    device = Device(
        name=name,
        description=ours if description is None else f"{description}; {ours}",
        serial_number=given.get("serial_number"),
        model=model,
    )
    nwbfile.add_device(device)
    return device


def channel_names(scan: Scan) -> list[str]:
    """``SI.hChannels.channelName`` of each saved channel, looked up by channel number."""
    names = scan.header.get("SI.hChannels.channelName", None)
    if isinstance(names, str):
        names = [names]
    names = names if isinstance(names, list) else []
    found = []
    for number in scan.channels:
        name = names[number - 1] if 0 < number <= len(names) else None
        found.append(str(name) if isinstance(name, str) and name.strip() else f"Channel {number}")
    return found


def add_imaging_planes(
    nwbfile: NWBFile,
    scan: Scan,
    metadata: NwbMetadata,
    fields: tuple[Field, ...],
    channels: tuple[int, ...],
    device: Device,
) -> dict[int, ImagingPlane]:
    """One plane per exported field, keyed by field index."""
    planes = _plane_entries(metadata, len(fields))
    names = channel_names(scan)
    stem = acquisition_stem(scan.filenames)
    made = {}
    for position, f in enumerate(fields):
        given = planes[position]
        optical = _optical_channels(metadata, given, scan, channels, names)
        geometry: dict[str, Any] = {}
        where = f"z = {f.depth:g} µm, {f.height} x {f.width} pixels"
        if f.pixel_size_known:
            (top, left), (dy, dx) = f.top_left_um, f.pixel_size_um
            geometry = {
                "origin_coords": [left, top, f.depth],
                "origin_coords_unit": "micrometers",
                "grid_spacing": [dx, dy],
                "grid_spacing_unit": "micrometers",
                "reference_frame": given.get("reference_frame", REFERENCE_FRAME),
            }
            where += f" of {dx:.4g} x {dy:.4g} µm, top-left corner at x {left:.4g}, y {top:.4g} µm"
        else:
            where += (
                "; the file gives no pixel size in µm (ScanImage 3.x-5.1), so origin_coords "
                "and grid_spacing are left out"
            )
        rois = ", ".join(repr(n) for n in f.roi_names)
        ours = f"field {f.index + 1} of {stem}: ROI {rois} at {where}"
        text = given.get("description")
        plane = nwbfile.create_imaging_plane(
            name=plane_name(f.index),
            optical_channel=optical,
            description=ours if text is None else f"{text}; {ours}",
            device=device,
            excitation_lambda=given.get("excitation_lambda", math.nan),
            indicator=given.get("indicator", UNKNOWN),
            location=given.get("location", UNKNOWN),
            imaging_rate=float(scan.fps),
            **geometry,
        )
        made[f.index] = plane
    return made


def _plane_entries(metadata: NwbMetadata, count: int) -> list[dict[str, Any]]:
    entries = list(metadata.imaging_planes)
    if not entries:
        return [{} for _ in range(count)]
    if len(entries) == 1:
        return entries * count
    if len(entries) != count:
        msg = (
            f"{metadata.source}: Ophys.ImagingPlane has {len(entries)} entries; give one "
            f"for every field or one per exported field ({count})"
        )
        raise ExportError(msg)
    return entries


def _optical_channels(
    metadata: NwbMetadata,
    plane: dict[str, Any],
    scan: Scan,
    channels: tuple[int, ...],
    names: list[str],
) -> list[OpticalChannel]:
    given = plane.get("optical_channel") or [{}]
    if len(given) == 1:
        given = given * len(channels)
    if len(given) != len(channels):
        msg = (
            f"{metadata.source}: optical_channel has {len(given)} entries; give one for "
            f"every channel or one per exported channel ({len(channels)})"
        )
        raise ExportError(msg)
    made, taken = [], set()
    for entry, c in zip(given, channels, strict=True):
        number, scanimage_name = scan.channels[c], names[c]
        name = entry.get("name", scanimage_name).replace("/", "_")
        if name in taken:  # ScanImage lets two channels share a name; NWB does not
            name = f"{name} (channel {number})"
        taken.add(name)
        ours = f"ScanImage channel {number} ({scanimage_name!r})"
        text = entry.get("description")
        made.append(
            OpticalChannel(
                name=name,
                description=ours if text is None else f"{text}; {ours}",
                emission_lambda=entry.get("emission_lambda", math.nan),
            )
        )
    return made
