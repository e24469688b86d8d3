"""Command line: ``napari-scanimage info|view|convert|summary|set-default-reader|sample``.

Each command is a thin wrapper over one library call, and they share two rules:
a path means what it means in the panel (a file of a split acquisition brings
its whole acquisition, said on stderr; ``--only`` reads just the files given),
and fields are numbered from 1, as in napari and ScanImage (the Python API keeps
scanreader's 0-based indices).  URLs (``s3://``, ``https://``, ``gs://``...) go
wherever paths go; ``--storage-option KEY=VALUE`` sets fsspec options for them
(fsspec's config and environment apply too).  Errors and warnings go through
``_console``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from typing import TYPE_CHECKING

from napari_scanimage import __version__
from napari_scanimage._console import PROGRAM, run_command
from napari_scanimage.errors import ScanImageError, ScanImageFileError
from napari_scanimage.summary import format_summary, summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _files(paths: Sequence[str], only: bool) -> list[str]:
    """The files a user means (see the module docstring), saying when an acquisition grew."""
    from napari_scanimage.scan.files import expand_paths, whole_acquisitions  # noqa: PLC0415

    files = expand_paths(paths)  # URLs: with the options _storage_options registered
    if only:
        return files
    files, grown = whole_acquisitions(files)
    for stem, count in grown:
        note = f"{stem}: reading all {count} files of the acquisition (--only: just those given)"
        print(f"{PROGRAM}: {note}", file=sys.stderr, flush=True)
    return files


def _info(args: argparse.Namespace) -> int:
    from napari_scanimage.scan.scan import read_scan  # noqa: PLC0415

    if all(str(p).lower().endswith(".nwb") for p in args.paths):
        from napari_scanimage.export.nwb import format_nwb_info, nwb_info  # noqa: PLC0415

        found = [nwb_info(p) for p in args.paths]
        texts = [format_nwb_info(i) for i in found]
        print(
            json.dumps([i.to_dict() for i in found], indent=2) if args.json else "\n".join(texts)
        )
        return 0
    with read_scan(_files(args.paths, args.only), join_contiguous=args.join) as scan:
        info = summarize(scan)
    print(json.dumps(info, indent=2) if args.json else format_summary(info))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from napari_scanimage.export.command import convert_command  # noqa: PLC0415 - zarr on demand

    inputs = list(args.paths)
    if args.out is not None:
        inputs = _files(inputs, args.only)
    elif not args.only and (files := [p for p in inputs if os.path.isfile(p)]):
        # a file named among folders brings its whole acquisition too
        inputs = [p for p in inputs if p not in files] + _files(files, False)
    return convert_command(
        inputs,
        out=args.out,
        out_dir=args.out_dir,
        scheduler=args.scheduler,
        summary=args.summary,
        read_options={
            "join_contiguous": args.join,
            "trim": args.trim,
            "fix_scan_phase": _phase_option(args.fix_scan_phase),
        },
        format=args.format,
        metadata=args.metadata,
        compression=args.compression,
        overwrite=args.overwrite,
        quiet=args.quiet,
        ngff=args.ngff,
        chunk_frames=args.chunk_frames,
        shard_frames=args.shard_frames,
    )


def _phase_option(value: str | float | None) -> bool | float:
    """``--fix-scan-phase`` alone estimates; with a number, that offset (pixels)."""
    if value is None:
        return False
    return True if value == "auto" else float(value)


def _phase_argument(text: str) -> str | float:
    """``auto`` or a number of pixels, checked by argparse so a typo is a usage error."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of pixels, got {text!r}") from None


def _sample(args: argparse.Namespace) -> int:
    from napari_scanimage.sample import write_sample_scan  # noqa: PLC0415

    for path in write_sample_scan(args.directory):
        print(path)
    return 0


def _need_napari(command: str) -> None:
    """A base install (no napari extra) gets one line saying what to install."""
    if importlib.util.find_spec("napari") is None:
        msg = (
            f"`{command}` needs napari, which is not installed; install it with "
            '`pip install "napari-scanimage[napari]"`'
        )
        raise ScanImageError(msg)


def _view(args: argparse.Namespace) -> int:
    if not args.paths and not args.sample:
        raise ScanImageError("give files, patterns or .zarr stores to view, or --sample")
    _need_napari("napari-scanimage view")
    stores = [p for p in args.paths if p.rstrip("/\\").lower().endswith(".zarr")]
    files = [p for p in args.paths if p not in stores]
    _check_stores(stores)
    files = _files(files, args.only) if files else []
    _check_scanimage(files)  # refused here, before napari starts, in one line
    from napari_scanimage._napari._launch import view  # noqa: PLC0415 - napari on demand

    view([*files, *stores], sample=args.sample, follow=args.follow)
    return 0


