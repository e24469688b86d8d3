"""ScanImage's static header block: FrameData and RoiGroups.

ScanImage 2016+ puts a 16-byte block at byte 16 of the BigTIFF (magic,
TIFF-format version, two lengths) followed by the FrameData text (MATLAB
``SI.x = v`` lines, or JSON when the rig sets ``useJsonHeaderFormat``) and the
RoiGroups JSON.  Every page's Software/Artist tag points back at it, so it is
read once per file.  :func:`read_header` is the one entry point for every
generation: files without the block (ScanImage 3.x to 2015, files re-saved by
other tools) it hands to :mod:`.legacy_header`, which fills the same
:class:`~.header_model.ScanImageHeader`, its ``generation`` and ``container``
saying which.  The imports go one way: this module -> the legacy readers ->
:mod:`.header_model`.
"""

from __future__ import annotations

import json
import os
import struct
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from napari_scanimage.errors import (
    NotScanImageError,
    ScanImageError,
    ScanImageFileError,
    UnsupportedVersionError,
)
from napari_scanimage.format.header_model import (
    SCANIMAGE_MAGIC,
    ScanImageHeader,
    decode_json,
    lookup,
)
from napari_scanimage.format.matlab import parse_matlab_lines
from napari_scanimage.format.sniff import looks_like_scanimage
from napari_scanimage.format.tiff import is_regular_file
from napari_scanimage.format.urls import is_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    from napari_scanimage.format.remote import RemoteObject
    from napari_scanimage.format.tiff import TiffFileHandle

__all__ = [
    "SCANIMAGE_MAGIC",
    "ScanImageHeader",
    "decode_json",
    "is_scanimage_file",
    "lookup",
    "read_header",
]

_MAX_BLOCK = 16 * 2**20
"""Longest FrameData or RoiGroups block read (bytes).  Real ones are 20 kB to 1 MB, even
with a vDAQ's 64-channel tables; a hostile 46 MB block of 2 million keys took 14 s
and 1 GB to parse, so anything this long is refused instead."""


def _load_json(path: str, text: str, part: str) -> Any:
    """Parse one JSON block of the header, naming it when it is malformed."""
    try:
        return decode_json(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = f"the ScanImage {part} JSON is malformed ({exc})"
        raise ScanImageFileError(path, msg) from exc


def is_scanimage_file(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> bool:
    """Whether ScanImage wrote the file, any generation (reads a few KB at most).

    A 2016+ BigTIFF is recognised from its first 20 bytes; other TIFFs from the
    start of page 1's ImageDescription and Software tags (see ``sniff``).
    A URL is asked the same of its object (two or three requests).
    Never raises: unreadable or missing files are simply not ScanImage files.
    """
    if is_url(path):
        return _remote_is_scanimage(os.fspath(path), storage_options)
    if not is_regular_file(path):
        return False  # a FIFO would block the open; folders and devices are not scans
    try:
        with open(path, "rb") as fh:
            return _has_static_block(fh.read(20)) or looks_like_scanimage(fh)
    except OSError:
        return False


def _remote_is_scanimage(url: str, storage_options: Mapping[str, Any] | None) -> bool:
    from napari_scanimage.format.remote import RemoteObject  # noqa: PLC0415 - fsspec on demand

    try:
        fh = _RangeFile(RemoteObject.open(url, storage_options))
        return _has_static_block(fh.head[:20]) or looks_like_scanimage(cast("BinaryIO", fh))
    except ScanImageError:
        return False


def _has_static_block(head: bytes) -> bool:
    return (
        len(head) == 20
        and head[:4] == b"II+\0"
        and struct.unpack_from("<I", head, 16)[0] == SCANIMAGE_MAGIC
    )


class _RangeFile:
    """A seekable read-only file over a remote object: the first read fetches 64 KB."""

    def __init__(self, remote: RemoteObject) -> None:
        self._remote, self._at = remote, 0
        self.head = remote.read(0, min(1 << 16, remote.size))

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset if whence == 0 else self._at + offset
        return self._at

    def read(self, size: int = -1) -> bytes:
        end = min(self._remote.size, self._at + size)
        if end <= self._at:
            return b""
        if end <= len(self.head):
            data = self.head[self._at : end]
        else:
            data = self._remote.read(self._at, end - self._at)
        self._at = end
        return data


def read_header(handle: TiffFileHandle) -> ScanImageHeader:
    """Read and parse the header of an open file.

    2016+ BigTIFFs carry it in the static block; files without one (classic
    TIFFs of older generations, files re-saved by other tools) are read by
    :func:`napari_scanimage.format.legacy_header.read_legacy_header`.
    """
    path = handle.path
    magic = struct.unpack("<I", handle.read(16, 4))[0] if handle.size >= 32 else None
    if magic != SCANIMAGE_MAGIC or not handle.read(0, 4).startswith(b"II+"):
        # (remote files without the block are refused when opened, by open_handle)
        # tifffile, which the legacy reader needs, loads only for such files
        from napari_scanimage.format.legacy_header import read_legacy_header  # noqa: PLC0415

        return read_legacy_header(path)
    magic, version, n0, n1 = struct.unpack("<IIII", handle.read(16, 16))
    if version < 3:
        msg = f"ScanImage TIFF format version {version} is not supported (3 or 4)"
        raise UnsupportedVersionError(path, msg)
    if 32 + n0 + n1 > handle.size:
        msg = f"header lengths ({n0} + {n1} bytes) run past the end of the file"
        raise NotScanImageError(path, msg)
    if max(n0, n1) > _MAX_BLOCK:
        msg = (
            f"its ScanImage header block is {max(n0, n1) / 2**20:.0f} MB; real ones are "
            f"under 1 MB and this reader refuses more than {_MAX_BLOCK // 2**20} MB"
        )
        raise UnsupportedVersionError(path, msg)
    raw = handle.read(16, 16 + n0 + n1)
    text = raw[16 : 16 + n0].rstrip(b"\0").decode("utf-8", errors="replace")
    roi_text = raw[16 + n0 :].rstrip(b"\0").decode("utf-8", errors="replace")
    style: Literal["matlab", "json"] = "json" if text.lstrip().startswith("{") else "matlab"
    frame_data = (
        _load_json(path, text, "FrameData") if style == "json" else parse_matlab_lines(text)
    )
    roi_groups = _load_json(path, roi_text, "RoiGroups") if roi_text.strip() else {}
    if not isinstance(frame_data, dict) or not isinstance(frame_data.get("SI"), dict):
        raise NotScanImageError(path, "the header has no SI.* entries")
    if not isinstance(roi_groups, dict):
        raise ScanImageFileError(path, "the RoiGroups JSON is not an object")
    return ScanImageHeader(path, version, frame_data, roi_groups, style, raw)
