"""Regenerate docs/screenshot.png: the sample scan as `napari-scanimage view --sample` opens it.

Run on a screen of a common laptop size:
xvfb-run -a -s "-screen 0 1280x1024x24" python docs/make_screenshot.py
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication

from napari_scanimage._napari._launch import open_viewer


def settle() -> None:
    """Let Qt lay out the window before the picture is taken."""
    for _ in range(20):
        QApplication.processEvents()


def main() -> None:
    """Open the sample exactly as the `view` command does, then save the whole window."""
    viewer = open_viewer([], sample=True)
    viewer.dims.set_current_step(0, 12)  # a frame with some activity
    settle()
    out = Path(__file__).with_name("screenshot.png")
    viewer.screenshot(str(out), canvas_only=False)
    viewer.close()
    print(out)


if __name__ == "__main__":
    main()