def _check_stores(stores: list[str]) -> None:
    from napari_scanimage.export.stored import complete_record  # noqa: PLC0415

    for store in stores:
        if not os.path.exists(store):
            raise ScanImageFileError(store, "no such store")
        if complete_record(store) is None:
            problem = "is not a complete OME-Zarr store written by napari-scanimage"
            raise ScanImageFileError(store, problem)


def _check_scanimage(files: list[str]) -> None:
    from napari_scanimage.format.header import is_scanimage_file  # noqa: PLC0415

    for path in files:
        if not is_scanimage_file(path):
            problem = "not written by ScanImage (open it with napari itself: `napari FILE`)"
            raise ScanImageFileError(path, problem)


def _set_default_reader(args: argparse.Namespace) -> int:
    _need_napari("napari-scanimage set-default-reader")
    from napari_scanimage._napari._preferences import set_default_reader  # noqa: PLC0415

    changes = set_default_reader()
    for pattern, plugin in changes.items():
        print(f"{pattern} -> {plugin}")
    if not changes:
        print("napari's reader preferences were already set; nothing changed")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from napari_scanimage.export.progress import terminal_progress  # noqa: PLC0415
    from napari_scanimage.export.summary_files import write_summary_files  # noqa: PLC0415
    from napari_scanimage.scan.grouping import group_acquisitions  # noqa: PLC0415
    from napari_scanimage.scan.scan import read_scan  # noqa: PLC0415
    from napari_scanimage.scan.summary_images import check_kinds  # noqa: PLC0415

    kinds = check_kinds(k.strip() for k in args.kind.split(",") if k.strip())
    acquisitions = group_acquisitions(_files(args.paths, args.only))
    if not acquisitions:
        raise ScanImageError("no ScanImage recording among the files given; nothing written")
    for files in acquisitions:
        with (
            read_scan(
                files,
                join_contiguous=args.join,
                trim=args.trim,
                fix_scan_phase=_phase_option(args.fix_scan_phase),
            ) as scan,
            terminal_progress(f"summary of {files[0]}", unit="frame", quiet=args.quiet) as report,
        ):
            paths = write_summary_files(
                scan, args.out, kinds, chunk_frames=args.chunk_frames, progress=report
            )
        for path in paths:
            print(path)
    return 0


def _only_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--only", action="store_true",
        help="read just the files given, not every file of their split acquisitions",
    )  # fmt: skip


