"""One of our OME-Zarr stores opened for reading, every record checked before use.

:func:`open_store` reads the root record, each image group's field geometry and
display windows, and each array's metadata; it checks them against each other
(axes, channels, frames, y/x against the recorded field) and against limits
(chunks at least one frame, chunk sizes, counts) before any data is touched or
any dask graph built.  Every problem is a
:class:`~napari_scanimage.errors.StoreError` naming the store.  Files are read
through :mod:`~napari_scanimage.export.store_files` (regular files inside the
store, bounded sizes and nesting), Zarr's own reads through a
:class:`~napari_scanimage.export.guarded_store.GuardedStore`.

:func:`complete_record` is the quick look a reader hook needs: one small JSON
file, and it never raises.  No Qt here: napari's reader and panel call these.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import ScanImageError, StoreError
from napari_scanimage.export.describe import KEY
from napari_scanimage.export.store_files import checked_size, read_json, root_attributes
from napari_scanimage.export.store_records import (
    count,
    display_limits,
    field_from_geometry,
    finite_or_none,
    number,
    simple_name,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import dask.array as da

    from napari_scanimage.scan.fields import Field

__all__ = [
    "StoredImage",
    "StoredScan",
    "complete_record",
    "open_store",
]

ARRAY = "0"
"""The one resolution level of each image (as :mod:`.store` writes it)."""
MAX_CHANNELS = 64
MAX_IMAGES = 4096


@dataclass(frozen=True)
class StoredImage:
    """One image group: its field, its array (``t, c, [z,] y, x``) and display limits."""

    name: str
    field: Field
    array: Any
    """The ``zarr.Array``, reading through a guarded store."""
    limits: tuple[tuple[float, float], ...]
    """Finite, ordered contrast limits per position on the ``c`` axis."""


@dataclass(frozen=True)
class StoredScan:
    """A complete napari-scanimage store, checked."""

    path: str
    """Absolute, links resolved."""
    record: dict[str, Any]
    """The root record as written (``summary``, ``settings``, ...): display only."""
    channels: tuple[int, ...]
    """ScanImage channel numbers, in the order of the arrays' ``c`` axis."""
    images: dict[int, StoredImage]
    """By field index."""
    has_z: bool
    num_frames: int
    stem: str
    depths: dict[int, float] | None
    """z in µm of each depth index the images use; None where any is unknown."""
    depth_step: float | None

    @property
    def fields(self) -> dict[int, Field]:
        """The exported fields, by index."""
        return {index: image.field for index, image in self.images.items()}

    def planes(self, fields: Sequence[Field], position: int) -> da.Array:
        """Lazy ``(t, [z,] y, x)`` frames of consecutive depths of one ROI, one channel.

        Built on the arrays' own chunks (a few frames each, never more than
        :data:`~napari_scanimage.export.stored_arrays.MAX_BLOCKS` blocks), so its
        graph stays small however many frames the store declares.
        """
        from napari_scanimage.export.stored_arrays import Planes  # noqa: PLC0415

        arrays = [self.images[f.index].array for f in fields]
        return Planes(self.path, arrays, position, has_z=self.has_z).to_dask()

    def z_axis(self, depth_index: int) -> tuple[float, float, str]:
        """(scale, coordinate, unit) on the layers' z axis, as for the live scan."""
        if self.depth_step is None or self.depths is None:
            return 1.0, float(depth_index), ""
        return self.depth_step, self.depths[depth_index], "µm"


