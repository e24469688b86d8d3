"""Build the shared library of the summing kernel (run in a background process).

``python -m napari_scanimage.scan.sums_build DTYPE PATH`` compiles
:func:`~napari_scanimage.scan.running_sums_kernel._add_rows` for one pixel type
with numba, behind a C entry point taking pointers (``ENTRY``), turns numba's
optimised LLVM module into position-independent machine code for this CPU with
llvmlite, and links it with the C compiler (``$CC`` or ``cc``).  The module
declares numba's runtime helpers, reached only on error paths the checked
arguments rule out; stubs that abort stand in for them, so the library needs
neither numba nor Python's C API.  Before the library is moved into place it
must reproduce numba's sums exactly; a build that fails leaves a ``.failed``
note instead, so it is not retried.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from napari_scanimage.scan.sums_library import ENTRY, CompiledAddRows, load

__all__ = ["build", "main"]

_RUNTIME = ("NRT_", "numba_", "Py", "_Py")  # helpers a library cannot reach: stubbed
_HIDDEN = '__attribute__((visibility("hidden"))) '


def _c_entry(dtype: np.dtype[Any]) -> Any:
    """The kernel behind a C signature of pointers and sizes, compiled by numba."""
    import numba  # noqa: PLC0415
    from numba.np.numpy_support import carray  # noqa: PLC0415

    from napari_scanimage.scan.running_sums_kernel import OPTIONS, _add_rows  # noqa: PLC0415

    kernel = numba.njit(_add_rows, **OPTIONS)
    pixel = f"CPointer({dtype.name})"
    shift = "CPointer(float64)" if dtype == np.float64 else "CPointer(float32)"
    sizes = "int64, int64, int64"
    signature = (
        f"void({pixel}, {sizes}, {shift}, int64, int64, CPointer(float64), int64, "
        f"{pixel}, int64, int64, CPointer(float32))"
    )

    def entry(  # pragma: no cover - compiled
        chunk: Any, frames: int, height: int, width: int, shifts: Any, first: int, step: int,
        totals: Any, planes: int, peak: Any, peak_rows: int, peak_cols: int, scratch: Any,
    ) -> None:  # fmt: skip
        kernel(
            carray(chunk, (frames, height, width)), carray(shifts, (height, width)), first, step,
            carray(totals, (planes, height, width)), carray(peak, (peak_rows, peak_cols)),
            carray(scratch, (8, width)),
        )  # fmt: skip

    return numba.cfunc(signature, error_model="numpy", **OPTIONS)(entry)


def _object_code(dtype: np.dtype[Any]) -> tuple[bytes, str]:
    """Machine code for this CPU (position-independent), and C stubs for the runtime helpers."""
    import llvmlite.binding as llvm  # type: ignore[import-untyped]  # noqa: PLC0415

    entry = _c_entry(dtype)
    module = llvm.parse_assembly(entry.inspect_llvm())
    module.get_function(entry.native_name).name = ENTRY
    module.verify()
    stubs = ["#include <stdlib.h>"]
    for function in module.functions:
        if function.is_declaration and function.name.startswith(_RUNTIME):
            stubs.append(f"{_HIDDEN}void {function.name}(void) {{ abort(); }}")
    for variable in module.global_variables:
        if variable.is_declaration and variable.name.startswith(_RUNTIME):
            stubs.append(f"{_HIDDEN}void *{variable.name} = 0;")
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
        opt=3,
        reloc="pic",
        codemodel="default",
    )
    return machine.emit_object(module), "\n".join(stubs) + "\n"


def build(dtype: np.dtype[Any], path: Path) -> Path:
    """Compile, link and check the library for ``dtype``, then move it to ``path``."""
    compiler = shutil.which(os.environ.get("CC") or "cc")
    if compiler is None:
        raise RuntimeError("no C compiler (cc) to link the library with")
    code, stubs = _object_code(dtype)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # ours alone (see _ours)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".build-") as work:
        folder = Path(work)
        (folder / "kernel.o").write_bytes(code)
        (folder / "stubs.c").write_text(stubs)
        built = folder / path.name
        command = [compiler, "-shared", "-fPIC", "-O2", "-o", str(built), "kernel.o", "stubs.c"]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"linking failed: {done.stderr.strip()[-2000:]}")
        os.chmod(built, 0o755)  # the cache refuses libraries others could write
        _check(dtype, built)  # checked where it was built: no process loads it unchecked
        os.replace(built, path)
    return path


def _check(dtype: np.dtype[Any], path: Path) -> None:
    """The library at ``path`` sums as numba does, bit for bit, for every set of planes."""
    from napari_scanimage.scan.running_sums_kernel import add_rows  # noqa: PLC0415

    compiled = load(dtype, path)
    if not isinstance(compiled, CompiledAddRows):
        raise RuntimeError("the library does not load")
    rng = np.random.default_rng(0)
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    low, high = max(float(info.min), -1e4), min(float(info.max), 1e4)
    chunk = rng.uniform(low, high, (37, 9, 13)).astype(dtype)
    shift = np.round(chunk.mean(axis=0)).astype(compiled.shift_dtype)
    for planes in (0, 1, 2, 6):
        for peak_shape in ((9, 13), (0, 0)):
            if planes == 0 and peak_shape == (0, 0):
                continue
            results = []
            for kernel in (compiled, add_rows):
                totals = np.zeros((planes, 9, 13))
                peak = chunk[1].copy() if peak_shape[0] else np.empty((0, 0), dtype)
                for first in range(2):
                    kernel(chunk, shift, first, 2, totals, peak, np.zeros((8, 13), np.float32))
                results.append((totals, peak))
            (ours, our_peak), (numbas, numba_peak) = results
            if not (np.array_equal(ours, numbas) and np.array_equal(our_peak, numba_peak)):
                raise RuntimeError(f"the library's sums differ from numba's ({planes} planes)")


def main(argv: list[str] | None = None) -> int:
    """Build one library (``DTYPE PATH``), noting a failure next to it; returns the status."""
    name, target = argv if argv is not None else sys.argv[1:3]
    path = Path(target)
    if hasattr(os, "nice"):
        os.nice(10)  # a background job: the user's work comes first
    try:
        build(np.dtype(name), path)
    except Exception as exc:  # any failure: note it, numba stays in use
        with open(path.with_suffix(".failed"), "w", encoding="utf-8") as fh:
            fh.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    finally:
        path.with_suffix(".building").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
