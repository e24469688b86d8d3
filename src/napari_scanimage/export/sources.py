"""Which recording a store was made from, by content: resuming never mixes two recordings.

A path and a size do not identify a file: another recording of the same length
can be copied over it.  Each source file is recorded with its size, its
modification time and a digest of samples of its bytes: the head (ScanImage's
header and first pages) and windows spread evenly over the rest, so every
stretch of pages is sampled and the reads stay small (about 1 MB per file,
whatever its size).  A resumed conversion compares them file by file and
refuses on any difference, naming the file.  Remote objects are identified the
same way, by their ETag or version in place of the modification time and the
same windows fetched in one concurrent batch of range requests.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from napari_scanimage.export.errors import ExportError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["HEAD_BYTES", "SAMPLES", "WINDOW_BYTES", "check_sources", "source_identity"]

HEAD_BYTES = 256 * 2**10
"""The head read whole: the static header and the first pages of most recordings."""
SAMPLES = 16
"""Windows sampled over the rest of a file (the last one ends at the file's end)."""
WINDOW_BYTES = 32 * 2**10
_KEYS = ("bytes", "mtime_ns", "sample_digest")
_WHAT = {"bytes": "size", "mtime_ns": "modification time", "sample_digest": "content"}


def source_identity(
    files: Sequence[str],
    urls: Sequence[str] = (),
    storage_options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Path, size, modification time and sample digest of each file, in order.

    ``urls`` (remote recordings: the URLs as given, ``files`` their redacted
    names) are read with ``storage_options``.
    """
    if urls:
        return [
            _identify_remote(name, url, storage_options)
            for name, url in zip(files, urls, strict=True)
        ]
    return [_identify(path) for path in files]


def _identify_remote(
    name: str, url: str, storage_options: Mapping[str, Any] | None
) -> dict[str, Any]:
    from napari_scanimage.format.remote import RemoteObject  # noqa: PLC0415 - fsspec on demand

    remote = RemoteObject.open(url, storage_options)
    try:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(str(remote.size).encode())
        for chunk in remote.read_spans(_windows(remote.size)):
            digest.update(chunk)
    finally:
        remote.close()
    return {
        "path": name,
        "bytes": remote.size,
        "mtime_ns": remote.identity[2],  # the ETag or version: changes when replaced
        "sample_digest": digest.hexdigest(),
    }


def _identify(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            digest = hashlib.blake2b(digest_size=16)
            digest.update(str(info.st_size).encode())
            for offset, length in _windows(info.st_size):
                handle.seek(offset)
                digest.update(handle.read(length))
    except OSError as exc:
        raise ExportError(
            f"{path}: cannot read it to identify it ({exc.strerror or exc})"
        ) from exc
    return {
        "path": path,
        "bytes": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "sample_digest": digest.hexdigest(),
    }


def _windows(size: int) -> list[tuple[int, int]]:
    """(offset, length) of the head and of windows spread evenly up to the file's end.

    Examples
    --------
    >>> _windows(1000)
    [(0, 1000)]
    >>> windows = _windows(100 * 2**20)
    >>> len(windows), windows[-1][0] + windows[-1][1] == 100 * 2**20
    (17, True)
    """
    if size <= HEAD_BYTES + SAMPLES * WINDOW_BYTES:
        return [(0, size)]
    rest = size - HEAD_BYTES - WINDOW_BYTES
    starts = [HEAD_BYTES + rest * (i + 1) // SAMPLES for i in range(SAMPLES)]
    return [(0, HEAD_BYTES), *((start, WINDOW_BYTES) for start in starts)]


def check_sources(recorded: Any, current: Sequence[dict[str, Any]], store: str) -> None:
    """Refuse to resume ``store`` unless every source file is the one it was made from.

    ``recorded`` is the store's ``sources`` (None for stores of versions that
    did not record them: those cannot be checked, so they are not resumed).
    Files named differently are left to the settings' comparison.
    """
    advice = "pass overwrite=True (--overwrite) to start over"
    if not isinstance(recorded, list):
        msg = (
            f"{store}: an interrupted conversion that did not record its source files' "
            f"content, so it cannot be resumed safely; {advice}"
        )
        raise ExportError(msg)
    before = {s.get("path"): s for s in recorded if isinstance(s, dict)}
    for now in current:
        then = before.get(now["path"])
        if then is None:
            continue
        changed = [_WHAT[key] for key in _KEYS if then.get(key) != now[key]]
        if changed:
            msg = (
                f"{now['path']}: changed since the conversion into {store} began "
                f"({', '.join(changed)} not as recorded); {advice}"
            )
            raise ExportError(msg)
