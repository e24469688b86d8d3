"""One rule for "is this path inside that folder", used wherever an export guards its edges.

Plain string prefixes go wrong at the edges (``/data/out`` is not inside
``/data/o``, and a folder ending in a separator is still itself), so every
check (a store's links, an input inside an output, a summary's name) asks this.
Callers resolve links first (``os.path.realpath``) where links matter.
"""

from __future__ import annotations

import os

__all__ = ["within"]


def within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (both absolute, as given).

    >>> within("/data/out/a.zarr", "/data/out"), within("/data/outer", "/data/out")
    (True, False)
    >>> within("/data/out", "/data/out/"), within("/", "/data")
    (True, False)
    """
    folder = folder.rstrip(os.sep) or os.sep
    return path.rstrip(os.sep) == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
