"""The summing kernel compiled ahead of time into a shared library: sums without numba.

A new process pays 0.5-1.5 s to import numba and load its cached kernel,
longer than summarising a 1,000-frame field takes once loaded, and every CLI
run is a new process.  So the kernel is also compiled ahead, once per machine
and kernel version, into a small shared library (numba's own machine code for
it, linked by the C compiler; see :mod:`~napari_scanimage.scan.sums_build`)
kept in a cache folder.  A new process loads it with ctypes in a millisecond,
and ctypes releases the GIL during the call, as numba's ``nogil`` does.

The first process on a machine sums with numba and starts the build in a
background process; later processes find the library.  Without a C compiler,
a cache folder or Linux (the library is tuned to this CPU, and Linux tells
which CPU it is without loading LLVM), numba stays the only way, as before.

``NAPARI_SCANIMAGE_KERNEL_CACHE`` names the cache folder (default
``$XDG_CACHE_HOME/napari-scanimage`` or ``~/.cache/napari-scanimage``);
``off`` turns compiled libraries off (numba only, nothing built).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DTYPES",
    "ENTRY",
    "CompiledAddRows",
    "add_rows_for",
    "cache_folder",
    "library_path",
    "load",
    "request_build",
]

DTYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64")
"""Pixel types a library can be built for (one library each, built when first needed)."""

ENTRY = "napari_scanimage_add_rows"
"""The library's exported function: ``add_rows`` with arrays passed as pointers."""

_FORMAT = "1"  # bump when the library's calling convention changes
_SOURCES = ("running_sums_kernel.py", "sum_planes.py", "sums_build.py")
_STALE_BUILD_SECONDS = 600  # a build marker older than this was left by a killed build
_CPU_KEYS = ("model name", "flags", "cpu model", "isa", "features", "cpu implementer", "cpu part")
_requested: set[Path] = set()
_builders: list[Any] = []  # running builds, kept so they are not reported as leaked


def cache_folder() -> Path | None:
    """Where compiled libraries live; None when they are turned off."""
    setting = os.environ.get("NAPARI_SCANIMAGE_KERNEL_CACHE")
    if setting is not None:
        off = setting.strip().lower() in ("", "0", "off", "no", "false")
        return None if off else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "napari-scanimage"


@functools.cache
def _machine_key() -> str | None:
    """The CPU's model and features as Linux reports them; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            first_cpu = fh.read().split("\n\n")[0]
    except OSError:
        return None
    lines = [line for line in first_cpu.splitlines() if line.lower().startswith(_CPU_KEYS)]
    return "\n".join([os.uname().machine, *lines]) if lines else None


@functools.cache
def _version_key() -> str | None:
    """A digest of the kernel's sources and this machine: a new one means a new library."""
    machine = _machine_key()
    if machine is None:
        return None
    digest = hashlib.sha256(f"{_FORMAT}\n{machine}".encode())
    try:
        for name in _SOURCES:
            digest.update(Path(__file__).with_name(name).read_bytes())
    except OSError:  # sources not on disk (a zipped install): build nothing
        return None
    return digest.hexdigest()[:16]


def library_path(dtype: np.dtype[Any]) -> Path | None:
    """The library for chunks of ``dtype`` on this machine; None where there can be none."""
    folder, key = cache_folder(), _version_key()
    if folder is None or key is None or dtype.name not in DTYPES or not dtype.isnative:
        return None
    return folder / f"sums-{key}-{dtype.name}.so"


class CompiledAddRows:
    """``running_sums_kernel.add_rows`` from a compiled library: same arguments, checked.

    The library trusts its pointers, so every array is checked first (dtype,
    shape, C order, writable outputs): a wrong argument raises ``ValueError``
    instead of corrupting memory.
    """

    def __init__(self, function: Any, dtype: np.dtype[Any]) -> None:
        self._function = function
        self.dtype = dtype
        self.shift_dtype = np.dtype(np.float64 if dtype == np.float64 else np.float32)

    def __call__(
        self,
        chunk: np.ndarray,
        shift: np.ndarray,
        first: int,
        step: int,
        totals: np.ndarray,
        peak: np.ndarray,
        scratch: np.ndarray,
    ) -> None:
        """Fold rows ``first::step`` of ``chunk`` into ``totals`` and ``peak``."""
        frames, height, width = chunk.shape
        planes = totals.shape[0]
        fine = (
            _is(chunk, self.dtype, (frames, height, width))
            and _is(shift, self.shift_dtype, (height, width))
            and _is(totals, np.dtype(np.float64), (planes, height, width), out=True)
            and planes <= 6
            and _is(peak, self.dtype, peak.shape, out=True)
            and peak.shape in ((height, width), (0, 0))
            and _is(scratch, np.dtype(np.float32), (8, width), out=True)
            and first >= 0
            and step >= 1
        )
        if not fine:
            raise ValueError("add_rows: arguments of the wrong dtype, shape or memory order")
        self._function(
            chunk.ctypes.data, frames, height, width, shift.ctypes.data, first, step,
            totals.ctypes.data, planes, peak.ctypes.data, *peak.shape, scratch.ctypes.data,
        )  # fmt: skip


