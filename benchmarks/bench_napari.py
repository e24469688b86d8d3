"""napari at recording scale: frame cost vs length, frame steps vs in-memory, first frame.

Run under Xvfb: ``xvfb-run -a python benchmarks/bench_napari.py``.  Prints medians
and ratios; absolute times drift on shared machines.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from napari_scanimage import read_scan
from napari_scanimage._napari._layers import layer_data
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

LENGTHS = [int(n) for n in sys.argv[1:]] or [1_000, 10_000, 100_000]
ROIS = (RoiSpec(name="a", pixels_xy=(128, 128)),)


def median_ms(fn, repeat=200):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def frame_costs(folder: Path) -> None:
    print("| frames | layer frame (ms) | read_field (ms) | tifffile page (ms) | layer / 1k |")
    print("|---|---|---|---|---|")
    base = None
    rng = np.random.default_rng(0)
    for n in LENGTHS:
        sub = folder / f"n{n}"
        sub.mkdir()
        written = write_scan(sub, ScanSpec(rois=ROIS, num_frames=n))
        scan = read_scan(written.paths)
        ((data, _, _),) = layer_data(scan, contrast=False)
        picks = iter(rng.integers(0, n, 10_000).tolist())
        layer = median_ms(lambda d=data, p=picks: np.asarray(d[next(p)]))
        field = median_ms(lambda s=scan, p=picks: s.read_field(0, [0], [next(p)]))
        with tifffile.TiffFile(written.paths[0]) as tif:
            pages = tif.pages
            pages.cache = True
            page = median_ms(lambda q=pages, p=picks: q[next(p)].asarray(), repeat=50)
        base = base or layer
        print(f"| {n} | {layer:.3f} | {field:.3f} | {page:.3f} | {layer / base:.2f}x |")
        scan.close()


def viewer_steps(folder: Path, repeats: int = 5) -> None:
    """Open to first frame drawn, and frame steps, against the same layers in memory.

    The first open in a process also loads napari's and our plugin modules; it is
    reported on its own, then the two are alternated so neither gains from going second.
    """
    import napari
    from qtpy.QtWidgets import QApplication

    rois = tuple(RoiSpec(name=k, center_xy=(6.0 * i, 0.0), pixels_xy=(128, 128))
                 for i, k in enumerate("abc"))  # fmt: skip
    (folder / "steps").mkdir()
    written = write_scan(folder / "steps", ScanSpec(rois=rois, channels=(1, 2), num_frames=1000))
    scan = read_scan(written.paths)
    memory = [np.asarray(d[...]) for d, _, _ in layer_data(scan, contrast=False)]
    settings = [kwargs for _, kwargs, _ in layer_data(scan)]

    def ours(viewer):
        viewer.open([str(p) for p in written.paths], plugin="napari-scanimage", stack=True)

    def in_memory(viewer):
        for data, kwargs in zip(memory, settings, strict=True):
            viewer.add_image(data, **kwargs)

    def run(add, steps=False):
        viewer = napari.Viewer(show=False)
        QApplication.processEvents()
        start = time.perf_counter()
        add(viewer)
        QApplication.processEvents()
        first = 1e3 * (time.perf_counter() - start)
        times = []
        for t in range(1, 200 if steps else 1):
            s = time.perf_counter()
            viewer.dims.set_point(0, float(t))
            QApplication.processEvents()
            times.append(time.perf_counter() - s)
        viewer.close()
        return first, (1e3 * statistics.median(times) if times else None)

    cold, step0 = run(ours, steps=True)
    _, step1 = run(in_memory, steps=True)
    opens = {ours: [], in_memory: []}
    for _ in range(repeats):
        for add in (in_memory, ours):
            opens[add].append(run(add)[0])
    f0, f1 = (statistics.median(opens[add]) for add in (ours, in_memory))
    print("\n| 6 layers, 1,000 frames | ours | in memory | ratio |")
    print("|---|---|---|---|")
    print(f"| open to first frame (ms), median of {repeats} | {f0:.0f} | {f1:.0f} | "
          f"{f0 / f1:.2f}x |")  # fmt: skip
    print(f"| first open in the process (ms) | {cold:.0f} | | {cold / f1:.2f}x |")
    print(f"| frame step (ms) | {step0:.2f} | {step1:.2f} | {step0 / step1:.2f}x |")


def follow_latency(folder: Path, polls: int = 8) -> None:
    """Seconds from a frame's last byte on disk to the layer showing it, default 1 s poll."""
    from qtpy.QtWidgets import QApplication

    from napari_scanimage._napari._launch import open_viewer
    from napari_scanimage.testing import LiveWriter

    source, live_dir = folder / "follow-src", folder / "follow"
    source.mkdir()
    live_dir.mkdir()
    written = write_scan(source, ScanSpec(rois=ROIS, num_frames=polls + 2))
    with tifffile.TiffFile(written.paths[0]) as tif:
        ends = [p.dataoffsets[0] + p.databytecounts[0] for p in tif.pages]
    live = LiveWriter(written, live_dir)
    live.write_to(ends[0])
    viewer = open_viewer([str(live.targets[0])], show=False, follow=True)
    layer = viewer.layers[0]
    delays = []
    for frame in range(1, polls + 1):
        time.sleep(0.37)  # land anywhere in the poll period
        live.write_to(ends[frame])
        start = time.perf_counter()
        while layer.data.shape[0] <= frame:
            QApplication.processEvents()
            time.sleep(0.002)
        delays.append(time.perf_counter() - start)
    viewer.close()
    print(f"\n| follow, 1 s poll | median {statistics.median(delays):.2f} s | "
          f"max {max(delays):.2f} s | {polls} frames |")  # fmt: skip


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-napari-") as tmp:
        frame_costs(Path(tmp))
        viewer_steps(Path(tmp))
        follow_latency(Path(tmp))
