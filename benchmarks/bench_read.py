"""Reader speed against tifffile and `cat`, side by side in one run.

Writes a synthetic single-ROI ScanImage file (default 4,000 pages of 512x512
int16, 2.1 GB, into /tmp once) with the package's own writer, then times, warm
(file in the page cache) and median over --repeats:

- open + num_frames: our read_scan vs tifffile TiffFile(...).series[0].shape
- first frame (including open) and a random frame (file already open), vs
  tifffile's page read (pages already loaded) and a copy out of a memory map of
  the same page (what the reader did before issue 13)
- full read of the field into a reused, pre-faulted buffer, vs
  tifffile asarray(out=...), tifffile aszarr() through zarr, and `cat FILE > /dev/null`
- full read of the field into a new array, vs one sequential read of the whole
  file into a new buffer (np.fromfile), the floor for reading those bytes
- one field (1 of 4 ROIs) of an mROI scan: only its rows are read
- heap memory while iterating every field of a 4-ROI mROI scan, and peak memory
  of one full field read (a fresh process each)

    python benchmarks/bench_read.py [--pages 4000] [--size 512] [--repeats 5] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import gc
import io
import mmap
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
from common import cat, median_time, synthetic_scan

from napari_scanimage import read_scan
from napari_scanimage.testing import RoiSpec


def per_call(func, calls, repeats):
    """Median over ``repeats`` of the mean time of ``calls`` calls in a row."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            func()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


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


def high_water_mb() -> float:
    """Peak resident memory of this process (VmHWM: not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


def peak_of_full_read(path: str) -> None:
    """Peak resident memory of reading one whole field into a new array."""
    scan = read_scan(path)
    before = high_water_mb()
    data = scan.read_field(0)
    grew = high_water_mb() - before
    print(
        f"full field read ({data.nbytes / 1e6:.0f} MB array): peak resident memory grew "
        f"{grew:.0f} MB ({grew / (data.nbytes / 1e6):.2f}x the array)"
    )


def read_whole_file_into(path, buffer) -> None:
    """One sequential read of the file's first ``buffer.nbytes`` bytes into ``buffer``."""
    view = memoryview(buffer).cast("B")
    with open(path, "rb", buffering=0) as fh:
        done = 0
        while done < len(view):
            done += fh.readinto(view[done : done + (1 << 28)]) or len(view)


class MappedPages:
    """A copy out of a read-only memory map: how the reader worked before issue 13."""

    def __init__(self, path, scan):
        self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        index = scan._source.readers[0].index
        self._offsets, self._shape = index.data_offsets, (index.height, index.width)
        self._dtype = index.dtype

    def page(self, i):
        view = np.ndarray(self._shape, self._dtype, self._map, int(self._offsets[i]))
        return view.copy()

    def close(self):
        self._map.close()
        self._file.close()


class CountingFile(io.RawIOBase):
    """A file whose reads are counted: what tifffile asks of the disk."""

    def __init__(self, path):
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self.reads = 0

    def readinto(self, buffer):
        self.reads += 1
        return self._file.readinto(buffer)

    def seek(self, offset, whence=0):
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def readable(self):
        return True

    def seekable(self):
        return True

    def close(self):
        self._file.close()
        super().close()


