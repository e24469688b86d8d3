"""The viewer layers one panel manages, kept matched to the panel's choices.

Layers are updated in place (data, name, position) wherever the field they show
still exists, so a user's contrast and colormap survive joining, trims, phase
changes and a growing acquisition.  Building a layer's data is cheap (plain
array-likes, :mod:`napari_scanimage.lazy.arrays`), so nothing here grows with
the recording's length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_scanimage._napari._layers import (
    METADATA_KEY,
    estimate_contrast,
    layer_data,
    layer_groups,
    mosaic_layer_data,
    outline_layer_data,
)
from napari_scanimage.scan.display import display_range

if TYPE_CHECKING:
    from collections.abc import Sequence

    import napari

    from napari_scanimage.scan.field_groups import FieldGroup
    from napari_scanimage.scan.scan import Scan

__all__ = ["LayerKey", "ShownLayers", "scan_info"]

LayerKey = tuple[tuple[int, ...], int, int]  # (ROI ids, first depth, channel); mosaic: ((), -1, c)


def scan_info(layer: Any) -> dict[str, Any] | None:
    """The napari-scanimage record in a layer's metadata, if it has one."""
    metadata = getattr(layer, "metadata", None)
    info = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return info if isinstance(info, dict) else None


def _key(group: FieldGroup, channel: int) -> LayerKey:
    first = group.fields[0]
    return (first.roi_ids, first.depth_index, channel)


class ShownLayers:
    """Image layers keyed by what they show, plus the ROI outline layer."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.images: dict[LayerKey, Any] = {}
        self.outlines: Any = None

    def clear(self) -> None:
        """Forget every layer (they stay in the viewer)."""
        self.images = {}
        self.outlines = None

    def claim(self, scan: Scan, layer: Any) -> str | None:
        """Take charge of a layer showing ``scan``; returns its kind, None if not one of ours."""
        info = scan_info(layer)
        kind = str(info.get("kind", "field")) if info else None
        if info is None or kind not in ("field", "mosaic", "outlines"):
            return None  # not ours, or another section's (summary images)
        if kind == "outlines":
            self.outlines = layer
        elif kind == "mosaic":
            self.images[((), -1, info["channel"])] = layer
        else:
            fields = [scan.fields[i] for i in info["fields"] if i < scan.num_fields]
            if not fields:
                return None
            self.images[(fields[0].roi_ids, fields[0].depth_index, info["channel"])] = layer
        return kind

    def forget(self, layer: Any) -> None:
        """A layer left the viewer."""
        self.images = {k: v for k, v in self.images.items() if v is not layer}
        if self.outlines is layer:
            self.outlines = None

    def sync(
        self,
        scan: Scan,
        fields: Sequence[int],
        channels: Sequence[int],
        *,
        mosaic: bool,
        outlines: bool | None,
    ) -> None:
        """Add, update in place, or remove layers to show ``fields`` x ``channels``.

        ``outlines=None`` leaves the outline layer as it is.
        """
        wanted: dict[LayerKey, tuple[Any, dict[str, Any], str]] = {}
        shown_with: dict[LayerKey, list[int]] = {}  # the fields of each field layer
        if mosaic and fields:
            mosaics = mosaic_layer_data(scan, fields=fields, channels=channels, contrast=False)
            wanted = {((), -1, c): m for c, m in zip(channels, mosaics, strict=True)}
        else:
            groups = layer_groups(scan, fields)
            pairs = [(g, c) for g in groups for c in channels]
            data = layer_data(scan, fields=fields, channels=channels, contrast=False)
            wanted = {_key(g, c): d for (g, c), d in zip(pairs, data, strict=True)}
            shown_with = {_key(g, c): [f.index for f in g.fields] for g, c in pairs}
        for key in [k for k in self.images if k not in wanted]:
            layer = self.images.pop(key)
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        for key, (array, kwargs, _) in wanted.items():
            layer = self.images.get(key)
            if layer is None or layer not in self.viewer.layers:
                # a new layer only: the range its exported store records too
                if key in shown_with:
                    limits = display_range(scan, shown_with[key], key[2])
                else:  # a mosaic
                    limits = estimate_contrast(array)
                kwargs.setdefault("contrast_limits", limits)
                self.images[key] = self.viewer.add_image(array, **kwargs)
                continue
            layer.data = array
            layer.scale = kwargs["scale"]
            layer.translate = kwargs["translate"]
            layer.name = kwargs["name"]
            layer.metadata = kwargs["metadata"]
        if outlines is not None:
            self._sync_outlines(scan, fields, outlines)

    def _sync_outlines(self, scan: Scan, fields: Sequence[int], show: bool) -> None:
        if self.outlines is not None and self.outlines in self.viewer.layers:
            self.viewer.layers.remove(self.outlines)
        self.outlines = None
        if show and fields:
            data, kwargs, _ = outline_layer_data(scan, fields)
            self.outlines = self.viewer.add_shapes(data, **kwargs)
