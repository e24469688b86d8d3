"""Numpy-style keys for ``scan[fields, y, x, channels, frames]``.

Each axis takes an int (the axis is dropped), a slice (steps and negatives
allowed) or a list/tuple/array of ints.  Boolean masks, ``None`` and
out-of-range indexes raise ``ScanImageIndexError`` (an ``IndexError``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import ScanImageIndexError
from napari_scanimage.scan.fields import common_size

if TYPE_CHECKING:
    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = ["AXES", "AxisIndex", "normalize_axis", "select", "split_key"]

AXES = ("fields", "y", "x", "channels", "frames")


@dataclass(frozen=True)
class AxisIndex:
    """The positions one axis of a key selects."""

    values: np.ndarray
    """Non-negative int64 positions, in the order requested."""
    drop: bool
    """True when the key was a single int, so the axis disappears."""

    @property
    def bounds(self) -> slice:
        """The smallest step-1 slice covering every selected position."""
        if len(self.values) == 0:
            return slice(0, 0)
        return slice(int(self.values.min()), int(self.values.max()) + 1)

    @property
    def is_contiguous(self) -> bool:
        """Whether the positions are exactly ``bounds``, ascending."""
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
    if key is None:
        raise ScanImageIndexError(f"{axis}: new axes (None) are not supported")
    if isinstance(key, slice):
        return AxisIndex(np.arange(*key.indices(length), dtype=np.int64), drop=False)
    if isinstance(key, bool | np.bool_):
        raise ScanImageIndexError(f"{axis}: boolean indexes are not supported")
    if isinstance(key, int | np.integer):
        return AxisIndex(_wrap(np.array([int(key)]), length, axis), drop=True)
    if isinstance(key, list | tuple | range | np.ndarray):
        arr = np.asarray(key)
        if arr.dtype == bool:
            raise ScanImageIndexError(f"{axis}: boolean masks are not supported")
        if arr.size == 0:
            return AxisIndex(np.zeros(0, dtype=np.int64), drop=False)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            msg = f"{axis}: a list index must be a flat list of ints, got {key!r}"
            raise ScanImageIndexError(msg)
        return AxisIndex(_wrap(arr.astype(np.int64), length, axis), drop=False)
    try:
        return normalize_axis(operator.index(key), length, axis)
    except TypeError:
        msg = f"{axis}: cannot index with {type(key).__name__} {key!r}"
        raise ScanImageIndexError(msg) from None


def _wrap(values: np.ndarray, length: int, axis: str) -> np.ndarray:
    bad = (values < -length) | (values >= length)
    if np.any(bad):
        msg = f"{axis}: index {int(values[bad][0])} is out of range for length {length}"
        raise ScanImageIndexError(msg)
    return np.where(values < 0, values + length, values)


def select(scan: Scan, key: Any) -> np.ndarray:
    """Read ``scan[key]``: each axis resolved alone, fields read by ``read_field``."""
    fkey, ykey, xkey, ckey, tkey = split_key(key)
    fsel = normalize_axis(fkey, scan.num_fields, AXES[0])
    chosen = [scan.fields[i] for i in fsel.values]
    height, width = common_size(chosen or scan.fields[:1])
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
        scan.read_field(f.index, csel.values, tsel.values, rows, cols, out=out)
        return
    box = scan.read_field(f.index, csel.values, tsel.values, rows, cols)
    out[...] = box[:, :, ysel.values - rows.start][:, :, :, xsel.values - cols.start]
