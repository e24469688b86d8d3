"""CLI start-up: each command in fresh processes against ``python -c pass`` and ``import numpy``.

Every CLI run is a new process, so what it imports before doing its work is
paid every time.  Targets (issue 25): ``napari-scanimage info FILE`` in
<= 0.3 s wall, and ``convert`` spending <= 0.2 s before its first pixel read.
Rows, each the median of ``--runs`` fresh processes, run in turn round by round
(so a busy spell of the shared machine hits every row alike):

- floors: ``python -c pass`` and ``python -c "import numpy"`` (numpy is the
  least any reading command needs)
- ``python -c "import napari_scanimage"``
- ``napari-scanimage info FILE``: whole run
- ``napari-scanimage convert FILE -o OUT.zarr``: time from spawning the process
  to its first pixel read (a hook wraps the reader's block read; it adds no
  import), and the whole run
- ``napari-scanimage summary FILE --out DIR --kind mean``: the same two times

and, per command, which heavy packages were imported by its end (a command
should import none it doesn't need).  The commands run exactly as the console
script does (``napari_scanimage.cli.main``).  The summary sums with the kernel
compiled ahead into a cache folder of this benchmark (built first if missing).
``--baseline SRC`` adds the package rows once more with ``PYTHONPATH=SRC`` (an
older source tree), in the same rounds.

    python benchmarks/bench_startup.py [--runs 15] [--frames 64] [--dir /tmp/x]
        [--baseline /path/to/old/src]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import cat, synthetic_scan

from napari_scanimage.scan import sums_build, sums_library

HEAVY = (
    "numba", "napari", "qtpy", "PyQt5", "PyQt6", "PySide6", "distributed", "dask", "zarr",
    "tqdm", "PIL", "tifffile", "scipy", "pynwb", "h5py",
)  # fmt: skip

# Runs a CLI command as the console script does, noting (in the file named by
# BENCH_REPORT) seconds from BENCH_T0 to the first pixel read and the heavy
# modules loaded at exit.  The reader is patched when it is first imported,
# through an import hook, so the hook itself imports nothing early.
DRIVER = """
import os, sys, time, json, atexit, importlib.abc, importlib.machinery
T0 = float(os.environ["BENCH_T0"])
REPORT = {"first_read": None}
TARGET = "napari_scanimage.format.page_reader"

class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            original = module.PageReader._read_blocks
            def first(self, *args, **kwargs):
                if REPORT["first_read"] is None:
                    REPORT["first_read"] = time.time() - T0
                return original(self, *args, **kwargs)
            module.PageReader._read_blocks = first
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())

def report():
    REPORT["modules"] = sorted({m.split(".")[0] for m in sys.modules})
    with open(os.environ["BENCH_REPORT"], "w") as fh:
        json.dump(REPORT, fh)

atexit.register(report)
from napari_scanimage.cli import main
sys.argv[0] = "napari-scanimage"
code = main()
report()
sys.exit(code)
"""


def spawn(argv, report_file, cleanup=None, pythonpath=None):
    """Wall seconds of one fresh process, and its report (first read, modules)."""
    if cleanup is not None:
        cleanup()
    env = dict(os.environ, BENCH_REPORT=str(report_file))
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    env["BENCH_T0"] = repr(time.time())  # the child measures its first read from here
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    report_file.unlink(missing_ok=True)
    return wall, report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/napari-scanimage-bench"))
    parser.add_argument("--baseline", help="another source tree to time the same commands with")
    args = parser.parse_args(argv)

    (path,) = synthetic_scan(args.dir / f"startup_p{args.frames}", args.frames, 512, "startup")
    cat(path)
    os.environ["NAPARI_SCANIMAGE_KERNEL_CACHE"] = str(args.dir / "kernel-cache")
    library = sums_library.library_path(np.dtype(np.int16))
    if library is not None and not library.exists():
        sums_build.build(np.dtype(np.int16), library)
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    report_file = work / "report.json"
    out = work / "out.zarr"
    summary_dir = work / "summary"
    python = sys.executable

    def clean_outputs():
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(summary_dir, ignore_errors=True)

    cli = [python, "-c", DRIVER]
    ours = {
        "python -c 'import napari_scanimage'": ([python, "-c", "import napari_scanimage"], None),
        "info FILE": ([*cli, "info", str(path)], None),
        "convert FILE -o OUT.zarr": ([*cli, "convert", str(path), "-o", str(out)], clean_outputs),
        "summary FILE --kind mean": (
            [*cli, "summary", str(path), "--out", str(summary_dir), "--kind", "mean"],
            clean_outputs,
        ),
    }
    rows = {
        "python -c pass": ([python, "-c", "pass"], None, None),
        "python -c 'import numpy'": ([python, "-c", "import numpy"], None, None),
        **{name: (*row, None) for name, row in ours.items()},
    }
    if args.baseline:
        rows.update({f"{name} [baseline]": (*row, args.baseline) for name, row in ours.items()})
    walls = {name: [] for name in rows}
    firsts = {name: [] for name in rows}
    modules = {}
    try:
        for run in range(args.runs):
            names = list(rows) if run % 2 == 0 else list(reversed(rows))
            for name in names:
                command, cleanup, pythonpath = rows[name]
                wall, report = spawn(command, report_file, cleanup, pythonpath)
                walls[name].append(wall)
                if report.get("first_read") is not None:
                    firsts[name].append(report["first_read"])
                if "modules" in report:
                    modules[name] = report["modules"]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = statistics.median(walls["python -c pass"])
    numpy_floor = statistics.median(walls["python -c 'import numpy'"])
    print(
        f"\n{args.runs} fresh processes per row, rows in turn; file {path.name} "
        f"({args.frames} frames of 512x512), warm page cache; {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'command':<49}{'wall':>9}{'- pass':>9}{'- numpy':>9}{'first read':>12}"
        f"   heavy modules loaded"
    )
    for name in rows:
        wall = statistics.median(walls[name])
        first = f"{statistics.median(firsts[name]):9.3f} s" if firsts[name] else ""
        heavy = [m for m in HEAVY if m in modules.get(name, ())]
        loaded = ", ".join(heavy) if name in modules else ""
        print(
            f"{name:<49}{wall:7.3f} s{wall - floor:+8.3f}{wall - numpy_floor:+9.3f}"
            f"{first:>12}   {loaded}"
        )
    info = statistics.median(walls["info FILE"])
    first_convert = statistics.median(firsts["convert FILE -o OUT.zarr"])
    verdict = {True: "met", False: "NOT met"}
    print(
        f"\ntargets: info {info:.3f} s (<= 0.3 s: {verdict[info <= 0.3]}); convert's first "
        f"read after {first_convert:.3f} s (<= 0.2 s: {verdict[first_convert <= 0.2]})"
    )


if __name__ == "__main__":
    main()
