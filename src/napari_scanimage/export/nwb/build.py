"""The ``NWBFile`` of a scan: session, subject, microscope, planes, a series per field and channel.

Nothing is read or written here except the header and the fields' timestamps:
each series' data is a :class:`~.frames.FieldFrames` iterator, read while
pynwb writes.  What the metadata leaves out gets a default that says it is
unknown: subject ``unknown`` of sex ``U`` and age ``P0D/`` (zero days or
older), indicator and location ``unknown``, wavelengths NaN.  The species is
never guessed, so nwbinspector keeps asking for it until the metadata gives it.
"""

from __future__ import annotations

import math
import os
import uuid
from typing import TYPE_CHECKING, Any

from hdmf.backends.hdf5.h5_utils import H5DataIO
from pynwb import NWBFile
from pynwb.file import Subject
from pynwb.ophys import TwoPhotonSeries

from napari_scanimage._version import package_version
from napari_scanimage.export.buffers import ReusedBuffer
from napari_scanimage.export.nwb.clock import session_start
from napari_scanimage.export.nwb.frames import FieldFrames
from napari_scanimage.export.nwb.header import header_record
from napari_scanimage.export.nwb.plan import GENERATOR
from napari_scanimage.export.nwb.planes import add_device, add_imaging_planes, channel_names
from napari_scanimage.export.nwb.timing import field_timing
from napari_scanimage.scan.files import acquisition_stem

if TYPE_CHECKING:
    from collections.abc import Callable

    from pynwb.device import Device
    from pynwb.ophys import ImagingPlane

    from napari_scanimage.export.nwb.metadata import NwbMetadata
    from napari_scanimage.export.nwb.plan import NwbPlan, SeriesPlan
    from napari_scanimage.scan.scan import Scan

__all__ = ["AXES", "build_nwbfile"]

AXES = (
    "axes (frames, y, x): rows, then columns, as ScanImage stores a frame and as "
    "suite2p and CaImAn read a TwoPhotonSeries"
)
_UNKNOWN_SUBJECT = {"subject_id": "unknown", "sex": "U"}
_UNKNOWN_AGE = "P0D/"


def build_nwbfile(
    scan: Scan,
    metadata: NwbMetadata,
    plan: NwbPlan,
    moved: Callable[[], None] | None = None,
    conversion: dict[str, Any] | None = None,
) -> NWBFile:
    """Everything of the file, with iterators for the pixels; ``moved`` ticks per buffer."""
    start, clock_note = session_start(scan, metadata)
    given = {k: v for k, v in metadata.nwbfile.items() if k != "session_start_time"}
    notes = [given.pop("notes")] if "notes" in given else []
    notes += [
        _provenance(scan),
        clock_note,
        f"Every TwoPhotonSeries: {AXES} (the NWB schema's text calls its frame axes width, "
        "height; nwb-schema issue 660 proposes height, width).",
    ]
    nwbfile = NWBFile(
        session_description=given.pop("session_description", _session_description(scan, plan)),
        identifier=given.pop("identifier", str(uuid.uuid4())),
        session_start_time=start,
        data_collection=header_record(scan, conversion),
        was_generated_by=[["ScanImage", scan.version], [GENERATOR, package_version()]],
        notes="\n".join(notes),
        **given,
    )
    nwbfile.subject = _subject(metadata)
    device = add_device(nwbfile, scan, metadata)
    planes = add_imaging_planes(nwbfile, scan, metadata, plan.fields, plan.channels, device)
    buffer = ReusedBuffer()  # the series are written one after the other
    for series in plan.series:
        frames = FieldFrames(scan, series, buffer, moved)
        plane = planes[series.field.index]
        nwbfile.add_acquisition(
            _two_photon_series(scan, metadata, plan, series, frames, plane, device)
        )
    return nwbfile


def _subject(metadata: NwbMetadata) -> Subject:
    values = {**_UNKNOWN_SUBJECT, **(metadata.subject or {})}
    if "age" not in values and "date_of_birth" not in values:
        values["age"] = _UNKNOWN_AGE
    if values.get("date_of_birth") is not None and values["date_of_birth"].tzinfo is None:
        values["date_of_birth"] = values["date_of_birth"].astimezone()
    return Subject(**values)


