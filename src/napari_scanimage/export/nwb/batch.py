"""Many acquisitions to NWB: ``napari-scanimage convert INPUT... --out-dir DIR --format nwb``.

The same machinery as the OME-Zarr batch (:mod:`napari_scanimage.export.batch`):
inputs sorted into acquisitions by ScanImage's file-name counters, each written
to ``DIR/<stem>.nwb``, one progress count over everything and a summary table
(``converted``, ``complete``, ``failed``, ``skipped``).  An NWB file is one HDF5
file with one writer, so its series are written one after the other; with a
``dask.distributed`` client, whole acquisitions run as tasks on the cluster
instead, several at once.  Re-running resumes: a ``.nwb`` this exporter
completed is skipped (files only get that name when complete), anything else
in the way fails that acquisition unless ``overwrite``.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.batch import BatchResult, run_acquisition, run_batch, scan_options
from napari_scanimage.export.nwb.conversion import check_same_conversion, conversion_record
from napari_scanimage.export.nwb.header import read_header_record
from napari_scanimage.export.nwb.metadata import load_metadata
from napari_scanimage.export.nwb.plan import NwbPlan
from napari_scanimage.export.nwb.read import written_by_us
from napari_scanimage.export.nwb.requires import require_nwb
from napari_scanimage.export.nwb.write import to_nwb
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    from distributed import Client

    from napari_scanimage.export.acquisitions import Acquisition
    from napari_scanimage.scan.scan import Scan

__all__ = ["convert_nwb_batch", "convert_one_nwb"]


_PLAN_OPTIONS = ("fields", "channels", "compression", "compression_level")


def convert_nwb_batch(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    client: Client | None = None,
    progress: Callable[[int, int], object] | None = None,
    summary: str | os.PathLike[str] | None = "summary.csv",
    read_options: dict[str, Any] | None = None,
    **options: Any,
) -> list[BatchResult]:
    """Convert every acquisition among ``inputs`` to ``out_dir/<stem>.nwb``.

    Parameters are those of :func:`~napari_scanimage.export.convert_batch`
    (whose table, :class:`~napari_scanimage.export.batch.BatchResult`, this fills);
    ``options`` go to :func:`~napari_scanimage.export.nwb.to_nwb`
    (``metadata``, ``compression``, ``overwrite``, ...).  The metadata is
    checked once, before any file is written, and used for every acquisition.
    """
    require_nwb()
    options = dict(options)
    options["metadata"] = load_metadata(options.get("metadata"))
    reading = scan_options(read_options)
    return run_batch(
        inputs,
        out_dir,
        suffix=".nwb",
        summary=summary,
        overwrite=bool(options.get("overwrite")),
        progress=progress,
        count=lambda acquisition: _count(acquisition, reading, options),
        convert=lambda acquisition, moved: convert_one_nwb(acquisition, reading, options, moved),
        convert_all=None if client is None else partial(_on_cluster, client, reading, options),
    )


def convert_one_nwb(
    acquisition: Acquisition,
    reading: dict[str, Any],
    options: dict[str, Any],
    progress: Callable[[int, int], object] | None = None,
) -> BatchResult:
    """One acquisition to its ``.nwb``; never raises (the result says what went wrong)."""
    overwrite = bool(options.get("overwrite"))

    def convert(scan: Scan) -> bool:
        store = acquisition.store
        if store.is_file() and not overwrite and written_by_us(store):
            # complete already: kept only if made from these files with these settings
            plan = NwbPlan.of(scan, **{k: options[k] for k in _PLAN_OPTIONS if k in options})
            recorded = read_header_record(store).get("conversion")
            check_same_conversion(recorded, conversion_record(scan, plan), store)
            return True
        to_nwb(scan, store, progress=progress, **options)
        return False

    return run_acquisition(acquisition, reading, convert)


def _on_cluster(
    client: Client,
    reading: dict[str, Any],
    options: dict[str, Any],
    acquisitions: list[Acquisition],
    totals: list[int],
    report: Callable[[int, int], object],
) -> list[BatchResult]:
    """Each acquisition as one task; progress moves as acquisitions finish."""
    from distributed import as_completed  # noqa: PLC0415 - only with a cluster

    grand_total = sum(totals)
    futures = [
        client.submit(convert_one_nwb, a, reading, options, pure=False) for a in acquisitions
    ]
    order = {future.key: i for i, future in enumerate(futures)}
    results: list[BatchResult | None] = [None] * len(futures)
    done = 0
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        i = order[future.key]
        results[i] = future.result()
        done += totals[i]
        report(done, grand_total)
    return [r for r in results if r is not None]


def _count(acquisition: Acquisition, reading: dict[str, Any], options: dict[str, Any]) -> int:
    """Write buffers of one acquisition; 0 if it cannot be planned (its conversion says why)."""
    planned = {k: options[k] for k in _PLAN_OPTIONS if k in options}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with read_scan(list(acquisition.files), **reading) as scan:
                return NwbPlan.of(scan, **planned).num_buffers
    except Exception:  # reported when the conversion itself fails
        return 0
