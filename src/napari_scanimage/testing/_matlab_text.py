"""MATLAB and JSON text as ScanImage's header serialiser writes it."""

from __future__ import annotations

import json
import math
import re


class _Col(tuple[float, ...]):
    """MATLAB column vector, ``[1;2]``."""


class _Cell(tuple[object, ...]):
    """MATLAB cell array, ``{'a' 'b'}``."""


def _g(value: float) -> str:
    """Format a float like ScanImage's header serialiser (6 significant digits)."""
    return f"{value:.6g}"


def _mat(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return _g(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, _Col):
        return "[" + ";".join(_mat(v) for v in value) + "]"
    if isinstance(value, _Cell):
        return "{" + " ".join(_mat(v) for v in value) + "}"
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return "[" + ";".join(" ".join(_mat(v) for v in row) for row in value) + "]"
        return "[" + " ".join(_mat(v) for v in value) + "]"
    return str(value)


def _js(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "_NaN_"
        if math.isinf(value):
            return "_Inf_" if value > 0 else "-_Inf_"
        return _num(float(_g(value)))
    if isinstance(value, (list, tuple)):
        return [_js(v) for v in value]
    return value


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _dumps(obj: object) -> str:
    """Pretty JSON with innermost numeric arrays on one line, as ScanImage writes it."""
    text = json.dumps(obj, indent=2)

    def join(match: re.Match[str]) -> str:
        return "[" + ",".join(item.strip() for item in match[1].split(",")) + "]"

    return re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]", join, text)
