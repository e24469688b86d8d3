"""Per-page ImageDescription text: frame numbers, timestamps, triggers.

ScanImage writes one description per page into a fixed, space-padded slot,
as ``key = value`` lines or as a JSON object.  They are parsed only on demand.
ScanImage 4.x and 5.0/5.1 spelled the frame lines differently (``Frame Number =``,
``Frame Timestamp(s) =``; see ``ReadTIFFHeader_SI5.m``); those are also given
under the modern names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from napari_scanimage.format.header import decode_json
from napari_scanimage.format.matlab import parse_matlab_value

__all__ = ["LEGACY_NAMES", "parse_description", "read_number"]

LEGACY_NAMES: dict[str, tuple[str, ...]] = {
    "frameNumbers": ("Frame Number",),  # not SI4's "Frame Tag": per page or per frame?
    "frameTimestamps_sec": ("Frame Timestamp(s)", "frameTimestamps"),
    "acqTriggerTimestamps_sec": ("Acq Trigger Timestamp(s)",),
    "nextFileMarkerTimestamps_sec": ("Next File Marker Timestamp(s)",),
    "dcOverVoltage": ("DC Overvoltage",),
}
"""Modern per-page key -> the names older generations used for it."""


def parse_description(text: str) -> dict[str, Any]:
    r"""Parse one page's description into a flat dict.

    Examples
    --------
    >>> parse_description("frameNumbers = 7\nframeTimestamps_sec = 0.2\nepoch = [2021 11 5]")
    {'frameNumbers': 7, 'frameTimestamps_sec': 0.2, 'epoch': [2021, 11, 5]}
    >>> parse_description('{"frameNumbers": 7, "auxTrigger0": []}    ')
    {'frameNumbers': 7, 'auxTrigger0': []}
    """
    text = text.strip(" \0\r\n\t")
    if text.startswith("{"):
        try:
            value = decode_json(json.loads(text))
        except (json.JSONDecodeError, RecursionError):
            return {}
        if isinstance(value, dict):
            header = value.get("FrameHeader")  # 2015-2016 JSON kept it nested
            return header if isinstance(header, dict) else value
        return {}
    result: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        key = key.strip()
        if sep and key:
            value = parse_matlab_value(raw)
            result[key] = None if value == "" else value
    for modern, names in LEGACY_NAMES.items():
        found = [result[name] for name in names if name in result]
        if modern not in result and found:
            result[modern] = found[0]
    return result


def read_number(text: str, key: str) -> float | None:
    r"""Fast path for one numeric key, without parsing the whole description.

    Examples
    --------
    >>> read_number("frameNumbers = 3\nframeTimestamps_sec = 0.100000000", "frameTimestamps_sec")
    0.1
    >>> read_number('{"frameNumbers": 3}', "frameNumbers")
    3.0
    >>> read_number("Frame Number = 5\nFrame Timestamp(s) = 0.25", "frameTimestamps_sec")
    0.25
    """
    for name in (key, *LEGACY_NAMES.get(key, ())):
        match = re.search(
            rf'"?\b{re.escape(name)}"?\s*[=:]\s*"?([-+]?_?Inf_?|_?NaN_?|[-+0-9.eE]+)', text
        )
        if match is not None:
            break
    if match is None:
        return None
    token = match.group(1).replace("_", "")  # JSON headers spell infinity "_Inf_"
    try:
        return float(token)
    except ValueError:
        return None