def complete_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Our record of a complete conversion at ``path`` (a ``*.zarr`` folder), else None.

    Reads one small JSON file, with the same checks as :func:`open_store`, and
    never raises: a reader hook calls it on any folder.
    """
    name = os.fspath(path).rstrip("/\\")
    if not name.lower().endswith(".zarr") or not os.path.isdir(name):
        return None
    try:
        _, attrs = root_attributes(os.path.realpath(name))
    except (ScanImageError, OSError):
        return None
    record = attrs.get(KEY)
    if not isinstance(record, dict) or record.get("complete") is not True:
        return None
    if not isinstance(record.get("images"), list) or not isinstance(record.get("channels"), list):
        return None
    return record


def open_store(path: str | os.PathLike[str]) -> StoredScan:
    """Open and check a complete napari-scanimage store; :class:`StoreError` if it is not one."""
    root = os.path.realpath(os.fspath(path))
    if not os.path.isdir(root):
        raise StoreError(root, "is not a folder")
    zarr_format, attrs = root_attributes(root)
    record = attrs.get(KEY)
    if not isinstance(record, dict) or record.get("complete") is not True:
        raise StoreError(root, "is not a complete napari-scanimage conversion")
    channels = _channels(record.get("channels"), root)
    frames = _recorded_frames(record, root)
    images: dict[int, StoredImage] = {}
    entries = record.get("images")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_IMAGES:
        raise StoreError(root, f"its record lists no images ({_kind(entries)})")
    for position, entry in enumerate(entries):
        where = f"image {position + 1} of the record"
        if not isinstance(entry, dict):
            raise StoreError(root, f"{where} is {_kind(entry)}, not an image")
        name = simple_name(entry.get("path"), root, f"{where}: path")
        image = _image(root, zarr_format, name, channels)
        if image.field.index != entry.get("field") or image.field.index in images:
            raise StoreError(
                root, f"image {name}: field {image.field.index} is not the recorded one"
            )
        images[image.field.index] = image
    shapes = {image.array.shape[0] for image in images.values()}
    dims = {image.array.ndim for image in images.values()}
    if len(shapes) > 1 or len(dims) > 1:
        raise StoreError(root, "its images disagree in frames or axes")
    (num_frames,) = shapes
    if frames is not None and num_frames != frames:
        raise StoreError(root, f"its arrays hold {num_frames} frames, its record {frames}")
    return StoredScan(
        path=root,
        record=record,
        channels=channels,
        images=images,
        has_z=dims == {5},
        num_frames=num_frames,
        stem=_stem(record.get("stem"), root),
        depths=_depths(record.get("depths"), images, root),
        depth_step=_step(record.get("depth_step"), root),
    )


def _channels(value: Any, root: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHANNELS:
        raise StoreError(root, f"its record's channels are {_kind(value)}")
    channels = tuple(count(c, root, "a recorded channel", 1, 2**15) for c in value)
    if len(set(channels)) != len(channels):
        raise StoreError(root, f"its record repeats a channel: {list(channels)}")
    return channels


def _recorded_frames(record: dict[str, Any], root: str) -> int | None:
    """The frame count the record gives (in its summary of the scan and its settings)."""
    settings = record.get("settings")
    values = [record.get("num_frames")]
    if isinstance(settings, dict):
        values.append(settings.get("num_frames"))
    counts = {count(v, root, "the recorded frame count") for v in values if v is not None}
    if len(counts) > 1:
        raise StoreError(root, f"its record gives two frame counts: {sorted(counts)}")
    return counts.pop() if counts else None


def _image(root: str, zarr_format: int, name: str, channels: tuple[int, ...]) -> StoredImage:
    """One image group: geometry, windows and array, checked against each other."""
    from napari_scanimage.export.stored_arrays import open_image_array  # noqa: PLC0415

    attrs = _group_attributes(root, zarr_format, name)
    ours = attrs.get(KEY)
    field = field_from_geometry(
        ours.get("geometry") if isinstance(ours, dict) else None, root, f"image {name}"
    )
    array = open_image_array(root, zarr_format, f"{name}/{ARRAY}", f"image {name}")
    _check_shape(root, name, array, field, len(channels))
    ome = attrs.get("ome", attrs) if zarr_format == 3 else attrs
    omero = ome.get("omero") if isinstance(ome, dict) else None
    listed = omero.get("channels") if isinstance(omero, dict) else None
    windows = listed if isinstance(listed, list) and len(listed) == len(channels) else []
    limits = tuple(
        display_limits(
            windows[i].get("window")
            if i < len(windows) and isinstance(windows[i], dict)
            else None,
            array.dtype,
        )
        for i in range(len(channels))
    )
    return StoredImage(name=name, field=field, array=array, limits=limits)


def _group_attributes(root: str, zarr_format: int, name: str) -> dict[str, Any]:
    if zarr_format == 3:
        meta = read_json(root, f"{name}/zarr.json")
        if not isinstance(meta, dict) or meta.get("node_type") != "group":
            raise StoreError(root, f"image {name}: {name}/zarr.json does not describe a group")
        attrs = meta.get("attributes")
    else:
        if checked_size(root, f"{name}/.zgroup", 2**16) is None:
            raise StoreError(root, f"image {name}: {name}/.zgroup is missing")
        attrs = read_json(root, f"{name}/.zattrs")
    if not isinstance(attrs, dict):
        raise StoreError(root, f"image {name}: no attributes recorded")
    return attrs


def _check_shape(root: str, name: str, array: Any, field: Field, channels: int) -> None:
    """``(t, c, [1,] y, x)`` with the recorded channels and the field's height and width."""
    shape = tuple(array.shape)
    where = f"image {name}"
    if len(shape) not in (4, 5):
        raise StoreError(
            root, f"{where}: its array has {len(shape)} axes, not 4 or 5 (t, c, [z,] y, x)"
        )
    if shape[1] != channels:
        raise StoreError(
            root, f"{where}: its array holds {shape[1]} channels, the record {channels}"
        )
    if len(shape) == 5 and shape[2] != 1:
        raise StoreError(root, f"{where}: its array holds {shape[2]} planes, not 1")
    if shape[-2:] != (field.height, field.width):
        raise StoreError(
            root,
            f"{where}: its array is {shape[-2]} x {shape[-1]} pixels, "
            f"its field {field.height} x {field.width}",
        )


def _stem(value: Any, root: str) -> str:
    if isinstance(value, str) and 0 < len(value) <= 255 and value.isprintable():
        return value
    return Path(root).stem


def _depths(value: Any, images: dict[int, StoredImage], root: str) -> dict[int, float] | None:
    """Z of each depth index the images use, or None where one is unknown (z counts planes).

    The recorded list of depths first, else the fields' own; only the indices in
    use are looked at, however large a (damaged) index is.
    """
    used = {image.field.depth_index: image.field.depth for image in images.values()}
    recorded = value if isinstance(value, list) and len(value) > max(used) else None
    depths = {
        index: number(recorded[index], root, "a recorded depth") if recorded else depth
        for index, depth in used.items()
    }
    return depths if all(math.isfinite(d) for d in depths.values()) else None


def _step(value: Any, root: str) -> float | None:
    step = finite_or_none(value, root, "the recorded depth step")
    return step if step else None


def _kind(value: Any) -> str:
    return type(value).__name__ if not isinstance(value, list) else f"a list of {len(value)}"
