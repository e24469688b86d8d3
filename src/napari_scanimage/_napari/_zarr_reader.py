"""npe2 reader: our own OME-Zarr stores in, the live scan's layers out.

A store written by :func:`napari_scanimage.export.to_zarr` (NGFF 0.4 or 0.5)
reopens as the TIFFs did: one lazy layer per field group and channel, with the
same names, colours, contrast, and ``scale``/``translate`` in µm (z too), so a
store and its recording overlay exactly.  Generic OME-Zarr readers cannot do
this (napari-ome-zarr 0.9 and 0.10 drop the translations; napari's built-in
reader opens one 5-D array with scale 1).

``napari_get_reader`` reads one small JSON file and declines (returns None)
every store this package did not write, and our conversions that are not
complete, so other readers take those; it never raises.  Everything else is
checked by :func:`~napari_scanimage.export.stored.open_store` before a layer
is made: a damaged or hostile store is a notification naming it, never a
traceback, and the layers' contrast limits are always finite and ordered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage._napari._layers import field_layer_name, group_fields, placement_kwargs
from napari_scanimage._napari._reader import NOTHING_TO_ADD, _notify
from napari_scanimage.errors import ScanImageError, StoreError
from napari_scanimage.export.stored import complete_record, open_store
from napari_scanimage.scan.display import channel_color

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    from napari_scanimage.scan.fields import Field

__all__ = [
    "STORE_KEY",
    "StoreContents",
    "napari_get_zarr_reader",
    "read_store",
    "store_layer_data",
]

STORE_KEY = "napari_scanimage_store"
"""Layer metadata key of layers read from a store (the live layers use ``napari_scanimage``)."""

LayerData = list[tuple[Any, dict[str, Any], str]]


def napari_get_zarr_reader(path: str | list[str]) -> Callable[[Any], LayerData] | None:
    """Return the reader for one complete napari-scanimage store, else None; never raises."""
    if isinstance(path, list | tuple):
        if len(path) != 1:
            return None
        path = path[0]
    return read_store if complete_record(path) is not None else None


def read_store(path: str | list[str]) -> LayerData:
    """Layer data of every field and channel of the store.

    A store damaged after it was written never raises into napari: the problem
    is shown as a notification and nothing is added.
    """
    if isinstance(path, list | tuple):
        path = path[0]
    try:
        return store_layer_data(path)
    except (ScanImageError, OSError) as exc:
        _notify(f"napari-scanimage could not open {Path(path).name}: {exc}", "error")
        return NOTHING_TO_ADD


class StoreContents:
    """The images of one store, checked: their fields, arrays and display limits."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.stored = open_store(path)
        self.path = self.stored.path
        self.record = self.stored.record
        self.channels: list[int] = list(self.stored.channels)
        """ScanImage channel numbers, in the order of the arrays' ``c`` axis."""
        self.fields: dict[int, Field] = self.stored.fields

    @property
    def stem(self) -> str:
        """Acquisition name used in layer names (``scan_00001``)."""
        return self.stored.stem

    @property
    def has_z(self) -> bool:
        """Whether the scan had several depths (layers get a z axis)."""
        return self.stored.has_z

    def layer(self, fields: Sequence[Field], channel: int) -> tuple[Any, dict[str, Any], str]:
        """One layer: consecutive depths of one ROI (``fields``), one ScanImage channel."""
        if channel not in self.channels:
            raise StoreError(self.path, f"holds no channel {channel}")
        position = self.channels.index(channel)
        data = self.stored.planes(fields, position)
        first = fields[0]
        z = self.stored.z_axis(first.depth_index) if self.has_z else None
        limits = [self.stored.images[f.index].limits[position] for f in fields]
        kwargs: dict[str, Any] = {
            "name": field_layer_name(self.stem, first.index, channel),
            "colormap": channel_color(channel)[0],
            "blending": "additive",
            "multiscale": False,
            "contrast_limits": (min(lo for lo, _ in limits), max(hi for _, hi in limits)),
            "metadata": {
                STORE_KEY: {
                    "store": self.path,
                    "fields": [f.index for f in fields],
                    "channel": channel,
                }
            },
            **placement_kwargs(first.top_left_um, first.pixel_size_um, z),
        }
        return data, kwargs, "image"

    def layers(
        self, fields: Sequence[int] | None = None, channels: Sequence[int] | None = None
    ) -> LayerData:
        """Layer data of the chosen fields (indices) and channels (ScanImage numbers)."""
        missing = set(fields or ()) - set(self.fields)
        if missing:
            raise StoreError(self.path, f"holds no field {sorted(missing)[0]}")
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
