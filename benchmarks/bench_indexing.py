"""scanreader-style indexing against its floor, ``read_field`` of the same frames.

Pipelines ported from atlab/scanreader read ``scan[field, :, :, channel, t]``
frame by frame, or ``scan[field, :, :, channel, a:b]`` in blocks.  Both must cost
what the reading primitive :meth:`Scan.read_field` costs for the same frames
(target: within 1.1x).  Timed side by side, warm page cache, on

- a full 512x512 field,
- one ROI of a 4-ROI mROI scan (its rows only), and
- the same 4 ROIs joined side by side into one field (``join_contiguous=True``),

for one frame read again and again (pure per-call overhead), a random frame and
a random block of ``--block`` frames.  Each round times both ways in turn
(order alternating) for ``--calls`` calls each; the table gives the medians over
``--rounds`` rounds and the ratio.  tifffile's ``pages[i].asarray()`` and one
bare ``os.preadv`` of the page's bytes are shown for the full field, for scale.

    python benchmarks/bench_indexing.py [--pages 1000] [--rounds 15] [--calls 100] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np
import tifffile
from common import cat, synthetic_scan

from napari_scanimage import read_scan
from napari_scanimage.testing import RoiSpec


def per_call(func, args_list):
    """Mean seconds per call of ``func(*args)`` over ``args_list``."""
    gc.collect()
    start = time.perf_counter()
    for args in args_list:
        func(*args)
    return (time.perf_counter() - start) / len(args_list)


def side_by_side(funcs, make_args, rounds, calls):
    """Per-call seconds of each of ``funcs`` timed in turn within every round (same arguments).

    Returns the medians over rounds, and the median of each round's ratio of
    every func to the last one (paired: robust to the machine's drift).
    """
    times = [[] for _ in funcs]
    for r in range(rounds):
        args_list = [make_args() for _ in range(calls)]
        order = list(range(len(funcs)))
        if r % 2:
            order.reverse()
        for i in order:
            times[i].append(per_call(funcs[i], args_list))
    ratios = [statistics.median(a / b for a, b in zip(t, times[-1], strict=True)) for t in times]
    return [statistics.median(t) for t in times], ratios


def us(seconds):
    return f"{seconds * 1e6:8.1f} µs"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--block", type=int, default=16)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/napari-scanimage-bench"))
    args = parser.parse_args(argv)

    (full,) = synthetic_scan(args.dir / f"idx_full_p{args.pages}", args.pages, 512, "full")
    rois = tuple(
        RoiSpec(name=f"r{i}", center_xy=(6.0 * i, 0.0), size_xy=(6.0, 6.0), pixels_xy=(256, 256))
        for i in range(4)
    )
    (mroi,) = synthetic_scan(args.dir / f"idx_mroi_p{args.pages}", args.pages, 256, "mroi", rois)
    cat(full)
    cat(mroi)
    cases = [
        ("full 512x512", read_scan(full), 0),
        ("mROI, 1 of 4 ROIs", read_scan(mroi), 1),
        ("mROI, 4 ROIs joined", read_scan(mroi, join_contiguous=True), 0),
    ]
    rng = random.Random(0)
    block = args.block
    rows = []
    for name, scan, field in cases:
        n = scan.num_frames
        shape = f"{scan.field_heights[field]}x{scan.field_widths[field]}"

        def one_index(t, scan=scan, field=field):
            return scan[field, :, :, 0, t]

        def one_read(t, scan=scan, field=field):
            return scan.read_field(field, 0, [t])

        def block_index(a, scan=scan, field=field):
            return scan[field, :, :, 0, a : a + block]

        def block_read(a, scan=scan, field=field):
            return scan.read_field(field, 0, range(a, a + block))

        np.testing.assert_array_equal(one_index(3), one_read(3)[0, 0])
        np.testing.assert_array_equal(block_index(5), block_read(5)[:, 0].transpose(1, 2, 0))
        forms = [
            ("same frame", one_index, one_read, lambda: (7,)),
            ("random frame", one_index, one_read, lambda n=n: (rng.randrange(n),)),
            (f"random {block} frames", block_index, block_read,
             lambda n=n: (rng.randrange(n - block),)),
        ]  # fmt: skip
        for form, index, read, make in forms:
            (ours, floor), (ratio, _) = side_by_side([index, read], make, args.rounds, args.calls)
            rows.append((f"{name} ({shape})", form, ours, floor, ratio))

    # For scale: tifffile and one bare system call, for one frame of the full field.
    with tifffile.TiffFile(full) as tif:
        len(tif.pages)  # index every page first
        scan = cases[0][1]
        offsets = scan._source.readers[0].index.data_offsets
        fd = os.open(full, os.O_RDONLY)
        try:

            def preadv(t):
                page = np.empty((512, 512), np.int16)
                os.preadv(fd, [page], int(offsets[t]))
                return page

            def tiff(t):
                return tif.pages[t].asarray()

            def index(t):
                return scan[0, :, :, 0, t]

            scale, _ = side_by_side(
                [index, tiff, preadv], lambda: (rng.randrange(scan.num_frames),), args.rounds,
                args.calls,
            )  # fmt: skip
        finally:
            os.close(fd)

    print(
        f"\n{args.pages} pages per file, warm page cache, channel 0; medians of {args.rounds} "
        f"rounds of {args.calls} calls, each way timed in turn"
    )
    print(
        f"{'field':<31}{'frames':<19}{'scan[f,:,:,c,t]':>16}{'read_field':>14}"
        f"{'ratio':>8}   (ratio: median of the rounds' ratios)"
    )
    for field, form, ours, floor, ratio in rows:
        print(f"{field:<31}{form:<19}{us(ours):>16}{us(floor):>14}{ratio:7.2f}x")
    ours, tiff_t, raw = scale
    print(
        f"random frame of the full field: scan[0, :, :, 0, t] {us(ours).strip()}, tifffile "
        f"pages[t].asarray() {us(tiff_t).strip()} ({tiff_t / ours:.1f}x ours), one bare "
        f"os.preadv of its bytes {us(raw).strip()} (ours/preadv {ours / raw:.2f}x)"
    )


if __name__ == "__main__":
    main()
