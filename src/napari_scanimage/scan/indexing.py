"""Numpy-style keys for ``scan[fields, y, x, channels, frames]``.

Each axis takes an int (the axis is dropped), a slice (steps and negatives
allowed) or a list/tuple/array of ints.  Boolean masks, ``None`` and
out-of-range indexes raise ``ScanImageIndexError`` (an ``IndexError``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import ScanImageIndexError
from napari_scanimage.scan.fields import common_size

if TYPE_CHECKING:
    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = [
    "AXES",
    "AxisIndex",
    "normalize_axis",
    "select",
    "select_outer",
    "select_plain",
    "split_key",
]

AXES = ("fields", "y", "x", "channels", "frames")


@dataclass(frozen=True)
class AxisIndex:
    """The positions one axis of a key selects."""

    values: np.ndarray
    """Non-negative int64 positions, in the order requested."""
    drop: bool
    """True when the key was a single int, so the axis disappears."""
    span: slice | None = field(default=None, repr=False, compare=False)
    """``values`` as a step-1 slice where the key showed it is one (ints, plain slices)."""

    @property
    def bounds(self) -> slice:
        """The smallest step-1 slice covering every selected position."""
        if self.span is not None:
            return self.span
        if len(self.values) == 0:
            return slice(0, 0)
        return slice(int(self.values.min()), int(self.values.max()) + 1)

    @property
    def is_contiguous(self) -> bool:
        """Whether the positions are exactly ``bounds``, ascending."""
        if self.span is not None:
            return True
        v = self.values
        return len(v) == 0 or bool(v[-1] - v[0] == len(v) - 1 and np.all(np.diff(v) == 1))


def split_key(key: Any, ndim: int = len(AXES)) -> tuple[Any, ...]:
    """Pad a key to one entry per axis, expanding a single ``...``."""
    parts = key if isinstance(key, tuple) else (key,)
    if sum(part is Ellipsis for part in parts) > 1:
        raise ScanImageIndexError("an index can only have a single ellipsis ('...')")
    at = next((i for i, p in enumerate(parts) if p is Ellipsis), None)
    if at is not None:
        fill = (slice(None),) * (ndim - len(parts) + 1)
        parts = parts[:at] + fill + parts[at + 1 :]
    if len(parts) > ndim:
        msg = f"too many indices: a scan has {ndim} axes ({', '.join(AXES[:ndim])})"
        raise ScanImageIndexError(msg)
    return parts + (slice(None),) * (ndim - len(parts))


def normalize_axis(key: Any, length: int, axis: str) -> AxisIndex:
    """Resolve one axis' key against its length.

    Examples
    --------
    >>> normalize_axis(-1, 5, "frames")
    AxisIndex(values=array([4]), drop=True)
    >>> normalize_axis(slice(None, None, -2), 5, "frames").values.tolist()
    [4, 2, 0]
    >>> normalize_axis([0, -1], 3, "y").values.tolist()
    [0, 2]
    """
    kind = type(key)
    if kind is int or kind is np.int64:  # the common keys first: this runs per frame read
        return _position(int(key), length, axis)
    if kind is slice:
        start, stop, step = key.indices(length)
        values = np.arange(start, stop, step, dtype=np.int64)
        if step == 1 or len(values) == 0:
            return AxisIndex(values, drop=False, span=slice(start, start + len(values)))
        return AxisIndex(values, drop=False)
    if key is None:
        raise ScanImageIndexError(f"{axis}: new axes (None) are not supported")
    if isinstance(key, bool | np.bool_):
        raise ScanImageIndexError(f"{axis}: boolean indexes are not supported")
    if isinstance(key, int | np.integer):
        return _position(int(key), length, axis)
    if isinstance(key, list | tuple | range | np.ndarray):
        arr = np.asarray(key)
        if arr.dtype == bool:
            raise ScanImageIndexError(f"{axis}: boolean masks are not supported")
        if arr.size == 0:
            return AxisIndex(np.zeros(0, dtype=np.int64), drop=False, span=slice(0, 0))
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            msg = f"{axis}: a list index must be a flat list of ints, got {key!r}"
            raise ScanImageIndexError(msg)
        return AxisIndex(_wrap(arr.astype(np.int64), length, axis), drop=False)
    try:
        return normalize_axis(operator.index(key), length, axis)
    except TypeError:
        msg = f"{axis}: cannot index with {type(key).__name__} {key!r}"
        raise ScanImageIndexError(msg) from None


def _position(key: int, length: int, axis: str) -> AxisIndex:
    """One int: checked and wrapped in plain Python (numpy costs microseconds here)."""
    if not -length <= key < length:
        raise ScanImageIndexError(f"{axis}: index {key} is out of range for length {length}")
    if key < 0:
        key += length
    return AxisIndex(np.array([key], dtype=np.int64), drop=True, span=slice(key, key + 1))


def _wrap(values: np.ndarray, length: int, axis: str) -> np.ndarray:
    low, high = int(values.min()), int(values.max())
    if low < -length or high >= length:
        bad = (values < -length) | (values >= length)
        msg = f"{axis}: index {int(values[bad][0])} is out of range for length {length}"
        raise ScanImageIndexError(msg)
    return values + length * (values < 0) if low < 0 else values


def select(scan: Scan, key: Any) -> np.ndarray:
    """Read ``scan[key]``: each axis resolved alone, each field read as ``read_field`` does.

    The resolved positions go straight to the scan's reading primitive (not
    through ``read_field``, which would resolve them again), and the form
    pipelines use per frame, ``scan[f, :, :, c, t]`` with ``t`` an int or a
    step-1 slice, skips the general resolution: a frame read this way costs
    what ``read_field`` costs.
    """
    if type(key) is tuple and len(key) == len(AXES):
        plain = select_plain(scan, *key)
        if plain is not None:
            return plain
    return select_outer(scan, key)


def select_plain(
    scan: Scan, fkey: Any, ykey: Any, xkey: Any, ckey: Any, tkey: Any
) -> np.ndarray | None:
    """Read ``scan[f, y, x, c, t]`` of the per-frame form; None for other keys.

    The form: ints ``f`` and ``c``, step-1 slices ``y`` and ``x``, an int or a
    step-1 slice ``t``; other keys are left to :func:`select_outer`.  Gives
    exactly what that gives (values, shape, strides), with a fraction of its
    bookkeeping.
    """
    if not (_is_int(fkey) and _is_int(ckey) and _is_span(ykey) and _is_span(xkey)):
        return None
    if _is_int(tkey):
        t = _position(int(tkey), scan.num_frames, AXES[4]).values
    elif _is_span(tkey):
        start, stop, _ = tkey.indices(scan.num_frames)
        t = np.arange(start, max(start, stop), dtype=np.int64)
    else:
        return None
    fields = scan.fields
    f = fields[int(_position(int(fkey), len(fields), AXES[0]).values[0])]
    c = _position(int(ckey), scan.num_channels, AXES[3]).values
    y0, y1, _ = ykey.indices(f.height)
    x0, x1, _ = xkey.indices(f.width)
    rows, cols = slice(y0, max(y0, y1)), slice(x0, max(x0, x1))
    out = np.empty((len(t), 1, rows.stop - y0, cols.stop - x0), dtype=scan.dtype)
    if out.size:
        scan._read_into(f, c, t, rows, cols, out)
    image = out[:, 0].transpose(1, 2, 0)  # (T, Y, X) -> (Y, X, T)
    return image[:, :, 0] if _is_int(tkey) else image


def _is_int(key: Any) -> bool:
    return type(key) is int or isinstance(key, np.integer)


def _is_span(key: Any) -> bool:
    return type(key) is slice and (key.step is None or (type(key.step) is int and key.step == 1))


def select_outer(scan: Scan, key: Any) -> np.ndarray:
    """Read any key the general way: every axis resolved to positions, lists as outer indexes."""
    fkey, ykey, xkey, ckey, tkey = split_key(key)
    fields = scan.fields
    fsel = normalize_axis(fkey, len(fields), AXES[0])
    chosen = [fields[i] for i in fsel.values.tolist()]
    height, width = common_size(chosen or fields[:1])
    ysel = normalize_axis(ykey, height, AXES[1])
    xsel = normalize_axis(xkey, width, AXES[2])
    csel = normalize_axis(ckey, scan.num_channels, AXES[3])
    tsel = normalize_axis(tkey, scan.num_frames, AXES[4])
    out = np.empty(
        (len(chosen), len(tsel.values), len(csel.values), len(ysel.values), len(xsel.values)),
        dtype=scan.dtype,
    )
    for i, f in enumerate(chosen):
        _read_selection(scan, f, csel, tsel, ysel, xsel, out[i])
    result = out.transpose(0, 3, 4, 2, 1)  # (F, T, C, Y, X) -> (F, Y, X, C, T)
    drop = tuple(0 if sel.drop else slice(None) for sel in (fsel, ysel, xsel, csel, tsel))
    return result[drop]


def _read_selection(
    scan: Scan,
    f: Field,
    csel: AxisIndex,
    tsel: AxisIndex,
    ysel: AxisIndex,
    xsel: AxisIndex,
    out: np.ndarray,
) -> None:
    """One field's selection: the bounding box read directly, then picked if sparse."""
    if out.size == 0:
        return
    rows, cols = ysel.bounds, xsel.bounds
    if ysel.is_contiguous and xsel.is_contiguous:
        scan._read_into(f, csel.values, tsel.values, rows, cols, out)
        return
    box = np.empty((*out.shape[:2], rows.stop - rows.start, cols.stop - cols.start), out.dtype)
    scan._read_into(f, csel.values, tsel.values, rows, cols, box)
    out[...] = box[:, :, ysel.values - rows.start][:, :, :, xsel.values - cols.start]
