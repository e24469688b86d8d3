"""Sort a pile of TIFFs into acquisitions, for users who open a whole folder.

``read_scan`` refuses files of different acquisitions; ``read_scans`` is the
explicit way to open them separately.  Files belong together when ScanImage's
name counters agree (``stem_AAAAA_NNNNN``) and their headers are the same.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import NotScanImageError, ScanImageWarning
from napari_scanimage.format.header import read_header
from napari_scanimage.format.legacy_index import open_handle
from napari_scanimage.scan.files import PathsLike, expand_paths, split_counters
from napari_scanimage.scan.scan import Scan, read_scan
from napari_scanimage.scan.source import canonical_header

if TYPE_CHECKING:
    import numpy.typing as npt

    from napari_scanimage.scan.fields import Trim

__all__ = ["group_acquisitions", "read_scans"]


def group_acquisitions(paths: PathsLike) -> list[list[str]]:
    """Files grouped by acquisition, each group in order; non-ScanImage files are left out.

    Left-out files are named in a ``ScanImageWarning``.
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    skipped = []
    for path in expand_paths(paths):
        try:
            with open_handle(path) as handle:  # classic TIFFs too
                header = read_header(handle)
        except NotScanImageError as exc:
            skipped.append(str(exc))
            continue
        counters = split_counters(path)
        acquisition = None if counters is None else counters[:2]
        key = (
            acquisition if counters and counters[2] is not None else path,
            canonical_header(header),
        )
        groups.setdefault(key, []).append(path)
    if skipped:
        warnings.warn(
            "not ScanImage files, left out: " + "; ".join(skipped), ScanImageWarning, stacklevel=2
        )
    return list(groups.values())


def read_scans(
    paths: PathsLike,
    dtype: npt.DTypeLike | None = None,
    join_contiguous: bool = False,
    *,
    trim: Trim | tuple[int, int, int, int] | None = None,
) -> list[Scan]:
    """Open every acquisition among ``paths`` as its own :class:`Scan`."""
    return [
        read_scan(group, dtype, join_contiguous, trim=trim) for group in group_acquisitions(paths)
    ]
