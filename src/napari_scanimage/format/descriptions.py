"""Per-page ImageDescription text: frame numbers, timestamps, triggers.

ScanImage writes one description per page into a fixed, space-padded slot,
as ``key = value`` lines or as a JSON object.  They are parsed only on demand.
"""

from __future__ import annotations

import json
import re
from typing import Any

from napari_scanimage.format.header import decode_json
from napari_scanimage.format.matlab import parse_matlab_value

__all__ = ["parse_description", "read_number"]


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
    return result


def read_number(text: str, key: str) -> float | None:
    r"""Fast path for one numeric key, without parsing the whole description.

    Examples
    --------
    >>> read_number("frameNumbers = 3\nframeTimestamps_sec = 0.100000000", "frameTimestamps_sec")
    0.1
    >>> read_number('{"frameNumbers": 3}', "frameNumbers")
    3.0
    """
    match = re.search(
        rf'"?\b{re.escape(key)}"?\s*[=:]\s*"?([-+]?_?Inf_?|_?NaN_?|[-+0-9.eE]+)', text
    )
    if match is None:
        return None
    token = match.group(1).replace("_", "")  # JSON headers spell infinity "_Inf_"
    try:
        return float(token)
    except ValueError:
        return None
