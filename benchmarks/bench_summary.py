"""Summary images (mean, max, std, correlation) against one sequential read of the same bytes.

Writes a synthetic single-ROI ScanImage file once (default 4,200 frames of
512x512 int16, 2.2 GB) with the package's own writer (page by page, memory
bounded), then times, warm (file in the page cache) and median over --repeats,
side by side in one run:

- ``np.fromfile`` of the field's bytes into a new buffer (the floor the targets use)
- ``cat FILE > /dev/null``
- ``Scan.read_field`` of every frame in chunks into one reused buffer
- ``summary_images`` with the mean only, and with all four kinds (one pass)

and reports the peak memory (tracemalloc) of the four kinds, in chunks.

Then the first summary in a new process (every CLI run is one): fresh processes
each time their first ``summary_images`` call on a ``--fresh-frames`` field (1,000
frames of 512x512 by default) and then the same call again (warm), with the
kernel compiled ahead (a library built into a cache folder of this run first,
see ``scan/sums_library.py``) and with numba only (``NAPARI_SCANIMAGE_KERNEL_CACHE=off``:
numba's import and on-disk cache, as before issue 25), rows in turn round by round.

Targets (issue 16): all four kinds <= 2x the sequential read; the mean alone <= 1.3x.
Issue 25: the first image in a new process <= 1.5x the same call in a warm process.

    python benchmarks/bench_summary.py [--folder /tmp/bench_summary] [--frames 4200]
        [--size 512] [--repeats 3] [--chunk-frames 32] [--fresh-frames 1000]
        [--fresh-runs 5] [--fresh-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from common import cat, synthetic_scan, timings

from napari_scanimage import read_scan
from napari_scanimage.scan.summary_images import KINDS, WORKERS, summary_images


def read_chunks(scan, chunk):
    height, width = scan.field_heights[0], scan.field_widths[0]
    buffer = np.empty((chunk, 1, height, width), scan.dtype)
    for start in range(0, scan.num_frames, chunk):
        frames = range(start, min(start + chunk, scan.num_frames))
        scan.read_field(0, channels=[0], frames=frames, out=buffer[: len(frames)])


FRESH_KINDS = (("mean",), ("max",), ("std",), ("correlation",), KINDS)


def probe(path: str, kinds: str) -> None:
    """In a fresh process: the first call, then the same call warm; prints JSON seconds."""
    scan = read_scan(path)
    chosen = tuple(kinds.split(","))
    times = []
    for _ in range(2):
        start = time.perf_counter()
        summary_images(scan, 0, 0, chosen)
        times.append(time.perf_counter() - start)
    modules = sorted({m.split(".")[0] for m in sys.modules} & {"numba", "llvmlite"})
    print(json.dumps({"first": times[0], "warm": times[1], "modules": modules}))


def fresh_process_table(folder: Path, frames: int, size: int, runs: int) -> None:
    """First summary in a new process against the same call warm, library vs numba only."""
    from napari_scanimage.scan import sums_build, sums_library

    (path,) = synthetic_scan(folder / f"fresh_{frames}", frames, size, "fresh")
    cat(path)
    cache = folder / "kernel-cache"
    modes = {"compiled library": str(cache), "numba only": "off"}
    os.environ["NAPARI_SCANIMAGE_KERNEL_CACHE"] = str(cache)
    library = sums_library.library_path(read_scan(path).dtype)
    if library is not None and not library.exists():
        print(f"building {library.name} ...", file=sys.stderr)
        sums_build.build(read_scan(path).dtype, library)
    if library is None or not library.exists():
        print("no compiled library on this machine: numba only", file=sys.stderr)
        del modes["compiled library"]
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for run in range(runs):
        rows = [(mode, ",".join(kinds)) for mode in modes for kinds in FRESH_KINDS]
        for mode, kinds in rows if run % 2 == 0 else reversed(rows):
            env = dict(os.environ, NAPARI_SCANIMAGE_KERNEL_CACHE=modes[mode])
            done = subprocess.run(
                [sys.executable, __file__, "--probe", str(path), kinds],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            results.setdefault((mode, kinds), []).append(json.loads(done.stdout))
    print(
        f"\nfirst summary in a new process, {frames} frames of {size}x{size}, warm page "
        f"cache; median of {runs} fresh processes (load {os.getloadavg()[0]:.2f})"
    )
    print(f"{'kernel':<18}{'kinds':<28}{'first':>9}{'warm':>9}{'first/warm':>12}  loaded")
    for (mode, kinds), probes in results.items():
        first = statistics.median(p["first"] for p in probes)
        warm = statistics.median(p["warm"] for p in probes)
        ratio = statistics.median(p["first"] / p["warm"] for p in probes)
        loaded = ", ".join(probes[0]["modules"]) or "-"
        print(f"{mode:<18}{kinds:<28}{first:8.3f}s{warm:8.3f}s{ratio:11.2f}x  {loaded}")


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/bench_summary"))
    parser.add_argument("--frames", type=int, default=4200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-frames", type=int, default=32)
    parser.add_argument("--fresh-frames", type=int, default=1000)
    parser.add_argument("--fresh-runs", type=int, default=5)
    parser.add_argument("--fresh-only", action="store_true", help="only the new-process table")
    args = parser.parse_args()
    if args.fresh_only:
        fresh_process_table(args.folder, args.fresh_frames, args.size, args.fresh_runs)
        return

    (path,) = synthetic_scan(args.folder, args.frames, args.size, "summary")
    scan = read_scan(path)
    height, width = scan.field_heights[0], scan.field_widths[0]
    nbytes = scan.num_frames * height * width * scan.file_dtype.itemsize
    first_page = int(scan._source.readers[0].index.data_offsets[0])
    print(f"{path}: {scan.num_frames} frames of {height}x{width} {scan.file_dtype}, "
          f"field {nbytes / 1e9:.2f} GB; warm page cache; {args.repeats} runs each")  # fmt: skip
    cat(path)  # warm the cache

    def fromfile():
        data = np.fromfile(path, dtype=np.uint8, count=nbytes, offset=first_page)
        assert data.size == nbytes
        del data

    chunk = args.chunk_frames
    other = 2 if WORKERS == 1 else 1  # the default's alternative, side by side

    def summary(kinds, workers=None):
        return lambda: summary_images(scan, 0, 0, kinds, chunk_frames=chunk, workers=workers)

    rows = [
        ("np.fromfile (new buffer)", fromfile),
        ("cat > /dev/null", lambda: cat(path)),
        (f"read_field, chunks of {chunk}", lambda: read_chunks(scan, chunk)),
        ("summary: mean", summary(("mean",))),
        ("summary: max", summary(("max",))),
        ("summary: mean+std", summary(("mean", "std"))),
        ("summary: all four", summary(KINDS)),
        (f"summary: all four, {other} thread(s)", summary(KINDS, workers=other)),
    ]
    results = {}
    for name, func in rows:
        runs = timings(func, args.repeats)
        results[name] = statistics.median(runs)
        print(f"  {name}: " + ", ".join(f"{t:.3f}" for t in runs), file=sys.stderr)
    floor = results["np.fromfile (new buffer)"]
    reads = results[f"read_field, chunks of {chunk}"]
    print(f"\n{'':30} {'median':>9} {'x fromfile':>11} {'x read_field':>13} {'GB/s':>7}")
    for name, seconds in results.items():
        print(f"{name:30} {seconds:8.3f}s {seconds / floor:10.2f}x {seconds / reads:12.2f}x "
              f"{nbytes / seconds / 1e9:7.2f}")  # fmt: skip
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    summary(KINDS)()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    chunk_bytes = chunk * height * width * scan.dtype.itemsize
    print(f"\npeak memory, all four: {peak / 1e6:.1f} MB = {peak / chunk_bytes:.1f} chunks of "
          f"{chunk} frames ({peak / nbytes * 100:.2f}% of the field)")  # fmt: skip
    mean_ratio = results["summary: mean"] / floor
    all_ratio = results["summary: all four"] / floor
    verdict = {True: "met", False: "NOT met"}
    print(
        f"\ntargets: mean {mean_ratio:.2f}x (<= 1.3x: {verdict[mean_ratio <= 1.3]}), "
        f"all four {all_ratio:.2f}x (<= 2x: {verdict[all_ratio <= 2]}); "
        f"{WORKERS} thread(s) sum the rows unless said, one more reads"
    )
    fresh_process_table(args.folder, args.fresh_frames, args.size, args.fresh_runs)


if __name__ == "__main__":
    main()
