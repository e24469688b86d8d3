"""Regenerate docs/screenshot.png: the sample mROI scan in napari with the dock widget.

Run: xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshot.py
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication

from napari_scanimage._napari._launch import open_viewer
from napari_scanimage._napari._widget import ScanImageWidget


def settle() -> None:
    """Let Qt lay out the window before the picture is taken."""
    for _ in range(10):
        QApplication.processEvents()


def main() -> None:
    """Open the sample as `napari-scanimage view --sample` does, check it, save a screenshot."""
    viewer = open_viewer([], sample=True)
    viewer.window.resize(1500, 1000)
    panel = next(w for w in viewer.window.dock_widgets.values() if isinstance(w, ScanImageWidget))
    # the stitching check a user would do on the sample: phase, joining, trims, outlines
    panel._phase.value = True
    panel._join.value = True
    for side in ("left", "right"):
        panel._trims[side].value = 3
    panel._outlines.value = True
    panel._check_seams()
    viewer.dims.set_current_step(0, 12)
    settle()
    viewer.reset_view()
    settle()
    out = Path(__file__).with_name("screenshot.png")
    viewer.screenshot(str(out), canvas_only=False)
    viewer.close()
    print(out)


if __name__ == "__main__":
    main()
