"""Plain array-likes over a scan, for napari: a frame step reads that frame and nothing more.

napari takes any object with ``shape``, ``dtype``, ``ndim`` and a numpy-style
``__getitem__``.  These arrays hold no per-frame state (unlike a dask graph,
whose slicing cost grows with its number of chunks), so showing frame 100,000
costs what showing frame 1 does: one :meth:`Scan.read_field` of its pages.
``shape`` is read from the scan on every access, so a scan that grows while
it is followed (:meth:`Scan.refresh`) grows its arrays too.  Over remote
storage a step goes through :mod:`~napari_scanimage.lazy.prefetch`: the frame
is fetched whole, for every layer at once, and its neighbours ahead of time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.lazy.prefetch import prefetcher
from napari_scanimage.scan.indexing import normalize_axis, split_key
from napari_scanimage.scan.mosaic import Mosaic

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.scan import Scan

__all__ = ["FieldArray", "MosaicArray"]


class _ScanArray:
    """Shared protocol: live ``shape`` (frames first), ``dtype``, ``ndim``, ``__array__``."""

    scan: Scan
    _depth_axis: int | None  # length of the z axis, None when there is none
    _plane: tuple[int, int]

    @property
    def shape(self) -> tuple[int, ...]:
        """``(frames, [z,] y, x)``; the frame count follows the scan as it grows."""
        depth = () if self._depth_axis is None else (self._depth_axis,)
        return (self.scan.num_frames, *depth, *self._plane)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The scan's output dtype."""
        return self.scan.dtype

    @property
    def ndim(self) -> int:
        """3, or 4 with a z axis."""
        return 3 if self._depth_axis is None else 4

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.scan.num_frames

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The whole array (reads every frame: avoid on long scans)."""
        data = self[...]
        return data if dtype is None else data.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        raise NotImplementedError

    def _split(self, key: Any) -> tuple[Any, Any, Any, Any]:
        """``(frames, z, y, x)`` keys; z is 0 (then dropped) when there is no z axis."""
        parts = split_key(key, self.ndim)
        z = parts[1] if self._depth_axis is not None else 0
        return parts[0], z, parts[-2], parts[-1]


def _prefetch(scan: Scan, frames: np.ndarray) -> None:
    """Remote scans: hold the frames of a step (fetched whole) and fetch their neighbours."""
    ahead = prefetcher(scan)
    if ahead is not None:
        ahead.show(frames.tolist())


def _window(key: Any, length: int, axis: str) -> tuple[slice, Any]:
    """The step-1 slice to read for an axis key, and the index to apply within it.

    Ints and plain slices read exactly what they select (no index afterwards);
    stepped slices and lists read their bounding range, then pick.
    """
    if isinstance(key, slice) and key.step in (None, 1):
        start, stop, _ = key.indices(length)
        return slice(start, max(start, stop)), slice(None)
    sel = normalize_axis(key, length, axis)
    bounds = sel.bounds
    picked = sel.values - bounds.start
    return bounds, (int(picked[0]) if sel.drop else picked)


class FieldArray(_ScanArray):
    """``(frames, y, x)`` of one field and channel, or ``(frames, z, y, x)`` of several.

    With a sequence of fields (one ROI at consecutive depths, as napari shows
    it) the fields become the z axis; they must share height and width.
    """

    def __init__(self, scan: Scan, field: int | Sequence[int], channel: int) -> None:
        self.scan = scan
        many = not isinstance(field, int | np.integer)
        self.fields = tuple(
            scan.fields[normalize_axis(f, scan.num_fields, "fields").values[0]].index
            for f in (field if many else [field])  # type: ignore[union-attr]
        )
        self.field = scan.fields[self.fields[0]]
        self.channel = normalize_axis(channel, scan.num_channels, "channels").values[0]
        self._depth_axis = len(self.fields) if many else None
        self._plane = (self.field.height, self.field.width)

    def __getitem__(self, key: Any) -> np.ndarray:
        """Read any numpy-style key of ints, slices and int lists (outer indexing)."""
        tkey, zkey, ykey, xkey = self._split(key)
        times = normalize_axis(tkey, self.scan.num_frames, "frames")
        _prefetch(self.scan, times.values)
        planes = normalize_axis(zkey, len(self.fields), "z")
        rows, pick_rows = _window(ykey, self._plane[0], "y")
        cols, pick_cols = _window(xkey, self._plane[1], "x")
        out = np.empty(
            (
                len(times.values),
                len(planes.values),
                rows.stop - rows.start,
                cols.stop - cols.start,
            ),
            dtype=self.scan.dtype,
        )
        for zi, plane in enumerate(planes.values):
            self.scan.read_field(
                self.fields[plane],
                channels=[self.channel],
                frames=times.values,
                rows=rows,
                cols=cols,
                out=out[:, zi : zi + 1],
            )
        # one axis at a time: lists on both y and x select independently (outer indexing)
        result = out[:, :, pick_rows]
        result = result[..., pick_cols]
        z_index = 0 if (planes.drop or self._depth_axis is None) else slice(None)
        return np.asarray(result[(0 if times.drop else slice(None), z_index)])


class MosaicArray(_ScanArray):
    """A ``(frames, [z,] y, x)`` stitched view of one channel.

    Has a z axis when the scan has several depths.  Each read assembles the
    requested frames from their fields; nothing is cached.
    """

    def __init__(self, scan: Scan, channel: int, mosaic: Mosaic | None = None) -> None:
        self.scan = scan
        self.channel = channel
        self.mosaic = mosaic or Mosaic.of(scan)
        self._depth_axis = len(self.mosaic.depths) if scan.num_scanning_depths > 1 else None
        self._plane = self.mosaic.shape

    def __getitem__(self, key: Any) -> np.ndarray:
        """Read a block; frames, depths, rows and columns each take an int, slice or list."""
        tkey, zkey, ykey, xkey = self._split(key)
        times = normalize_axis(tkey, self.scan.num_frames, "frames")
        _prefetch(self.scan, times.values)
        planes = normalize_axis(zkey, len(self.mosaic.depths), "z")
        canvas = np.zeros(
            (len(times.values), len(planes.values), *self.mosaic.shape), dtype=self.scan.dtype
        )
        for zi, plane in enumerate(planes.values):
            depth = self.mosaic.depths[plane]
            images = {
                place.field: self.scan.read_field(
                    place.field, channels=[self.channel], frames=times.values
                )[:, 0]
                for place in self.mosaic.placements.get(depth, [])
            }
            self.mosaic.paste(depth, images, canvas[:, zi])
        rows = normalize_axis(ykey, self._plane[0], "y")
        cols = normalize_axis(xkey, self._plane[1], "x")
        result = canvas[:, :, rows.values][..., cols.values]
        drop = tuple(
            0 if sel.drop else slice(None)
            for sel in (times, planes if self._depth_axis is not None else None, rows, cols)
            if sel is not None
        )
        if self._depth_axis is None:
            result = result[:, 0]
        return np.asarray(result[drop])