def count_reads(path) -> tuple[int, int]:
    """System calls that read, ours against tifffile's, to open, count frames, read frame 1."""
    calls = [0]
    pread, preadv = os.pread, os.preadv

    def counted(real):
        def call(*args):
            calls[0] += 1
            return real(*args)

        return call

    os.pread, os.preadv = counted(pread), counted(preadv)
    try:
        scan = read_scan(path)
        assert scan.num_frames > 0
        scan[0, :, :, 0, 0]
        scan.close()
    finally:
        os.pread, os.preadv = pread, preadv
    counting = CountingFile(path)
    with tifffile.TiffFile(counting) as tif:
        assert tif.series[0].shape
        tif.pages[0].asarray()
    return calls[0], counting.reads


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--iterate"]:
        iterate_fields(sys.argv[2])
        return
    if argv is None and sys.argv[1:2] == ["--peak"]:
        peak_of_full_read(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/napari-scanimage-bench"))
    args = parser.parse_args(argv)
    repeats = args.repeats

    (path,) = synthetic_scan(
        args.dir / f"p{args.pages}_s{args.size}", args.pages, args.size, "bench"
    )
    nbytes = path.stat().st_size
    cat(path)  # warm the cache
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
    mapped = MappedPages(path, scan)
    reader = scan._source.readers[0]
    shape = (1, args.size, args.size)

    def one_page():
        page = np.array([rng.randrange(args.pages)])
        reader.read(page, slice(None), slice(None), np.empty(shape, scan.file_dtype))

    def tiff_page():
        return tif.pages[rng.randrange(args.pages)].asarray()

    calls = 200  # per timing: single calls after gc.collect() measure a cold CPU cache
    frame_rows = [
        (
            "random frame (open file)",
            per_call(lambda: scan[0, :, :, 0, rng.randrange(scan.num_frames)], calls, repeats),
            per_call(tiff_page, calls, repeats),
            None,
            None,
        ),
        (
            "  read_field, one frame",
            per_call(
                lambda: scan.read_field(0, frames=[rng.randrange(scan.num_frames)]),
                calls,
                repeats,
            ),
            per_call(tiff_page, calls, repeats),
            None,
            None,
        ),
        (
            "  one page, reader level",
            per_call(one_page, calls, repeats),
            None,
            per_call(lambda: mapped.page(rng.randrange(args.pages)), calls, repeats),
            None,
        ),
    ]
    rows.extend(frame_rows)
    mapped.close()
    buffer = np.ones((scan.num_frames, 1, args.size, args.size), dtype=scan.dtype)  # pre-faulted
    flat = buffer.reshape(scan.num_frames, args.size, args.size)
    rows.append((
        "full read of the field",
        median_time(lambda: scan.read_field(0, out=buffer), repeats),
        median_time(lambda: tifffile.TiffFile(path).asarray(out=flat), repeats),
        median_time(lambda: zarr_read(path, slice(None)), max(1, repeats // 2)),
        median_time(
            lambda: cat(path),
            repeats,
        ),
    ))  # fmt: skip
    full_new = median_time(lambda: scan.read_field(0), repeats)
    fromfile = median_time(lambda: np.fromfile(path, dtype=np.uint8), repeats)
    readinto = median_time(lambda: read_whole_file_into(path, buffer), repeats)
    scan.read_field(0, frames=[args.pages - 1], out=buffer[:1])
    np.testing.assert_array_equal(buffer[0, 0], tif.pages[args.pages - 1].asarray())
    tif.close()

    print(
        f"\nfile: {path.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB, warm page cache, median of {repeats} "
        "(of 200 calls each for frames)"
    )
    print(f"{'case':<26}{'napari-scanimage':>17}{'tifffile':>13}{'tifffile+zarr':>15}{'cat':>13}")
    print(f"{'':<26}{'':>17}{'':>13}{'(mmap copy)':>15}")
    for case, ours, tiff, zarr_t, cat_t in rows:
        ratios = []
        if tiff:
            ratios.append(f"tifffile/ours {tiff / ours:5.1f}x")
        if cat_t:
            ratios.append(f"ours/cat {ours / cat_t:4.2f}x")
        if case.startswith("  one page") and zarr_t:
            ratios.append(f"ours/mmap copy {ours / zarr_t:4.2f}x")
        print(
            f"{case:<26}{fmt(ours):>17}{fmt(tiff):>13}{fmt(zarr_t):>15}{fmt(cat_t):>13}   "
            + ", ".join(ratios)
        )
    full = rows[-1]
    print(
        f"full read: {nbytes / full[1] / 1e9:.1f} GB/s ours, {nbytes / full[4] / 1e9:.1f} GB/s cat"
    )
    print(
        f"full read into the pre-faulted buffer: ours {fmt(full[1]).strip()} vs one sequential "
        f"readinto of the same bytes {fmt(readinto).strip()}: {full[1] / readinto:4.2f}x"
    )
    print(
        f"full read into a new array: ours {fmt(full_new).strip()} vs np.fromfile of the whole "
        f"file {fmt(fromfile).strip()}: ours/fromfile {full_new / fromfile:4.2f}x, "
        f"ours/cat {full_new / full[4]:4.2f}x"
    )

    # Memory while iterating fields, in a fresh process so earlier buffers don't hide it.
    rois = tuple(
        RoiSpec(name=f"r{i}", center_xy=(10.0 * i, 0.0), size_xy=(6.0, 6.0), pixels_xy=(256, 256))
        for i in range(4)
    )
    mroi_dir = args.dir / f"mroi_p{args.pages // 4}"
    (mroi_path,) = synthetic_scan(mroi_dir, args.pages // 4, 256, "mroi", rois)
    cat(mroi_path)
    mroi = read_scan(mroi_path)
    with tifffile.TiffFile(mroi_path) as mtif:
        pages = mtif.pages
        len(pages)
        y0 = mroi.fields[1].yslices[0].start
        height = mroi.field_heights[1]

        def tifffile_field():
            stack = np.empty((len(pages), height, 256), np.int16)
            for i, page in enumerate(pages):
                stack[i] = page.asarray()[y0 : y0 + height, :256]
            return stack

        ours_field = median_time(lambda: mroi.read_field(1), repeats)
        tiff_field = median_time(tifffile_field, max(1, repeats // 2))
    field_mb = mroi.read_field(1).nbytes / 1e6
    print(
        f"one field of 4 (mROI, {mroi.num_frames} frames, {field_mb:.0f} MB of "
        f"{mroi_path.stat().st_size / 1e6:.0f} MB): ours {fmt(ours_field).strip()}, tifffile "
        f"(whole pages, then rows) {fmt(tiff_field).strip()}: {tiff_field / ours_field:.1f}x"
    )
    ours, theirs = count_reads(path)
    print(
        f"reads to open + num_frames + first frame: ours {ours} system calls "
        f"(pread/preadv), tifffile {theirs} file reads (series[0].shape, pages[0])"
    )
    for mode, target in (("--iterate", mroi_path), ("--peak", path)):
        probe = subprocess.run(
            [sys.executable, __file__, mode, str(target)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(probe.stdout.strip())


if __name__ == "__main__":
    main()
