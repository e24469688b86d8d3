"""A store's files read without trusting them: regular files inside the store, bounded sizes.

A store is a folder anyone can edit.  Every file is checked before it is opened
(``os.stat`` after resolving links, never an ``open`` first): a regular file (a
FIFO would block the open, a device such as ``/dev/zero`` never ends), inside the
store once links are followed, and no bigger than its kind can be.  Metadata JSON
is at most :data:`METADATA_BYTES` and :data:`MAX_NESTING` levels deep, checked
before anything walks it.  Zarr's own reads get the same checks through
:class:`~napari_scanimage.export.stored_arrays.GuardedStore`.  Every problem is a
:class:`~napari_scanimage.errors.StoreError` naming the store.  No Zarr here: the
reader hook's quick look imports nothing heavy.
"""

from __future__ import annotations

import json
import os
import stat
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import StoreError
from napari_scanimage.export.path_rules import within

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MAX_NESTING",
    "METADATA_BYTES",
    "METADATA_NAMES",
    "checked_size",
    "read_json",
    "root_attributes",
]

METADATA_BYTES = 16 * 2**20
"""Largest metadata file read: ours hold a ScanImage header, a few MB at most."""
MAX_NESTING = 64
"""Deepest JSON nesting accepted (ScanImage headers nest about ten levels)."""
METADATA_NAMES = frozenset({".zgroup", ".zattrs", ".zarray", ".zmetadata", "zarr.json"})


def checked_size(root: str, name: str, limit: int) -> int | None:
    """Size of the store's file ``name`` (relative), None if there is none.

    Raises :class:`StoreError` for anything but a regular file inside the store
    of at most ``limit`` bytes.
    """
    path = os.path.join(root, name)
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StoreError(root, f"cannot read {name}: {exc.strerror or exc}") from exc
    real = os.path.realpath(path)
    if not within(real, root):  # callers pass the store's real path
        raise StoreError(root, f"{name} links out of the store")
    try:
        info = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        return None  # a dangling link inside the store: as if absent
    except OSError as exc:
        raise StoreError(root, f"cannot read {name}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(root, f"{name} is not a regular file")
    if info.st_size > limit:
        raise StoreError(root, f"{name} holds {info.st_size} bytes, more than {limit} allowed")
    return info.st_size


def read_json(root: str, name: str) -> Any:
    """The JSON value of the store's metadata file ``name``; None if the file is absent."""
    size = checked_size(root, name, METADATA_BYTES)
    if size is None:
        return None
    try:
        with open(os.path.join(root, name), "rb") as handle:
            raw = handle.read(METADATA_BYTES + 1)
    except OSError as exc:
        raise StoreError(root, f"cannot read {name}: {exc.strerror or exc}") from exc
    if len(raw) > METADATA_BYTES:
        raise StoreError(root, f"{name} grew beyond {METADATA_BYTES} bytes while read")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise StoreError(root, f"{name} nests deeper than {MAX_NESTING} levels") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise StoreError(root, f"{name} is not valid JSON ({exc})") from None
    if _depth(value) > MAX_NESTING:
        raise StoreError(root, f"{name} nests deeper than {MAX_NESTING} levels")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_NESTING:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def root_attributes(root: str) -> tuple[int, dict[str, Any]]:
    """Zarr format and root attributes; :class:`StoreError` if the folder is no Zarr group."""
    meta = read_json(root, "zarr.json")
    if meta is not None:
        if not isinstance(meta, dict) or meta.get("node_type") != "group":
            raise StoreError(root, "zarr.json does not describe a group")
        attrs = meta.get("attributes", {})
        return 3, attrs if isinstance(attrs, dict) else {}
    if checked_size(root, ".zgroup", 2**16) is None:
        raise StoreError(root, "is not a Zarr store")
    attrs = read_json(root, ".zattrs")
    return 2, attrs if isinstance(attrs, dict) else {}
