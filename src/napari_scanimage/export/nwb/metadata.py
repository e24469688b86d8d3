"""The user's part of an NWB file: who, what, where, read from a YAML file or a dict.

The layout is neuroconv's, where it fits, so a metadata file written for
neuroconv's ScanImage interface mostly works here::

    timezone: Europe/Berlin      # how ScanImage's epoch (the rig's wall clock) is read
    NWBFile:
      session_description: Mouse 12, V1, day 3
      experimenter: [Doe, Jane]
      institution: Some University
      lab: Some Lab
      session_id: m12-d3
      keywords: [two-photon, V1]
    Subject:
      subject_id: m12
      species: Mus musculus
      sex: F
      age: P90D
    Ophys:
      Device:
        - name: Microscope
          description: resonant two-photon microscope, 16x objective
      ImagingPlane:              # one entry for every field, or one per field
        - indicator: GCaMP6s
          location: VISp
          excitation_lambda: 920.0
          optical_channel:       # one entry for every channel, or one per saved channel
            - emission_lambda: 510.0
      TwoPhotonSeries:
        - description: raw frames
          pmt_gain: 0.6

Anything left out gets a default that says it is unknown (see ``build``);
unknown keys and wrongly typed values are errors naming the key, so a typo is
never silently dropped.  Series, plane and channel names are the exporter's.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb.requires import require_nwb

__all__ = ["MetadataSource", "NwbMetadata", "load_metadata", "parse_timezone"]

MetadataSource = Mapping[str, Any] | str | os.PathLike[str] | None

_TEXT = "text"
_TEXTS = "text or a list of texts"
_NUMBER = "number"
_TIME = "date and time"
_TEXT_OR_NUMBER = "text or number"

_NWBFILE = {
    "session_description": _TEXT,
    "identifier": _TEXT,
    "session_id": _TEXT,
    "session_start_time": _TIME,
    "experimenter": _TEXTS,
    "experiment_description": _TEXT,
    "institution": _TEXT,
    "lab": _TEXT,
    "keywords": _TEXTS,
    "related_publications": _TEXTS,
    "notes": _TEXT,
    "protocol": _TEXT,
    "pharmacology": _TEXT,
    "surgery": _TEXT,
    "virus": _TEXT,
    "stimulus_notes": _TEXT,
    "slices": _TEXT,
}
_SUBJECT = {
    "subject_id": _TEXT,
    "species": _TEXT,
    "sex": _TEXT,
    "age": _TEXT,
    "date_of_birth": _TIME,
    "description": _TEXT,
    "genotype": _TEXT,
    "strain": _TEXT,
    "weight": _TEXT_OR_NUMBER,
}
_DEVICE = {
    "name": _TEXT,
    "description": _TEXT,
    "manufacturer": _TEXT,
    "model": _TEXT,
    "serial_number": _TEXT,
}
_PLANE = {
    "description": _TEXT,
    "indicator": _TEXT,
    "location": _TEXT,
    "excitation_lambda": _NUMBER,
    "reference_frame": _TEXT,
}
_CHANNEL = {"name": _TEXT, "description": _TEXT, "emission_lambda": _NUMBER}
_SERIES = {"description": _TEXT, "comments": _TEXT, "pmt_gain": _NUMBER, "unit": _TEXT}
_OPHYS = ("Device", "ImagingPlane", "TwoPhotonSeries")
_TOP = ("timezone", "NWBFile", "Subject", "Ophys")
_NOT_OURS = {
    "data_collection": "holds the ScanImage header",
    "source_script": "names the converter",
    "was_generated_by": "names ScanImage and the converter",
}
_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{1,2}):?(\d{2})")


@dataclass(frozen=True, kw_only=True)
class NwbMetadata:
    """Checked metadata; empty sections mean "use the defaults"."""

    source: str = "metadata"
    """Where it came from (the YAML path), for messages."""
    timezone: str | None = None
    """IANA name (``Europe/Berlin``), ``UTC`` or an offset (``+02:00``); None: local."""
    nwbfile: dict[str, Any] = field(default_factory=dict)
    subject: dict[str, Any] | None = None
    """None: no ``Subject`` section given."""
    device: dict[str, Any] = field(default_factory=dict)
    imaging_planes: tuple[dict[str, Any], ...] = ()
    """No entry, one for every field, or one per exported field."""
    series: dict[str, Any] = field(default_factory=dict)


def load_metadata(source: MetadataSource | NwbMetadata = None) -> NwbMetadata:
    """Read and check metadata: a YAML file's path, a dict in the same layout, or None.

    Raises
    ------
    ExportError
        The file is missing or not YAML, a key is unknown or a value has the
        wrong type; the message names the file and the key.
    """
    if isinstance(source, NwbMetadata):
        return source
    if source is None:
        return NwbMetadata()
    if isinstance(source, Mapping):
        return _check(dict(source), "metadata")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read the metadata file ({exc})") from exc
    require_nwb()
    import yaml  # noqa: PLC0415 - only NWB exports read YAML

    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ExportError(f"{path}: invalid YAML{line}: {problem}") from exc
    if tree is None:
        return NwbMetadata(source=str(path))
    if not isinstance(tree, dict):
        raise ExportError(f"{path}: the metadata must be a mapping of sections, not {tree!r}")
    return _check(tree, str(path))


def parse_timezone(name: str, source: str = "metadata") -> dt.tzinfo:
    """A time zone from an IANA name, ``UTC`` or a fixed offset such as ``+02:00``.

    Examples
    --------
    >>> parse_timezone("+02:00")
    datetime.timezone(datetime.timedelta(seconds=7200))
    >>> parse_timezone("UTC")
    zoneinfo.ZoneInfo(key='UTC')
    """
    offset = _OFFSET.fullmatch(name.strip())
    if offset:
        sign, hours, minutes = offset.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"{source}: timezone {name!r} is not a time zone name such as "
            "'Europe/Berlin' or 'UTC', nor an offset such as '+02:00'"
        )
        raise ExportError(msg) from exc


def _check(tree: dict[str, Any], source: str) -> NwbMetadata:
    _known(tree, _TOP, "", source)
    timezone = tree.get("timezone")
    if timezone is not None:
        timezone = _value(timezone, _TEXT, "timezone", source)
        parse_timezone(timezone, source)
    ophys = _section(tree, "Ophys", source)
    _known(ophys, _OPHYS, "Ophys.", source)
    planes = _entries(ophys, "ImagingPlane", None, source)
    checked_planes = []
    for i, plane in enumerate(planes):
        where = f"Ophys.ImagingPlane[{i}]."
        channels = plane.pop("optical_channel", None)
        checked = _fields(plane, _PLANE, where, source)
        if channels is not None:
            if not isinstance(channels, list) or not all(isinstance(c, dict) for c in channels):
                msg = f"{source}: {where}optical_channel must be a list of mappings"
                raise ExportError(msg)
            checked["optical_channel"] = [
                _fields(c, _CHANNEL, f"{where}optical_channel[{j}].", source)
                for j, c in enumerate(channels)
            ]
        checked_planes.append(checked)
    subject = tree.get("Subject")
    return NwbMetadata(
        source=source,
        timezone=timezone,
        nwbfile=_fields(_section(tree, "NWBFile", source), _NWBFILE, "NWBFile.", source),
        subject=None if subject is None else _fields(subject, _SUBJECT, "Subject.", source),
        device=_single(ophys, "Device", _DEVICE, source),
        imaging_planes=tuple(checked_planes),
        series=_single(ophys, "TwoPhotonSeries", _SERIES, source),
    )


def _section(tree: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = tree.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ExportError(f"{source}: {name} must be a mapping of keys, not {value!r}")
    return dict(value)


def _entries(
    tree: dict[str, Any], name: str, most: int | None, source: str
) -> list[dict[str, Any]]:
    value = tree.get(name)
    if value is None:
        return []
    if isinstance(value, dict):  # one entry written without the list
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ExportError(f"{source}: Ophys.{name} must be a list of mappings")
    if most is not None and len(value) > most:
        msg = f"{source}: Ophys.{name} has {len(value)} entries; the export uses one"
        raise ExportError(msg)
    return [dict(v) for v in value]


def _single(tree: dict[str, Any], name: str, table: dict[str, str], source: str) -> dict[str, Any]:
    entries = _entries(tree, name, 1, source)
    return _fields(entries[0], table, f"Ophys.{name}[0].", source) if entries else {}


def _known(tree: Mapping[str, Any], known: Any, where: str, source: str) -> None:
    for key in tree:
        if key in _NOT_OURS and where == "NWBFile.":
            msg = f"{source}: NWBFile.{key} is written by the exporter ({_NOT_OURS[key]})"
            raise ExportError(msg)
        if key not in known:
            listing = ", ".join(known)
            raise ExportError(f"{source}: unknown key {where}{key} (known: {listing})")


def _fields(tree: Any, table: dict[str, str], where: str, source: str) -> dict[str, Any]:
    if not isinstance(tree, dict):
        raise ExportError(f"{source}: {where.rstrip('.')} must be a mapping of keys")
    _known(tree, table, where, source)
    return {
        key: _value(value, table[key], f"{where}{key}", source)
        for key, value in tree.items()
        if value is not None
    }


def _value(value: Any, kind: str, key: str, source: str) -> Any:
    """``value`` as ``kind`` wants it; YAML's numbers for ids become text."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in (_TEXT, _TEXT_OR_NUMBER) and (isinstance(value, str) or is_number):
        return value if kind == _TEXT_OR_NUMBER or isinstance(value, str) else str(value)
    if kind == _TEXTS:
        items = value if isinstance(value, list) else [value]
        if all(isinstance(v, str) for v in items):
            return list(items)
    if kind == _NUMBER and is_number:
        return float(value)
    if kind == _TIME:
        when = _as_datetime(value)
        if when is not None:
            return when
    raise ExportError(f"{source}: {key} must be {kind}, not {value!r}")


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
