"""The summing kernel compiled ahead into a shared library: same sums as numba, no numba.

Building a library takes numba a few seconds and a C compiler; the tests that
need one build it once (int16) into a temporary cache folder.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from napari_scanimage.scan import sums_build, sums_library
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.scan.summary_images import KINDS, summary_images
from napari_scanimage.testing import RoiSpec, ScanSpec

SCAN = Path(sums_library.__file__).parent
INT16 = np.dtype(np.int16)
needs_linux = pytest.mark.skipif(
    sums_library._machine_key() is None, reason="compiled kernels need Linux's /proc/cpuinfo"
)
needs_compiler = pytest.mark.skipif(
    shutil.which(os.environ.get("CC") or "cc") is None, reason="no C compiler to link with"
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_sums_and_kernel_share_constants_one_way():
    kernel = imported_modules(SCAN / "running_sums_kernel.py")
    sums = imported_modules(SCAN / "running_sums.py")
    assert "napari_scanimage.scan.sum_planes" in kernel
    assert "napari_scanimage.scan.sum_planes" in sums
    assert not any("running_sums" in name and "kernel" not in name for name in kernel)
    assert not any("running_sums_kernel" in name for name in sums)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "kernels"
    monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(folder))
    monkeypatch.setattr(sums_library, "_requested", set())
    monkeypatch.setattr(sums_library, "_loaded", {})
    monkeypatch.setattr(sums_library, "_builders", [])
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A cache folder holding the int16 library, built once for this module."""
    folder = tmp_path_factory.mktemp("built-kernels")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(folder))
        path = sums_library.library_path(INT16)
        assert path is not None
        sums_build.build(INT16, path)
    return folder


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    for off in ("off", "0", ""):
        monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", off)
        assert sums_library.cache_folder() is None
        assert sums_library.library_path(INT16) is None
    monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(tmp_path))
    assert sums_library.cache_folder() == tmp_path
    monkeypatch.delenv("NAPARI_SCANIMAGE_KERNEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sums_library.cache_folder() == tmp_path / "xdg" / "napari-scanimage"


@needs_linux
def test_one_library_per_dtype_machine_and_kernel_source(cache):
    path = sums_library.library_path(INT16)
    assert path is not None
    assert path.parent == cache
    assert path.name.endswith("-int16.so")
    assert sums_library.library_path(np.dtype(np.float32)).name.endswith("-float32.so")
    assert sums_library.library_path(np.dtype(">i2")) is None  # the kernel reads native order
    assert sums_library.library_path(np.dtype(np.complex64)) is None


def test_no_library_elsewhere_than_linux(cache, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    sums_library._machine_key.cache_clear()
    sums_library._version_key.cache_clear()
    try:
        assert sums_library.library_path(INT16) is None
        assert not sums_library.request_build(INT16)
    finally:
        monkeypatch.undo()
        sums_library._machine_key.cache_clear()
        sums_library._version_key.cache_clear()


class FakePopen:
    started: ClassVar[list[list[str]]] = []

    def __init__(self, command, **options):
        FakePopen.started.append(command)
        self.running = True
        assert options["start_new_session"]
        assert str(SCAN.parents[1]) in options["env"]["PYTHONPATH"].split(os.pathsep)

    def poll(self):
        return None if self.running else 0


@needs_linux
def test_without_a_library_numba_sums_and_one_build_starts(cache, monkeypatch):
    from napari_scanimage.scan.running_sums_kernel import add_rows

    FakePopen.started = []
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    assert sums_library.add_rows_for(INT16) is add_rows
    assert sums_library.add_rows_for(INT16) is add_rows
    path = sums_library.library_path(INT16)
    assert FakePopen.started == [
        [sys.executable, "-m", "napari_scanimage.scan.sums_build", "int16", str(path)]
    ]
    assert path.with_suffix(".building").exists()  # until the build ends
    assert len(sums_library._builders) == 1
    sums_library._builders[0].running = False
    sums_library.add_rows_for(INT16)
    assert sums_library._builders == []  # a finished build is reaped


@needs_linux
def test_builds_are_not_doubled_nor_retried_after_failing(cache, monkeypatch):
    FakePopen.started = []
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    path = sums_library.library_path(INT16)
    cache.mkdir()
    marker = path.with_suffix(".building")
    marker.touch()  # another process is building it
    assert not sums_library.request_build(INT16)
    monkeypatch.setattr(sums_library, "_requested", set())
    old = time.time() - 3600
    os.utime(marker, (old, old))  # ... or was killed an hour ago
    assert sums_library.request_build(INT16)
    marker.unlink()
    monkeypatch.setattr(sums_library, "_requested", set())
    path.with_suffix(".failed").write_text("RuntimeError: no compiler\n")
    assert not sums_library.request_build(INT16)
    assert len(FakePopen.started) == 1


@needs_linux
def test_a_failed_build_leaves_a_note_and_no_library(cache, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setattr(os, "nice", lambda _: 0, raising=False)
    path = sums_library.library_path(INT16)
    cache.mkdir()
    path.with_suffix(".building").touch()
    assert sums_build.main(["int16", str(path)]) == 1
    assert "no C compiler" in path.with_suffix(".failed").read_text()
    assert not path.with_suffix(".building").exists()
    assert not path.exists()
    assert sums_library.load(INT16) is None


@needs_linux
@needs_compiler
def test_the_library_sums_exactly_as_numba(built, monkeypatch, write):
    monkeypatch.setattr(sums_library, "_loaded", {})
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(23, 17)),), num_frames=41, content="cells")
    scan = read_scan(write(spec).paths)
    expected = summary_images(scan, 0, chunk_frames=8, workers=2)  # numba: cache off
    monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(built))
    assert isinstance(sums_library.add_rows_for(INT16), sums_library.CompiledAddRows)
    for workers in (1, 2, 3):
        ours = summary_images(scan, 0, chunk_frames=8, workers=workers)
        for kind in KINDS:
            np.testing.assert_array_equal(ours[kind], expected[kind])


