"""Convert many acquisitions in one go: ``napari-scanimage convert INPUT... --out-dir DIR``.

Inputs (folders searched recursively, glob patterns, files) are sorted into
acquisitions by ScanImage's file-name counters (``stem_AAAAA_NNNNN``: the files
of one split acquisition belong together); each becomes ``DIR/<stem>.zarr``.
Acquisitions are converted one after the other, each one's chunks in parallel
on dask (threads, or a ``dask.distributed`` cluster), with one progress count
over everything.  Every conversion is resumable (see :func:`to_zarr`), so
re-running the same command finishes what an earlier run left: complete stores
are checked and skipped, interrupted ones resumed chunk by chunk.

An acquisition that fails (damaged files, a foreign store in the way) is
reported in the summary table and the others go on.  TIFFs that ScanImage did
not write are listed as skipped.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import ScanImageWarning
from napari_scanimage.export.acquisitions import find_acquisitions
from napari_scanimage.export.convert import plan_for, to_zarr
from napari_scanimage.export.errors import ExportError
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from distributed import Client

    from napari_scanimage.export.acquisitions import Acquisition

__all__ = [
    "SUMMARY_FIELDS",
    "BatchResult",
    "convert_batch",
    "write_summary",
]

logger = logging.getLogger(__name__)

SUMMARY_FIELDS = (
    "acquisition",
    "store",
    "files",
    "frames",
    "bytes",
    "seconds",
    "status",
    "error",
    "warnings",
)
"""Columns of the summary: ``bytes`` are the source files' bytes; ``status`` is
``converted``, ``complete`` (nothing left to do), ``failed`` or ``skipped``."""

_PLAN_OPTIONS = ("chunk_frames", "compression", "channels", "fields", "ngff", "shard_frames")


@dataclass
class BatchResult:
    """One row of the summary."""

    acquisition: str
    store: str
    files: int
    frames: int | None
    bytes: int
    seconds: float
    status: str
    error: str = ""
    warnings: str = ""

    @property
    def failed(self) -> bool:
        """Whether this acquisition could not be converted."""
        return self.status == "failed"


def convert_batch(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    client: Client | None = None,
    progress: Callable[[int, int], object] | None = None,
    summary: str | os.PathLike[str] | None = "summary.csv",
    read_options: dict[str, Any] | None = None,
    **options: Any,
) -> list[BatchResult]:
    """Convert every acquisition among ``inputs`` to ``out_dir/<stem>.zarr``.

    Parameters
    ----------
    inputs
        Folders (searched recursively), glob patterns (``**`` allowed) or files.
    out_dir
        Where the stores and the summary go (created if missing).
    client
        A ``dask.distributed`` client; None runs on dask's local scheduler.
    progress
        ``progress(done, total)`` over the chunks of all acquisitions.
    summary
        File name of the summary (``.csv`` or ``.json``), relative to ``out_dir``;
        None writes none.
    read_options
        Passed to :func:`~napari_scanimage.read_scan` (``join_contiguous``,
        ``trim``, ``fix_scan_phase``).
    **options
        Passed to :func:`~napari_scanimage.export.to_zarr` (``ngff``,
        ``compression``, ``chunk_frames``, ``overwrite``, ...).

    Returns
    -------
    list of BatchResult
        One per acquisition (and per skipped TIFF), in order.
    """
    target = Path(out_dir)
    if summary is not None and Path(summary).suffix.lower() not in (".csv", ".json"):
        raise ExportError(f"summary {summary}: the name must end in .csv or .json")
    acquisitions, skipped = find_acquisitions(inputs, target)
    target.mkdir(parents=True, exist_ok=True)
    reading = dict(read_options or {})
    totals = [_count_chunks(a, reading, options) for a in acquisitions]
    grand_total = sum(totals)
    report = progress or (lambda done, total: None)
    report(0, grand_total)
    results = []
    base = 0
    for acquisition, total in zip(acquisitions, totals, strict=True):

        def moved(done: int, _total: int, base: int = base) -> None:
            report(base + done, grand_total)

        results.append(_convert_one(acquisition, reading, options, client, moved))
        base += total
        report(base, grand_total)  # a failed one counts as passed, so the bar ends full
    results += [
        BatchResult(Path(p).stem, "", 1, None, _size([p]), 0.0, "skipped", "not a ScanImage file")
        for p in skipped
    ]
    if summary is not None:
        write_summary(results, target / summary)
    return results


def _count_chunks(
    acquisition: Acquisition, reading: dict[str, Any], options: dict[str, Any]
) -> int:
    """Tasks the acquisition will run; 0 if it cannot be planned (its conversion says why)."""
    planned = {k: options[k] for k in _PLAN_OPTIONS if k in options}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with read_scan(list(acquisition.files), **_scan_options(reading)) as scan:
                return plan_for(scan, **planned).num_chunks
    except Exception:  # reported when the conversion itself fails
        return 0


def _scan_options(reading: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in reading.items() if v is not None}


def _convert_one(
    acquisition: Acquisition,
    reading: dict[str, Any],
    options: dict[str, Any],
    client: Client | None,
    progress: Callable[[int, int], None],
) -> BatchResult:
    start = time.perf_counter()
    result = BatchResult(
        acquisition=acquisition.stem,
        store=str(acquisition.store),
        files=len(acquisition.files),
        frames=None,
        bytes=_size(acquisition.files),
        seconds=0.0,
        status="converted",
    )
    done_before = _is_complete(acquisition.store)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScanImageWarning)
        try:
            with read_scan(list(acquisition.files), **_scan_options(reading)) as scan:
                result.frames = scan.num_frames
                to_zarr(scan, acquisition.store, client=client, progress=progress, **options)
        except Exception as exc:  # one failure must not stop the rest
            result.status = "failed"
            result.error = " ".join(f"{type(exc).__name__}: {exc}".split())
            logger.warning("%s failed: %s", acquisition.stem, result.error)
        else:
            if done_before:
                result.status = "complete"
    result.warnings = "; ".join(
        " ".join(str(w.message).split())
        for w in caught
        if issubclass(w.category, ScanImageWarning)
    )
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _is_complete(store: Path) -> bool:
    from napari_scanimage.export.describe import KEY, store_attributes  # noqa: PLC0415

    attrs = store_attributes(store) if store.is_dir() else None
    record = attrs.get(KEY) if attrs else None
    return isinstance(record, dict) and record.get("complete") is True


def _size(files: Sequence[str]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):
            total += os.path.getsize(f)
    return total


def write_summary(results: Sequence[BatchResult], path: str | os.PathLike[str]) -> Path:
    """Write the summary as CSV, or JSON when ``path`` ends in ``.json``."""
    target = Path(path)
    rows = [asdict(r) for r in results]
    if target.suffix.lower() == ".json":
        target.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return target
    if target.suffix.lower() != ".csv":
        raise ExportError(f"summary {target}: the name must end in .csv or .json")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return target
