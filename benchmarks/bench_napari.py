"""napari at recording scale: frame cost vs length, frame steps vs in-memory, first frame.

Run under Xvfb: ``xvfb-run -a python benchmarks/bench_napari.py``.  Prints medians
and ratios; absolute times drift on shared machines.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from napari_scanimage import read_scan
from napari_scanimage._napari._layers import layer_data
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

LENGTHS = [1_000, 10_000, 100_000]
ROIS = (RoiSpec(name="a", pixels_xy=(128, 128)),)


def median_ms(fn, repeat=200):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def frame_costs(folder: Path, lengths: list[int]) -> None:
    print("| frames | layer frame (ms) | read_field (ms) | tifffile page (ms) | layer / 1k |")
    print("|---|---|---|---|---|")
    base = None
    rng = np.random.default_rng(0)
    for n in lengths:
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


def _opener(paths, kind):
    """A function adding the six layers to a viewer: ours from the files, or in memory."""
    if kind == "ours":
        return lambda viewer: viewer.open(paths, plugin="napari-scanimage", stack=True)
    scan = read_scan(paths)
    layers = [(np.asarray(d[...]), kwargs) for d, kwargs, _ in layer_data(scan)]
    return lambda viewer: [viewer.add_image(data, **kwargs) for data, kwargs in layers]


def _timed_open(add, steps=False):
    """ms to the first frame drawn, and the median frame step (ms) if asked."""
    import napari
    from qtpy.QtWidgets import QApplication

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


def _cold_open(folder: Path, kind: str) -> float:
    """The first layers of a fresh process (napari's first-layer costs included), in ms."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bench_napari as b; "
        "print(b._cold_open_here(sys.argv[2], sys.argv[3]))"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, str(folder), kind],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def _cold_open_here(folder: str, kind: str) -> float:
    return _timed_open(_opener(_steps_scan(Path(folder)), kind))[0]


def _steps_scan(folder: Path):
    """Files of 3 ROIs x 2 channels of 128x128, 1,000 frames (written once per folder)."""
    rois = tuple(RoiSpec(name=k, center_xy=(6.0 * i, 0.0), pixels_xy=(128, 128))
                 for i, k in enumerate("abc"))  # fmt: skip
    (folder / "steps").mkdir(exist_ok=True)
    if not any((folder / "steps").iterdir()):
        write_scan(folder / "steps", ScanSpec(rois=rois, channels=(1, 2), num_frames=1000))
    return sorted(str(p) for p in (folder / "steps").glob("*.tif"))


def viewer_steps(folder: Path, repeats: int = 5) -> None:
    """Open to first frame drawn, and frame steps, against the same layers in memory.

    Warm opens alternate the two, so neither gains from going second.  The first
    layers in a napari process also pay napari's one-off costs (its unit registry,
    scipy.ndimage for thumbnails); that is measured for both, each in a fresh process.
    """
    paths = _steps_scan(folder)
    cold = {kind: _cold_open(folder, kind) for kind in ("ours", "memory")}
    adders = {kind: _opener(paths, kind) for kind in ("ours", "memory")}
    _, step0 = _timed_open(adders["ours"], steps=True)
    _, step1 = _timed_open(adders["memory"], steps=True)
    opens = {kind: [] for kind in adders}
    for _ in range(repeats):
        for kind in ("memory", "ours"):
            opens[kind].append(_timed_open(adders[kind])[0])
    f0, f1 = (statistics.median(opens[kind]) for kind in ("ours", "memory"))
    c0, c1 = cold["ours"], cold["memory"]
    print("\n| 6 layers, 1,000 frames | ours | in memory | ratio |")
    print("|---|---|---|---|")
    print(f"| open to first frame (ms), median of {repeats} | {f0:.0f} | {f1:.0f} | "
          f"{f0 / f1:.2f}x |")  # fmt: skip
    print(f"| the same, first layers of a new process (ms) | {c0:.0f} | {c1:.0f} | "
          f"{c0 / c1:.2f}x |")  # fmt: skip
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
        frame_costs(Path(tmp), [int(n) for n in sys.argv[1:]] or LENGTHS)
        viewer_steps(Path(tmp))
        follow_latency(Path(tmp))
