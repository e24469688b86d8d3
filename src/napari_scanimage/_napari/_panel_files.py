"""Panel section *Scan*: what is open, opening files, and the default-reader switch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magicgui.types import FileDialogMode
from magicgui.widgets import Container, FileEdit, Label, LineEdit, PushButton

from napari_scanimage._napari._preferences import set_default_reader
from napari_scanimage.scan.files import expand_paths, whole_acquisitions
from napari_scanimage.scan.scan import Scan, read_scan
from napari_scanimage.summary import format_short_summary, summarize

if TYPE_CHECKING:
    from napari_scanimage._napari._host import PanelHost

__all__ = ["FilesPanel"]


class FilesPanel(Container):
    """The scan's summary; *Open scan* reads files in a worker, off the GUI thread."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(labels=False)
        self._host = host
        self.summary = Label(value="No ScanImage scan open.", label="")
        self.summary.native.setWordWrap(True)  # long names wrap instead of widening the panel
        self.files = FileEdit(
            mode=FileDialogMode.EXISTING_FILES, label="Files", filter="*.tif *.tiff"
        )
        self.open = PushButton(text="Open scan", label="")
        self.url = LineEdit(label="URL")
        self.url.tooltip = (
            "s3://bucket/rec/scan_00001_00001.tif, https://..., gs://... (a file of a split "
            "acquisition brings all of it); options come from fsspec's config and environment"
        )
        self.url.native.setPlaceholderText("s3://…, gs://… or https://… of a recording")
        self.open_url = PushButton(text="Open URL", label="")
        self.default_reader = PushButton(text="Use this plugin for ScanImage TIFFs", label="")
        self.default_reader.tooltip = (
            "Save napari reader preferences: files named as ScanImage names them open "
            "with this plugin, other TIFFs with napari's own reader, without asking"
        )
        self.extend(
            [self.summary, self.files, self.open, self.url, self.open_url, self.default_reader]
        )
        self.open.changed.connect(self._open_files)
        self.open_url.changed.connect(self._open_url)
        self.default_reader.changed.connect(self._set_default_reader)

    def describe(self, scan: Scan | None) -> None:
        """Describe ``scan`` (None: nothing open)."""
        self.summary.value = (
            "No ScanImage scan open." if scan is None else format_short_summary(summarize(scan))
        )

    def _open_files(self) -> None:
        value = self.files.value
        paths = [str(p) for p in value] if isinstance(value, tuple | list) else [str(value)]
        self._open(paths)

    def _open_url(self) -> None:
        url = str(self.url.value).strip()
        if url:
            self._open([url])

    def _open(self, paths: list[str]) -> None:
        if not paths:
            return
        from napari.qt.threading import create_worker  # noqa: PLC0415 - Qt on demand

        options = self._host.scan_options()

        def work() -> Scan:
            # the rule of every command: a file of a split acquisition brings all of it
            files, grown = whole_acquisitions(expand_paths(paths))
            for stem, count in grown:
                _notify_all_files(stem, count)
            return read_scan(files, **options)

        # handlers given up front: an error then goes to show_error only, not re-raised
        create_worker(
            work,
            _progress={"desc": "Opening ScanImage files"},
            _connect={"returned": self._host.set_scan, "errored": self._host.show_error},
        )  # started already: create_worker starts a worker given _connect

    def _set_default_reader(self) -> None:
        from napari.utils.notifications import show_info  # noqa: PLC0415

        changes = set_default_reader()
        listing = ", ".join(f"{pattern} -> {plugin}" for pattern, plugin in changes.items())
        show_info(f"Reader preferences saved: {listing}" if changes else "Already the default.")


def _notify_all_files(stem: str, count: int) -> None:
    from napari.utils.notifications import show_info  # noqa: PLC0415

    show_info(f"{stem}: opening all {count} files of the acquisition")
