"""NWB export speed against reading and copying the same bytes, and against neuroconv.

Writes a synthetic single-ROI ScanImage file (default 2,000 pages of 512x512
int16, 1.05 GB) with the package's own writer, then times, warm (TIFF in the
page cache) and median over --repeats:

- `cat FILE > /dev/null`: the floor for getting the bytes at all
- `cp FILE OUT`: the floor for reading and writing them once (a sister issue's
  target for a conversion is 1.5x this)
- one sequential read of the same bytes: `np.fromfile` of the field's pages into
  a new array (the floor the other benchmarks' targets use); the goal for an
  uncompressed NWB write is 2x this
- `scan.read_field` over the field in the exporter's buffers (reused), the read
  half of the export
- `to_nwb`, uncompressed and gzip (levels 1 and 4, byte shuffle), into a fresh
  file each run (the old one is deleted outside the timing)
- neuroconv's `ScanImageImagingInterface` (`run_conversion`, its default gzip
  and uncompressed), when `--neuroconv-python` points at a Python that has
  neuroconv (keep it out of this environment: `python -m venv /work/venv-neuroconv`
  and `pip install "neuroconv[scanimage]"` there); its pixels are compared with
  ours (neuroconv stores frames transposed, as (frames, x, y))
- gzip on real pixels: the synthetic file is uniform noise, which gzip cannot
  shrink (its worst case for time); the fast-Z recording in the shared test data
  (--real) shows sizes on real two-photon frames

Every write starts after `os.sync()` (untimed), so dirty pages of the last run do
not throttle the next, and the cases take turns round by round, so a busy spell
on a shared machine falls on all of them.

    python benchmarks/bench_nwb.py [--pages 2000] [--size 512] [--repeats 3]
        [--out-dir DIR] [--neuroconv-python /work/venv-neuroconv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
from common import add_export_args, cat, export_scan, median_time

from napari_scanimage import read_scan
from napari_scanimage.export.nwb.plan import ChunkLayout

NEUROCONV = textwrap.dedent("""
    import json, sys, time, warnings
    from datetime import datetime, timezone
    warnings.simplefilter("ignore")
    from neuroconv.datainterfaces import ScanImageImagingInterface
    tiff, out, compress = sys.argv[1], sys.argv[2], sys.argv[3] == "gzip"
    start = time.perf_counter()
    interface = ScanImageImagingInterface(file_path=tiff)
    metadata = interface.get_metadata()
    metadata["NWBFile"]["session_start_time"] = datetime(2021, 11, 5, tzinfo=timezone.utc)
    options = {}
    if not compress:
        nwbfile = interface.create_nwbfile(metadata=metadata)
        config = interface.get_default_backend_configuration(nwbfile=nwbfile, backend="hdf5")
        for dataset in config.dataset_configurations.values():
            dataset.compression_method = None
        options["backend_configuration"] = config
    interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True, **options)
    print(json.dumps({"seconds": time.perf_counter() - start}))
""")


def fromfile(scan, nbytes):
    """The field's bytes into a new array: one sequential read."""
    path = scan.filenames[0]
    first_page = int(scan._source.readers[0].index.data_offsets[0])

    def read():
        data = np.fromfile(path, dtype=np.uint8, count=nbytes, offset=first_page)
        assert data.size == nbytes
        del data

    return read


def buffered_read(scan):
    """The field once, front to back, in the exporter's buffer size."""
    field = scan.fields[0]
    layout = ChunkLayout.of(scan.num_frames, field.height, field.width, scan.dtype.itemsize)
    buffer = np.ones((layout.buffer_frames, 1, field.height, field.width), scan.dtype)

    def read():
        for start in range(0, scan.num_frames, layout.buffer_frames):
            stop = min(start + layout.buffer_frames, scan.num_frames)
            scan.read_field(0, frames=range(start, stop), out=buffer[: stop - start])

    return read


def neuroconv_run(python, tiff, out, compression):
    """Seconds of one conversion (the interface's set-up included, the imports not)."""
    done = subprocess.run(
        [python, "-c", NEUROCONV, str(tiff), str(out), compression],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"neuroconv failed:\n{done.stderr[-2000:]}")
    seconds: float = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def same_pixels_as_neuroconv(ours, theirs):
    """Whether neuroconv's series holds our pixels (it stores each frame transposed)."""
    with h5py.File(ours, "r") as a, h5py.File(theirs, "r") as b:
        (name,) = [n for n in b["acquisition"] if "TwoPhotonSeries" in n]
        mine = a["acquisition/TwoPhotonSeriesField1Ch1/data"]
        other = b["acquisition"][name]["data"]
        if other.shape != (mine.shape[0], mine.shape[2], mine.shape[1]):
            return f"no: shapes {mine.shape} and {other.shape}"
        for start in range(0, mine.shape[0], 256):
            block = slice(start, start + 256)
            if not np.array_equal(mine[block], np.transpose(other[block], (0, 2, 1))):
                return f"no: frames from {start} differ"
    return "yes (transposed)"


