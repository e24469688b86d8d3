r"""The whole ScanImage header, kept in the NWB file so it reads back byte for byte.

NWB has no slot for an acquisition program's settings dump, and ``scratch`` is
"not intended for sharing", so the header goes into ``/general/data_collection``
("notes about data collection"), a text any NWB reader returns, as one JSON
object::

    {"kind": "ScanImage header", "FrameData": "SI.VERSION_MAJOR = ...\n...",
     "RoiGroups": "{\"RoiGroups\": ...}", "preamble": [magic, version, n0, n1], ...}

``FrameData`` and ``RoiGroups`` are the texts exactly as in the TIFF (without
their NUL padding).  ScanImage 2016+ files keep them in a static block after a
16-byte preamble (magic, TIFF format version, the two texts' lengths), which
is stored too, so :func:`header_bytes` rebuilds ``scan.header.raw`` exactly; older
generations keep their header elsewhere and it is stored as the reader found
it.  A header that does not rebuild from text (not UTF-8) also goes in as
``raw_base64``.  With pynwb alone::

    header = json.loads(nwbfile.data_collection)
    print(header["FrameData"])
"""

from __future__ import annotations

import base64
import json
import os
import struct
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.errors import ExportError
from napari_scanimage.format.header import SCANIMAGE_MAGIC

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["KIND", "header_bytes", "header_record", "read_header_record"]

KIND = "ScanImage header"


def header_record(scan: Scan, conversion: dict[str, Any] | None = None) -> str:
    """The JSON text stored in ``data_collection`` (with the conversion's record, if given)."""
    header = scan.header
    raw = header.raw
    record: dict[str, Any] = {
        "kind": KIND,
        "source_file": os.path.basename(header.path),
        "generation": header.generation,
        "container": header.container,
        "tiff_format_version": header.tiff_format_version,
        "read_back": "napari_scanimage.export.nwb.header_bytes(path) gives scan.header.raw",
    }
    try:
        if len(raw) >= 16 and struct.unpack_from("<I", raw)[0] == SCANIMAGE_MAGIC:
            preamble = list(struct.unpack_from("<IIII", raw))
            n0, n1 = preamble[2], preamble[3]
            record["layout"] = (
                "static block: 16-byte preamble (magic, TIFF format version, FrameData "
                "bytes, RoiGroups bytes), then each text NUL-padded to its length"
            )
            record["preamble"] = preamble
            record["FrameData"] = raw[16 : 16 + n0].rstrip(b"\0").decode("utf-8")
            record["RoiGroups"] = raw[16 + n0 : 16 + n0 + n1].rstrip(b"\0").decode("utf-8")
        else:
            text, _, artist = raw.partition(b"\0")
            record["layout"] = "FrameData, one NUL, RoiGroups (as the reader found them)"
            record["FrameData"] = text.decode("utf-8")
            record["RoiGroups"] = artist.decode("utf-8")
    except UnicodeDecodeError:
        record.setdefault("FrameData", "")
        record.setdefault("RoiGroups", "")
    if _rebuild(record) != raw:
        record["raw_base64"] = base64.b64encode(raw).decode("ascii")
    if conversion is not None:
        record["conversion"] = conversion  # sources and settings (see .conversion)
    return json.dumps(record, ensure_ascii=False)


def read_header_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header record of an NWB file written by this exporter (h5py only, fast)."""
    import h5py  # noqa: PLC0415 - only NWB exports need it

    try:
        with h5py.File(path, "r") as handle:
            value = handle.get("general/data_collection")
            text = value[()] if value is not None else None
    except OSError as exc:
        raise ExportError(f"{path}: not an NWB (HDF5) file ({exc})") from exc
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or record.get("kind") != KIND:
        raise ExportError(f"{path}: holds no ScanImage header written by napari-scanimage")
    return record


def header_bytes(path: str | os.PathLike[str]) -> bytes:
    """The ScanImage header stored in an NWB file, exactly ``scan.header.raw``."""
    return _rebuild(read_header_record(path))


def _rebuild(record: dict[str, Any]) -> bytes:
    if "raw_base64" in record:
        return base64.b64decode(record["raw_base64"])
    text = str(record.get("FrameData", "")).encode("utf-8")
    artist = str(record.get("RoiGroups", "")).encode("utf-8")
    preamble = record.get("preamble")
    if not preamble:
        return text + b"\0" + artist
    n0, n1 = preamble[2], preamble[3]
    return struct.pack("<IIII", *preamble) + text.ljust(n0, b"\0") + artist.ljust(n1, b"\0")
