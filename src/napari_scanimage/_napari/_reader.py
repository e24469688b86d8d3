"""npe2 reader: ScanImage TIFFs in, lazy image layers out.

``napari_get_reader`` decides from the first bytes of each file (a 2016+
static block, else page 1's description and Software tags: a few KB at most)
and returns None for anything ScanImage did not write, so napari's own TIFF
reader takes it.  Every generation is accepted (3.x to 2015 classic TIFFs, and
files re-saved without the static block).  Users mean "show me this
recording": one file of a split acquisition opens all its files, and when
napari hands us the files of one drop one by one (it does unless Shift is
held), the acquisition is opened once and the other calls return napari's
"nothing to add" sentinel ``[(None,)]``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage._napari._layers import METADATA_KEY, layer_data
from napari_scanimage.errors import MixedAcquisitionError, ScanImageError, ScanImageWarning
from napari_scanimage.format.header import is_scanimage_file
from napari_scanimage.format.urls import is_url, redact
from napari_scanimage.scan.files import acquisition_files
from napari_scanimage.scan.grouping import group_acquisitions
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Callable

    from napari_scanimage.scan.scan import Scan

__all__ = ["napari_get_reader", "open_only", "read_scanimage"]

PathOrPaths = str | os.PathLike[str] | list[str | os.PathLike[str]]
LayerData = list[tuple[Any, dict[str, Any], str]]
NOTHING_TO_ADD: LayerData = [(None,)]  # type: ignore[list-item]


def _as_list(path: PathOrPaths) -> list[str]:
    return [os.fspath(p) for p in path] if isinstance(path, list | tuple) else [os.fspath(path)]


def _resolve(path: str) -> str:
    """An absolute path; URLs (s3://, https://...) as given."""
    return path if is_url(path) else str(Path(path).resolve())


def napari_get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], LayerData] | None:
    """Return the reader when every path is a ScanImage TIFF (any generation), else None."""
    paths = _as_list(path)
    if not paths or not all(
        redact(p).lower().endswith((".tif", ".tiff")) and is_scanimage_file(p) for p in paths
    ):
        return None
    return read_scanimage


def _open_in_viewer() -> list[list[str]]:
    """Files of every acquisition the current viewer already shows."""
    try:
        import napari  # noqa: PLC0415 - only when called from napari

        viewer = napari.current_viewer()
    except ImportError:  # pragma: no cover - the reader runs inside napari
        return []
    if viewer is None:
        return []
    return [
        [_resolve(p) for p in layer.metadata[METADATA_KEY]["files"]]
        for layer in viewer.layers
        if METADATA_KEY in getattr(layer, "metadata", {})
    ]


def read_scanimage(path: PathOrPaths) -> LayerData:
    """Open the acquisition the path(s) belong to: one layer per field and channel.

    A list is read as exactly those files (``napari --stack``, Shift+drop), one
    set of layers per acquisition among them.  A single file opens its whole
    split acquisition, unless the viewer already shows it (the other files of
    one drop).  Damaged files never raise into napari: the problem is shown as
    a notification and nothing is added; warnings (dropped frames) are shown too.
    """
    given = [_resolve(p) for p in _as_list(path)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScanImageWarning)
            layers = _read(given)
    except (ScanImageError, OSError) as exc:
        _notify(f"napari-scanimage could not open {Path(redact(given[0])).name}: {exc}", "error")
        return NOTHING_TO_ADD
    for warning in caught:
        if issubclass(warning.category, ScanImageWarning):
            _notify(str(warning.message), "warning")
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return layers


def _read(given: list[str]) -> LayerData:
    if len(given) > 1:
        return [
            layer for group in group_acquisitions(given) for layer in layer_data(read_scan(group))
        ]
    shown = _open_in_viewer()
    if any(given[0] in files for files in shown):
        return NOTHING_TO_ADD
    siblings = acquisition_files(given[0])
    scan = _read_acquisition(given, siblings)
    if scan.num_files > 1:
        _notify_siblings(scan, given[0])
    return layer_data(scan)


def _read_acquisition(given: list[str], siblings: list[str]) -> Scan:
    if len(siblings) == 1:
        return read_scan(given)
    try:
        return read_scan(siblings)
    except MixedAcquisitionError as exc:
        _notify(
            f"Opened only {Path(redact(given[0])).name}: its neighbours differ ({exc})", "warning"
        )
        return read_scan(given)


def _notify(
    message: str,
    severity: str = "info",
    actions: list[tuple[str, Callable[..., Any]]] | None = None,
) -> None:
    try:
        from napari.utils.notifications import (  # noqa: PLC0415
            Notification,
            NotificationSeverity,
            notification_manager,
        )
    except ImportError:  # pragma: no cover
        return
    notification_manager.dispatch(
        Notification(message, NotificationSeverity(severity), actions=tuple(actions or ()))
    )


def _notify_siblings(scan: Scan, given: str) -> None:
    name = Path(redact(given)).name
    _notify(
        f"Opened all {scan.num_files} files of this acquisition "
        f"({Path(scan.filenames[0]).name} ... {Path(scan.filenames[-1]).name}), "
        f"{scan.num_frames} frames.",
        actions=[(f"Open only {name}", lambda *_: open_only([given]))],
    )


def open_only(paths: list[str]) -> None:
    """Replace the layers of the acquisition ``paths`` belong to by those of ``paths`` alone."""
    import napari  # noqa: PLC0415

    viewer = napari.current_viewer()
    if viewer is None:
        return
    for layer in list(viewer.layers):
        files = getattr(layer, "metadata", {}).get(METADATA_KEY, {}).get("files", [])
        if any(p in files for p in paths):
            viewer.layers.remove(layer)
    for data, kwargs, _ in layer_data(read_scan(paths)):
        viewer.add_image(data, **kwargs)
