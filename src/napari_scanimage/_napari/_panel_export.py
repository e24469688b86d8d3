"""Panel section *Export*: save the scan as shown to OME-Zarr or NWB, in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.types import FileDialogMode
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, PushButton

from napari_scanimage.scan.files import acquisition_stem

if TYPE_CHECKING:
    from napari_scanimage._napari._host import PanelHost

__all__ = ["FORMATS", "ExportPanel"]

FORMATS = {"OME-Zarr": ".zarr", "NWB": ".nwb"}
"""Format choices and the suffix of what each writes."""


class ExportPanel(Container):
    """A format, a path (default: beside the files), NWB's metadata file, and *Save*."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(labels=True)
        self._host = host
        self.format = ComboBox(choices=list(FORMATS), value="OME-Zarr", label="Format")
        self.path = FileEdit(mode=FileDialogMode.OPTIONAL_FILE, label="Save to", filter="*.zarr")
        self.metadata = FileEdit(
            mode=FileDialogMode.EXISTING_FILE,
            label="Metadata",
            filter="*.yaml *.yml",
            tooltip="Optional YAML: subject, session, indicator, location, wavelengths, "
            "timezone (neuroconv's layout; see the README)",
        )
        self.overwrite = CheckBox(text="Replace an existing NWB file", value=False, label="")
        self.save = PushButton(label="")
        self.save.tooltip = "Saves the scan as shown: chosen fields and channels, trims, phase"
        self.worker: Any = None
        """The running (or last) export worker."""
        self.extend([self.format, self.path, self.metadata, self.overwrite, self.save])
        self.format.changed.connect(self._format_changed)
        self.save.changed.connect(self._save)
        self._format_changed()

    @property
    def suffix(self) -> str:
        """``.zarr`` or ``.nwb``, as the format chosen."""
        return FORMATS[self.format.value]

    def _format_changed(self) -> None:
        nwb = self.suffix == ".nwb"
        self.save.text = f"Save as {self.format.value}"
        self.path.filter = f"*{self.suffix}"
        self.metadata.visible = self.overwrite.visible = nwb
        chosen = _chosen(self.path)
        if chosen is not None and Path(chosen).suffix in FORMATS.values():
            self.path.value = Path(chosen).with_suffix(self.suffix)

    def _save(self) -> None:
        """Write the scan as shown (fields, channels, joining, trims, phase) in a worker."""
        scan = self._host.scan
        if scan is None:
            return
        from napari.utils.notifications import show_info  # noqa: PLC0415

        from napari_scanimage._napari import _export  # noqa: PLC0415

        chosen = _chosen(self.path)
        if chosen is None:
            stem = acquisition_stem(scan.filenames)
            chosen = str(Path(scan.filenames[0]).parent / f"{stem}{self.suffix}")
        fields, channels = self._host.selection()
        if self.suffix == ".nwb":
            worker = _export.save_as_nwb(
                scan,
                chosen,
                metadata=_chosen(self.metadata),
                fields=fields,
                channels=channels,
                overwrite=self.overwrite.value,
            )
        else:
            worker = _export.save_as_zarr(scan, chosen, fields=fields, channels=channels)
        worker.returned.connect(lambda path: show_info(f"Saved {path}"))
        worker.errored.connect(self._host.show_error)
        self.worker = worker


def _chosen(edit: Any) -> str | None:
    """The path a ``FileEdit`` holds, or None when nothing was chosen (magicgui shows ".")."""
    value = str(edit.value or "")
    return None if value in ("", ".") else value
