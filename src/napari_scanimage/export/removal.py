"""Replacing a store (``--overwrite``): delete what the conversion wrote, and nothing else.

A store records what its conversion creates (``written``: its groups, arrays and
plain files).  Before anything is deleted, the whole folder is walked without
following links and every entry must be one of those: a listed node's metadata,
a chunk (or shard) of a listed array, a listed file, a listed folder, or Zarr's
temporary file of an interrupted write.  Anything else (notes, a TIFF, a link, a
FIFO) makes the replacement refuse, naming it.  A store that is itself a
symbolic link is refused too: deleting through it would delete its target's files.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.path_rules import within

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

__all__ = ["Listing", "check_outside", "remove_listed"]

Listing = dict[str, list[str]]
"""``{"groups": [...], "arrays": [...], "files": [...]}``, paths relative to the store."""

_METADATA = frozenset({".zgroup", ".zattrs", ".zarray", "zarr.json"})
_CHUNK = re.compile(r"(c/)?\d+([./]\d+)*|c")
_PARTIAL = re.compile(r"(.+)\.[0-9a-f]{32}\.partial")
"""zarr-python writes a file as ``<name>.<uuid hex>.partial`` and renames it when done."""


def check_outside(files: Sequence[str], store: Path) -> None:
    """Refuse when an input file lies inside the output store (before anything is touched)."""
    root = os.path.realpath(store)
    for name in files:
        real = os.path.realpath(name)
        if within(real, root):
            msg = f"{name}: an input inside the output store {store}; write the store elsewhere"
            raise ExportError(msg)


def remove_listed(store: Path, listing: Listing) -> None:
    """Delete ``store`` when it holds only what ``listing`` names; else refuse, naming a file."""
    if store.is_symlink():
        raise ExportError(f"refusing to replace {store}: it is a symbolic link")
    groups = {_clean(p) for p in listing.get("groups", [])}
    arrays = {_clean(p) for p in listing.get("arrays", [])}
    files = {_clean(p) for p in listing.get("files", [])}
    parents = {_parent(p) for p in (*groups, *arrays, *files)}
    folders = {"", *groups, *arrays}
    for path in list(folders | parents):  # every ancestor of a listed entry
        while path:
            path = _parent(path)
            folders.add(path)
    remove: list[str] = []
    keep_dirs: list[str] = []
    for relative, mode in _walk(str(store)):
        if stat.S_ISDIR(mode):
            ours = relative in folders or _in_array(relative, arrays)
            keep_dirs.append(relative)
        elif stat.S_ISREG(mode):
            ours = _our_file(relative, groups | arrays, arrays, files)
            remove.append(relative)
        else:
            ours = False
        if not ours:
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not written by its conversion"
            msg = f"refusing to replace {store}: {store / relative} is {kind}"
            raise ExportError(msg)
    for relative in remove:
        os.unlink(store / relative)
    for relative in sorted(keep_dirs, key=len, reverse=True):  # deepest first
        os.rmdir(store / relative)
    os.rmdir(store)


def _walk(root: str) -> Iterator[tuple[str, int]]:
    """(relative path, lstat mode) of everything under ``root``, never through a link."""
    pending = [""]
    while pending:
        folder = pending.pop()
        with os.scandir(os.path.join(root, folder)) as entries:
            for entry in entries:
                relative = f"{folder}/{entry.name}" if folder else entry.name
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    pending.append(relative)
                yield relative, mode


def _our_file(relative: str, nodes: set[str], arrays: set[str], files: set[str]) -> bool:
    partial = _PARTIAL.fullmatch(relative.rsplit("/", 1)[-1])
    if partial is not None:  # an interrupted write of one of ours
        relative = f"{_parent(relative)}/{partial.group(1)}".lstrip("/")
    name = relative.rsplit("/", 1)[-1]
    if relative in files or (name in _METADATA and _parent(relative) in nodes):
        return True
    return _in_array(relative, arrays)


def _in_array(relative: str, arrays: set[str]) -> bool:
    """Whether ``relative`` is a chunk key (or a folder of chunk keys) of a listed array."""
    return any(
        relative.startswith(f"{array}/") and _CHUNK.fullmatch(relative[len(array) + 1 :])
        for array in arrays
    )


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _clean(path: Any) -> str:
    return str(path).strip("/")
