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
