"""Panel section *Export*: save the scan as shown to OME-Zarr, in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.types import FileDialogMode
from magicgui.widgets import Container, FileEdit, PushButton

from napari_scanimage.scan.files import acquisition_stem

if TYPE_CHECKING:
    from napari_scanimage._napari._widget import ScanImageWidget

__all__ = ["ExportPanel"]


class ExportPanel(Container):
    """A store path (default: beside the files) and *Save as OME-Zarr*."""

    def __init__(self, host: ScanImageWidget) -> None:
        super().__init__(labels=True)
        self._host = host
        self.path = FileEdit(
            mode=FileDialogMode.OPTIONAL_FILE, label="Zarr store", filter="*.zarr"
        )
        self.save = PushButton(text="Save as OME-Zarr", label="")
        self.save.tooltip = "Saves the scan as shown: chosen fields and channels, trims, phase"
        self.worker: Any = None
        """The running (or last) export worker."""
        self.extend([self.path, self.save])
        self.save.changed.connect(self._save)

    def _save(self) -> None:
        """Convert the scan as shown (fields, channels, joining, trims, phase) in a worker."""
        scan = self._host.scan
        if scan is None:
            return
        from napari.utils.notifications import show_info  # noqa: PLC0415

        from napari_scanimage._napari._export import save_as_zarr  # noqa: PLC0415

        chosen = str(self.path.value or "")
        if chosen in ("", "."):
            chosen = str(
                Path(scan.filenames[0]).parent / f"{acquisition_stem(scan.filenames)}.zarr"
            )
        fields, channels = self._host.selection()
        worker = save_as_zarr(scan, chosen, fields=fields, channels=channels)
        worker.returned.connect(lambda path: show_info(f"Saved {path}"))
        worker.errored.connect(self._host.show_error)
        self.worker = worker