def _quiet_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-q", "--quiet", action="store_true", help="no progress (errors and warnings still print)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Read and check ScanImage recordings."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="print a summary of a scan (or an NWB file's series)")
    info.add_argument(
        "paths", nargs="+", help="files or glob patterns of one acquisition, or .nwb files"
    )
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.add_argument("--join", action="store_true", help="join contiguous ROIs")
    _only_flag(info)
    _storage_flag(info)
    info.set_defaults(run=_info)
    view = commands.add_parser("view", help="open a scan in napari with the ScanImage panel")
    view.add_argument(
        "paths", nargs="*", help="files or glob patterns of one acquisition, or .zarr stores"
    )
    view.add_argument("--sample", action="store_true", help="open a synthetic mROI sample")
    view.add_argument(
        "--follow", action="store_true",
        help="follow an acquisition being recorded: show new frames as ScanImage writes them",
    )  # fmt: skip
    _only_flag(view)
    _storage_flag(view)
    view.set_defaults(run=_view)
    convert = commands.add_parser(
        "convert",
        help="write scans as OME-Zarr (one image per field; resumable) or NWB",
        description="One acquisition to one store (--out), or every acquisition under "
        "folders and patterns to DIR/<stem>.zarr (--out-dir), with a summary table. "
        "--out FILE.nwb or --format nwb writes NWB: one TwoPhotonSeries per field and channel.",
    )
    convert.add_argument(
        "paths", nargs="+", help="files or patterns of one acquisition; with --out-dir, "
        "also folders (searched recursively) holding many",
    )  # fmt: skip
    target = convert.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--out", help="the Zarr store (DIR.zarr) or NWB file (FILE.nwb)")
    target.add_argument(
        "--out-dir", metavar="DIR", help="write each acquisition to DIR/<stem>.zarr (or .nwb)"
    )
    convert.add_argument(
        "--format", choices=("zarr", "nwb"),
        help="output format (default: nwb for --out FILE.nwb, otherwise zarr)",
    )  # fmt: skip
    convert.add_argument(
        "--metadata", metavar="YAML",
        help="NWB: subject, session, indicator, ... in neuroconv's layout, and timezone",
    )  # fmt: skip
    convert.add_argument(
        "--ngff", choices=("0.4", "0.5"), default="0.4",
        help="0.4: Zarr v2, one file per chunk (default, widely read); "
        "0.5: Zarr v3, sharded (a few hundred files per field)",
    )  # fmt: skip
    convert.add_argument(
        "--chunk-frames", type=int, metavar="N",
        help="frames per chunk (default 32; 1 inside shards with --ngff 0.5)",
    )  # fmt: skip
    convert.add_argument(
        "--shard-frames", type=int, metavar="N",
        help="frames per shard with --ngff 0.5 (default: about 128 MB, 256-1024 frames)",
    )  # fmt: skip
    convert.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on this dask.distributed scheduler"
    )
    convert.add_argument(
        "--summary", default="summary.csv", metavar="NAME",
        help="summary table in DIR with --out-dir: .csv (default) or .json",
    )  # fmt: skip
    convert.add_argument(
        "--compression", choices=("zstd", "blosc", "gzip", "none"),
        help="chunk codec: zstd, blosc or none (Zarr, default none); gzip or none (NWB, "
        "default gzip)",
    )  # fmt: skip
    convert.add_argument("--join", action="store_true", help="join contiguous ROIs")
    convert.add_argument(
        "--trim",
        type=int,
        nargs=4,
        metavar=("L", "R", "T", "B"),
        help="pixels cut from each ROI (left right top bottom)",
    )
    convert.add_argument(
        "--fix-scan-phase",
        nargs="?",
        const="auto",
        type=_phase_argument,
        metavar="PIXELS",
        help="undo the bidirectional scan phase: estimated per ROI, or the offset given",
    )
    convert.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing store instead of resuming (NWB: an existing file)",
    )  # fmt: skip
    _quiet_flag(convert)
    _only_flag(convert)
    _storage_flag(convert)
    convert.set_defaults(run=_convert)
    summary = commands.add_parser(
        "summary",
        help="write QC images (mean, max, std, local correlation) of every field as TIFFs",
        description="One float32 TIFF (µm resolution) per field, channel and kind, and a "
        "PNG of each channel's stitched mean, for every acquisition among the files.",
    )
    summary.add_argument("paths", nargs="+", help="files or glob patterns of acquisitions")
    summary.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    summary.add_argument(
        "--kind", default="mean,max,std,correlation",
        help="comma-separated kinds among mean, max, std, correlation (default: all)",
    )  # fmt: skip
    summary.add_argument("--chunk-frames", type=int, metavar="N", help="frames read at once")
    summary.add_argument("--join", action="store_true", help="join contiguous ROIs")
    summary.add_argument(
        "--trim", type=int, nargs=4, metavar=("L", "R", "T", "B"),
        help="pixels cut from each ROI (left right top bottom)",
    )  # fmt: skip
    summary.add_argument(
        "--fix-scan-phase", nargs="?", const="auto", type=_phase_argument, metavar="PIXELS",
        help="undo the bidirectional scan phase: estimated per ROI, or the offset given",
    )  # fmt: skip
    _quiet_flag(summary)
    _only_flag(summary)
    _storage_flag(summary)
    summary.set_defaults(run=_summary)
    default = commands.add_parser(
        "set-default-reader",
        help="make napari open ScanImage-named TIFFs with this plugin, other TIFFs with its own",
    )
    default.set_defaults(run=_set_default_reader)
    sample = commands.add_parser("sample", help="write a small synthetic mROI scan")
    sample.add_argument("directory", help="folder to write the sample into")
    sample.set_defaults(run=_sample)
    return parser


def _storage_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--storage-option", action="append", default=[], metavar="KEY=VALUE",
        type=_storage_option, dest="storage_options",
        help="an fsspec option for URLs, repeatable (e.g. anon=true, "
        "endpoint_url=http://host:9000); values are read as JSON where they parse",
    )  # fmt: skip


def _storage_option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def _storage_options(args: argparse.Namespace) -> None:
    """Make ``--storage-option`` values the defaults of the URLs' filesystems (this process)."""
    options = dict(getattr(args, "storage_options", None) or [])
    urls = [p for p in getattr(args, "paths", []) if "://" in p]
    if options and urls:
        from napari_scanimage.format.urls import use_storage_options  # noqa: PLC0415

        use_storage_options(urls, options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Errors are one line on stderr and a nonzero status (see ``_console``).
    """
    args = build_parser().parse_args(argv)
    _storage_options(args)
    return run_command(lambda: int(args.run(args)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
