"""Which acquisitions a batch converts: inputs (folders, patterns, files) to groups of files.

Files are grouped by ScanImage's file-name counters (``stem_AAAAA_NNNNN``: the
files of one split acquisition belong together) without opening them; opening
an acquisition later checks that its files agree, so a damaged or foreign
member fails that acquisition instead of silently shrinking it.  A lone TIFF
whose first bytes are not ScanImage's is skipped.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from napari_scanimage.errors import ScanImageNotFoundError
from napari_scanimage.format.header import is_scanimage_file
from napari_scanimage.format.urls import is_url, redact
from napari_scanimage.scan.files import (
    acquisition_stem,
    expand_paths,
    natural_key,
    split_counters,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Acquisition", "find_acquisitions"]

_TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class Acquisition:
    """The files of one acquisition and the store they become."""

    stem: str
    files: tuple[str, ...]
    store: Path


def find_acquisitions(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    suffix: str = ".zarr",
) -> tuple[list[Acquisition], list[str]]:
    """Acquisitions among the inputs (written to ``out_dir/<stem><suffix>``), and skipped TIFFs.

    Only names are compared here (the files' first bytes for single files);
    opening an acquisition checks that its files agree.  Two acquisitions
    with one stem (in different folders) get ``stem_2``, ``stem_3``, ...
    in sorted path order, so a re-run maps each to the same store.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    skipped = []
    for path in _tiffs(inputs):
        counters = split_counters(path)
        if counters is not None and counters[2] is not None:
            key: tuple[str, ...] = (os.path.dirname(path), counters[0], str(counters[1]))
        elif is_scanimage_file(path):
            key = (path,)
        else:
            skipped.append(path)
            continue
        groups.setdefault(key, []).append(path)
    root = Path(out_dir)
    taken: dict[str, int] = {}
    acquisitions = []
    for files in sorted(groups.values(), key=lambda f: natural_key(f[0])):
        stem = acquisition_stem(files)
        taken[stem] = taken.get(stem, 0) + 1
        name = stem if taken[stem] == 1 else f"{stem}_{taken[stem]}"
        acquisitions.append(Acquisition(name, tuple(files), root / f"{name}{suffix}"))
    return acquisitions, skipped


def _tiffs(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Every TIFF under the inputs, absolute and naturally ordered, each once."""
    found: list[str] = []
    for item in inputs:
        name = os.path.expanduser(os.fspath(item))
        if is_url(name):  # objects: a URL or a pattern listed through its filesystem
            found.extend(
                p for p in expand_paths(name) if redact(p).lower().endswith(_TIFF_SUFFIXES)
            )
            continue
        if os.path.isdir(name):
            matches = [
                str(p)
                for p in Path(name).rglob("*")
                if p.suffix.lower() in _TIFF_SUFFIXES and p.is_file()
            ]
            if not matches:
                raise ScanImageNotFoundError(name, "holds no TIFF files")
        elif os.path.isfile(name):
            matches = [name]
        elif glob.has_magic(name):
            matches = [
                p
                for p in glob.glob(name, recursive=True)
                if os.path.isfile(p) and p.lower().endswith(_TIFF_SUFFIXES)
            ]
            if not matches:
                raise ScanImageNotFoundError(name, "no TIFF file matches this pattern")
        else:
            raise ScanImageNotFoundError(name, "no such file or folder")
        found.extend(os.path.abspath(p) for p in matches)
    return sorted(dict.fromkeys(found), key=natural_key)
