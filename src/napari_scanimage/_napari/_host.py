"""What a panel section may ask of the dock widget that hosts it.

The widget builds its sections and the sections talk back to it; typing them
against this protocol rather than the widget class keeps the imports one way
(widget -> sections -> this module), so a section can be built and tested
against any host that offers these few things.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import contextlib

    import napari

    from napari_scanimage._napari._shown_layers import ShownLayers
    from napari_scanimage._napari._store_view import StoreView
    from napari_scanimage.scan.scan import Scan

__all__ = ["PanelHost"]


class PanelHost(Protocol):
    """The dock widget, as its sections see it."""

    viewer: napari.viewer.Viewer
    store: StoreView | None
    """The OME-Zarr store shown instead of a scan, if any."""
    managed: ShownLayers
    """The layers the panel shows."""

    @property
    def scan(self) -> Scan | None:
        """The scan as shown (joining, trims and phase applied)."""

    def field_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        """``(label, index)`` of the fields, for a list or combo box."""

    def selection(self) -> tuple[list[int], list[int]]:
        """``(fields, channels)`` chosen in the panel, sorted."""

    def scan_options(self) -> dict[str, Any]:
        """``read_scan`` keywords for the panel's joining, trims and phase."""

    def quietly(self) -> contextlib.AbstractContextManager[None]:
        """Set widget values without each change rebuilding the layers."""

    def show_error(self, exc: BaseException) -> None:
        """Tell the user, and keep the viewer running."""

    def set_scan(self, scan: Scan, *, add_layers: bool = True) -> None:
        """Manage ``scan``: fill the sections, add its layers."""

    def apply_options(self, *_: Any) -> None:
        """Rebuild the scan shown from the sections' options."""

    def scan_grew(self) -> None:
        """New frames were taken in (following): show them."""
