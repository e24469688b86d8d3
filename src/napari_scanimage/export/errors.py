"""The one error class of the exporter, so callers and the CLI catch it as a scan error."""

from __future__ import annotations

from napari_scanimage.errors import ScanImageError

__all__ = ["ExportError"]


class ExportError(ScanImageError):
    """A conversion cannot start or go on: bad options, a foreign store, changed files."""
