"""The ScanImage dock widget: one scan, shown as the panel's sections choose.

The panel is composed of small sections, one task each (as napari-animation
splits its widget): *Scan* (:mod:`._panel_files`), *Display*
(:mod:`._panel_display`), *Stitching QC* (:mod:`._panel_stitching`), *Summary
images* (:mod:`._summary_panel`), *Export* (:mod:`._panel_export`) and
*Follow acquisition* (:mod:`._panel_follow`).  This module holds what they
share: the scan as opened, the scan as shown (joining, trims, phase applied),
and the layers that show it (:mod:`._shown_layers`).
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any

from magicgui.widgets import Container

from napari_scanimage._napari._panel_display import DisplayPanel
from napari_scanimage._napari._panel_export import ExportPanel
from napari_scanimage._napari._panel_files import FilesPanel
from napari_scanimage._napari._panel_follow import FollowPanel
from napari_scanimage._napari._panel_stitching import StitchingPanel
from napari_scanimage._napari._sections import Foldable, scroll_body
from napari_scanimage._napari._shown_layers import ShownLayers, scan_info
from napari_scanimage._napari._store_view import StoreView, store_info, store_view
from napari_scanimage._napari._summary_panel import SummaryImagesPanel
from napari_scanimage.errors import ScanImageError, ScanImageWarning
from napari_scanimage.scan.fields import Trim
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Iterator

    import napari

    from napari_scanimage.scan.scan import Scan

__all__ = ["PANEL_WIDTH", "ScanImageWidget"]

PANEL_WIDTH = 320
"""Pixels the panel asks for: enough for its controls, leaving napari's canvas the rest."""


def _same_acquisition(info: dict[str, Any], scan: Scan) -> bool:
    # The first file names the acquisition; later files appear while it is followed.
    return list(info.get("files", []))[:1] == scan.filenames[:1]


