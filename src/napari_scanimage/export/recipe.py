"""A picklable way to open the same scan again in any process.

A :class:`~napari_scanimage.scan.scan.Scan` holds memory maps, which must not
travel to process workers; a :class:`ScanRecipe` (file names and reading
options) does, and re-opening costs a few milliseconds.  Each process keeps the
scan it opened for one conversion (the recipe's ``session``, see
:mod:`~napari_scanimage.export.session`), so a worker opens it once, not once
per chunk.
"""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import ScanImageWarning
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.session import cached
from napari_scanimage.format.urls import is_url
from napari_scanimage.scan.scan import read_scan

if TYPE_CHECKING:
    from napari_scanimage.scan.scan import Scan

__all__ = ["ScanRecipe"]


@dataclass(frozen=True)
class ScanRecipe:
    """Everything needed to open a scan exactly as the caller had it."""

    files: tuple[str, ...]
    """Absolute paths (or URLs without credentials or query), in acquisition order."""
    dtype: str
    join_contiguous: bool
    trim: tuple[int, int, int, int]
    num_frames: int
    """Frames the caller saw; a re-opened scan with other counts has changed on disk."""
    scan_phase: tuple[tuple[float, ...], ...] | None = None
    """Offsets undone per field and ROI (resolved once by the caller), or None when off."""
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    """One conversion: scans opened for it are forgotten together."""
    urls: tuple[str, ...] = field(default=(), repr=False)
    """What opens remote files again (URLs as given, signed queries and all), or () to
    open ``files``; kept out of the repr, which dask may print in its logs."""
    storage_options: dict[str, Any] | None = field(
        default=None, repr=False, compare=False, hash=False
    )
    """The fsspec options remote files were opened with, as given (credentials and
    client objects included: they travel to workers by pickle, never as text)."""
    sizes: tuple[int, ...] = ()
    """Bytes of each file when the scan was opened (() to look them up)."""

    @classmethod
    def of(cls, scan: Scan) -> ScanRecipe:
        """The recipe of an open scan (a new session)."""
        source = scan._source
        remote = source.is_remote
        return cls(
            files=tuple(f if is_url(f) else os.path.abspath(f) for f in scan.filenames),
            urls=tuple(source.urls) if remote else (),
            storage_options=dict(source.storage_options)
            if remote and source.storage_options
            else None,
            sizes=tuple(reader.size for reader in source.readers),
            dtype=str(scan.dtype),
            join_contiguous=scan.join_contiguous,
            trim=(scan.trim.left, scan.trim.right, scan.trim.top, scan.trim.bottom),
            num_frames=scan.num_frames,
            scan_phase=(
                None
                if scan.fix_scan_phase is False
                else tuple(scan.scan_phase(f.index) for f in scan.fields)
            ),
        )

    def file_records(self) -> list[dict[str, Any]]:
        """``{"path", "bytes"}`` of each file, as a store's settings record them."""
        sizes = self.sizes or tuple(os.path.getsize(f) for f in self.files)
        return [{"path": f, "bytes": n} for f, n in zip(self.files, sizes, strict=True)]

    def read_settings(self) -> dict[str, Any]:
        """How the pixels are read (dtype, joining, trims, phase), as JSON-ready values.

        Part of every output's recorded settings: a resumed or re-run export must
        read the pixels the same way.
        """
        return {
            "dtype": self.dtype,
            "join_contiguous": self.join_contiguous,
            "trim": list(self.trim),
            "scan_phase": None if self.scan_phase is None else [list(p) for p in self.scan_phase],
        }

    def options_given(self) -> dict[str, Any] | None:
        """The fsspec options remote files were opened with, or None."""
        return self.storage_options

    def open(self) -> Scan:
        """The scan, opened once per process and session."""
        return cached(self.session, self, self._read)

    def _read(self) -> Scan:
        with warnings.catch_warnings():
            # the caller was warned (dropped pages, damaged tails) when it opened the scan
            warnings.simplefilter("ignore", ScanImageWarning)
            phase = False if self.scan_phase is None else dict(enumerate(self.scan_phase))
            scan = read_scan(
                list(self.urls or self.files),
                self.dtype,
                self.join_contiguous,
                trim=self.trim,
                fix_scan_phase=phase,
                storage_options=self.options_given(),
            )
        if scan.num_frames != self.num_frames:
            msg = (
                f"{self.files[0]}: the scan changed on disk during the conversion "
                f"({scan.num_frames} frames, {self.num_frames} when it started)"
            )
            raise ExportError(msg)
        return scan
