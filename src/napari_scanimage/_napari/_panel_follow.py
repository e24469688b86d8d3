"""Panel section *Follow acquisition*: watch a recording while ScanImage writes it.

A timer polls every interval; each poll runs :meth:`Scan.refresh` in a worker
thread (a slow network share must not freeze the viewer), then, in the GUI
thread, lets the layers take their new length and moves the frame slider to
the newest frame.  Following stops when the last page written says the
acquisition ended, when a poll fails, or when the box is unticked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magicgui.widgets import CheckBox, Container, FloatSpinBox, Label
from qtpy.QtCore import QTimer

if TYPE_CHECKING:
    from napari_scanimage._napari._host import PanelHost
    from napari_scanimage.scan.scan import Scan

__all__ = ["FollowPanel"]


def _look(scan: Scan) -> tuple[int, bool]:
    """One poll, off the GUI thread: new complete frames, and whether recording ended."""
    return scan.refresh(), scan.acquisition_ended()


class FollowPanel(Container):
    """*Follow acquisition*, its poll interval, and *Stay on the newest frame*."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(labels=True)
        self._host = host
        self.follow = CheckBox(text="Follow acquisition", value=False, label="")
        self.interval = FloatSpinBox(
            label="Poll every (s)", min=0.1, max=60.0, step=0.1, value=1.0
        )
        self.newest = CheckBox(text="Stay on the newest frame", value=True, label="")
        self.status = Label(value="", label="Frames")
        self.extend([self.follow, self.interval, self.newest, self.status])
        self.worker: Any = None
        """The poll running now, if any (one at a time)."""
        self._timer = QTimer(self.native)  # dies with the panel
        self._timer.timeout.connect(self.poll)
        self.follow.changed.connect(self._toggle)
        self.interval.changed.connect(self._retime)

    def start(self) -> None:
        """Start following (as ``napari-scanimage view --follow`` does)."""
        self.follow.value = True

    def scan_changed(self) -> None:
        """Another scan is shown: report its length (following goes on with it)."""
        scan = self._host.scan
        self.status.value = "" if scan is None else f"{scan.num_frames}"

    def _retime(self) -> None:
        self._timer.setInterval(round(float(self.interval.value) * 1000))

    def _toggle(self, on: bool) -> None:
        if on:
            self._retime()
            self._timer.start()
            self.poll()
        else:
            self._timer.stop()

    def poll(self) -> None:
        """Look for new frames, unless a look is still running."""
        scan = self._host.scan
        if scan is None or self.worker is not None:
            return
        from napari.qt.threading import create_worker  # noqa: PLC0415 - Qt on demand

        # handlers given up front: an error then goes to _failed only, not re-raised
        self.worker = create_worker(
            _look,
            scan,
            _connect={"returned": self._took_in, "errored": self._failed, "finished": self._done},
        )  # started already: create_worker starts a worker given _connect

    def _done(self) -> None:
        self.worker = None

    def _took_in(self, result: tuple[int, bool]) -> None:
        new, ended = result
        scan = self._host.scan
        if scan is None:
            return
        if new:
            self._host.scan_grew()
            if self.newest.value:
                self._show_newest(scan)
        self.status.value = f"{scan.num_frames}" + (" (acquisition ended)" if ended else "")
        if ended and self.follow.value:
            from napari.utils.notifications import show_info  # noqa: PLC0415

            self.follow.value = False
            show_info(f"The acquisition ended after {scan.num_frames} frames; stopped following.")

    def _show_newest(self, scan: Scan) -> None:
        viewer = self._host.viewer
        layers = [layer for layer in self._host.managed.images.values() if layer in viewer.layers]
        if not layers:
            return
        axis = viewer.dims.ndim - layers[0].ndim  # the layers' frame axis, in world dims
        viewer.dims.set_point(axis, float(scan.num_frames - 1))

    def _failed(self, exc: BaseException) -> None:
        self.follow.value = False
        self._host.show_error(exc)
