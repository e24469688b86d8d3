"""Decide cheaply whether a TIFF without the 2016+ static block was written by ScanImage.

The napari reader asks this of every TIFF dropped on the viewer, so it must
decline other TIFFs fast: one IFD is parsed and at most a few KB of its
ImageDescription and Software values are read.  The rules are tifffile's
``TiffPage.is_scanimage`` (Software starting ``SI.``, a description starting
``state.``, ``scanimage.SI`` near its end), widened to ``scanimage.SI``/``SI.``
lines near the start (ScanImage 4/5 put frame lines first) and JSON ``{"SI":``
Software text.
"""

from __future__ import annotations

import re
import struct
from typing import BinaryIO

__all__ = ["looks_like_scanimage"]

_HEAD = 4096  # bytes of a tag value looked at
_TAIL = 256  # tifffile's rule looks at the last 256 characters of the description
_MAX_TAGS = 4096
_SI_LINE = re.compile(rb"(^|[\r\n])(scanimage\.SI|SI\.)[\w.]+ ?=")
_JSON_SI = re.compile(rb'^\s*\{\s*"SI"')
_JSON_SI_INSIDE = re.compile(rb'^\s*\{.*"SI"\s*:\s*\{', re.DOTALL)


def _read(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def _tag_values(fh: BinaryIO) -> dict[int, tuple[int, int]]:
    """``{tag: (value offset, count)}`` of ImageDescription/Software in the first IFD."""
    head = _read(fh, 0, 16)
    if head[:4] == b"II*\0":
        entry, count_fmt, entry_fmt, inline = 12, "<H", "<HHI", 4
        (ifd,) = struct.unpack_from("<I", head, 4)
    elif head[:4] == b"II+\0" and len(head) == 16:
        entry, count_fmt, entry_fmt, inline = 20, "<Q", "<HHQ", 8
        (ifd,) = struct.unpack_from("<Q", head, 8)
    else:
        return {}
    raw_count = _read(fh, ifd, struct.calcsize(count_fmt))
    if len(raw_count) != struct.calcsize(count_fmt):
        return {}
    (ntags,) = struct.unpack(count_fmt, raw_count)
    if not 0 < ntags <= _MAX_TAGS:
        return {}
    start = ifd + struct.calcsize(count_fmt)
    table = _read(fh, start, entry * ntags)
    found: dict[int, tuple[int, int]] = {}
    for i in range(len(table) // entry):
        code, typ, count = struct.unpack_from(entry_fmt, table, entry * i)
        if code not in (270, 305) or typ != 2:
            continue
        value_at = start + entry * i + 4 + inline
        if count > inline:
            (value_at,) = struct.unpack_from(
                "<I" if inline == 4 else "<Q", table, entry * i + 4 + inline
            )
        found[code] = (value_at, count)
    return found


def looks_like_scanimage(fh: BinaryIO) -> bool:
    """Whether page 1's tags say ScanImage (any generation, static block or not).

    ``fh`` is a binary file opened for reading; reads at most ~9 KB.
    """
    try:
        tags = _tag_values(fh)
        if 305 in tags:
            offset, count = tags[305]
            software = _read(fh, offset, min(count, _HEAD))
            if software.startswith(b"SI.") or _JSON_SI.match(software):
                return True
        if 270 in tags:
            offset, count = tags[270]
            text = _read(fh, offset, min(count, _HEAD))
            scanimage = _SI_LINE.search(text) or _JSON_SI_INSIDE.match(text)
            if text.lstrip().startswith(b"state.") or scanimage:
                return True
            if count > _HEAD:
                tail = _read(fh, offset + count - _TAIL, _TAIL)
                return b"scanimage.SI" in tail
    except (OSError, struct.error, OverflowError, ValueError):
        return False
    return False
