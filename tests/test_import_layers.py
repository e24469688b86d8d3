"""The package's layers import one way: format -> scan -> lazy -> export -> napari.

Read from the source (every import that runs: at module level or inside a
function; imports under ``TYPE_CHECKING`` are left out, as they never run).
The one sanctioned reach upward is ``Scan``'s convenience methods (``to_zarr``,
``to_nwb``, dask arrays), which import the upper layers when called.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
PACKAGE = "napari_scanimage"
FACADE = ("napari_scanimage.scan.scan", ("napari_scanimage.export", "napari_scanimage.lazy"))
LAYERS = ["format", "scan", "lazy", "export", "_napari"]
"""Lowest first: a module may import its own layer and those before it."""
GUI = ("napari", "qtpy", "magicgui", "superqt", "vispy", "PyQt5", "PyQt6", "PySide2", "PySide6")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(body: list[ast.stmt]):
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            yield from _runtime_imports(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            for name in ("body", "orelse", "handlers", "finalbody"):
                yield from _runtime_imports(getattr(node, name, []))


def _graph() -> dict[str, set[str]]:
    """Each module's imports (of the package's modules and of others, by full name)."""
    files = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in _runtime_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            submodules = {f"{base}.{a.name}" for a in node.names} & files.keys()
            found.update(submodules or {base})
        graph[name] = found
    return graph


GRAPH = _graph()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE and parts[1] in LAYERS else None


def _sanctioned(source: str, target: str) -> bool:
    return source == FACADE[0] and target.startswith(FACADE[1])


def test_the_graph_was_read():
    assert "napari_scanimage.format.header" in GRAPH["napari_scanimage.scan.source"]
    assert "napari_scanimage.format.legacy_header" in GRAPH["napari_scanimage.format.header"]
    assert "napari_scanimage.export" in GRAPH["napari_scanimage.scan.scan"]  # the facade


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        for target in targets
        if _layer(source) and _layer(target)
        if LAYERS.index(_layer(target)) > LAYERS.index(_layer(source))
        if not _sanctioned(source, target)
    ]
    assert upward == []


def test_no_import_cycles():
    """Cycles through lazy imports too: the format readers, the panels and their widget."""
    inside = {
        source: {t for t in targets if t in GRAPH and not _sanctioned(source, t)}
        for source, targets in GRAPH.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(inside[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(inside):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("layer", ["format", "scan", "lazy", "export"])
def test_the_core_imports_no_gui(layer):
    gui = [
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        if _layer(source) == layer
        for target in targets
        if target.split(".")[0] in GUI
    ]
    assert gui == []