def _is(
    array: np.ndarray, dtype: np.dtype[Any], shape: tuple[int, ...], out: bool = False
) -> bool:
    flags = array.flags
    return (
        array.dtype == dtype
        and array.shape == shape
        and bool(flags.c_contiguous)
        and (bool(flags.writeable) or not out)
    )


_loaded: dict[Path, CompiledAddRows] = {}


def load(dtype: np.dtype[Any], path: Path | None = None) -> CompiledAddRows | None:
    """The compiled ``add_rows`` for ``dtype``, if its library was built; else None.

    ``path`` loads a library from elsewhere (the build checks one before moving it
    into the cache).  A library that another user could have written is refused.
    """
    cached = path is None
    path = library_path(dtype) if path is None else path
    if path is None:
        return None
    if cached and path in _loaded:
        return _loaded[path]
    if not path.is_file() or not _ours(path):
        return None
    import ctypes  # noqa: PLC0415 - only with a library to load

    try:
        function = getattr(ctypes.CDLL(str(path)), ENTRY)
    except (OSError, AttributeError):  # damaged or foreign: numba instead
        return None
    function.restype = None
    function.argtypes = [
        ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
    ]  # fmt: skip
    compiled = CompiledAddRows(function, dtype)
    if cached:
        _loaded[path] = compiled
    return compiled


def _ours(path: Path) -> bool:
    """Whether this user owns the library and its folder and no one else can write them.

    A library is machine code every summing process runs: one planted in a shared
    or group-writable cache folder must never be loaded.
    """
    if not hasattr(os, "getuid"):
        return True  # no POSIX owners to check (such systems build no library anyway)
    try:
        for item in (path, path.parent):
            status = item.stat()
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def add_rows_for(dtype: np.dtype[Any]) -> Callable[..., None]:
    """The summing kernel for chunks of ``dtype``: the compiled library, else numba's.

    Falling back to numba also starts building the library for next time.
    """
    _builders[:] = [b for b in _builders if b.poll() is None]  # reap finished builds
    compiled = load(dtype)
    if compiled is not None:
        return compiled
    from napari_scanimage.scan import running_sums_kernel  # noqa: PLC0415 - numba is slow to import

    request_build(dtype)
    kernel: Callable[..., None] = running_sums_kernel.add_rows
    return kernel


def request_build(dtype: np.dtype[Any]) -> bool:
    """Start building the library for ``dtype`` in a background process; True if started.

    At most one build per library runs at a time on a machine (a marker file
    says one is under way), and a build that failed is not tried again
    (delete the cache folder to retry).
    """
    path = library_path(dtype)
    if path is None or path in _requested or path.exists() or getattr(sys, "frozen", False):
        return False  # (a frozen app's executable is not a Python that could build)
    _requested.add(path)
    marker = path.with_suffix(".building")
    if path.with_suffix(".failed").exists() or not _claim(marker):
        return False
    import subprocess  # noqa: PLC0415 - only the first process on a machine builds

    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    try:
        _builders.append(
            subprocess.Popen(
                [sys.executable, "-m", "napari_scanimage.scan.sums_build", dtype.name, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # outlives a short CLI run
            )
        )
    except OSError:
        marker.unlink(missing_ok=True)
        return False
    return True


def _claim(marker: Path) -> bool:
    """Create the build marker; False if another build holds a fresh one."""
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                return True
            except FileExistsError:
                if time.time() - marker.stat().st_mtime < _STALE_BUILD_SECONDS:
                    return False
                marker.unlink(missing_ok=True)  # left by a build that was killed
    except OSError:  # no writable cache folder
        return False
    return False
