"""npe2 reader: our own OME-Zarr stores in, the live scan's layers out.

A store written by :func:`napari_scanimage.export.to_zarr` (NGFF 0.4 or 0.5)
reopens as the TIFFs did: one lazy layer per field group and channel, with the
same names, colours, contrast, and ``scale``/``translate`` in µm (z too), so a
store and its recording overlay exactly.  Generic OME-Zarr readers cannot do
this (napari-ome-zarr 0.9 and 0.10 drop the translations; napari's built-in
reader opens one 5-D array with scale 1).

``napari_get_reader`` reads one small JSON file and declines (returns None)
every store this package did not write, and our conversions that are not
complete, so other readers take those.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.array as da
import zarr

from napari_scanimage._napari._layers import (
    depth_axis,
    field_layer_name,
    group_fields,
    placement_kwargs,
)
from napari_scanimage._napari._reader import NOTHING_TO_ADD, _notify
from napari_scanimage.export.describe import KEY, field_from_record, store_attributes
from napari_scanimage.export.store import ARRAY
from napari_scanimage.scan.display import channel_color

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from napari_scanimage.scan.fields import Field

__all__ = [
    "STORE_KEY",
    "StoreContents",
    "napari_get_zarr_reader",
    "read_store",
    "store_layer_data",
    "store_record",
]

STORE_KEY = "napari_scanimage_store"
"""Layer metadata key of layers read from a store (the live layers use ``napari_scanimage``)."""

LayerData = list[tuple[Any, dict[str, Any], str]]


def store_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Our record of a complete conversion at ``path``, else None (fast: one JSON file)."""
    name = os.fspath(path).rstrip("/\\")
    if not name.lower().endswith(".zarr") or not os.path.isdir(name):
        return None
    attrs = store_attributes(name)
    record = attrs.get(KEY) if attrs else None
    if not isinstance(record, dict) or record.get("complete") is not True:
        return None
    if not isinstance(record.get("images"), list) or not isinstance(record.get("channels"), list):
        return None
    return record


def napari_get_zarr_reader(path: str | list[str]) -> Callable[[Any], LayerData] | None:
    """Return the reader for one complete napari-scanimage store, else None."""
    if isinstance(path, list | tuple):
        if len(path) != 1:
            return None
        path = path[0]
    return read_store if store_record(path) is not None else None


def read_store(path: str | list[str]) -> LayerData:
    """Layer data of every field and channel of the store.

    A store damaged after it was written never raises into napari: the problem
    is shown as a notification and nothing is added.
    """
    if isinstance(path, list | tuple):
        path = path[0]
    try:
        return store_layer_data(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        _notify(f"napari-scanimage could not open {Path(path).name}: {message}", "error")
        return NOTHING_TO_ADD


class StoreContents:
    """The images of one store: their fields, arrays and display windows."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(Path(path).resolve())
        record = store_record(self.path)
        if record is None:
            msg = f"{self.path} is not a complete napari-scanimage conversion"
            raise ValueError(msg)
        self.record = record
        self.channels: list[int] = [int(c) for c in record["channels"]]
        """ScanImage channel numbers, in the order of the arrays' ``c`` axis."""
        root = zarr.open_group(self.path, mode="r")
        self.fields: dict[int, Field] = {}
        self._images: dict[int, Any] = {}
        self._windows: dict[int, list[dict[str, float]]] = {}
        for image in record["images"]:
            group = root[image["path"]]
            assert isinstance(group, zarr.Group)
            attrs: dict[str, Any] = dict(group.attrs.asdict())
            field = field_from_record(attrs[KEY]["geometry"])
            self.fields[field.index] = field
            self._images[field.index] = group[ARRAY]
            ome = attrs.get("ome", attrs)  # NGFF 0.5 nests everything under "ome"
            self._windows[field.index] = [c.get("window", {}) for c in ome["omero"]["channels"]]

    @property
    def stem(self) -> str:
        """Acquisition name used in layer names (``scan_00001``)."""
        stem = self.record.get("stem")
        return str(stem) if stem else Path(self.path).stem

    @property
    def has_z(self) -> bool:
        """Whether the scan had several depths (layers get a z axis)."""
        return bool(self._images[next(iter(self._images))].ndim == 5)

    def _depths(self) -> list[float]:
        depths = self.record.get("depths")
        if isinstance(depths, list) and depths:
            return [float(d) for d in depths]
        known = {f.depth_index: f.depth for f in self.fields.values()}
        return [known.get(i, float(i)) for i in range(max(known) + 1)]

    def layer(self, fields: Sequence[Field], channel: int) -> tuple[Any, dict[str, Any], str]:
        """One layer: consecutive depths of one ROI (``fields``), one ScanImage channel."""
        position = self.channels.index(channel)
        planes = [da.from_zarr(self._images[f.index])[:, position] for f in fields]
        data = da.concatenate(planes, axis=1) if self.has_z else planes[0]
        first = fields[0]
        z = None
        if self.has_z:
            step = self.record.get("depth_step")
            z = depth_axis(
                self._depths(), None if step is None else float(step), first.depth_index
            )
        windows = [self._windows[f.index][position] for f in fields]
        kwargs: dict[str, Any] = {
            "name": field_layer_name(self.stem, first.index, channel),
            "colormap": channel_color(channel)[0],
            "blending": "additive",
            "multiscale": False,
            "metadata": {
                STORE_KEY: {
                    "store": self.path,
                    "fields": [f.index for f in fields],
                    "channel": channel,
                }
            },
            **placement_kwargs(first.top_left_um, first.pixel_size_um, z),
        }
        if all("start" in w and "end" in w for w in windows):
            kwargs["contrast_limits"] = (
                min(float(w["start"]) for w in windows),
                max(float(w["end"]) for w in windows),
            )
        return data, kwargs, "image"

    def layers(
        self, fields: Sequence[int] | None = None, channels: Sequence[int] | None = None
    ) -> LayerData:
        """Layer data of the chosen fields (indices) and channels (ScanImage numbers)."""
        chosen = [self.fields[i] for i in (sorted(self.fields) if fields is None else fields)]
        numbers = self.channels if channels is None else list(channels)
        return [
            self.layer(group.fields, channel)
            for group in group_fields(chosen)
            for channel in numbers
        ]


def store_layer_data(
    path: str | os.PathLike[str],
    *,
    fields: Sequence[int] | None = None,
    channels: Sequence[int] | None = None,
) -> LayerData:
    """Layer data of a store's chosen fields and channels, read lazily."""
    return StoreContents(path).layers(fields, channels)
