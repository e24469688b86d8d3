"""What ``napari-scanimage convert`` does once its arguments are parsed.

One acquisition to one store (``--out``), or every acquisition under the
inputs to ``--out-dir`` (see :mod:`~napari_scanimage.export.batch`); on dask's
local threads or, with ``--scheduler ADDRESS``, on that ``dask.distributed``
cluster; with one terminal progress bar either way.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.batch import convert_batch, summary_target, write_summary
from napari_scanimage.export.convert import to_zarr
from napari_scanimage.export.progress import terminal_progress
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from distributed import Client

__all__ = ["connect", "convert_command"]


@contextmanager
def connect(address: str | None) -> Iterator[Client | None]:
    """A client of the ``dask.distributed`` scheduler at ``address``; None without one."""
    if address is None:
        yield None
        return
    from distributed import Client  # noqa: PLC0415 - only with a cluster

    with Client(address) as client:  # type: ignore[no-untyped-call]
        yield client


def convert_command(
    paths: Sequence[str],
    *,
    out: str | None = None,
    out_dir: str | None = None,
    scheduler: str | None = None,
    summary: str = "summary.csv",
    read_options: dict[str, Any] | None = None,
    **options: Any,
) -> int:
    """Run one conversion or a batch; returns the exit status (1 if any acquisition failed).

    ``options`` go to :func:`~napari_scanimage.export.to_zarr`.
    """
    reading = {k: v for k, v in (read_options or {}).items() if v is not None}
    if out is not None:
        with (
            read_scan(list(paths), **reading) as scan,
            connect(scheduler) as client,
            terminal_progress(f"converting to {out}") as progress,
        ):
            print(to_zarr(scan, out, client=client, progress=progress, **options))
        return 0
    if out_dir is None:
        raise ValueError("give out or out_dir")
    table = summary_target(out_dir, summary)  # a bad name is refused before converting
    with connect(scheduler) as client, terminal_progress(f"converting to {out_dir}") as progress:
        results = convert_batch(
            paths,
            out_dir,
            client=client,
            progress=progress,
            summary=None,
            read_options=reading,
            **options,
        )
    failed = [r for r in results if r.failed]
    for result in results:
        if result.warnings:
            print(f"warning: {result.acquisition}: {result.warnings}", file=sys.stderr)
    for result in failed:
        print(f"failed: {result.acquisition}: {result.error}", file=sys.stderr)
    written = write_summary(results, table, overwrite=bool(options.get("overwrite")))
    done = sum(r.status in ("converted", "complete") for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    print(f"{done} converted, {len(failed)} failed, {skipped} skipped; summary: {written}")
    return 1 if failed else 0
