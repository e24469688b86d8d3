"""Command line: ``napari-scanimage info|view|convert|set-default-reader|sample``.

Each command is a thin wrapper over one library call.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from napari_scanimage.errors import ScanImageError
from napari_scanimage.summary import format_summary, summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    from napari_scanimage.scan.scan import read_scan  # noqa: PLC0415

    with read_scan(args.paths, join_contiguous=args.join) as scan:
        info = summarize(scan)
    print(json.dumps(info, indent=2) if args.json else format_summary(info))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from napari_scanimage.export import to_zarr  # noqa: PLC0415 - zarr loads on demand
    from napari_scanimage.export.progress import terminal_progress  # noqa: PLC0415
    from napari_scanimage.scan.scan import read_scan  # noqa: PLC0415

    compression = None if args.compression == "none" else args.compression
    options = {} if args.chunk_frames is None else {"chunk_frames": args.chunk_frames}
    with (
        read_scan(
            args.paths,
            join_contiguous=args.join,
            trim=args.trim,
            fix_scan_phase=_phase_option(args.fix_scan_phase),
        ) as scan,
        terminal_progress(f"converting to {args.out}") as progress,
    ):
        out = to_zarr(
            scan,
            args.out,
            compression=compression,
            overwrite=args.overwrite,
            progress=progress,
            **options,
        )
    print(out)
    return 0


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


def _view(args: argparse.Namespace) -> int:
    if not args.paths and not args.sample:
        print("napari-scanimage: error: give files or --sample", file=sys.stderr)
        return 2
    from napari_scanimage._napari._launch import view  # noqa: PLC0415 - napari on demand

    view(args.paths, sample=args.sample)
    return 0


def _set_default_reader(args: argparse.Namespace) -> int:
    from napari_scanimage._napari._preferences import set_default_reader  # noqa: PLC0415

    changes = set_default_reader()
    for pattern, plugin in changes.items():
        print(f"{pattern} -> {plugin}")
    if not changes:
        print("napari's reader preferences were already set; nothing changed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="napari-scanimage", description="Read and check ScanImage recordings."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="print a summary of a scan")
    info.add_argument("paths", nargs="+", help="files or glob patterns of one acquisition")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.add_argument("--join", action="store_true", help="join contiguous ROIs")
    info.set_defaults(run=_info)
    view = commands.add_parser("view", help="open a scan in napari with the ScanImage panel")
    view.add_argument("paths", nargs="*", help="files or glob patterns of one acquisition")
    view.add_argument("--sample", action="store_true", help="open a synthetic mROI sample")
    view.set_defaults(run=_view)
    convert = commands.add_parser(
        "convert", help="write a scan as OME-Zarr (one image per field); resumable"
    )
    convert.add_argument("paths", nargs="+", help="files or glob patterns of one acquisition")
    convert.add_argument("--out", required=True, help="the Zarr store to write (DIR.zarr)")
    convert.add_argument(
        "--chunk-frames", type=int, metavar="N", help="frames per chunk (default 32)"
    )
    convert.add_argument(
        "--compression", choices=("zstd", "blosc", "none"), default="none", help="chunk codec"
    )
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
        "--overwrite", action="store_true", help="replace an existing store instead of resuming"
    )
    convert.set_defaults(run=_convert)
    default = commands.add_parser(
        "set-default-reader",
        help="make napari open ScanImage-named TIFFs with this plugin, other TIFFs with its own",
    )
    default.set_defaults(run=_set_default_reader)
    sample = commands.add_parser("sample", help="write a small synthetic mROI scan")
    sample.add_argument("directory", help="folder to write the sample into")
    sample.set_defaults(run=_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ScanImageError, FileNotFoundError) as exc:
        print(f"napari-scanimage: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
