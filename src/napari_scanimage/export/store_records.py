"""Our records in a store, read back as checked values: numbers, geometry, display windows.

What :mod:`~napari_scanimage.export.describe` writes is JSON anyone may have edited.
These functions turn it back into typed values or raise
:class:`~napari_scanimage.errors.StoreError` naming the store and the value; nothing
unchecked (a string where a number belongs, a negative size) travels further.
Unknown numbers are JSON ``null``; stores of earlier versions wrote the strings
``"NaN"`` and ``"Infinity"``, which still read.
"""

from __future__ import annotations

import math
import re
import reprlib
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import StoreError

if TYPE_CHECKING:
    from napari_scanimage.scan.fields import Field

__all__ = [
    "MAX_INDEX",
    "count",
    "display_limits",
    "field_from_geometry",
    "finite_or_none",
    "number",
    "numbers",
    "simple_name",
]

MAX_INDEX = 2**31 - 1
"""Largest count or index a record may hold (a frame count, a width, a channel)."""
_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 40, 40, 4, 4
_FLOAT_LIMIT = 1e30
"""Display limits beyond this are not a window anyone set (and overflow a slider's span)."""


def number(value: Any, store: str, what: str) -> float:
    """A recorded number: NaN for unknown (``null`` or ``"NaN"``).

    Examples
    --------
    >>> number(None, "s.zarr", "x"), number("-Infinity", "s.zarr", "x"), number(3, "s.zarr", "x")
    (nan, -inf, 3.0)
    >>> number("3", "s.zarr", "depth")
    Traceback (most recent call last):
    ...
    napari_scanimage.errors.StoreError: s.zarr: depth is '3', not a number
    """
    if value is None:
        return math.nan
    if isinstance(value, str) and value in _WORDS:
        return _WORDS[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StoreError(store, f"{what} is {_short(value)}, not a number")
    try:
        return float(value)
    except OverflowError:  # an integer beyond float's range
        raise StoreError(store, f"{what} is {_short(value)}, out of range") from None


def finite_or_none(value: Any, store: str, what: str) -> float | None:
    """A recorded number that must be finite when given; None when unknown or absent."""
    result = number(value, store, what)
    return result if math.isfinite(result) else None


def numbers(value: Any, store: str, what: str, length: int | None = None) -> list[float]:
    """A recorded list of numbers (of ``length`` when given)."""
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = "a list" if length is None else f"a list of {length}"
        raise StoreError(store, f"{what} is {_short(value)}, not {size} of numbers")
    return [number(v, store, f"{what}[{i}]") for i, v in enumerate(value)]


def count(value: Any, store: str, what: str, low: int = 0, high: int = MAX_INDEX) -> int:
    """A recorded whole number between ``low`` and ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise StoreError(store, f"{what} is {_short(value)}, not a whole number {low}..{high}")
    return value


def simple_name(value: Any, store: str, what: str) -> str:
    """A recorded name of a folder directly inside the store (no ``..``, no separators)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value.strip(".") == "":
        raise StoreError(store, f"{what} is {_short(value)}, not a folder of the store")
    return value


def field_from_geometry(geometry: Any, store: str, where: str) -> Field:
    """The :class:`Field` that ``describe.field_record`` wrote, checked value by value."""
    from napari_scanimage.scan.fields import Field  # noqa: PLC0415 - readers only

    if not isinstance(geometry, dict):
        raise StoreError(store, f"{where}: no field geometry recorded")
    get = geometry.get
    ids = get("roi_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 1024:
        raise StoreError(store, f"{where}: the field's ROIs are {_short(ids)}")
    parts = len(ids)
    names = get("roi_names")
    if (
        not isinstance(names, list)
        or len(names) != parts
        or not all(isinstance(n, str) for n in names)
    ):
        raise StoreError(store, f"{where}: the field's ROI names are {_short(names)}")
    pixel = numbers(get("pixel_size_um"), store, f"{where}: pixel_size_um", 2)
    corner = numbers(get("top_left_um"), store, f"{where}: top_left_um", 2)
    if any(math.isfinite(v) and v <= 0 for v in pixel):
        raise StoreError(store, f"{where}: pixel_size_um {pixel} is not a positive size")
    return Field(
        index=count(get("index"), store, f"{where}: index"),
        depth_index=count(get("depth_index"), store, f"{where}: depth_index"),
        depth=number(get("depth"), store, f"{where}: depth"),
        roi_ids=tuple(count(v, store, f"{where}: roi id", -MAX_INDEX) for v in ids),
        roi_names=tuple(names),
        yslices=_slices(get("yslices"), parts, store, f"{where}: yslices"),
        xslices=_slices(get("xslices"), parts, store, f"{where}: xslices"),
        output_yslices=_slices(get("output_yslices"), parts, store, f"{where}: output_yslices"),
        output_xslices=_slices(get("output_xslices"), parts, store, f"{where}: output_xslices"),
        height=count(get("height"), store, f"{where}: height", 1),
        width=count(get("width"), store, f"{where}: width", 1),
        top_left_um=(corner[0], corner[1]),
        pixel_size_um=(pixel[0], pixel[1]),
    )


def _slices(value: Any, parts: int, store: str, what: str) -> tuple[slice, ...]:
    if not isinstance(value, list) or len(value) != parts:
        raise StoreError(store, f"{what} is {_short(value)}, not {parts} [start, stop] pairs")
    result = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise StoreError(store, f"{what} holds {_short(pair)}, not a [start, stop] pair")
        start, stop = (None if v is None else count(v, store, what) for v in pair)
        result.append(slice(start, stop))
    return tuple(result)


def display_limits(window: Any, dtype: np.dtype[Any]) -> tuple[float, float]:
    """Finite, ordered contrast limits from an OMERO ``window``, whatever it holds.

    The window's ``start``/``end``, else its ``min``/``max``, else the dtype's
    range; never NaN, never infinite, never empty (a slider refuses those).

    Examples
    --------
    >>> int16 = np.dtype("int16")
    >>> display_limits({"start": 10, "end": 900, "min": -32768, "max": 32767}, int16)
    (10.0, 900.0)
    >>> display_limits({"start": float("nan"), "end": 5, "min": 0, "max": 4095}, int16)
    (0.0, 4095.0)
    >>> display_limits({"start": -1e308, "end": "Infinity"}, int16)
    (-32768.0, 32767.0)
    >>> display_limits(None, np.dtype("float32"))
    (0.0, 1.0)
    """
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low, high = float(info.min), float(info.max)
    else:
        low, high = -_FLOAT_LIMIT, _FLOAT_LIMIT
    values = window if isinstance(window, dict) else {}
    for first, last in (("start", "end"), ("min", "max")):
        start, end = _plain(values.get(first)), _plain(values.get(last))
        if start is None or end is None:
            continue
        start, end = max(start, low), min(end, high)
        if start < end:
            return start, end
    return (low, high) if np.issubdtype(dtype, np.integer) else (0.0, 1.0)


def _plain(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def _short(value: Any) -> str:
    """A short ``repr`` of a recorded value, however big or deep it is."""
    return _REPR.repr(value)
