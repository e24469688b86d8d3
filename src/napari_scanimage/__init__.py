"""Fast, lazy reader for ScanImage two-photon recordings, with a napari plugin."""

from typing import Any

from napari_scanimage.errors import (
    FieldDimensionMismatch,
    FieldSizeMismatchError,
    FileChangedError,
    FileReadError,
    HeaderMismatchError,
    MissingFileError,
    MixedAcquisitionError,
    NotScanImageError,
    ScanImageError,
    ScanImageIndexError,
    ScanImageVersionError,
    ScanImageWarning,
    TruncatedFileError,
    UnsupportedVersionError,
)
from napari_scanimage.scan.fields import Field, Trim
from napari_scanimage.scan.grouping import read_scans
from napari_scanimage.scan.scan import Scan, read_scan


def __getattr__(name: str) -> Any:
    """``__version__``, looked up when first asked for (importlib.metadata is slow to load)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from napari_scanimage._version import package_version  # noqa: PLC0415

    found = package_version()
    globals()["__version__"] = found
    return found


__all__ = [
    "Field",
    "FieldDimensionMismatch",
    "FieldSizeMismatchError",
    "FileChangedError",
    "FileReadError",
    "HeaderMismatchError",
    "MissingFileError",
    "MixedAcquisitionError",
    "NotScanImageError",
    "Scan",
    "ScanImageError",
    "ScanImageIndexError",
    "ScanImageVersionError",
    "ScanImageWarning",
    "Trim",
    "TruncatedFileError",
    "UnsupportedVersionError",
    "__version__",
    "read_scan",
    "read_scans",
]
