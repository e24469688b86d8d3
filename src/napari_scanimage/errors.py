"""Exceptions and warnings raised by napari-scanimage.

Every error derives from :class:`ScanImageError` (itself a ``ValueError``), so a
pipeline can catch one class.  Errors about a file carry its path and build their
message from it, so the message always says *which* file and *what* is wrong.
"""

from __future__ import annotations

import os

__all__ = [
    "FieldDimensionMismatch",
    "FieldSizeMismatchError",
    "FileChangedError",
    "FileReadError",
    "HeaderMismatchError",
    "MissingFileError",
    "MixedAcquisitionError",
    "NotScanImageError",
    "ScanImageError",
    "ScanImageFileError",
    "ScanImageIndexError",
    "ScanImageNotFoundError",
    "ScanImageVersionError",
    "ScanImageWarning",
    "StoreError",
    "TruncatedFileError",
    "UnsupportedVersionError",
]


class ScanImageError(ValueError):
    """Root of every error raised by napari-scanimage."""


class ScanImageFileError(ScanImageError):
    """A problem with one file; the message starts with the file's path."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


class NotScanImageError(ScanImageFileError):
    """The file is not a TIFF written by ScanImage 2016 or later."""


class UnsupportedVersionError(ScanImageFileError):
    """A ScanImage file whose format version or layout this reader does not handle."""


class TruncatedFileError(ScanImageFileError):
    """The file ends before the data its header or IFDs promise."""


class FileChangedError(ScanImageFileError):
    """A file shrank, was replaced, rewritten or deleted while its scan was open."""


class FileReadError(ScanImageFileError):
    """The operating system failed to read a file (I/O error, stale network handle)."""


class HeaderMismatchError(ScanImageFileError):
    """The header and the pages disagree, and the pages do not settle the layout."""


class MixedAcquisitionError(ScanImageFileError):
    """Files of different acquisitions were given as one scan."""


class ScanImageNotFoundError(ScanImageFileError, FileNotFoundError):
    """A path or pattern that names no file."""


class MissingFileError(ScanImageFileError, FileNotFoundError):
    """A file in the middle of a numbered series is absent; the path names it."""


class StoreError(ScanImageFileError):
    """An OME-Zarr store that cannot be read as napari-scanimage wrote it; the path names it."""


class FieldSizeMismatchError(ScanImageError):
    """Fields of different sizes cannot be stacked into one array."""


class ScanImageIndexError(ScanImageError, IndexError):
    """An index into a scan is out of range or of an unsupported kind."""


class ScanImageWarning(UserWarning):
    """Something was read but not all of it: dropped frames, a damaged tail."""


# Names used by atlab/scanreader, kept so pipelines can switch without edits.
ScanImageVersionError = UnsupportedVersionError
FieldDimensionMismatch = FieldSizeMismatchError
