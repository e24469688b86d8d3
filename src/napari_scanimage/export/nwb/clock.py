"""``session_start_time``: ScanImage's ``epoch``, given the time zone ScanImage never records.

Every page description carries ``epoch = [Y M D h m s.sss]``: the rig computer's
wall clock when the acquisition mode (GRAB/LOOP) started, which is also time
zero of ``frameTimestamps_sec``.  It has no time zone.  NWB needs one, so the
rule is, in order:

1. ``NWBFile.session_start_time`` in the metadata, when given (a time without
   a zone gets one as below);
2. the first page's ``epoch``, read in the metadata's ``timezone``
   (``Europe/Berlin``, ``UTC``, ``+02:00``);
3. without a ``timezone``, in the converting computer's local time zone (what
   pynwb does with times that have none), on the assumption that files are
   converted where they were recorded.

Files without an epoch (ScanImage 3.x to 5.1) fall back to the first file's
modification time.  The sentence returned says which rule applied; it is
written into the file's ``notes``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.nwb.metadata import parse_timezone
from napari_scanimage.format.descriptions import parse_description

if TYPE_CHECKING:
    from napari_scanimage.export.nwb.metadata import NwbMetadata
    from napari_scanimage.scan.scan import Scan

__all__ = ["epoch_time", "session_start"]


def session_start(scan: Scan, metadata: NwbMetadata) -> tuple[dt.datetime, str]:
    """The session's start as an aware datetime, and a sentence saying how it was found."""
    zone, zone_said = _zone(metadata)
    given = metadata.nwbfile.get("session_start_time")
    if isinstance(given, dt.datetime):
        if given.tzinfo is not None:
            return given, "session_start_time: given in the metadata."
        when = _localize(given, zone)
        return when, f"session_start_time: given in the metadata, read {zone_said(when)}."
    epoch = epoch_time(parse_description(scan.description(0)).get("epoch"))
    if epoch is not None:
        when = _localize(epoch, zone)
        stamp = epoch.isoformat(sep=" ", timespec="milliseconds")
        return when, (
            f"session_start_time: ScanImage's epoch of the first page, {stamp} on the "
            f"rig computer's clock (ScanImage records no time zone), read {zone_said(when)}."
        )
    first = scan.filenames[0]
    modified = dt.datetime.fromtimestamp(os.path.getmtime(first))
    when = _localize(modified, zone)
    return when, (
        f"session_start_time: the files record no epoch, so this is the modification time "
        f"of {os.path.basename(first)}, read {zone_said(when)}; timestamps count from the "
        "first frame."
    )


def epoch_time(value: Any) -> dt.datetime | None:
    """A naive datetime from ``[Y, M, D, h, m, s.sss]``; None for missing or impossible values.

    Examples
    --------
    >>> epoch_time([2021, 11, 5, 9, 50, 13.56])
    datetime.datetime(2021, 11, 5, 9, 50, 13, 560000)
    >>> epoch_time([12, 0, 18514, 60545, 32, 47.176]) is None
    True
    """
    if not isinstance(value, list) or len(value) != 6:
        return None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in value):
        return None
    year, month, day, hour, minute = (int(v) for v in value[:5])
    micros = round(float(value[5]) * 1e6)
    try:
        start = dt.datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    if not 0 <= micros < 61_000_000:
        return None
    return start + dt.timedelta(microseconds=micros)


def _zone(metadata: NwbMetadata) -> tuple[dt.tzinfo | None, Any]:
    """The metadata's time zone (None: local) and how to say which applied."""
    if metadata.timezone is not None:
        zone = parse_timezone(metadata.timezone, metadata.source)

        def given(when: dt.datetime) -> str:
            return f"in the metadata's timezone {metadata.timezone} (UTC{_offset(when)})"

        return zone, given

    def local(when: dt.datetime) -> str:
        return (
            f"in the converting computer's local time zone, UTC{_offset(when)} "
            f"({when.tzname()}), because the metadata gives no timezone"
        )

    return None, local


def _localize(naive: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    if zone is None:
        return naive.astimezone()  # the local zone's offset on that date (DST included)
    return naive.replace(tzinfo=zone)


def _offset(when: dt.datetime) -> str:
    text = when.strftime("%z")
    return f"{text[:3]}:{text[3:5]}" if text else ""
