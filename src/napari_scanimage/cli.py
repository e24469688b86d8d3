"""Command line: ``napari-scanimage info|view|convert|summary|set-default-reader|sample``.

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

    if all(str(p).lower().endswith(".nwb") for p in args.paths):
        from napari_scanimage.export.nwb import format_nwb_info, nwb_info  # noqa: PLC0415

        found = [nwb_info(p) for p in args.paths]
        texts = [format_nwb_info(i) for i in found]
        print(
            json.dumps([i.to_dict() for i in found], indent=2) if args.json else "\n".join(texts)
        )
        return 0
    with read_scan(args.paths, join_contiguous=args.join) as scan:
        info = summarize(scan)
    print(json.dumps(info, indent=2) if args.json else format_summary(info))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from napari_scanimage.export.command import convert_command  # noqa: PLC0415 - zarr on demand

    return convert_command(
        args.paths,
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


def _view(args: argparse.Namespace) -> int:
    if not args.paths and not args.sample:
        print("napari-scanimage: error: give files or --sample", file=sys.stderr)
        return 2
    from napari_scanimage._napari._launch import view  # noqa: PLC0415 - napari on demand

    view(args.paths, sample=args.sample, follow=args.follow)
    return 0


def _set_default_reader(args: argparse.Namespace) -> int:
    from napari_scanimage._napari._preferences import set_default_reader  # noqa: PLC0415

    changes = set_default_reader()
    for pattern, plugin in changes.items():
        print(f"{pattern} -> {plugin}")
    if not changes:
        print("napari's reader preferences were already set; nothing changed")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # noqa: PLC0415

    from napari_scanimage.export.summary_files import write_summary_files  # noqa: PLC0415
    from napari_scanimage.scan.grouping import group_acquisitions  # noqa: PLC0415
    from napari_scanimage.scan.scan import read_scan  # noqa: PLC0415
    from napari_scanimage.scan.summary_images import check_kinds  # noqa: PLC0415

    kinds = check_kinds(k.strip() for k in args.kind.split(",") if k.strip())
    for files in group_acquisitions(args.paths):
        with (
            read_scan(
                files,
                join_contiguous=args.join,
                trim=args.trim,
                fix_scan_phase=_phase_option(args.fix_scan_phase),
            ) as scan,
            tqdm(desc=f"summary of {files[0]}", unit="frame", file=sys.stderr) as bar,
        ):

            def report(done: int, total: int, bar: tqdm[None] = bar) -> None:
                bar.total = total
                bar.update(done - bar.n)

            paths = write_summary_files(
                scan, args.out, kinds, chunk_frames=args.chunk_frames, progress=report
            )
        for path in paths:
            print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="napari-scanimage", description="Read and check ScanImage recordings."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="print a summary of a scan (or an NWB file's series)")
    info.add_argument(
        "paths", nargs="+", help="files or glob patterns of one acquisition, or .nwb files"
    )
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.add_argument("--join", action="store_true", help="join contiguous ROIs")
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
