"""What ``napari-scanimage convert`` does once its arguments are parsed.

One acquisition to one store (``--out``), or every acquisition under the
inputs to ``--out-dir`` (see :mod:`~napari_scanimage.export.batch`); on dask's
local threads or, with ``--scheduler ADDRESS``, on that ``dask.distributed``
cluster; with one terminal progress bar either way.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.batch import convert_batch
from napari_scanimage.export.convert import to_zarr
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.progress import terminal_progress
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from distributed import Client

__all__ = ["CONNECT_TIMEOUT", "connect", "convert_command"]

CONNECT_TIMEOUT = "10s"
"""How long ``--scheduler ADDRESS`` may take to answer before the command gives up."""


@contextmanager
def connect(address: str | None) -> Iterator[Client | None]:
    """A client of the ``dask.distributed`` scheduler at ``address``; None without one."""
    if address is None:
        yield None
        return
    from distributed import Client  # noqa: PLC0415 - only with a cluster

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
    except OSError as exc:  # distributed raises OSError (or TimeoutError) when unreachable
        msg = f"cannot reach the dask scheduler at {address} ({exc or type(exc).__name__})"
        raise ExportError(msg) from exc
    with client:
        yield client


def convert_command(
    paths: Sequence[str],
    *,
    out: str | None = None,
    out_dir: str | None = None,
    scheduler: str | None = None,
    summary: str = "summary.csv",
    read_options: dict[str, Any] | None = None,
    quiet: bool = False,
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
            terminal_progress(f"converting to {out}", quiet=quiet) as progress,
        ):
            print(to_zarr(scan, out, client=client, progress=progress, **options))
        return 0
    if out_dir is None:
        raise ValueError("give out or out_dir")
    with (
        connect(scheduler) as client,
        terminal_progress(f"converting to {out_dir}", quiet=quiet) as progress,
    ):
        results = convert_batch(
            paths,
            out_dir,
            client=client,
            progress=progress,
            summary=summary,
            read_options=reading,
            **options,
        )
    failed = [r for r in results if r.failed]
    counts = {s: sum(r.status == s for r in results) for s in ("converted", "complete")}
    skipped = sum(r.status == "skipped" for r in results)
    where = f"; summary: {Path(out_dir) / summary}" if summary else ""
    print(
        f"{counts['converted']} converted, {counts['complete']} already complete, "
        f"{len(failed)} failed, {skipped} skipped{where}"
    )
    for result in results:
        if result.warnings:
            print(f"warning: {result.acquisition}: {result.warnings}", file=sys.stderr)
    for result in failed:
        print(f"failed: {result.acquisition}: {result.error}", file=sys.stderr)
    if not any(r.status in ("converted", "complete", "failed") for r in results):
        msg = f"no ScanImage recording among {', '.join(map(str, paths))}; nothing converted"
        raise ExportError(msg)
    return 1 if failed else 0