def _two_photon_series(
    scan: Scan,
    metadata: NwbMetadata,
    plan: NwbPlan,
    series: SeriesPlan,
    frames: FieldFrames,
    plane: ImagingPlane,
    device: Device,
) -> TwoPhotonSeries:
    f = series.field
    data: Any = frames
    if plan.compression is not None:
        data = H5DataIO(
            frames, compression="gzip", compression_opts=plan.compression_level, shuffle=True
        )
    timing = field_timing(scan, f.index, plan.num_frames)
    given = metadata.series
    extra: dict[str, Any] = {}
    if f.pixel_size_known:  # NWB wants the field of view in metres: width, height
        extra["field_of_view"] = [v * 1e-6 for v in reversed(f.size_um)]
    line_period = scan.header.number("SI.hRoiManager.linePeriod")
    if math.isfinite(line_period) and line_period > 0:
        extra["scan_line_rate"] = 1.0 / line_period
    if "pmt_gain" in given:
        extra["pmt_gain"] = given["pmt_gain"]
    if timing.timestamps is not None:
        extra["timestamps"] = timing.timestamps
    else:
        extra["starting_time"], extra["rate"] = timing.starting_time, timing.rate
    name = channel_names(scan)[series.channel]
    rois = " + ".join(repr(n) for n in f.roi_names)
    joined = " (ROIs joined side by side)" if len(f.roi_names) > 1 else ""
    ours = (
        f"field {f.index + 1} of {acquisition_stem(scan.filenames)}, ScanImage channel "
        f"{series.channel_number} ({name!r}): ROI {rois}{joined} at z = {f.depth:g} µm, "
        f"{f.height} x {f.width} pixels; {AXES}"
    )
    text = given.get("description")
    comments = [given["comments"]] if "comments" in given else []
    comments += [_reading(scan, series), timing.note]
    return TwoPhotonSeries(
        name=series.name,
        imaging_plane=plane,
        data=data,
        unit=given.get("unit", "n.a."),
        description=ours if text is None else f"{text}; {ours}",
        comments="; ".join(comments),
        device=device,
        **extra,
    )


def _reading(scan: Scan, series: SeriesPlan) -> str:
    """How the pixels were read: the same choices give the same pixels from the TIFFs."""
    trim = scan.trim
    offsets = scan.scan_phase(series.field.index)
    if any(offsets):
        phase = "odd lines shifted back by " + ", ".join(f"{o:.3g}" for o in offsets)
        phase += " pixels (per ROI)"
    else:
        phase = "not corrected"
    return (
        f"pixels exactly as napari-scanimage {package_version()} reads them: "
        f"Scan.read_field({series.field.index}, channels=[{series.channel}]) with "
        f"join_contiguous={scan.join_contiguous}, trim (left, right, top, bottom) = "
        f"({trim.left}, {trim.right}, {trim.top}, {trim.bottom}), bidirectional scan phase "
        f"{phase}, dtype {scan.dtype}; {series.layout.shape[0]} complete frames"
        + (f" ({scan.dropped_pages} pages of an unfinished last frame left out)"
           if scan.dropped_pages else "")
    )  # fmt: skip


def _session_description(scan: Scan, plan: NwbPlan) -> str:
    return (
        f"ScanImage {scan.version} acquisition {acquisition_stem(scan.filenames)}: "
        f"{len(plan.fields)} fields, channels {[scan.channels[c] for c in plan.channels]}, "
        f"{plan.num_frames} frames at {scan.fps:.6g} Hz"
    )


def _provenance(scan: Scan) -> str:
    names = [os.path.basename(p) for p in scan.filenames]
    listing = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
    return (
        f"Converted by napari-scanimage {package_version()} from {len(names)} ScanImage "
        f"{scan.version} file(s): {listing}. The whole ScanImage header (FrameData and "
        "RoiGroups, exactly) is the JSON in /general/data_collection."
    )
