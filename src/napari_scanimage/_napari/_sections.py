"""Panel frames: foldable sections and a scrolling body, so the canvas keeps the window.

magicgui lays a Container's children out itself; to put a section inside
superqt's ``QCollapsible`` or the panel inside a ``QScrollArea``, the child stays
in the magicgui tree (napari's ``reset_choices`` and enabling still reach it)
while its Qt widget moves into the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from magicgui.widgets import Container, Select
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFrame, QScrollArea
from superqt import QCollapsible

if TYPE_CHECKING:
    from qtpy.QtWidgets import QWidget

__all__ = ["Foldable", "limit_rows", "scroll_body"]


def _frame(holder: Container, body: Container, frame: QWidget) -> None:
    """``body`` stays a magicgui child of ``holder``; Qt shows ``frame`` in its place."""
    holder.append(body)  # adds body's widget to holder's layout; the frame takes it next
    layout = holder.native.layout()
    layout.addWidget(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)


class Foldable(Container):
    """``body`` under a title that folds it; open at first when ``expanded``."""

    def __init__(self, title: str, body: Container, *, expanded: bool) -> None:
        super().__init__(labels=False)
        self.fold = QCollapsible(title)
        _frame(self, body, self.fold)
        self.fold.addWidget(body.native)
        inner = self.fold.layout()
        if inner is not None:
            inner.setContentsMargins(0, 2, 0, 2)  # headers close together
        if expanded:
            self.fold.expand(animate=False)
        else:
            self.fold.collapse(animate=False)


def scroll_body(host: Container, body: Container) -> QScrollArea:
    """Show ``body`` in a vertical scroll area inside ``host``.

    Then the panel never makes napari's window taller than the screen (napari
    docks ``host.native``, so the scroll area must live inside it).
    """
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    _frame(host, body, area)
    area.setWidget(body.native)
    body.native.layout().addStretch(1)  # spare height below the sections, not between them
    return area


def limit_rows(choice: Select, rows: int) -> None:
    """A list widget at most ``rows`` rows tall: it scrolls, the panel stays short."""
    row = choice.native.fontMetrics().height() + 2
    choice.native.setMaximumHeight(rows * row + 2 * choice.native.frameWidth())
