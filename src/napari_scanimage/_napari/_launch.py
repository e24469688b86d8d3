"""``napari-scanimage view``: start napari with an acquisition and the dock widget open.

It opens ScanImage files (names or patterns) and our OME-Zarr stores alike, so a
conversion can be checked the way its recording was.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING

from napari_scanimage.errors import ScanImageFileError
from napari_scanimage.sample import write_sample_scan
from napari_scanimage.scan.files import expand_paths

if TYPE_CHECKING:
    import napari

__all__ = ["SCREEN_SHARE", "fit_to_screen", "open_viewer", "view"]

SCREEN_SHARE = (1.0, 0.92)
"""Part of the screen's free area (without task bars) the window takes: the whole
width, so the canvas keeps most of it beside napari's layer docks and our panel."""


def open_viewer(
    paths: list[str], *, sample: bool = False, show: bool = True, follow: bool = False
) -> napari.Viewer:
    """A viewer showing the acquisition (globs expanded here, for shells that don't).

    ``follow`` starts the panel's *Follow acquisition*, for a recording in progress.
    """
    import napari  # noqa: PLC0415 - the command line imports napari only for `view`

    from napari_scanimage._napari._widget import ScanImageWidget  # noqa: PLC0415
    from napari_scanimage.export.stored import complete_record, open_store  # noqa: PLC0415

    if sample:
        folder = tempfile.mkdtemp(prefix="napari-scanimage-sample-")
        paths = [*paths, *(str(p) for p in write_sample_scan(folder))]
    stores = [p for p in paths if p.rstrip("/\\").lower().endswith(".zarr")]
    for store in stores:
        if complete_record(store) is None:
            problem = "is not a complete OME-Zarr store written by napari-scanimage"
            raise ScanImageFileError(store, problem)
        open_store(store)  # checked now: a damaged store is one line, before napari starts
    rest = [p for p in paths if p not in stores]
    files = expand_paths(rest) if rest else []
    viewer = napari.Viewer(show=show)
    if files:
        viewer.open(files, plugin="napari-scanimage", stack=True)
    for store in stores:
        viewer.open(store, plugin="napari-scanimage")
    widget = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(widget, name="ScanImage scan", area="right")
    if follow:
        widget.follow.start()
    fit_to_screen(viewer)
    return viewer


def fit_to_screen(viewer: napari.Viewer, share: tuple[float, float] = SCREEN_SHARE) -> None:
    """Size the window to the screen, then frame every layer in the canvas it leaves.

    napari opens at its last (or default) size, which can be taller than the
    screen; the view is framed only after Qt has laid the resized window out, or
    the first zoom is computed for a canvas of the wrong size.
    """
    from qtpy.QtWidgets import QApplication  # noqa: PLC0415 - Qt on demand

    screen = QApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        viewer.window.resize(int(area.width() * share[0]), int(area.height() * share[1]))
    QApplication.processEvents()
    viewer.reset_view()


def view(paths: list[str], *, sample: bool = False, follow: bool = False) -> None:
    """Open the viewer, say how many layers it shows, and run napari until it closes."""
    import napari  # noqa: PLC0415

    viewer = open_viewer(paths, sample=sample, follow=follow)
    print(f"napari-scanimage: showing {len(viewer.layers)} layers", flush=True)
    napari.run()
