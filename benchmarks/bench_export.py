"""Export throughput against its floor, `cp` of the same bytes, in one run.

Writes a synthetic single-ROI ScanImage file (default 2,000 pages of 512x512 int16,
1.05 GB) with the package's own writer, then times, warm (TIFF in the page cache),
each case right after its own floor, rounds alternating, medians over --repeats:

- `cp FILE OUT`: the floor, one read plus one write of the same bytes to the same disk
- `cat FILE`: reading alone
- `to_zarr` NGFF 0.4 (Zarr v2, chunks of 32 frames) and 0.5 (Zarr v3, shards of
  one-frame chunks), uncompressed and zstd, as the package writes them
- `to_nwb`, uncompressed and gzip, with --nwb (needs the nwb extra)
- with --zarr, the same exports with every chunk written by zarr-python itself
  (the package writes chunk and shard files directly where it knows the layout)
- with --configs, zarr settings for that path: zarr's defaults, and the Rust codec
  pipeline `zarrs` where it is installed

Every output is deleted and `sync` run before each timed case, so no case pays for
another's dirty pages. Ratios are to the median `cp`.

    python benchmarks/bench_export.py [--pages 2000] [--size 512] [--repeats 5]
        [--out-dir DIR] [--nwb] [--zarr] [--configs]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import zarr
from common import add_export_args, cat, export_scan

from napari_scanimage.export import to_zarr
from napari_scanimage.export.chunk_files import ChunkFiles


def written(store: Path) -> tuple[int, int]:
    """Bytes and files of an output (metadata files left out)."""
    if store.is_file():
        return store.stat().st_size, 1
    files = [
        p for p in store.rglob("*")
        if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup")
        and p.suffix != ".xml"
    ]  # fmt: skip
    return sum(p.stat().st_size for p in files), len(files)


@contextlib.contextmanager
def zarr_settings(settings):
    """zarr's config, and every chunk written through zarr-python (not ChunkFiles)."""
    direct = ChunkFiles.of
    ChunkFiles.of = classmethod(lambda cls, array: None)
    try:
        with zarr.config.set(settings):
            yield
    finally:
        ChunkFiles.of = direct


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_args(parser)
    parser.add_argument("--out-dir", type=Path, help="where outputs are written (default: --dir)")
    parser.add_argument("--nwb", action="store_true", help="also time to_nwb")
    parser.add_argument("--zarr", action="store_true", help="also time zarr-python's writes")
    parser.add_argument("--configs", action="store_true", help="also time other zarr settings")
    args = parser.parse_args(argv)

    path, scan, nbytes = export_scan(args)
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.out_dir or args.dir))
    out = work / "out"

    cases = {
        "cp (floor)": lambda: subprocess.run(["cp", str(path), str(out)], check=True),
        "cat (read alone)": lambda: cat(path),
        "to_zarr 0.4, uncompressed": lambda: to_zarr(scan, out, ngff="0.4"),
        "to_zarr 0.4, zstd": lambda: to_zarr(scan, out, ngff="0.4", compression="zstd"),
        "to_zarr 0.5 sharded, uncompressed": lambda: to_zarr(scan, out, ngff="0.5"),
        "to_zarr 0.5 sharded, zstd": lambda: to_zarr(scan, out, ngff="0.5", compression="zstd"),
    }
    if args.nwb:
        cases["to_nwb, uncompressed"] = lambda: scan.to_nwb(out, compression=None)
        cases["to_nwb, gzip"] = lambda: scan.to_nwb(out)
    tries = {}
    if args.zarr or args.configs:
        tries["zarr-python"] = {}
    if args.configs:
        tries["write_empty_chunks"] = {"array.write_empty_chunks": True}
        with contextlib.suppress(ImportError):
            import zarrs  # noqa: F401

            tries["zarrs"] = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}
    for label, settings in tries.items():
        for ngff, compression in (("0.4", None), ("0.4", "zstd"), ("0.5", None), ("0.5", "zstd")):

            def convert(settings=settings, ngff=ngff, compression=compression):
                with zarr_settings(settings):
                    to_zarr(scan, out, ngff=ngff, compression=compression)

            cases[f"  {ngff} {compression or 'none'}, {label}"] = convert

    def clear():
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
        os.sync()

    times = {name: [] for name in cases}
    stored = {}
    try:
        for _ in range(args.repeats):
            for name, run in cases.items():
                clear()
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
                if name not in stored and out.exists() and not name.startswith("cat"):
                    stored[name] = written(out)
        clear()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = statistics.median(times["cp (floor)"])
    print(
        f"\nfile: {path.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB, warm page cache; medians of {args.repeats}, rounds "
        f"alternating; outputs in {args.out_dir or args.dir}; {os.cpu_count()} cores"
    )
    print(f"{'case':<40}{'median':>9}{'GB/s':>7}{'x cp':>7}{'stored':>9}{'files':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        size, files = stored.get(name, (0, 0))
        print(
            f"{name:<40}{median:8.2f}s{nbytes / median / 1e9:7.2f}{median / floor:7.2f}"
            + (f"{size / nbytes:9.0%}{files:7d}" if files else "")
        )


if __name__ == "__main__":
    main()
