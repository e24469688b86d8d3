"""Turn what a user passes (paths, glob patterns, lists of both) into files.

Files are ordered naturally, so ``scan_00002`` comes before ``scan_00010`` even
where ScanImage's zero padding ran out.  URLs (``s3://``, ``https://``, any
fsspec URL) go wherever paths go: patterns and split-acquisition neighbours are
listed through the filesystem (one listing of the folder), a plain URL is
taken as given (opening it says if it is not there).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from napari_scanimage.errors import ScanImageError, ScanImageFileError, ScanImageNotFoundError
from napari_scanimage.format.listing import forget_listings, list_objects
from napari_scanimage.format.urls import has_query, is_url, redact

__all__ = [
    "PathsLike",
    "acquisition_files",
    "acquisition_stem",
    "expand_paths",
    "natural_key",
    "split_counters",
    "whole_acquisitions",
]

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
_DIGITS = re.compile(r"(\d+)")
_COUNTERS = re.compile(r"^(?P<stem>.*?)_(?P<acq>\d{5})(?:_(?P<part>\d{5}))?(?:_chn\d+)?$")


def natural_key(path: str) -> list[str | int]:
    """Sort key comparing runs of digits as numbers.

    Examples
    --------
    >>> sorted(["s_10.tif", "s_9.tif"], key=natural_key)
    ['s_9.tif', 's_10.tif']
    """
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(path)]


def split_counters(path: str) -> tuple[str, int, int | None] | None:
    """``(stem, acquisition, part)`` from a ScanImage file name, or None.

    Examples
    --------
    >>> split_counters("/data/scan_00003_00012.tif")
    ('scan', 3, 12)
    >>> split_counters("/data/scan_00003.tif")
    ('scan', 3, None)
    """
    match = _COUNTERS.match(Path(redact(path)).stem)
    if match is None:
        return None
    part = match["part"]
    return match["stem"], int(match["acq"]), None if part is None else int(part)


def acquisition_files(path: str, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """All files of the split acquisition ``path`` belongs to, in order.

    ``/d/scan_00001_00002.tif`` -> every ``/d/scan_00001_NNNNN.tif`` next to it;
    a file without ScanImage's two counters stands alone.  Only the names are
    matched here; the reader checks that the headers agree.  A URL's
    neighbours are listed through its filesystem; where that is impossible
    (a presigned URL, an HTTP server without folder listings) it stands alone.
    """
    counters = split_counters(path)
    if counters is None or counters[2] is None:
        return [path]
    stem, acquisition, _ = counters
    if is_url(path):
        return _remote_series(path, stem, acquisition, storage_options)
    folder = os.path.dirname(path)
    suffix = os.path.splitext(path)[1]
    pattern = f"{glob.escape(stem)}_{acquisition:05d}_{'[0-9]' * 5}{glob.escape(suffix)}"
    found = glob.glob(os.path.join(glob.escape(folder), pattern)) if folder else glob.glob(pattern)
    return sorted(set(found) | {path}, key=natural_key)


def _remote_series(
    url: str, stem: str, acquisition: int, storage_options: Mapping[str, Any] | None
) -> list[str]:
    if has_query(url):
        return [url]
    folder, _, name = url.rpartition("/")
    suffix = os.path.splitext(name)[1]
    try:
        listed = list_objects(f"{folder}/{stem}_{acquisition:05d}_*{suffix}", storage_options)
    except Exception:
        return [url]
    series = [
        u
        for u in listed
        if (c := split_counters(u)) is not None
        and c[:2] == (stem, acquisition)
        and c[2] is not None
    ]
    return sorted(set(series) | {url}, key=natural_key)


def expand_paths(paths: PathsLike, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """Expand globs, check every file exists, and order them naturally.

    Raises ``FileNotFoundError`` (a ``ScanImageFileError`` too) naming the path or
    pattern that matched nothing.  URL patterns are listed through their
    filesystem with ``storage_options``; plain URLs are kept as given.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise ScanImageFileError(None, "no files given")
    found: list[str] = []
    for item in items:
        name = os.fspath(item)
        if is_url(name):
            found.extend(_remote_matches(name, storage_options))
        elif os.path.isfile(name):  # an existing name wins, even with [ ] * ? in it
            found.append(name)
        elif glob.has_magic(name):
            matches = sorted(glob.glob(os.path.expanduser(name)), key=natural_key)
            if not matches:
                raise ScanImageNotFoundError(name, "no file matches this pattern")
            found.extend(matches)
        elif os.path.isdir(name):
            raise ScanImageFileError(name, "is a folder; give file names or a pattern")
        elif os.path.exists(name):
            raise ScanImageFileError(name, "is not a regular file (a FIFO, device or socket)")
        else:
            raise ScanImageNotFoundError(name, "no such file")
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=natural_key)


def _remote_matches(url: str, storage_options: Mapping[str, Any] | None) -> list[str]:
    if has_query(url) or not glob.has_magic(redact(url).split("://", 1)[1]):
        forget_listings(url, storage_options)  # opened afresh, not from an old listing
        return [url]
    try:
        matches = list_objects(url, storage_options)
    except ScanImageError:
        raise
    except Exception as exc:
        cause = exc.__cause__ or exc  # what the last try met, under the retry's wrapper
        what = "no answer" if isinstance(cause, TimeoutError) else type(cause).__name__
        msg = f"cannot list the objects matching this pattern ({what})"
        raise ScanImageFileError(redact(url), msg) from None
    if not matches:
        raise ScanImageNotFoundError(redact(url), "no object matches this pattern")
    return sorted(matches, key=natural_key)


def whole_acquisitions(
    files: list[str], storage_options: Mapping[str, Any] | None = None
) -> tuple[list[str], list[tuple[str, int]]]:
    """What a user means by a file of a split acquisition: all of that acquisition.

    One rule for every command and the panel: ``scan_00001_00002.tif`` brings every
    ``scan_00001_NNNNN.tif`` beside it (the reader checks that their headers agree).
    Returns the files, naturally ordered, and ``(acquisition stem, files in it)``
    for each acquisition that grew, so the caller can say so.
    """
    found = dict.fromkeys(files)
    grown: list[tuple[str, int]] = []
    for path in files:
        series = acquisition_files(path, storage_options)
        missing = [p for p in series if p not in found]
        if missing:
            found.update(dict.fromkeys(missing))
            grown.append((acquisition_stem([path]), len(series)))
    return sorted(found, key=natural_key), grown


def acquisition_stem(paths: list[str]) -> str:
    """``scan_00001`` for ``scan_00001_0000N`` split files, else the first file's stem.

    Examples
    --------
    >>> acquisition_stem(["/d/scan_00001_00001.tif"]), acquisition_stem(["/d/scan_00002.tif"])
    ('scan_00001', 'scan_00002')
    """
    counters = split_counters(paths[0])
    if counters is not None and counters[2] is not None:
        return f"{counters[0]}_{counters[1]:05d}"
    return Path(paths[0]).stem
