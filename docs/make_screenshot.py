"""Regenerate docs/screenshot.png: the sample mROI scan in napari with the dock widget.

Run: xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshot.py
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication

from napari_scanimage._napari._launch import open_viewer


def settle() -> None:
    """Let Qt lay out the window before the picture is taken."""
    for _ in range(10):
        QApplication.processEvents()


def main() -> None:
    """Open the sample as `napari-scanimage view --sample` does and save a screenshot."""
    viewer = open_viewer([], sample=True)
    viewer.window.resize(1500, 900)
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