@needs_linux
@needs_compiler
def test_wrong_arguments_raise_instead_of_corrupting_memory(built, monkeypatch):
    monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(built))
    kernel = sums_library.load(INT16)
    assert kernel is not None
    chunk = np.zeros((3, 4, 5), np.int16)
    good = {
        "chunk": chunk, "shift": np.zeros((4, 5), np.float32), "first": 0, "step": 1,
        "totals": np.zeros((6, 4, 5)), "peak": np.zeros((4, 5), np.int16),
        "scratch": np.zeros((8, 5), np.float32),
    }  # fmt: skip
    kernel(**good)
    bad = {
        "chunk": [chunk.astype(np.int32), np.zeros((3, 4, 10), np.int16)[:, :, ::2]],
        "shift": [np.zeros((4, 5)), np.zeros((5, 4), np.float32)],
        "totals": [np.zeros((7, 4, 5)), np.zeros((6, 4, 5), np.float32)],
        "peak": [np.zeros((4, 4), np.int16), np.zeros((4, 5), np.uint16)],
        "scratch": [np.zeros((7, 5), np.float32)],
        "step": [0],
        "first": [-1],
    }
    read_only = np.zeros((6, 4, 5))
    read_only.flags.writeable = False
    bad["totals"].append(read_only)
    for name, values in bad.items():
        for value in values:
            with pytest.raises(ValueError, match="wrong dtype, shape or memory order"):
                kernel(**{**good, name: value})


@needs_linux
@needs_compiler
def test_a_new_process_sums_without_numba(built, write, tmp_path):
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(16, 12)),), num_frames=20, content="cells")
    paths = [str(p) for p in write(spec).paths]
    expected = summary_images(read_scan(paths), 0, chunk_frames=6)  # numba: cache off
    script = (
        "import json, sys, numpy as np\n"
        "from napari_scanimage import read_scan\n"
        "from napari_scanimage.scan.summary_images import summary_images\n"
        f"images = summary_images(read_scan({paths!r}), 0, chunk_frames=6)\n"
        f"np.savez({str(tmp_path / 'ours.npz')!r}, **images)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numba', 'llvmlite'))))\n"
    )
    env = dict(os.environ, NAPARI_SCANIMAGE_KERNEL_CACHE=str(built))
    env["PYTHONPATH"] = os.pathsep.join([str(SCAN.parents[1]), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
    ours = np.load(tmp_path / "ours.npz")
    for kind in KINDS:
        np.testing.assert_array_equal(ours[kind], expected[kind])


@needs_linux
@needs_compiler
def test_a_library_others_could_write_is_never_loaded(built, monkeypatch, tmp_path):
    """Machine code every summing process runs: a shared folder could plant one."""
    monkeypatch.setattr(sums_library, "_loaded", {})
    monkeypatch.setenv("NAPARI_SCANIMAGE_KERNEL_CACHE", str(built))
    path = sums_library.library_path(INT16)
    assert sums_library.load(INT16) is not None
    monkeypatch.setattr(sums_library, "_loaded", {})
    for item, mode in ((path, 0o775), (built, 0o777)):
        before = item.stat().st_mode & 0o777
        item.chmod(mode)
        try:
            assert sums_library.load(INT16) is None
        finally:
            item.chmod(before)
    assert sums_library.load(INT16) is not None


@needs_linux
@needs_compiler
def test_a_build_that_fails_its_check_never_appears_in_the_cache(cache, monkeypatch):
    path = sums_library.library_path(INT16)
    seen = []

    def failing_check(dtype, built):
        seen.append((built.exists(), path.exists()))
        raise RuntimeError("the library's sums differ from numba's")

    monkeypatch.setattr(sums_build, "_check", failing_check)
    with pytest.raises(RuntimeError, match="differ"):
        sums_build.build(INT16, path)
    assert seen == [(True, False)]  # checked where it was built, never in the cache
    assert not path.exists()
