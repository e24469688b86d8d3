"""The panel's side of a reopened store: summary, field and channel choice, layers shown.

A layer read from one of our OME-Zarr stores carries ``metadata[STORE_KEY]``
(see :mod:`._zarr_reader`).  :func:`store_view` turns such a layer into a
:class:`StoreView`, which gives the dock widget what it shows for a live scan
(summary text, field and channel choices) and adds or removes the store's
layers for a chosen subset, leaving layers that stay chosen untouched (their
contrast and visibility as the user set them).  No Qt here: the widget calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage._napari._layers import group_fields
from napari_scanimage._napari._zarr_reader import STORE_KEY, StoreContents
from napari_scanimage.errors import ScanImageError
from napari_scanimage.summary import format_summary

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["StoreView", "store_info", "store_view"]


def store_info(layer: Any) -> dict[str, Any] | None:
    """The store record in a layer's metadata, if the layer was read from a store."""
    metadata = getattr(layer, "metadata", None)
    info = metadata.get(STORE_KEY) if isinstance(metadata, dict) else None
    return info if isinstance(info, dict) and "store" in info else None


def store_view(layer: Any) -> StoreView | None:
    """The view of the store a layer was read from; None for any other layer."""
    info = store_info(layer)
    if info is None:
        return None
    try:
        return StoreView(StoreContents(info["store"]))
    except (OSError, ScanImageError):  # the store was moved, replaced or damaged
        return None


@dataclass
class StoreView:
    """One store as the panel shows it."""

    contents: StoreContents

    @property
    def path(self) -> str:
        """The store's absolute path."""
        return self.contents.path

    def summary_text(self) -> str:
        """The scan's summary as recorded at conversion, and what the store holds."""
        record = self.contents.record
        settings = record.get("settings")
        kind = settings.get("format") if isinstance(settings, dict) else None
        creator = record.get("created_by")
        head = (
            f"{Path(self.path).name}: {kind if isinstance(kind, str) else 'OME-Zarr'}, "
            f"{len(self.contents.fields)} field(s), channels "
            f"{', '.join(map(str, self.contents.channels))}; "
            f"written by {creator if isinstance(creator, str) else 'napari-scanimage'}"
        )
        summary = record.get("summary")
        try:
            return f"{head}\n{format_summary(summary)}" if isinstance(summary, dict) else head
        except (
            ArithmeticError,
            AttributeError,
            IndexError,
            KeyError,
            TypeError,
            ValueError,
        ):  # a summary edited after writing
            return head

    def field_choices(self) -> list[tuple[str, int]]:
        """``("2: s2 (z 0 µm)", 1)``: label and 0-based field index, as the live panel's."""
        return [
            (f"{i + 1}: {' + '.join(f.roi_names)} (z {f.depth:g} µm)", i)
            for i, f in sorted(self.contents.fields.items())
        ]

    def channel_choices(self) -> list[tuple[str, int]]:
        """``("channel 2", 1)``: label and position among the store's channels (0-based)."""
        return [(f"channel {number}", i) for i, number in enumerate(self.contents.channels)]

    def shown(self, viewer: Any) -> tuple[list[int], list[int]]:
        """Fields and channel positions of this store that the viewer shows now."""
        fields: set[int] = set()
        numbers: set[int] = set()
        for layer in self._layers(viewer):
            info = store_info(layer)
            assert info is not None  # _layers keeps only this store's layers
            fields.update(info["fields"])
            numbers.add(int(info["channel"]))
        channels = [i for i, c in enumerate(self.contents.channels) if c in numbers]
        return sorted(fields), channels

    def show(self, viewer: Any, fields: Sequence[int], channels: Sequence[int]) -> list[Any]:
        """Show exactly these fields and channels (positions) of the store; returns layers added.

        Layers of other fields or channels are removed; layers that stay are kept
        as they are; missing ones are added, read lazily from the store.
        """
        wanted = {
            (tuple(f.index for f in layer_fields), number): (layer_fields, number)
            for layer_fields, number in self._groups(fields, channels)
        }
        present = {}
        for layer in self._layers(viewer):
            info = store_info(layer)
            assert info is not None
            key = (tuple(info["fields"]), int(info["channel"]))
            if key in wanted and key not in present:
                present[key] = layer
            else:
                viewer.layers.remove(layer)
        added = []
        for key, (layer_fields, number) in wanted.items():
            if key not in present:
                data, kwargs, _ = self.contents.layer(layer_fields, number)
                added.append(viewer.add_image(data, **kwargs))
        return added

    def _groups(self, fields: Sequence[int], channels: Sequence[int]) -> list[tuple[Any, int]]:
        chosen = [self.contents.fields[i] for i in fields if i in self.contents.fields]
        numbers = [c for i, c in enumerate(self.contents.channels) if i in set(channels)]
        return [(group.fields, number) for group in group_fields(chosen) for number in numbers]

    def _layers(self, viewer: Any) -> list[Any]:
        return [
            layer
            for layer in list(viewer.layers)
            if (info := store_info(layer)) is not None and info["store"] == self.path
        ]
