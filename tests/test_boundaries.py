"""The layers stay layers: the core runs without Qt/napari, and imports go one way."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import napari_scanimage

PACKAGE = Path(napari_scanimage.__file__).parent
BLOCKED = ["napari", "magicgui", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy", "npe2"]

# Which of our subpackages each layer may import (format <- scan <- lazy <- front ends);
# every layer may use the base modules (errors, and _text for the sentences users read).
BASE = {"errors", "_text"}
ALLOWED = {
    "format": BASE | {"format"},
    # Scan.to_dask and Scan.to_zarr import lazy and export on demand, as conveniences
    "scan": BASE | {"format", "scan", "lazy", "export"},
    "lazy": BASE | {"format", "scan", "lazy"},
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.rglob("*.py") if _layer(p) in ALLOWED), ids=str
)
def test_imports_point_down(path):
    own = {
        name.split(".")[1]
        for name in _imports(path)
        if name.startswith("napari_scanimage.") and name.count(".") >= 1
    }
    assert own <= ALLOWED[_layer(path)], f"{path.name} imports {own - ALLOWED[_layer(path)]}"


def test_only_the_napari_layer_imports_gui_packages():
    gui = {"napari", "magicgui", "qtpy", "vispy", "superqt", "npe2"}
    for path in PACKAGE.rglob("*.py"):
        if _layer(path) == "_napari":
            continue
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & gui, f"{path} imports {roots & gui}"


def test_core_runs_where_gui_packages_cannot_be_imported(write, tmp_path):
    scan = write()
    script = textwrap.dedent(
        f"""
        import sys
        for name in {BLOCKED!r}:
            sys.modules[name] = None  # makes 'import name' raise ImportError
        import numpy as np
        import napari_scanimage as ns
        from napari_scanimage.cli import main

        scan = ns.read_scan({str(scan.paths[0])!r})
        assert scan[0, :, :, 0, -1].shape == (scan.field_heights[0], scan.field_widths[0])
        dask_array = scan.to_dask(0, 0)
        assert np.array_equal(dask_array[-1].compute(), scan[0, :, :, 0, -1])
        assert main(["info", {str(scan.paths[0])!r}]) == 0
        for name in {BLOCKED!r}:
            assert sys.modules[name] is None, name
        print("core ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "core ok" in result.stdout


def test_the_napari_reader_opens_a_file_without_dask_or_our_kernel(write):
    """dask.array (0.2 s to import) and the compiled summary kernel: not on the way to a frame."""
    scan = write()
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from napari_scanimage._napari._reader import read_scanimage

        (data, kwargs, kind), *_ = read_scanimage({str(scan.paths[0])!r})
        assert kind == "image" and np.asarray(data[0]).ndim == 2
        late = ["dask.array", "napari_scanimage.scan.running_sums_kernel"]
        print("loaded:", [name for name in late if name in sys.modules])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout
