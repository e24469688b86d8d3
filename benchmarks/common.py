"""What every benchmark script shares: timing, a cached synthetic scan, a warm page cache."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

if TYPE_CHECKING:
    from pathlib import Path


def timings(func, repeats, setup=None):
    """Seconds of each of ``repeats`` calls (``setup`` and a GC run before each, untimed)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def median_time(func, repeats, setup=None):
    """Median seconds of :func:`timings`."""
    return statistics.median(timings(func, repeats, setup))


def synthetic_scan(folder: Path, pages: int, size: int, stem: str, rois=None, seed=1):
    """The files of a ``size`` x ``size`` scan in ``folder``, written once and then reused."""
    existing = sorted(folder.glob(f"{stem}_*.tif"))
    if existing:
        return existing
    folder.mkdir(parents=True, exist_ok=True)
    roi = RoiSpec(name="fov", size_xy=(18.0, 18.0), pixels_xy=(size, size))
    spec = ScanSpec(rois=rois or (roi,), num_frames=pages, seed=seed)
    print(f"writing {pages} pages to {folder} ...", file=sys.stderr)
    return list(write_scan(folder, spec, stem=stem, keep_truth=False).paths)


def cat(path: Path) -> None:
    """``cat path > /dev/null``: the floor for reading the bytes, and a warm page cache."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)


def add_export_args(parser, repeats: int = 5) -> None:
    """The arguments of the export benchmarks: the scan's size, rounds and folder."""
    from pathlib import Path

    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "data")


def export_scan(args):
    """``(path, scan, nbytes)``: the export benchmarks' one-file scan, in the page cache."""
    from napari_scanimage import read_scan

    (path,) = synthetic_scan(
        args.dir / f"export_p{args.pages}_s{args.size}", args.pages, args.size, "export", seed=2
    )
    cat(path)  # warm the page cache
    scan = read_scan(path)
    return path, scan, scan.num_frames * args.size * args.size * scan.dtype.itemsize
