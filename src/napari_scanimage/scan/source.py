"""The files of one acquisition, opened, checked to belong together, and indexed.

Opening reads each file's static header and a handful of IFDs; pixels are only
mapped.  Global page ``p`` of the acquisition is page ``p - starts[i]`` of file
``i``.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_scanimage.errors import (
    MissingFileError,
    MixedAcquisitionError,
    ScanImageFileError,
    ScanImageWarning,
    TruncatedFileError,
)
from napari_scanimage.format.descriptions import read_number
from napari_scanimage.format.header import ScanImageHeader
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.format.page_reader import PageReader
from napari_scanimage.format.tiff import TiffFileHandle
from napari_scanimage.scan.files import split_counters
from napari_scanimage.scan.layout import AcquisitionLayout

__all__ = ["ScanSource"]

# FrameData entries that legitimately differ between files of one acquisition.
_PER_FILE_KEYS = ("logFileCounter", "logFileStem", "logFilePath")


@dataclass(frozen=True, eq=False)
class ScanSource:
    """Readers for every file, in acquisition order, and where each file starts."""

    header: ScanImageHeader
    readers: tuple[PageReader, ...]
    starts: np.ndarray
    """Global page number of each file's first page, plus the total at the end."""
    phase_cache: dict[tuple[Any, ...], float] = field(default_factory=dict)
    """Scan-phase estimates per ROI strip, shared by every view of these files."""

    @classmethod
    def open(cls, paths: list[str]) -> ScanSource:
        """Open, check and index ``paths`` (already expanded and ordered).

        On any error the files already mapped are released before it propagates.
        """
        readers: list[PageReader] = []
        try:
            header = _open_readers(paths, readers)
            _check_counters(paths)
            layout = AcquisitionLayout.from_header(header, sum(r.count for r in readers))
            _check_frame_numbers(readers, layout.num_channels, layout.average_factor)
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        counts = [r.count for r in readers]
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(header, tuple(readers), starts)

    @property
    def num_pages(self) -> int:
        """Complete pages over all files."""
        return int(self.starts[-1])

    def locate(self, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(file index, page within file)`` for global page numbers."""
        files = np.searchsorted(self.starts, pages, side="right") - 1
        if np.any(pages >= self.num_pages) or np.any(pages < 0):
            bad = int(pages[(pages >= self.num_pages) | (pages < 0)][0])
            msg = f"page {bad} requested, the acquisition has {self.num_pages}"
            raise TruncatedFileError(self.readers[-1].path, msg)
        return files, pages - self.starts[files]

    def read(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> None:
        """Copy ``page[rows, cols]`` of each global page into ``out[i]``."""
        if len(pages) == 0:
            return
        files, local = self.locate(pages)
        cuts = np.flatnonzero(np.diff(files)) + 1
        for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(pages)], strict=True):
            self.readers[int(files[start])].read(local[start:stop], rows, cols, out[start:stop])

    def close(self) -> None:
        """Close every file map."""
        for reader in self.readers:
            reader.close()

    def description(self, page: int) -> str:
        """Description text of one global page."""
        files, local = self.locate(np.array([page]))
        return self.readers[int(files[0])].description(int(local[0]))


def _open_readers(paths: list[str], readers: list[PageReader]) -> ScanImageHeader:
    """Map every file into ``readers`` (filled as it goes); returns the first header."""
    header: ScanImageHeader | None = None
    for path in paths:
        with TiffFileHandle(path) as handle:
            this = ScanImageHeader.from_file(handle)
            if header is None:
                header = this
            else:
                _check_same_acquisition(header, this)
            index = PageIndex.build(handle)
            first = readers[0].index if readers else index
            if (index.height, index.width, index.dtype) != (
                first.height,
                first.width,
                first.dtype,
            ):
                msg = (
                    f"pages are {index.height}x{index.width} {index.dtype}, those of "
                    f"{first.path} {first.height}x{first.width} {first.dtype}"
                )
                raise MixedAcquisitionError(path, msg)
            if index.truncation:
                warnings.warn(f"{path}: {index.truncation}", ScanImageWarning, stacklevel=5)
            readers.append(PageReader(handle, index))
    if header is None:
        raise ScanImageFileError(None, "no files given")
    return header


def canonical_header(header: ScanImageHeader) -> str:
    """The header as text, minus entries that differ between files of one acquisition."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in _PER_FILE_KEYS}
        return node

    return json.dumps([strip(header.frame_data), header.roi_groups], sort_keys=True, default=str)


def _check_same_acquisition(first: ScanImageHeader, other: ScanImageHeader) -> None:
    if other.raw == first.raw or canonical_header(other) == canonical_header(first):
        return
    msg = f"its ScanImage header differs from that of {first.path}; not the same acquisition"
    raise MixedAcquisitionError(other.path, msg)


def _check_counters(paths: list[str]) -> None:
    """Split files of different acquisitions (``_00001_*`` vs ``_00002_*``) don't mix."""
    named = [(p, split_counters(p)) for p in paths]
    split = [(p, c) for p, c in named if c is not None and c[2] is not None]
    if len(split) != len(paths) or not split:
        return
    first_path, (stem, acquisition, _) = split[0]
    for path, (other_stem, other_acq, _) in split[1:]:
        if (other_stem, other_acq) != (stem, acquisition):
            msg = (
                f"acquisition {other_stem}_{other_acq:05d} differs from "
                f"{stem}_{acquisition:05d} of {first_path}; open them separately"
            )
            raise MixedAcquisitionError(path, msg)
    parts = [c[2] for _, c in split]
    for (path, _), before, after in zip(split[1:], parts, parts[1:], strict=False):
        if after is not None and before is not None and after > before + 1:
            name = f"{stem}_{acquisition:05d}_{before + 1:05d}{os.path.splitext(path)[1]}"
            msg = f"file {before + 1} of the series is missing (before {os.path.basename(path)})"
            raise MissingFileError(os.path.join(os.path.dirname(path), name), msg)


def _check_frame_numbers(readers: list[PageReader], channels: int, average: int) -> None:
    """Each file's first frame number follows the previous file's last one.

    ScanImage numbers frames through a whole acquisition, so a gap means a file
    in between is missing even when the names don't show it.  Two small reads
    per file; descriptions without frame numbers are not checked.
    """
    for before, after in itertools.pairwise(readers):
        last = read_number(before.description(before.count - 1), "frameNumbers")
        first = read_number(after.description(0), "frameNumbers")
        if last is None or first is None or before.count % channels:
            continue
        # With averaging, ScanImage may count raw frames: a step of `average` is fine.
        if first - last not in (1, average):
            msg = (
                f"its first frame is number {first:.0f} but {os.path.basename(before.path)} "
                f"ends at frame {last:.0f}: frames {last + 1:.0f} to {first - 1:.0f} "
                "are missing (a file of the series is absent?)"
            )
            raise MissingFileError(after.path, msg)
