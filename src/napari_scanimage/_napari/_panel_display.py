"""Panel section *Display*: which fields and channels are shown, joining and trims.

The lists are filled from the scan the panel manages, never from napari's layer
list: napari calls ``reset_choices`` whenever layers change, and choices given
as a callable on the scan survive that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magicgui.widgets import CheckBox, Container, Select, SpinBox

from napari_scanimage._napari._sections import limit_rows
from napari_scanimage.scan.fields import Trim

if TYPE_CHECKING:
    from napari_scanimage._napari._host import PanelHost
    from napari_scanimage.scan.scan import Scan

__all__ = ["MAX_TRIM", "DisplayPanel"]

MAX_TRIM = 4096
LIST_ROWS = 6
"""Rows a field or channel list shows before it scrolls (LBM scans save up to 30 channels)."""


class DisplayPanel(Container):
    """Fields, channels, *Join contiguous ROIs* and per-ROI trims."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(labels=True)
        self._host = host
        self.fields = Select(label="Fields", choices=self.field_choices)
        self.channels = Select(label="Channels", choices=self._channel_choices)
        self.join = CheckBox(text="Join contiguous ROIs", value=False, label="")
        self.trims = {
            side: SpinBox(label=f"Trim {side}", min=0, max=MAX_TRIM, value=0)
            for side in ("left", "right", "top", "bottom")
        }
        for choice in (self.fields, self.channels):
            limit_rows(choice, LIST_ROWS)
        self.extend([self.fields, self.channels, self.join, *self.trims.values()])
        for widget in (self.fields, self.channels, self.join, *self.trims.values()):
            widget.changed.connect(host.apply_options)

    def field_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        if self._host.store is not None:
            return self._host.store.field_choices()
        scan = self._host.scan
        if scan is None:
            return []
        return [
            # Labels must not change with trims: Qt lists keep a selection by label.
            (f"{f.index + 1}: {' + '.join(f.roi_names)} (z {f.depth:g} µm)", f.index)
            for f in scan.fields
        ]

    def _channel_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        if self._host.store is not None:
            return self._host.store.channel_choices()
        scan = self._host.scan
        if scan is None:
            return []
        return [(f"channel {number}", i) for i, number in enumerate(scan.channels)]

    @property
    def trim(self) -> Trim:
        """The trims set here."""
        return Trim(**{side: int(w.value) for side, w in self.trims.items()})

    def load(self, scan: Scan) -> None:
        """Show ``scan``'s options and choose all of its fields and channels."""
        self.join.value = scan.join_contiguous
        for side, widget in self.trims.items():
            widget.value = getattr(scan.trim, side)
        self.fields.reset_choices()
        self.channels.reset_choices()
        self.fields.value = [f.index for f in scan.fields]
        self.channels.value = list(range(scan.num_channels))

    def carry_selection(self, old: Scan, new: Scan) -> None:
        """Keep fields chosen whose ROIs were chosen before joining changed.

        Call while ``host.scan`` is ``new`` (the choices come from it).
        """
        chosen = {
            (roi, old.fields[i].depth_index)
            for i in self.fields.value
            for roi in old.fields[i].roi_ids
        }
        self.fields.reset_choices()
        self.fields.value = [
            f.index for f in new.fields if any((roi, f.depth_index) in chosen for roi in f.roi_ids)
        ]
