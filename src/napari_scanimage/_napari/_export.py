"""Save a scan as OME-Zarr or NWB from napari without freezing it: a worker and a progress bar.

:func:`save_as_zarr` runs :func:`napari_scanimage.export.to_zarr` (and
:func:`save_as_nwb` :func:`napari_scanimage.export.nwb.to_nwb`) in napari's
``create_worker`` thread.  Both report progress from that thread, and
napari's progress bars are Qt widgets, so each report is handed to the main
thread (``ensure_main_thread``) before it moves the bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari.qt.threading import create_worker
from napari.utils import progress
from superqt.utils import ensure_main_thread

from napari_scanimage.export import to_zarr

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from napari.qt.threading import FunctionWorker

    from napari_scanimage.scan.scan import Scan

__all__ = ["save_as_nwb", "save_as_zarr"]


def save_as_zarr(scan: Scan, path: str | os.PathLike[str], **options: Any) -> FunctionWorker:
    """Start converting ``scan`` to the Zarr store ``path``; returns the running worker.

    ``options`` go to :func:`~napari_scanimage.export.to_zarr` (``chunk_frames``,
    ``compression``, ``overwrite``, ...).  Connect to the worker's ``returned``
    (the store's path) and ``errored`` signals; they are delivered in the main
    thread, so connecting right after this call misses nothing.  The progress
    bar (``worker.pbar``, counting chunks) closes when the worker finishes.
    """
    return _run_with_bar(to_zarr, scan, path, **options)


def save_as_nwb(scan: Scan, path: str | os.PathLike[str], **options: Any) -> FunctionWorker:
    """Start writing ``scan`` to the NWB file ``path``; returns the running worker.

    ``options`` go to :func:`~napari_scanimage.export.nwb.to_nwb` (``metadata``,
    ``compression``, ``fields``, ``channels``, ``overwrite``).  As
    :func:`save_as_zarr`; the bar counts write buffers.
    """
    from napari_scanimage.export.nwb import to_nwb  # noqa: PLC0415 - pynwb on demand

    return _run_with_bar(to_nwb, scan, path, **options)


def _run_with_bar(
    export: Callable[..., Any], scan: Scan, path: str | os.PathLike[str], **options: Any
) -> FunctionWorker:
    bar = progress(total=0, desc=f"Saving {Path(path).name}")

    @ensure_main_thread
    def report(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    # errors go to the caller's ``errored`` handler only, never re-raised in Qt's loop
    worker = create_worker(export, scan, path, progress=report, _ignore_errors=True, **options)
    worker.pbar = bar  # where napari's own create_worker(_progress=...) puts its bar
    worker.finished.connect(bar.close)
    worker.start()
    return worker
