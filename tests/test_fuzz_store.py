"""Property-based fuzzing of the store reader: any edit to a store we wrote ends in our error
or in layers napari accepts, fast and small (issue 22).

Stores of NGFF 0.4 and 0.5 (plain, multi-depth, an old-generation scan without a size
in µm) have their ``.zattrs``, ``.zarray``, ``.zgroup`` and ``zarr.json`` files edited:
values replaced by nasty ones, keys deleted, lists shuffled, nesting deepened, files
truncated, garbled, made huge, or replaced by a FIFO, a folder or a link out of the
store.  Each input is opened by the reader hook, read into layers (a frame of each read)
and shown as napari ``Image`` layers; only :class:`ScanImageError` may escape, within
time and memory, and every layer's contrast limits, scale and translation are finite.

Set NAPARI_SCANIMAGE_FUZZ_EXAMPLES to run more inputs (as for ``test_fuzz.py``), and
NAPARI_SCANIMAGE_FUZZ_REPORT to a path to get a JSON report (``<path>.stores.json``)
with the number of inputs, the slowest, the peak memory traced per input and the
process's peak resident memory.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import json
import math
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import dask
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from napari.layers import Image

from napari_scanimage import ScanImageError, read_scan
from napari_scanimage._napari._store_view import StoreView
from napari_scanimage._napari._zarr_reader import (
    StoreContents,
    napari_get_zarr_reader,
    store_layer_data,
)
from napari_scanimage.export import to_zarr
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan
from napari_scanimage.testing_legacy import LegacySpec, write_legacy_scan

EXAMPLES = int(os.environ.get("NAPARI_SCANIMAGE_FUZZ_EXAMPLES", "15"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed by hand below: shared CI machines make deadlines flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TIME_LIMIT_S = 5.0
HANG_S = 120.0
"""An input still running after this long is a hang: the process dumps its stacks and exits."""
MEMORY_LIMIT_MB = 100.0
STATS = {
    "inputs": 0,
    "slowest_s": 0.0,
    "slowest_case": "",
    "peak_mb": 0.0,
    "rss_growth_mb": 0.0,
    "rss_growth_case": "",
    "peak_rss_mb": 0.0,
    "outcomes": {},
}
WORK = Path(tempfile.mkdtemp(prefix="napari-scanimage-store-fuzz-"))
_METADATA = (".zattrs", ".zarray", ".zgroup", "zarr.json")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return math.nan
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _report() -> None:
    target = os.environ.get("NAPARI_SCANIMAGE_FUZZ_REPORT")
    if target and STATS["inputs"]:
        report = {**STATS, "baseline_rss_mb": BASELINE, "exit_rss_mb": round(_current_rss_mb(), 1)}
        print(f"store fuzz: {report}", file=sys.stderr)
        Path(target).with_suffix(".stores.json").write_text(json.dumps(report, indent=2))


atexit.register(_report)


def _base(name: str, ngff: str) -> tuple[Path, list[str]]:
    """A store we wrote, and its metadata files (relative paths)."""
    folder = WORK / f"src-{name}"
    folder.mkdir()
    if name.startswith("legacy"):
        scan = read_scan(write_legacy_scan(folder, LegacySpec(generation="4.x")).path)
    elif name.startswith("fastz"):
        rois = (RoiSpec(name="a", pixels_xy=(12, 8)), RoiSpec(name="b", center_xy=(8.0, 0.0)))
        spec = ScanSpec(rois=rois, channels=(1, 2), num_frames=4, stack="fast", zs=(0.0, 5.0))
        scan = read_scan(write_scan(folder, spec).paths)
    else:
        rois = (RoiSpec(pixels_xy=(16, 8)), RoiSpec(name="b", center_xy=(9, 0), pixels_xy=(8, 8)))
        scan = read_scan(
            write_scan(folder, ScanSpec(rois=rois, channels=(1, 2), num_frames=5)).paths
        )
    store = to_zarr(scan, WORK / f"{name}.zarr", ngff=ngff, chunk_frames=2, compression="zstd")
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.name in _METADATA)
    for data, kwargs, _ in store_layer_data(store):  # imports and caches, before any timing
        Image(data, **kwargs)
    return store, files


BASES = {
    "mroi-0.4": _base("mroi-04", "0.4"),
    "mroi-0.5": _base("mroi-05", "0.5"),
    "fastz-0.4": _base("fastz-04", "0.4"),
    "fastz-0.5": _base("fastz-05", "0.5"),
    "legacy-0.4": _base("legacy-04", "0.4"),
    "legacy-0.5": _base("legacy-05", "0.5"),
}
BASELINE = round(_peak_rss_mb(), 1)
"""Peak resident memory before any input (napari, Qt, dask and zarr imported)."""
NASTY = [
    None, True, False, 0, -1, 1, 2, 3, 5, 7, 2**31, 2**63, 10**8, -(10**8), 10**400, 0.5,
    1e308, -1e308, math.nan, math.inf, -math.inf, "NaN", "Infinity", "-Infinity", "", "0",
    "x", "../..", "/dev/zero", "é\x00", [], {}, [0], [1, 2], [[0, 1]], [None, None],
    {"a": 1}, {"start": math.nan, "end": math.inf},
]  # fmt: skip
_value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.sampled_from(NASTY[:20]), max_size=6),
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a JSON value (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


def _edit_json(data: st.DataObject, value: object) -> str:
    """One edit somewhere in a JSON value (the text returned): replace, delete, shuffle,
    grow or deepen."""
    where = data.draw(st.sampled_from(_paths(value)))
    action = data.draw(st.sampled_from(["replace", "delete", "reverse", "append", "deepen"]))
    if not where:
        return json.dumps(data.draw(_value) if action == "replace" else [value])
    parent = value
    for key in where[:-1]:
        parent = parent[key]
    key = where[-1]
    target = parent[key]
    if action == "delete":
        del parent[key]
    elif action == "reverse" and isinstance(target, list):
        target.reverse()
    elif action == "append" and isinstance(target, list):
        target.append(data.draw(_value) if not target else target[-1])
    elif action == "deepen":  # spliced in as text: json itself cannot write 5000 levels
        depth = data.draw(st.sampled_from([2, 40, 70, 900, 5000]))
        parent[key] = "<deep>"
        deep = "[" * depth + json.dumps(target) + "]" * depth
        return json.dumps(value).replace('"<deep>"', deep, 1)
    else:
        parent[key] = data.draw(_value)
    return json.dumps(value)


def _damage_file(data: st.DataObject, path: Path) -> None:
    """Replace a whole file: cut, garbled, empty, huge, deep, or not a regular file at all."""
    raw = path.read_bytes()
    kind = data.draw(
        st.sampled_from(["cut", "bytes", "empty", "huge", "deep", "fifo", "dir", "devzero", "out"])
    )
    if kind in ("fifo", "dir", "devzero", "out"):
        path.unlink()
    if kind == "cut":
        path.write_bytes(raw[: data.draw(st.integers(0, len(raw)))])
    elif kind == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=64)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge":
        with path.open("r+b") as f:
            f.truncate(data.draw(st.sampled_from([16 * 2**20 + 1, 100 * 2**20])))
    elif kind == "deep":
        depth = data.draw(st.sampled_from([100, 10_000, 200_000]))
        path.write_text("{" + '"a":{' * depth + "}" * (depth + 1))
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    else:
        outside = WORK / "outside.json"
        outside.write_bytes(raw)
        path.symlink_to(outside)


@contextlib.contextmanager
def _restored(store: Path, files: list[str]):
    """Put every metadata file back as it was, whatever replaced it."""
    saved = {name: (store / name).read_bytes() for name in files}
    try:
        yield
    finally:
        for name, raw in saved.items():
            path = store / name
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            elif path.is_symlink() or path.exists() or _is_fifo(path):
                path.unlink()
            path.write_bytes(raw)


def _is_fifo(path: Path) -> bool:
    try:
        return path.is_fifo()
    except OSError:
        return False


def _exercise(store: Path, case: str) -> None:
    """Open as napari would; only our own errors may escape, within time and memory."""
    faulthandler.dump_traceback_later(HANG_S, exit=True)
    rss_before = _peak_rss_mb()
    if not tracemalloc.is_tracing():  # (a test run alone, without the module's fixture)
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    outcome = "declined"
    error: ScanImageError | None = None
    try:
        if napari_get_zarr_reader(str(store)) is not None:  # never raises
            outcome = "opened"
            layers = store_layer_data(store)
            for data, kwargs, _ in layers:
                low, high = kwargs["contrast_limits"]
                assert math.isfinite(low), case
                assert math.isfinite(high), case
                assert low < high, case
                assert all(math.isfinite(v) for v in (*kwargs["scale"], *kwargs["translate"]))
                if data.shape[0]:  # as napari reads: whole blocks, dask's fusion off
                    with dask.config.set({"optimization.fuse.active": False}):
                        np.asarray(data[data.shape[0] - 1])
                Image(data, cache=False, **kwargs)  # (napari's cache would fill the memory)
            view = StoreView(StoreContents(store))
            view.summary_text()
            view.field_choices()
    except ScanImageError as exc:
        outcome, error = type(exc).__name__, exc
    finally:
        elapsed = time.perf_counter() - start
        peak = (tracemalloc.get_traced_memory()[1] - before) / 1e6
        faulthandler.cancel_dump_traceback_later()
    if error is not None:
        assert str(error).startswith(str(store.resolve())), str(error)  # names the store
    STATS["inputs"] += 1
    STATS["outcomes"][outcome] = STATS["outcomes"].get(outcome, 0) + 1
    STATS["peak_mb"] = max(STATS["peak_mb"], round(peak, 1))
    STATS["peak_rss_mb"] = round(_peak_rss_mb(), 1)  # the process's, napari and Qt included
    growth = _peak_rss_mb() - rss_before  # allocations tracemalloc does not see (C libraries)
    if growth > STATS["rss_growth_mb"]:
        STATS["rss_growth_mb"], STATS["rss_growth_case"] = round(growth, 1), case
    if elapsed > STATS["slowest_s"]:
        STATS["slowest_s"], STATS["slowest_case"] = round(elapsed, 3), case
    assert elapsed < TIME_LIMIT_S, f"{case} took {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT_MB, f"{case} allocated {peak:.0f} MB"


@pytest.fixture(autouse=True, scope="module")
def _traced():
    """Memory traced over the whole module, the peak reset per input: starting and stopping
    tracemalloc around every input grows the process by ~100 kB each time (its own cost)."""
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_edited_metadata(base, data):
    """One to three edits inside the JSON of metadata files."""
    store, files = BASES[base]
    with _restored(store, files):
        edits = []
        for _ in range(data.draw(st.integers(1, 3))):
            name = data.draw(st.sampled_from(files))
            with contextlib.suppress(RecursionError, ValueError):  # already made unreadable
                value = json.loads((store / name).read_text())
                (store / name).write_text(_edit_json(data, value))
                edits.append(name)
        _exercise(store, f"{base}: edited {edits}")


@pytest.mark.parametrize("base", list(BASES))
@FUZZ
@given(data=st.data())
def test_damaged_metadata_files(base, data):
    """A metadata file replaced whole (and maybe a value edited elsewhere)."""
    store, files = BASES[base]
    with _restored(store, files):
        name = data.draw(st.sampled_from(files))
        _damage_file(data, store / name)
        others = [f for f in files if f != name]
        if data.draw(st.booleans()):
            other = store / data.draw(st.sampled_from(others))
            other.write_text(_edit_json(data, json.loads(other.read_text())))
        _exercise(store, f"{base}: {name} replaced")


def test_the_bases_open():
    """Unedited, every base store opens into layers (the fuzzing starts from valid stores)."""
    for store, _ in BASES.values():
        assert store_layer_data(store)
