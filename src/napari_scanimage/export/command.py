"""What ``napari-scanimage convert`` does once its arguments are parsed.

One acquisition to one store (``--out``), or every acquisition under the
inputs to ``--out-dir`` (see :mod:`~napari_scanimage.export.batch`); on dask's
local threads or, with ``--scheduler ADDRESS``, on that ``dask.distributed``
cluster; with one terminal progress bar either way.  The format is OME-Zarr,
or NWB for ``--out FILE.nwb`` or ``--format nwb`` (:mod:`~napari_scanimage.export.nwb`).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.batch import convert_batch, summary_target, write_summary
from napari_scanimage.export.convert import to_zarr
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.progress import terminal_progress
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from distributed import Client

__all__ = ["CONNECT_TIMEOUT", "connect", "convert_command", "format_options", "output_format"]

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
    format: str | None = None,
    **options: Any,
) -> int:
    """Run one conversion or a batch; returns the exit status (1 if any acquisition failed).

    ``options`` go to :func:`~napari_scanimage.export.to_zarr`, or with
    ``format="nwb"`` (or ``out`` ending in ``.nwb``) to
    :func:`~napari_scanimage.export.nwb.to_nwb`.
    """
    reading = {k: v for k, v in (read_options or {}).items() if v is not None}
    chosen = output_format(format, out)
    options = format_options(chosen, options)
    if chosen == "nwb":
        from napari_scanimage.export import nwb  # noqa: PLC0415 - pynwb on demand
    if out is not None:
        with (
            read_scan(list(paths), **reading) as scan,
            connect(scheduler) as client,
            terminal_progress(f"converting to {out}", quiet=quiet) as progress,
        ):
            if chosen == "zarr":
                print(to_zarr(scan, out, client=client, progress=progress, **options))
            else:
                print(nwb.to_nwb(scan, out, progress=progress, **options))
        return 0
    if out_dir is None:
        raise ValueError("give out or out_dir")
    table = summary_target(out_dir, summary)  # a bad name is refused before converting
    with (
        connect(scheduler) as client,
        terminal_progress(f"converting to {out_dir}", quiet=quiet) as progress,
    ):
        batch = convert_batch if chosen == "zarr" else nwb.convert_nwb_batch
        results = batch(
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
    counts = {s: sum(r.status == s for r in results) for s in ("converted", "complete")}
    skipped = sum(r.status == "skipped" for r in results)
    print(
        f"{counts['converted']} converted, {counts['complete']} already complete, "
        f"{len(failed)} failed, {skipped} skipped; summary: {written}"
    )
    if not any(r.status in ("converted", "complete", "failed") for r in results):
        msg = f"no ScanImage recording among {', '.join(map(str, paths))}; nothing converted"
        raise ExportError(msg)
    return 1 if failed else 0


def output_format(format: str | None, out: str | None) -> str:
    """``"zarr"`` or ``"nwb"``: as given, else from ``out``'s suffix (``.nwb``), else Zarr."""
    suffix = "nwb" if out is not None and out.lower().endswith(".nwb") else None
    if format is None:
        return suffix or "zarr"
    if format not in ("zarr", "nwb"):
        raise ExportError(f"--format must be zarr or nwb, not {format!r}")
    if out is not None and (suffix or "zarr") != format:
        raise ExportError(f"{out}: --format {format} writes a .{format} file; rename --out")
    return format


def format_options(chosen: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check the options against the format; ``compression`` None means its default.

    OME-Zarr defaults to raw chunks (``none``), NWB to ``gzip``.
    """
    options = {k: v for k, v in options.items() if v is not None or k == "compression"}
    compression = options.pop("compression", None)
    if chosen == "zarr":
        if compression == "gzip":
            raise ExportError("--compression gzip is for NWB; OME-Zarr takes zstd, blosc or none")
        if options.get("metadata") is not None:
            raise ExportError("--metadata is for NWB output (--out FILE.nwb or --format nwb)")
        options.pop("metadata", None)
        return {**options, "compression": None if compression == "none" else compression}
    for name in ("chunk_frames", "shard_frames"):
        if options.get(name) is not None:
            flag = "--" + name.replace("_", "-")
            raise ExportError(f"{flag} is for OME-Zarr; NWB chunks are chosen per series")
    if compression in ("zstd", "blosc"):
        raise ExportError(f"--compression {compression} is for OME-Zarr; NWB takes gzip or none")
    options.pop("ngff", None)  # the CLI's default; NWB has no such choice
    return {**options, "compression": None if compression == "none" else "gzip"}
