"""OME-Zarr conversion throughput against raw reading and `cat`, in one run.

Writes a synthetic single-ROI ScanImage file (default 2,000 pages of 512x512
int16, 1.05 GB) with the package's own writer, then times, warm (TIFF in the
page cache) and median over --repeats:

- `cat FILE > /dev/null`: the ceiling for getting the bytes at all
- raw read: `scan.read_field` of the whole field into a reused, pre-faulted buffer
- plain write: the same bytes written as chunk-sized files with `open().write`,
  the ceiling for putting them on the output disk (--out-dir; /dev/shm takes the
  disk out of the comparison)
- `to_zarr` with each compression (none, zstd, blosc) on dask's default
  threaded scheduler, into a fresh store each run (the old one is deleted
  outside the timing); optionally on a distributed LocalCluster of processes
- NGFF 0.4 (Zarr v2, one file per chunk) against NGFF 0.5 (Zarr v3, shards of
  one-frame chunks), uncompressed and zstd, with the files each writes

Throughput is the field's bytes over the time taken, so the rows compare directly.

    python benchmarks/bench_export.py [--pages 2000] [--size 512] [--repeats 3]
        [--chunk-frames 32] [--out-dir DIR] [--distributed]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from common import cat, median_time, synthetic_scan

from napari_scanimage import read_scan
from napari_scanimage.export import to_zarr


def raw_read_time(scan, repeats):
    """The whole field into a reused, pre-faulted buffer (freed on return)."""
    buffer = np.ones((scan.num_frames, 1, *scan.shape[1:3]), dtype=scan.dtype)
    return median_time(lambda: scan.read_field(0, out=buffer), repeats)


def plain_write_time(scan, store, args, clear):
    """The field's bytes as chunk-sized files, no Zarr, no reading."""
    frames = min(args.chunk_frames, scan.num_frames)
    chunk = np.ones((frames, args.size, args.size), dtype=scan.dtype)
    count = -(-scan.num_frames // frames)

    def write():
        store.mkdir()
        for i in range(count):
            with (store / str(i)).open("wb") as f:
                f.write(chunk.data)

    return median_time(write, args.repeats, setup=clear)


def written(store: Path) -> tuple[int, int]:
    """Bytes and files of a store's chunk data (metadata files left out)."""
    files = [
        p for p in store.rglob("*")
        if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup")
        and p.suffix != ".xml"
    ]  # fmt: skip
    return sum(p.stat().st_size for p in files), len(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-frames", type=int, default=32)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--out-dir", type=Path, help="where stores are written (default: --dir)")
    parser.add_argument(
        "--distributed", action="store_true", help="also time a LocalCluster of 2 processes"
    )
    args = parser.parse_args(argv)

    (path,) = synthetic_scan(
        args.dir / f"export_p{args.pages}_s{args.size}", args.pages, args.size, "export", seed=2
    )
    cat(path)  # warm the page cache
    scan = read_scan(path)
    nbytes = scan.num_frames * args.size * args.size * scan.dtype.itemsize
    rows = [
        ("cat", median_time(lambda: cat(path), args.repeats)),
        ("raw read (read_field)", raw_read_time(scan, args.repeats)),
    ]
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.out_dir or args.dir))
    store = work / "out.zarr"

    def clear():
        shutil.rmtree(store, ignore_errors=True)

    try:
        rows.append(("plain write", plain_write_time(scan, store, args, clear)))
        for compression in (None, "zstd", "blosc"):

            def convert(compression=compression, client=None):
                to_zarr(
                    scan, store, chunk_frames=args.chunk_frames, compression=compression,
                    client=client,
                )  # fmt: skip

            seconds = median_time(convert, args.repeats, setup=clear)
            rows.append((f"to_zarr, {compression or 'uncompressed'}", seconds, *written(store)))
        for compression in (None, "zstd"):

            def convert_05(compression=compression):
                to_zarr(scan, store, ngff="0.5", compression=compression)

            seconds = median_time(convert_05, args.repeats, setup=clear)
            name = f"to_zarr NGFF 0.5 sharded, {compression or 'uncompressed'}"
            rows.append((name, seconds, *written(store)))
        if args.distributed:
            from distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                seconds = median_time(lambda: convert(None, client), args.repeats, setup=clear)
            rows.append(("to_zarr, uncompressed, 2 processes", seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    raw = rows[1][1]
    where = args.out_dir or args.dir
    print(
        f"\nfile: {path.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB; chunks of {args.chunk_frames} frames "
        f"({args.chunk_frames * args.size * args.size * 2 / 1e6:.0f} MB); warm page cache; "
        f"median of {args.repeats}; stores in {where}"
    )
    print(f"{'case':<40}{'time':>9}{'GB/s':>8}{'raw read/x':>12}{'stored':>10}{'files':>8}")
    for case, seconds, *stored in rows:
        size = f"{stored[0] / nbytes:8.0%}" if stored else ""
        files = f"{stored[1]:8d}" if stored else ""
        print(
            f"{case:<40}{seconds:8.2f}s{nbytes / seconds / 1e9:8.2f}{raw / seconds:11.2f}x"
            f"{size:>10}{files:>8}"
        )


if __name__ == "__main__":
    main()