def compression_on_real_frames(folder, out, repeats):
    """Time and size of each compression on a real recording's frames."""
    files = sorted(folder.glob("*.tif")) if folder.is_dir() else []
    if not files:
        return None
    scan = read_scan(files)
    raw = scan.num_frames * scan.num_channels * sum(f.height * f.width for f in scan.fields)
    raw *= scan.dtype.itemsize

    def clear():
        out.unlink(missing_ok=True)
        os.sync()

    rows = []
    for name, options in COMPRESSIONS:
        seconds = median_time(lambda options=options: scan.to_nwb(out, **options), repeats, clear)
        rows.append((name, seconds, out.stat().st_size / raw))
    what = f"{folder.name}: {scan.num_fields} fields x {scan.num_channels} channels x "
    what += f"{scan.num_frames} frames of {scan.fields[0].height}x{scan.fields[0].width}"
    return what + f" ({raw / 1e6:.1f} MB); size relative to the pixels' bytes", rows


COMPRESSIONS = [
    ("to_nwb, uncompressed", {"compression": None}),
    ("to_nwb, gzip level 1 + shuffle", {"compression_level": 1}),
    ("to_nwb, gzip level 4 + shuffle (default)", {}),
]
CP = "cp TIFF (read + write floor)"
READ = "one sequential read (np.fromfile)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_args(parser, repeats=3)
    parser.add_argument("--out-dir", type=Path, help="where files are written (default: --dir)")
    parser.add_argument("--neuroconv-python", help="a Python with neuroconv installed")
    shared = Path(__file__).resolve().parents[2] / "shared" / "testdata"
    parser.add_argument(
        "--real",
        type=Path,
        default=shared / "fastz_2ch_flyback_10files",
        help="a real recording for gzip's sizes (skipped when absent)",
    )
    args = parser.parse_args(argv)

    tiff, scan, nbytes = export_scan(args)
    work = Path(tempfile.mkdtemp(prefix="bench-nwb-", dir=args.out_dir or args.dir))
    out, copy, theirs = work / "out.nwb", work / "copy.tif", work / "neuroconv.nwb"

    def clear():
        for path in (out, copy, theirs):
            path.unlink(missing_ok=True)
        os.sync()

    # (name, timed call returning None or its own seconds, setup, file written)
    cases = [
        ("cat TIFF (read floor)", lambda: cat(tiff), None, None),
        (
            CP,
            lambda: subprocess.run(["cp", str(tiff), str(copy)], check=True) and None,
            clear,
            None,
        ),
        (READ, fromfile(scan, nbytes), None, None),
        ("read_field in export buffers", buffered_read(scan), None, None),
    ]
    for name, options in COMPRESSIONS:
        cases.append(
            (name, lambda options=options: scan.to_nwb(out, **options) and None, clear, out)
        )
    if args.neuroconv_python:
        for compression, kind in (("none", "uncompressed"), ("gzip", "gzip (its default)")):
            run = lambda c=compression: neuroconv_run(args.neuroconv_python, tiff, theirs, c)  # noqa: E731
            cases.append((f"neuroconv ScanImage, {kind}", run, clear, theirs))
    times = {name: [] for name, *_ in cases}
    sizes = {}
    real = None
    try:
        scan.to_nwb(out, compression=None)  # pynwb's one-off set-up (imports, namespaces)
        for _ in range(args.repeats):  # round by round: a busy spell falls on every case
            for name, call, setup, written in cases:
                if setup is not None:
                    setup()
                start = time.perf_counter()
                own = call()
                times[name].append(own if own is not None else time.perf_counter() - start)
                if written is not None:
                    sizes[name] = written.stat().st_size
        if args.neuroconv_python:
            kept = work / "ours.nwb"
            scan.to_nwb(kept, compression=None)
            print(f"neuroconv's pixels equal ours: {same_pixels_as_neuroconv(kept, theirs)}")
        real = compression_on_real_frames(args.real, work / "real.nwb", args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cp_time, read_time = statistics.median(times[CP]), statistics.median(times[READ])
    field = scan.fields[0]
    layout = ChunkLayout.of(scan.num_frames, field.height, field.width, scan.dtype.itemsize)
    print(
        f"\nfile: {tiff.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB; chunks {layout.chunk}, buffers of {layout.buffer_frames} "
        f"frames; warm page cache; median of {args.repeats} rounds; output in "
        f"{args.out_dir or args.dir}; {os.cpu_count()} cores"
    )
    print(f"{'case':<46}{'time':>8}{'GB/s':>7}{'x read':>8}{'x cp':>7}{'size':>7}")
    for name, values in times.items():
        seconds, size = statistics.median(values), sizes.get(name)
        stored = f"{size / nbytes:7.0%}" if size else ""
        print(
            f"{name:<46}{seconds:7.2f}s{nbytes / seconds / 1e9:7.2f}"
            f"{seconds / read_time:7.2f}x{seconds / cp_time:6.2f}x{stored:>7}"
        )
    if real:
        print(f"\nreal frames: {real[0]}")
        for name, seconds, ratio in real[1]:
            print(f"{name:<46}{seconds:7.2f}s{ratio:8.0%}")


if __name__ == "__main__":
    main()
