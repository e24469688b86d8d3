"""Reading a recording from S3 and HTTP: our reader against tifffile over fsspec and `fs.cat`.

Writes a synthetic 2-ROI, 2-channel ScanImage file (default 5,000 frames, 10,000
pages of 64 x 80 int16, 130 MB) once, serves it from moto's S3 in server
mode and from a threaded HTTP server that honours Range requests (the servers
of ``tests/remote``), each with 0 and 20 ms added to every request, and
measures on the same object, side by side (medians over --repeats):

- open + num_frames + first frame: ``read_scan(url)``, vs tifffile over
  ``fs.open`` (``len(tif.pages)``, page 1)
- one frame of every field and channel (a napari step, without prefetch), vs
  tifffile reading that frame's pages
- a whole field (ROI 1, channel 1), vs tifffile reading every page of channel 1
- the floor: one ``fs.cat`` of the whole object

For each: requests and bytes the server answered, seconds, and time against the
floor.  moto reads the whole object for every ranged GET (its server-side cost
grows with the object, not the range), so on S3 the requests and bytes are the
numbers to compare; the HTTP server reads only the range, as real servers do.
Then napari-style stepping through frames with the background prefetch at 20 ms
latency, against the same steps on the local file.

    python benchmarks/bench_remote.py [--frames 5000] [--repeats 3] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.remote.servers import MotoS3, RangeServer

from napari_scanimage import read_scan
from napari_scanimage.lazy import FieldArray
from napari_scanimage.lazy.prefetch import prefetcher
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

ROIS = (
    RoiSpec(name="a", center_xy=(-4.0, 0.0), size_xy=(8.0, 4.0), pixels_xy=(64, 32)),
    RoiSpec(name="b", center_xy=(4.0, 0.0), size_xy=(8.0, 4.0), pixels_xy=(64, 32)),
)


def measure(traffic, func, repeats, setup=None):
    """Median (seconds, requests, bytes) of ``func`` over ``repeats`` runs."""
    runs = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        traffic.requests.clear()
        start = time.perf_counter()
        func()
        seconds = time.perf_counter() - start
        runs.append((seconds, traffic.count, traffic.bytes))
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))


def ours(url, options):
    def open_first():
        scan = read_scan(url, storage_options=options)
        assert scan.num_frames > 0
        scan[0, :, :, 0, 0]

    scan = read_scan(url, storage_options=options)
    ahead = prefetcher(scan)
    ahead.ahead = ahead.behind = 0  # the step alone
    layers = [FieldArray(scan, f, c) for f in range(scan.num_fields) for c in range(2)]
    frame = iter(range(7, 10**9, 13))

    def step():
        t = next(frame) % scan.num_frames
        for layer in layers:
            layer[t]

    return {
        "open + frames + frame 1": open_first,
        "one frame, all fields": step,
        "a whole field": lambda: scan.read_field(0, channels=[0]),
    }


class Theirs:
    """tifffile over ``fs.open``: each measurement starts from a file opened and indexed."""

    def __init__(self, fs, path, rows):
        self.fs, self.path, self.rows = fs, path, rows
        self.tif = None
        self.frame = iter(range(7, 10**9, 13))

    def reopen(self):
        """Untimed: a fresh file object with its pages indexed (as our scan is)."""
        if self.tif is not None:
            self.tif.filehandle.close()
        self.tif = tifffile.TiffFile(self.fs.open(self.path))
        self.count = len(self.tif.pages)

    def open_first(self):
        with self.fs.open(self.path) as fh, tifffile.TiffFile(fh) as tif:
            assert len(tif.pages) > 0
            tif.pages[0].asarray()

    def step(self):
        t = next(self.frame) % (self.count // 2)
        for page in (2 * t, 2 * t + 1):
            data = self.tif.pages[page].asarray()
            for r in self.rows:
                data[r]

    def field(self):
        self.tif.asarray(key=range(0, self.count, 2))[:, self.rows[0]]

    def operations(self):
        return {
            "open + frames + frame 1": (self.open_first, None),
            "one frame, all fields": (self.step, self.reopen),
            "a whole field": (self.field, self.reopen),
        }


def stepping(arrays, frames, dwell):
    """Median seconds of one step (every layer's frame), ``dwell`` s of viewing after each."""
    times = []
    for t in frames:
        start = time.perf_counter()
        for layer in arrays:
            np.asarray(layer[t])
        times.append(time.perf_counter() - start)
        time.sleep(dwell)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/napari-scanimage-bench-remote"))
    args = parser.parse_args()
    folder = args.dir / f"frames{args.frames}-64x32"
    path = folder / "remote_00001.tif"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        spec = ScanSpec(rois=ROIS, channels=(1, 2), num_frames=args.frames, seed=2)
        print(f"writing {args.frames} frames to {folder} ...", file=sys.stderr)
        write_scan(folder, spec, stem="remote", keep_truth=False)
    size = path.stat().st_size
    local = read_scan(str(path))
    rows = [f.yslices[0] for f in local.fields]
    print(
        f"{path.name}: {local.num_frames} frames x {local.num_channels} channels "
        f"({2 * local.num_frames} pages of {local.page_height}x{local.page_width}), "
        f"{local.num_fields} fields, {size / 1e6:.0f} MB"
    )

    s3 = MotoS3().start()
    s3fs = s3.filesystem()
    s3fs.mkdir("bench")
    s3fs.put(str(path), f"bench/{path.name}")
    http = RangeServer(path.parent).start()
    import fsspec

    backends = {
        "s3": (s3.traffic, f"s3://bench/{path.name}", s3.options, s3fs, f"bench/{path.name}"),
        "http": (
            http.traffic,
            f"{http.url}/{path.name}",
            {},
            fsspec.filesystem("http"),
            f"{http.url}/{path.name}",
        ),
    }
    header = (
        f"{'server':6} {'latency':>7}  {'operation':26} {'reader':9} {'requests':>8} "
        f"{'MB':>8} {'time':>10} {'x cat':>7} {'x ours':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, (traffic, url, options, fs, fspath) in backends.items():
        for latency in (0.0, 0.02):
            traffic.latency = latency
            floor = measure(traffic, lambda fs=fs, p=fspath: fs.cat_file(p), args.repeats)
            print(
                f"{name:6} {latency * 1e3:5.0f}ms  {'whole object (floor)':26} {'fs.cat':9} "
                f"{floor[1]:8.0f} {floor[2] / 1e6:8.1f} {floor[0] * 1e3:8.1f}ms {1:7.2f}"
            )
            mine = ours(url, options)
            other = Theirs(fs, fspath, rows).operations()
            for op, func in mine.items():
                a = measure(traffic, func, args.repeats)
                b = measure(traffic, *other[op][:1], args.repeats, setup=other[op][1])
                for reader, (sec, req, nbytes) in (("ours", a), ("tifffile", b)):
                    print(
                        f"{name:6} {latency * 1e3:5.0f}ms  {op:26} {reader:9} {req:8.0f} "
                        f"{nbytes / 1e6:8.2f} {sec * 1e3:8.1f}ms {sec / floor[0]:7.2f} "
                        f"{sec / a[0]:7.2f}"
                    )
        traffic.latency = 0.0

    print("\nnapari steps (every field and channel of one frame), median of 30 steps:")
    local_layers = [FieldArray(local, f, c) for f in range(local.num_fields) for c in range(2)]
    for dwell in (0.0, 0.05):
        base = stepping(local_layers, range(100, 131), dwell)
        for name, (traffic, url, options, _, _) in backends.items():
            traffic.latency = 0.02
            scan = read_scan(url, storage_options=options)
            layers = [FieldArray(scan, f, c) for f in range(scan.num_fields) for c in range(2)]
            remote = stepping(layers, range(100, 131), dwell)
            traffic.latency = 0.0
            print(
                f"  {name:5} 20 ms latency, {dwell * 1e3:3.0f} ms viewing between steps: "
                f"{remote * 1e3:7.2f} ms per step; local file {base * 1e3:6.2f} ms "
                f"({remote / base:.1f}x)"
            )
    s3.stop()
    http.stop()


if __name__ == "__main__":
    main()
