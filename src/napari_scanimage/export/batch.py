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
not write are listed as skipped.  The summary goes inside the output folder
(unless given as an absolute path), is written whole or not at all (a temporary
file renamed), and never replaces an existing file unless ``overwrite``: the
next free name (``summary_2.csv``, ...) is taken instead.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import ScanImageWarning
from napari_scanimage.export.acquisitions import find_acquisitions
from napari_scanimage.export.convert import plan_for, to_zarr
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.path_rules import within
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from distributed import Client

    from napari_scanimage.export.acquisitions import Acquisition
    from napari_scanimage.scan.scan import Scan

__all__ = [
    "SUMMARY_FIELDS",
    "BatchResult",
    "convert_batch",
    "summary_target",
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
        File name of the summary (``.csv`` or ``.json``), relative to ``out_dir``
        and inside it, or an absolute path; None writes none.  An existing file
        is replaced only with ``overwrite=True``; else the next free name is used.
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
    reading = scan_options(read_options)
    return run_batch(
        inputs,
        out_dir,
        suffix=".zarr",
        summary=summary,
        overwrite=bool(options.get("overwrite")),
        progress=progress,
        count=lambda acquisition: _count_chunks(acquisition, reading, options),
        convert=lambda acquisition, moved: _convert_one(
            acquisition, reading, options, client, moved
        ),
    )


def run_batch(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    suffix: str,
    summary: str | os.PathLike[str] | None,
    overwrite: bool,
    progress: Callable[[int, int], object] | None,
    count: Callable[[Acquisition], int],
    convert: Callable[[Acquisition, Callable[[int, int], None]], BatchResult],
    convert_all: Callable[
        [list[Acquisition], list[int], Callable[[int, int], object]], list[BatchResult]
    ]
    | None = None,
) -> list[BatchResult]:
    """What every batch does, whatever it writes: one set of rules for all formats.

    Find the acquisitions (outputs ``out_dir/<stem><suffix>``), ``count`` each
    one's work for one progress bar, ``convert`` them in turn (``convert(
    acquisition, progress)``) or hand them all to ``convert_all(acquisitions,
    counts, progress)``, list the TIFFs skipped, and write the summary
    (:func:`summary_target`'s rules; an existing one is replaced only with
    ``overwrite``).
    """
    target = Path(out_dir)
    table = None if summary is None else summary_target(target, summary)
    acquisitions, skipped = find_acquisitions(inputs, target, suffix=suffix)
    target.mkdir(parents=True, exist_ok=True)
    totals = [count(a) for a in acquisitions]
    grand_total = sum(totals)
    report = progress or (lambda done, total: None)
    report(0, grand_total)
    if convert_all is not None:
        results = convert_all(acquisitions, totals, report)
    else:
        results = []
        base = 0
        for acquisition, total in zip(acquisitions, totals, strict=True):

            def moved(done: int, _total: int, base: int = base) -> None:
                report(base + done, grand_total)

            results.append(convert(acquisition, moved))
            base += total
            report(base, grand_total)  # a failed one counts as passed, so the bar ends full
    results += [
        BatchResult(
            Path(p).stem, "", 1, None, source_bytes([p]), 0.0, "skipped", "not a ScanImage file"
        )
        for p in skipped
    ]
    if table is not None:
        written = write_summary(results, table, overwrite=overwrite)
        logger.info("summary: %s", written)
    return results


def _count_chunks(
    acquisition: Acquisition, reading: dict[str, Any], options: dict[str, Any]
) -> int:
    """Tasks the acquisition will run; 0 if it cannot be planned (its conversion says why)."""
    planned = {k: options[k] for k in _PLAN_OPTIONS if k in options}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with read_scan(list(acquisition.files), **reading) as scan:
                return plan_for(scan, **planned).num_chunks
    except Exception:  # reported when the conversion itself fails
        return 0


def scan_options(read_options: dict[str, Any] | None) -> dict[str, Any]:
    """``read_scan`` keywords of a batch: those given (None means the default)."""
    return {k: v for k, v in (read_options or {}).items() if v is not None}


def _convert_one(
    acquisition: Acquisition,
    reading: dict[str, Any],
    options: dict[str, Any],
    client: Client | None,
    progress: Callable[[int, int], None],
) -> BatchResult:
    done_before = _is_complete(acquisition.store)

    def convert(scan: Scan) -> bool:
        to_zarr(scan, acquisition.store, client=client, progress=progress, **options)
        return done_before

    return run_acquisition(acquisition, reading, convert)


def run_acquisition(
    acquisition: Acquisition, reading: dict[str, Any], convert: Callable[[Scan], bool]
) -> BatchResult:
    """Open one acquisition and ``convert`` it; never raises (the result says what happened).

    ``convert(scan)`` writes the output and returns True when it was complete
    already (status ``complete``), False when it wrote it (``converted``).  Its
    warnings and any error go into the result, so one failure never stops a batch.
    """
    start = time.perf_counter()
    result = BatchResult(
        acquisition=acquisition.stem,
        store=str(acquisition.store),
        files=len(acquisition.files),
        frames=None,
        bytes=source_bytes(acquisition.files),
        seconds=0.0,
        status="converted",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScanImageWarning)
        try:
            with read_scan(list(acquisition.files), **reading) as scan:
                result.frames = scan.num_frames
                if convert(scan):
                    result.status = "complete"
        except Exception as exc:  # one failure must not stop the rest
            result.status = "failed"
            result.error = " ".join(f"{type(exc).__name__}: {exc}".split())
            logger.warning("%s failed: %s", acquisition.stem, result.error)
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


def source_bytes(files: Sequence[str]) -> int:
    """Bytes of the source files (0 for any that cannot be read)."""
    total = 0
    for f in files:
        with contextlib.suppress(OSError):
            total += os.path.getsize(f)
    return total


def summary_target(out_dir: str | os.PathLike[str], summary: str | os.PathLike[str]) -> Path:
    """Where a summary named ``summary`` goes: inside ``out_dir`` unless given absolute.

    Raises
    ------
    ExportError
        The name does not end in ``.csv`` or ``.json``, or a relative name leads
        out of ``out_dir`` (``../victim.csv``, or through a link).
    """
    name = Path(summary)
    if name.suffix.lower() not in (".csv", ".json"):
        raise ExportError(f"summary {summary}: the name must end in .csv or .json")
    if name.is_absolute():
        return name
    folder = Path(out_dir)
    target = folder / name
    inside = within(os.path.abspath(target.parent), os.path.abspath(folder))
    if not inside or not within(os.path.realpath(target.parent), os.path.realpath(folder)):
        msg = (
            f"summary {summary}: must stay inside the output folder {folder} "
            "(give an absolute path to write elsewhere)"
        )
        raise ExportError(msg)
    return target


def write_summary(
    results: Sequence[BatchResult], path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the summary as CSV, or JSON when ``path`` ends in ``.json``; returns the file.

    The table is written to a temporary file and renamed, so a reader never
    sees half a table.  An existing file is replaced only with ``overwrite``;
    else the table goes to the next free name (``summary_2.csv``, ...).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ExportError(f"summary {target}: the name must end in .csv or .json")
    rows = [asdict(r) for r in results]
    if suffix == ".json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        if overwrite:
            os.replace(temporary, target)
            return target
        return _rename_to_free_name(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _rename_to_free_name(temporary: str, target: Path) -> Path:
    """Give the written file ``target``'s name, or the first free ``<stem>_N`` one."""
    for number in range(1, 10_000):
        name = (
            target if number == 1 else target.with_name(f"{target.stem}_{number}{target.suffix}")
        )
        if name.exists() or name.is_symlink():
            continue
        try:
            os.link(temporary, name)  # fails if the name was taken meanwhile: never replaces
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network and FAT file systems)
            os.replace(temporary, name)
        if number > 1:
            logger.warning("%s exists; the summary is in %s", target, name)
        return name
    raise ExportError(f"summary {target}: no free name left next to it")