class ScanImageWidget(Container):
    """Summary, display options and checks of one ScanImage acquisition in the viewer."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__(labels=False)
        self.native.setMinimumWidth(PANEL_WIDTH)
        self.native.setMaximumWidth(PANEL_WIDTH)
        self.viewer = viewer
        self._base: Scan | None = None  # the scan as opened (no joining, trims, phase)
        self._scan: Scan | None = None  # as shown
        self._quiet = False  # True while the panel sets its own values
        self.store: StoreView | None = None
        """A reopened OME-Zarr store of ours, shown instead of a scan (summary and choice)."""
        self.managed = ShownLayers(viewer)
        self.files = FilesPanel(self)
        self.display = DisplayPanel(self)
        self.stitching = StitchingPanel(self)
        self.summary_images = SummaryImagesPanel(viewer, lambda: self._scan, self.selection)
        self.export = ExportPanel(self)
        self.follow = FollowPanel(self)
        self.sections = {
            "Display": Foldable("Display", self.display, expanded=True),
            "Stitching QC": Foldable("Stitching QC", self.stitching, expanded=False),
            "Summary images": Foldable("Summary images", self.summary_images, expanded=False),
            "Export": Foldable("Export", self.export, expanded=False),
            "Follow acquisition": Foldable("Follow acquisition", self.follow, expanded=False),
        }
        """The panel's foldable sections by title (only *Display* is open at first)."""
        body: Container = Container(labels=False)
        body.extend([self.files, *self.sections.values()])
        scroll_body(self, body)
        viewer.layers.events.inserted.connect(self._on_layer_inserted)
        viewer.layers.events.removed.connect(self._on_layer_removed)
        for layer in list(viewer.layers):
            self._adopt_from(layer)

    # -- what the sections share -------------------------------------------------------

    @property
    def scan(self) -> Scan | None:
        """The scan as currently displayed (joining, trims and phase applied)."""
        return self._scan

    @property
    def trim(self) -> Trim:
        """The trims set in the panel."""
        return self.display.trim

    def field_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        """``(label, index)`` of the fields, as the *Display* section lists them."""
        return self.display.field_choices()

    def selection(self) -> tuple[list[int], list[int]]:
        """``(fields, channels)`` chosen in the panel, sorted."""
        return sorted(self.display.fields.value), sorted(self.display.channels.value)

    def scan_options(self) -> dict[str, Any]:
        """``read_scan`` keywords for the panel's joining, trims and phase."""
        return {
            "join_contiguous": self.display.join.value,
            "trim": self.display.trim,
            "fix_scan_phase": self.stitching.phase_option(),
        }

    @contextlib.contextmanager
    def quietly(self) -> Iterator[None]:
        """Set widget values without each change rebuilding the layers."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def show_error(self, exc: BaseException) -> None:
        """A notification; the viewer keeps running."""
        from napari.utils.notifications import show_error  # noqa: PLC0415

        show_error(str(exc))

    # -- one scan -------------------------------------------------------------------------

    def set_store(self, view: StoreView) -> None:
        """Manage a reopened store: its recorded summary, and which fields and channels show."""
        self._base = self._scan = None
        self.store = view
        self.managed.clear()
        with self.quietly():
            self.files.summary.value = view.summary_text()
            self.display.fields.reset_choices()
            self.display.channels.reset_choices()
            fields, channels = view.shown(self.viewer)
            self.display.fields.value = fields
            self.display.channels.value = channels

    def set_scan(self, scan: Scan, *, add_layers: bool = True) -> None:
        """Manage ``scan``: fill the sections, and add its layers unless they exist."""
        self.store = None
        self._base = scan.with_options(join_contiguous=False, trim=Trim(), fix_scan_phase=False)
        self.managed.clear()
        with self.quietly():
            self.stitching.load(scan)
            self._scan = scan
            self.display.load(scan)
            self.files.describe(scan)
            self.stitching.describe(scan)
        for layer in self.viewer.layers:
            self._claim(layer)
        self.follow.scan_changed()
        if add_layers:
            self.sync_layers()

    def apply_options(self, *_: Any) -> None:
        """Rebuild the scan shown from the sections' options and update the layers."""
        if self._quiet:
            return
        if self.store is not None:  # a store: only the choice of fields and channels
            with self.quietly():
                self.store.show(self.viewer, *self.selection())
            return
        if self._base is None:
            return
        old = self._scan
        join_changed = old is None or self.display.join.value != old.join_contiguous
        if join_changed:
            self.stitching.overrides = {}  # keyed by the other joining's fields
        try:
            scan = self._base.with_options(**self.scan_options())
        except ScanImageError as exc:
            self.show_error(exc)
            return
        self._scan = scan
        if join_changed and old is not None:
            with self.quietly():
                self.display.carry_selection(old, scan)
        self.files.describe(scan)
        self.stitching.describe(scan)
        self.sync_layers()

    def sync_layers(self, *, outlines: bool = True) -> None:
        """Match the viewer's layers to the panel's choices (in place where possible).

        ``outlines=False`` leaves the outline layer alone (it does not change as
        frames are added).
        """
        if self._scan is None:
            return
        fields, channels = self.selection()
        with self.quietly():
            self.managed.sync(
                self._scan,
                fields,
                channels,
                mosaic=self.stitching.mosaic.value,
                outlines=self.stitching.outlines.value if outlines else None,
            )

    def scan_grew(self) -> None:
        """New frames were taken in (following): show them, keep everything else.

        Every layer gets this panel's arrays again (a layer the reader made
        reads through the reader's own scan, which was not refreshed); that
        is cheap, and contrast and colormaps stay.
        """
        if self._scan is None:
            return
        self.files.describe(self._scan)
        if self._scan.num_fields != len(self.display.fields.choices):
            with self.quietly():  # a slow stack reached a new depth
                self.display.fields.reset_choices()
        self.sync_layers(outlines=False)

    # -- following the viewer ---------------------------------------------------------

    def _adopt_from(self, layer: Any) -> None:
        """Take over the scan of a layer the reader added, if it is a new scan."""
        stored = store_info(layer)
        if stored is not None and self.store is not None and self.store.path == stored["store"]:
            return  # another layer of the store shown: not opened again
        view = store_view(layer)
        if view is not None:
            self.set_store(view)
            return
        info = scan_info(layer)
        if not info or "files" not in info:
            return
        if self._scan is not None and _same_acquisition(info, self._scan):
            self._claim(layer)
            return
        try:
            with warnings.catch_warnings():
                # the reader showed them when it opened these files
                warnings.simplefilter("ignore", ScanImageWarning)
                scan = read_scan(
                    info["files"],
                    join_contiguous=bool(info.get("join_contiguous", False)),
                    trim=tuple(info.get("trim", (0, 0, 0, 0))),
                )
        except (ScanImageError, OSError) as exc:
            self.show_error(exc)
            return
        self.set_scan(scan, add_layers=False)

    def _claim(self, layer: Any) -> None:
        info = scan_info(layer)
        if not info or self._scan is None or not _same_acquisition(info, self._scan):
            return
        kind = self.managed.claim(self._scan, layer)
        # the panel shows what the viewer shows: tick the box that made this layer
        with self.quietly():
            if kind == "outlines":
                self.stitching.outlines.value = True
            elif kind == "mosaic":
                self.stitching.mosaic.value = True

    def _on_layer_inserted(self, event: Any) -> None:
        if not self._quiet:
            self._adopt_from(event.value)

    def _on_layer_removed(self, event: Any) -> None:
        self.managed.forget(event.value)
