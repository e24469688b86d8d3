r"""Headers of ScanImage files without the 2016+ static block: every older generation.

Where the frame-invariant header lives, by generation (verified against
ScanImage's own readers: ``scim_openTif.m`` for 3.x/4.x, the 2015 ``opentif.m``
for 5.x/2015, tifffile's ``TiffPage.is_scanimage``):

* 3.x: every page's ImageDescription, ``\r``-separated ``state.a.b=value``;
* 4.x: ImageDescription, ``Frame Number =``/``Frame Tag =`` lines, then
  ``scanimage.SI4.name = value`` lines;
* 5.0/5.1: ImageDescription, ``Frame Number =``/``Frame Timestamp(s) =`` lines,
  then ``scanimage.SI5.name = value``;
* 5.2/2015: ImageDescription (``frameNumbers =`` ... lines, then
  ``scanimage.SI.a.b = value``) and/or the Software tag (``SI.a.b = value``);
* files re-saved by other tools (static block dropped): the ``SI.*`` header in
  the Software tag (tag 305) and the RoiGroups JSON in the Artist tag (315).

The header is translated into the modern ``SI`` tree (``legacy_keys``); the
file's own keys stay in ``frame_data`` under their own root (``state``,
``scanimage``).  Dispatch is on the keys found, never on the version number.
Where the pages disagree with the header (a re-saving tool kept
``channelSave = 1`` for two-channel pages), ``scan.reconcile`` follows the
pages' frame numbers, as for every file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import tifffile

from napari_scanimage.errors import (
    NotScanImageError,
    ScanImageFileError,
    UnsupportedVersionError,
)
from napari_scanimage.format.header_model import ScanImageHeader, decode_json, lookup
from napari_scanimage.format.legacy_keys import (
    SI3_PREFIX,
    SI4_PREFIX,
    SI5_PREFIX,
    nest,
    translate,
)
from napari_scanimage.format.legacy_limits import TIFFFILE_ERRORS
from napari_scanimage.format.matlab import parse_matlab_lines, parse_matlab_value

__all__ = ["read_legacy_header"]

_LINES = re.compile(r"\r\n|\r|\n")


def _header_lines(text: str, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(key, raw value)`` of the lines whose key starts with one of ``prefixes``."""
    lines = []
    for line in _LINES.split(text):
        key, sep, raw = line.partition("=")
        key = key.strip()
        if sep and key.startswith(prefixes) and " " not in key:
            lines.append((key, raw.strip()))
    return lines


def _modern_tree(text: str) -> dict[str, Any]:
    """``scanimage.SI.x`` / ``SI.x`` lines (or a JSON FrameData) as the ``SI`` tree."""
    if text.lstrip().startswith("{"):
        try:
            value = decode_json(json.loads(text.strip(" \0\r\n")))
        except (json.JSONDecodeError, RecursionError):
            return {}
        si = value.get("SI") if isinstance(value, dict) else None
        return {"SI": si} if isinstance(si, dict) else {}  # not the per-frame "FrameHeader"
    lines = _header_lines(text, ("scanimage.SI.", "SI."))
    return parse_matlab_lines("\n".join(f"{k.removeprefix('scanimage.')} = {v}" for k, v in lines))


