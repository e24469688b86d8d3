"""Reader speed against tifffile and `cat`, side by side in one run.

Writes a synthetic single-ROI ScanImage file (default 10,000 pages of 512x512
int16, 5.3 GB) with the package's own writer, then times, warm (file in the page
cache) and median over --repeats:

- open + num_frames: our read_scan vs tifffile TiffFile(...).series[0].shape
- first frame (including open) and a random frame (file already open)
- full read of the field into a reused, pre-faulted buffer, vs
  tifffile asarray(out=...), tifffile aszarr() through zarr, and `cat FILE > /dev/null`
- heap memory while iterating every field of a 4-ROI mROI scan

    python benchmarks/bench_read.py [--pages 10000] [--size 512] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile

from napari_scanimage import read_scan
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan


def median_time(func, repeats):
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_file(folder: Path, pages: int, size: int, stem: str, rois=None) -> list[Path]:
    existing = sorted(folder.glob(f"{stem}_*.tif"))
    if existing:
        return existing
    folder.mkdir(parents=True, exist_ok=True)
    roi = RoiSpec(name="fov", size_xy=(18.0, 18.0), pixels_xy=(size, size))
    spec = ScanSpec(rois=rois or (roi,), num_frames=pages, seed=1)
    print(f"writing {pages} pages to {folder} ...", file=sys.stderr)
    return list(write_scan(folder, spec, stem=stem, keep_truth=False).paths)


def zarr_read(path, key):
    import zarr

    with tifffile.TiffFile(path) as tif:
        array = zarr.open_array(tif.aszarr(), mode="r")
        return array[key]


def fmt(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:9.2f} ms" if seconds < 10 else f"{seconds:9.2f} s "


def anon_mb() -> float:
    """Anonymous (heap) memory; mapped file pages are page cache, not ours."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


def iterate_fields(path: str) -> None:
    scan = read_scan(path)
    field_mb = scan.num_frames * scan.field_heights[0] * scan.field_widths[0] * 2 / 1e6
    baseline = anon_mb()
    held = []
    for data in scan:
        held.append(anon_mb() - baseline)
        del data
    size_gb = Path(path).stat().st_size / 1e9
    print(
        f"iterating {scan.num_fields} fields ({size_gb:.2f} GB file): heap above the open "
        f"scan while holding field 1..{scan.num_fields}: "
        f"{', '.join(f'{m:.0f}' for m in held)} MB; one field is {field_mb:.0f} MB"
    )


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--iterate"]:
        iterate_fields(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    repeats = args.repeats

    (path,) = make_file(args.dir / f"p{args.pages}_s{args.size}", args.pages, args.size, "bench")
    nbytes = path.stat().st_size
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    rng = random.Random(0)
    rows = []

    rows.append((
        "open + num_frames",
        median_time(lambda: read_scan(path).num_frames, repeats),
        median_time(lambda: tifffile.TiffFile(path).series[0].shape, repeats),
        None,
        None,
    ))  # fmt: skip
    rows.append((
        "open + first frame",
        median_time(lambda: read_scan(path)[0, :, :, 0, 0], repeats),
        median_time(lambda: tifffile.TiffFile(path).pages[0].asarray(), repeats),
        median_time(lambda: zarr_read(path, 0), repeats),
        None,
    ))  # fmt: skip
    scan = read_scan(path)
    tif = tifffile.TiffFile(path)
    len(tif.pages)  # index every page first: random access then measures the read only
    rows.append((
        "random frame (open file)",
        median_time(lambda: scan[0, :, :, 0, rng.randrange(scan.num_frames)], repeats * 20),
        median_time(lambda: tif.pages[rng.randrange(args.pages)].asarray(), repeats * 20),
        None,
        None,
    ))  # fmt: skip
    buffer = np.ones((scan.num_frames, 1, args.size, args.size), dtype=scan.dtype)  # pre-faulted
    flat = buffer.reshape(scan.num_frames, args.size, args.size)
    rows.append((
        "full read of the field",
        median_time(lambda: scan.read_field(0, out=buffer), repeats),
        median_time(lambda: tifffile.TiffFile(path).asarray(out=flat), repeats),
        median_time(lambda: zarr_read(path, slice(None)), max(1, repeats // 2)),
        median_time(
            lambda: subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True),
            repeats,
        ),
    ))  # fmt: skip
    scan.read_field(0, frames=[args.pages - 1], out=buffer[:1])
    np.testing.assert_array_equal(buffer[0, 0], tif.pages[args.pages - 1].asarray())
    tif.close()

    print(
        f"\nfile: {path.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB, warm page cache, median of {repeats} (x20 for random frames)"
    )
    print(f"{'case':<26}{'napari-scanimage':>17}{'tifffile':>13}{'tifffile+zarr':>15}{'cat':>13}")
    for case, ours, tiff, zarr_t, cat in rows:
        ratios = []
        if tiff:
            ratios.append(f"tifffile/ours {tiff / ours:5.1f}x")
        if cat:
            ratios.append(f"ours/cat {ours / cat:4.2f}x")
        print(
            f"{case:<26}{fmt(ours):>17}{fmt(tiff):>13}{fmt(zarr_t):>15}{fmt(cat):>13}   "
            + ", ".join(ratios)
        )
    full = rows[-1]
    print(
        f"full read: {nbytes / full[1] / 1e9:.1f} GB/s ours, {nbytes / full[4] / 1e9:.1f} GB/s cat"
    )

    # Memory while iterating fields, in a fresh process so earlier buffers don't hide it.
    rois = tuple(
        RoiSpec(name=f"r{i}", center_xy=(10.0 * i, 0.0), size_xy=(6.0, 6.0), pixels_xy=(256, 256))
        for i in range(4)
    )
    mroi_dir = args.dir / f"mroi_p{args.pages // 4}"
    (mroi_path,) = make_file(mroi_dir, args.pages // 4, 256, "mroi", rois)
    probe = subprocess.run(
        [sys.executable, __file__, "--iterate", str(mroi_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    print(probe.stdout.strip())


if __name__ == "__main__":
    main()
