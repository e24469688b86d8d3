"""Fast, lazy reader for ScanImage two-photon recordings, with a napari plugin."""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("napari-scanimage")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "unknown"

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