def _old_tree(text: str, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(SI tree, the file's own tree)`` of a 3.x / 4.x / 5.0 header."""
    lines = _header_lines(text, (prefix,))
    raw = {key.removeprefix(prefix): value for key, value in lines}
    old = {key: parse_matlab_value(value) for key, value in raw.items()}
    if prefix == SI3_PREFIX:
        version: tuple[Any, Any] = (raw.get("software.version", "").strip("'"), None)
    elif prefix == SI4_PREFIX:
        version = (raw.get("versionMajor", "").strip("'"), raw.get("versionMinor"))
    else:
        version = (old.get("VERSION_MAJOR"), old.get("VERSION_MINOR"))
    own = nest({f"{prefix}{key}": value for key, value in old.items()})
    return translate(prefix, old, version), own


def _generation(description: str, software: str) -> tuple[str, str, str]:
    """``(generation, where the header is, header text)``, or NotScanImage."""
    soft = software.lstrip()
    if soft.startswith(("SI.", "{")) and _modern_tree(soft).get("SI"):
        return "", "the Software tag", software
    head = description.lstrip()
    if head.startswith(SI3_PREFIX):
        return "3.x", "every page's ImageDescription", description
    for prefix, generation in ((SI4_PREFIX, "4.x"), (SI5_PREFIX, "5.0/5.1")):
        if f"\n{prefix}" in description or head.startswith(prefix):
            return generation, "every page's ImageDescription", description
    if _header_lines(description, ("scanimage.SI.", "SI.")) or (
        head.startswith("{") and _modern_tree(description).get("SI")
    ):  # 2015-2016 JSON descriptions: {"FrameHeader": {...}, "SI": {...}}
        return "5.2/2015", "every page's ImageDescription", description
    return "", "", ""


@dataclass(frozen=True)
class _FirstPages:
    """What the header needs from page 1, read in one short tifffile visit."""

    description: str
    software: str
    artist: str
    compression: int
    samples: int
    container: str
    big_endian: bool
    too_big: bool
    """A classic TIFF over 4 GB: its 32-bit offsets overflow (SI 5's "broken" files)."""


def _first_pages(path: str) -> _FirstPages:
    try:
        with tifffile.TiffFile(path, is_scanimage=False) as tif:
            first = tif.pages.first
            container = "BigTIFF" if tif.is_bigtiff else "classic TIFF"
            artist = first.tags.valueof(315, default="")
            return _FirstPages(
                description=first.description,
                software=first.software,
                artist=artist if isinstance(artist, str) else "",
                compression=int(first.compression),
                samples=int(first.samplesperpixel),
                container=container,
                big_endian=tif.byteorder != "<",
                too_big=not tif.is_bigtiff and tif.filehandle.size >= 2**32,
            )
    except ScanImageFileError:
        raise
    except TIFFFILE_ERRORS as exc:
        raise NotScanImageError(path, f"not a readable TIFF file ({exc})") from exc


def read_legacy_header(path: str) -> ScanImageHeader:
    """The header of a ScanImage (Big)TIFF that has no static block, in modern form.

    Raises ``NotScanImageError`` when no ScanImage header is found, and
    ``UnsupportedVersionError`` (naming the version) for what cannot be read.
    """
    first = _first_pages(path)
    container = first.container
    generation, where, text = _generation(first.description, first.software)
    if not where:
        kind = f"big-endian {container}" if first.big_endian else container
        msg = f"a {kind} without ScanImage metadata (no static block, no SI header)"
        raise NotScanImageError(path, msg)
    if generation in ("3.x", "4.x", "5.0/5.1"):
        prefix = {"3.x": SI3_PREFIX, "4.x": SI4_PREFIX, "5.0/5.1": SI5_PREFIX}[generation]
        modern, own = _old_tree(text, prefix)
        frame_data = {**own, **modern}
    else:
        frame_data = _modern_tree(text)
        fmt = lookup(frame_data, "SI.TIFF_FORMAT_VERSION", None)
        generation = generation or ("2016+" if isinstance(fmt, int) else "5.2/2015")
    si = frame_data.setdefault("SI", {})
    version = " ".join(str(si.get(k, "")) for k in ("VERSION_MAJOR", "VERSION_MINOR")).strip()
    found = f"ScanImage {generation} (VERSION {version or 'not stated'})"
    if first.big_endian:
        msg = f"{found}: a big-endian {container}; only little-endian files are supported"
        raise UnsupportedVersionError(path, msg)
    if first.too_big:
        msg = f"{found}: a classic TIFF over 4 GB, whose page offsets overflow, is not supported"
        raise UnsupportedVersionError(path, msg)
    if first.compression != 1 or first.samples != 1:
        msg = (
            f"{found}: pages with TIFF compression {first.compression} and "
            f"{first.samples} samples per pixel are not supported (uncompressed, 1 sample)"
        )
        raise UnsupportedVersionError(path, msg)
    artist = first.artist
    roi_groups: Any = {}
    if artist.strip().startswith("{"):
        try:
            roi_groups = decode_json(json.loads(artist.strip(" \0\r\n")))
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = f"the RoiGroups JSON in the Artist tag is malformed ({exc})"
            raise ScanImageFileError(path, msg) from exc
    if not isinstance(roi_groups, dict):
        roi_groups = {}
    mroi = lookup(frame_data, "SI.hRoiManager.mroiEnable", None)
    if mroi in (True, 1, [1]) and not roi_groups.get("RoiGroups"):
        msg = f"{found}: multi-ROI without the RoiGroups JSON (Artist tag) is not supported"
        raise UnsupportedVersionError(path, msg)
    fmt = si.get("TIFF_FORMAT_VERSION")
    # The Software tag holds only the header; descriptions hold frame lines too, so
    # files of one acquisition compare by the parsed header alone.
    raw_text = text
    if where != "the Software tag":
        raw_text = json.dumps(frame_data, sort_keys=True, default=str)
    return ScanImageHeader(
        path=path,
        tiff_format_version=fmt if isinstance(fmt, int) and not isinstance(fmt, bool) else 0,
        frame_data=frame_data,
        roi_groups=roi_groups,
        style="json" if text.lstrip().startswith("{") else "matlab",
        raw=(raw_text + "\0" + artist).encode(),
        generation=generation,
        container=f"{container} without the static header block; header in {where}",
    )
