"""The files of one acquisition, opened, checked to belong together, and indexed.

Opening reads each file's static header and a handful of IFDs; pixels are read
on demand.  Global page ``p`` of the acquisition is page ``p - starts[i]`` of
file ``i``.  While ScanImage still writes, :meth:`ScanSource.refresh` adds the
pages and files written since the last look; readers in other threads see
either the old or the new set of files, never a mix (both live in one
attribute, replaced whole).  Files may be objects in remote storage (URLs
opened with ``storage_options``); a lazy layer may then install a
:class:`PageCache` that serves whole pages it fetched ahead.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import struct
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from napari_scanimage.errors import (
    MissingFileError,
    MixedAcquisitionError,
    NotScanImageError,
    ScanImageError,
    ScanImageFileError,
    ScanImageWarning,
    TruncatedFileError,
)
from napari_scanimage.format.descriptions import read_number
from napari_scanimage.format.header import SCANIMAGE_MAGIC, ScanImageHeader, read_header
from napari_scanimage.format.legacy_index import index_pages, open_handle
from napari_scanimage.format.page_reader import PageReader
from napari_scanimage.format.tiff import is_regular_file
from napari_scanimage.scan.files import acquisition_files, natural_key, split_counters
from napari_scanimage.scan.layout import AcquisitionLayout
from napari_scanimage.scan.rates import timestamp_rate
from napari_scanimage.scan.reconcile import reconcile

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PageCache", "ScanSource"]

# FrameData entries that legitimately differ between files of one acquisition.
_PER_FILE_KEYS = ("logFileCounter", "logFileStem", "logFilePath")
_BIGTIFF = b"II+\x00\x08\x00\x00\x00"


class PageCache(Protocol):
    """Pages held in memory (see ``lazy.prefetch``), asked before the files are read."""

    def copy(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> bool:
        """Copy ``page[rows, cols]`` of each page into ``out[i]`` if all are held."""


@dataclass(frozen=True, eq=False)
class _Files:
    """The readers and where each starts, swapped together as one value."""

    readers: tuple[PageReader, ...]
    starts: np.ndarray


class ScanSource:
    """Readers for every file, in acquisition order, and where each file starts."""

    def __init__(
        self,
        header: ScanImageHeader,
        readers: tuple[PageReader, ...],
        starts: np.ndarray,
        phase_cache: dict[tuple[Any, ...], float] | None = None,
        layout_fixes: dict[str, Any] | None = None,
    ) -> None:
        self.header = header
        self._files = _Files(tuple(readers), np.asarray(starts, dtype=np.int64))
        self.phase_cache: dict[tuple[Any, ...], float] = {} if phase_cache is None else phase_cache
        """Scan-phase estimates per ROI strip, shared by every view of these files."""
        self.layout_fixes: dict[str, Any] = layout_fixes or {}
        """Header values replaced by what the pages show (see ``scan.reconcile``)."""
        self._refreshing = threading.Lock()
        self._timestamp_fps = (math.nan, -1)  # (rate, pages it was measured on)
        self.storage_options: dict[str, Any] = {}
        """How remote files were opened (passed again to open their neighbours)."""
        self.page_cache: PageCache | None = None
        """Whole pages fetched ahead for a viewer (remote files only), or None."""

    @property
    def readers(self) -> tuple[PageReader, ...]:
        """One reader per file, in acquisition order."""
        return self._files.readers

    @property
    def starts(self) -> np.ndarray:
        """Global page number of each file's first page, plus the total at the end."""
        return self._files.starts

    @classmethod
    def open(
        cls, paths: list[str], storage_options: Mapping[str, Any] | None = None
    ) -> ScanSource:
        """Open, check and index ``paths`` (already expanded and ordered; URLs too).

        The last file of a split acquisition that holds no complete page yet is
        left out with a warning.  On any error the files already opened are
        released before it propagates.
        """
        readers: list[PageReader] = []
        options = dict(storage_options or {})
        try:
            header = _open_readers(paths, readers, options)
            _check_counters([r.path for r in readers])
            total = sum(r.count for r in readers)
            layout = AcquisitionLayout.from_header(header, total)
            source = cls(header, tuple(readers), _starts(readers))
            source.storage_options = options
            # the descriptions reconciling and the rate check read, fetched together
            known = source.descriptions(_opening_pages(layout, total))

            def described(page: int) -> str:
                if page not in known:
                    known[page] = source.description(page)
                return known[page]

            fixes = reconcile(header, layout, total, described, readers[0].path)
            source.layout_fixes = fixes
            rate = timestamp_rate(source.layout, total, described)
            source._timestamp_fps = (rate, total)
            _check_frame_numbers(readers, len(fixes.get("channels", layout.channels)),
                                 layout.average_factor)  # fmt: skip
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        return source

    @property
    def layout(self) -> AcquisitionLayout:
        """Page order from the header, corrected where the pages disagreed."""
        return AcquisitionLayout.from_header(self.header, self.num_pages, **self.layout_fixes)

    def timestamp_fps(self) -> float:
        """Frames per second of one field as the first pages' timestamps show; NaN if unknown.

        Measured once, or again while too few frames were written to tell.
        """
        rate, pages = self._timestamp_fps
        if math.isnan(rate) and pages != self.num_pages:
            rate = timestamp_rate(self.layout, self.num_pages, self.description)
            self._timestamp_fps = (rate, self.num_pages)
        return rate

    @property
    def is_remote(self) -> bool:
        """Whether the files are objects in remote storage (read by range requests)."""
        return any(reader.remote for reader in self._files.readers)

    @property
    def urls(self) -> list[str]:
        """What opens the files again: paths, or URLs as given (signed queries too)."""
        return [reader.url for reader in self._files.readers]

    @property
    def num_pages(self) -> int:
        """Complete pages over all files."""
        return int(self._files.starts[-1])

    def locate(self, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(file index, page within file)`` for global page numbers."""
        return _locate(self._files, pages)

    def read(
        self,
        pages: np.ndarray,
        rows: slice,
        cols: slice,
        out: np.ndarray,
        *,
        cached: bool = True,
    ) -> None:
        """Copy ``page[rows, cols]`` of each global page into ``out[i]``.

        Pages the page cache holds come from memory (``cached=False``: never).
        """
        if len(pages) == 0:
            return
        cache = self.page_cache
        if cached and cache is not None and cache.copy(pages, rows, cols, out):
            return
        files = self._files  # one snapshot, whatever a refresh does meanwhile
        if len(files.readers) == 1:  # one file: global pages are its pages
            _check_pages(files, pages)
            files.readers[0].read(pages, rows, cols, out)
            return
        which, local = _locate(files, pages)
        cuts = [0, *(np.flatnonzero(np.diff(which)) + 1).tolist(), len(pages)]
        for start, stop in itertools.pairwise(cuts):
            reader = files.readers[int(which[start])]
            reader.read(local[start:stop], rows, cols, out[start:stop])

    def close(self) -> None:
        """Close every file."""
        for reader in self._files.readers:
            reader.close()

    def description(self, page: int) -> str:
        """Description text of one global page."""
        files = self._files
        which, local = _locate(files, np.array([page]))
        return files.readers[int(which[0])].description(int(local[0]))

    def descriptions(self, pages: list[int]) -> dict[int, str]:
        """Description texts of several global pages, in few reads per file."""
        files = self._files
        wanted = np.array(sorted(set(pages)), dtype=np.int64)
        which, local = _locate(files, wanted)
        found: dict[int, str] = {}
        for index in sorted(set(which.tolist())):  # not np.unique: it loads numpy.ma
            mine = which == index
            texts = files.readers[int(index)].descriptions(local[mine].tolist())
            start = int(files.starts[index])
            found.update({start + page: text for page, text in texts.items()})
        return found

    # -- live acquisitions ------------------------------------------------------------

    def refresh(self) -> int:
        """Take in what ScanImage wrote since the last look; returns the new pages.

        One consistent step, whatever the writer does meanwhile: the folder is
        listed *first*, then the last known file is grown, then newer files are
        opened.  ScanImage starts a file only after finishing the one before, so
        a file listed as newer proves the last file complete by the time it is
        grown, and no file is appended while an earlier one can still grow.  A
        new file joins only if the file before it ends on a whole frame and its
        first frame number follows on; otherwise it waits for the next look.
        Pages count only when their IFD, whole description slot (with text in
        it) and all their pixels are on disk.  Every ``Scan`` view sharing this
        source sees the new pages.
        """
        with self._refreshing:
            files = self._files
            last = files.readers[-1]
            newer = _later_files(last.url, self.storage_options)
            grown = last.refresh()
            added: list[PageReader] = []
            layout = self.layout
            try:
                for path in newer:
                    known = [*files.readers, *added]
                    reader = _open_follower(self.header, path, known, layout, self.storage_options)
                    if reader is None:
                        break
                    added.append(reader)
            except BaseException:
                for reader in added:
                    reader.close()
                raise
            if grown or added:
                readers = (*files.readers, *added)
                self._files = _Files(readers, _starts(readers))
            return self.num_pages - int(files.starts[-1])

    def acquisition_ended(self) -> bool:
        """Whether the last page says the acquisition is over.

        Reads ``endOfAcquisitionMode`` (1 on the last frame of GRAB/LOOP), or
        ``endOfAcquisition`` where the mode key is absent (older files).
        """
        if self.num_pages == 0:
            return False
        text = self.description(self.num_pages - 1)
        flag = read_number(text, "endOfAcquisitionMode")
        if flag is None:
            flag = read_number(text, "endOfAcquisition")
        return flag == 1


def _opening_pages(layout: AcquisitionLayout, total: int) -> list[int]:
    """Pages whose descriptions opening checks: two frames' worth, and frame 1 of field 1."""
    nch = layout.num_channels
    pages = {0, nch - 1, nch, 2 * nch - 1, 2 * nch}
    if total:
        frames, _, _ = layout.count_frames(total)
        if frames >= 2:
            pages.update(int(p) for p in layout.pages(np.array([1]), 0, np.array([0]))[:, 0])
    return sorted(p for p in pages if 0 <= p < total)


def _starts(readers: list[PageReader] | tuple[PageReader, ...]) -> np.ndarray:
    counts = [r.count for r in readers]
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _check_pages(files: _Files, pages: np.ndarray) -> None:
    total = int(files.starts[-1])
    if int(pages.min()) < 0 or int(pages.max()) >= total:
        bad = int(pages[(pages >= total) | (pages < 0)][0])
        msg = f"page {bad} requested, the acquisition has {total}"
        raise TruncatedFileError(files.readers[-1].path, msg)


def _locate(files: _Files, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _check_pages(files, pages)
    which = np.searchsorted(files.starts, pages, side="right") - 1
    return which, pages - files.starts[which]


def _open_one(
    path: str, header: ScanImageHeader | None, storage_options: Mapping[str, Any]
) -> tuple[ScanImageHeader, PageReader]:
    """Open and index one file, checking its header against ``header``."""
    with open_handle(path, storage_options) as handle:  # classic TIFFs too, and URLs
        this = read_header(handle)
        if header is not None:
            _check_same_acquisition(header, this)
        index = index_pages(handle)  # one tifffile pass where there is no static block
        return this, PageReader(handle, index)


def _check_shape(reader: PageReader, first: PageReader) -> None:
    index, ref = reader.index, first.index
    if (index.height, index.width, index.dtype) != (ref.height, ref.width, ref.dtype):
        msg = (
            f"pages are {index.height}x{index.width} {index.dtype}, those of "
            f"{ref.path} {ref.height}x{ref.width} {ref.dtype}"
        )
        raise MixedAcquisitionError(reader.path, msg)


def _cut_short(path: str, exc: ScanImageError) -> bool:
    """Whether a file failed only because it ends before its first complete page."""
    if isinstance(exc, TruncatedFileError):
        return True
    if not isinstance(exc, NotScanImageError) or not is_regular_file(path):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(32)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return False
    # Empty, or a prefix of ScanImage's BigTIFF header whose header block is cut.
    if head[:8] != _BIGTIFF[: len(head[:8])]:
        return False
    if len(head) < 32:
        return True
    magic, _, n0, n1 = struct.unpack_from("<IIII", head, 16)
    return bool(magic == SCANIMAGE_MAGIC and size < 32 + n0 + n1)


def _open_readers(
    paths: list[str], readers: list[PageReader], storage_options: Mapping[str, Any]
) -> ScanImageHeader:
    """Open every file into ``readers`` (filled as it goes); returns the first header."""
    header: ScanImageHeader | None = None
    for i, path in enumerate(paths):
        try:
            this, reader = _open_one(path, header, storage_options)
        except ScanImageFileError as exc:
            if i == 0 or i < len(paths) - 1 or not _cut_short(path, exc):
                raise
            warnings.warn(
                f"{path}: left out, it holds no complete page yet ({exc.problem})",
                ScanImageWarning,
                stacklevel=5,
            )
            break
        readers.append(reader)
        header = header or this
        _check_shape(reader, readers[0])
        if reader.index.truncation:
            warnings.warn(f"{path}: {reader.index.truncation}", ScanImageWarning, stacklevel=5)
    if header is None:
        raise ScanImageFileError(None, "no files given")
    return header


def _later_files(path: str, storage_options: Mapping[str, Any]) -> list[str]:
    """Files of the same numbered series that sort after ``path``."""
    key = natural_key(path)
    return [p for p in acquisition_files(path, storage_options) if natural_key(p) > key]


def _open_follower(
    header: ScanImageHeader,
    path: str,
    readers: list[PageReader],
    layout: AcquisitionLayout,
    storage_options: Mapping[str, Any],
) -> PageReader | None:
    """A new file of a growing series, checked as at open; None while it cannot join yet.

    It waits while it holds no complete page, and while the file before it ends
    inside a frame (that file is still being written, as a network share may show).
    """
    if readers[-1].count % layout.num_channels:
        return None
    try:
        _, reader = _open_one(path, header, storage_options)
    except MixedAcquisitionError:
        raise
    except ScanImageFileError as exc:
        if _cut_short(path, exc):
            return None  # still being written: try again next time
        raise
    try:
        _check_shape(reader, readers[0])
        _check_counters([r.path for r in readers] + [path])
        _check_frame_numbers([readers[-1], reader], layout.num_channels, layout.average_factor)
    except BaseException:
        reader.close()
        raise
    return reader


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


def _check_frame_numbers(
    readers: list[PageReader] | tuple[PageReader, ...], channels: int, average: int
) -> None:
    """Every file but the last ends on a whole frame, and the next one's numbers follow on.

    ScanImage splits files between frames and numbers frames through a whole
    acquisition, so a file that ends inside a frame, or a gap in the numbers,
    means a file is damaged or missing even when the names don't show it; read
    on, every later page would land in the wrong channel or frame.  Two small
    reads per boundary; descriptions without frame numbers are not checked.
    """
    for before, after in itertools.pairwise(readers):
        if before.count % channels:
            msg = (
                f"ends inside a frame ({before.count} pages are not whole frames of "
                f"{channels} channel(s)) but the series goes on in "
                f"{os.path.basename(after.path)}: the file is damaged or was cut short"
            )
            raise TruncatedFileError(before.path, msg)
        last = read_number(before.description(before.count - 1), "frameNumbers")
        first = read_number(after.description(0), "frameNumbers")
        if last is None or first is None:
            continue
        # With averaging, ScanImage may count raw frames: a step of `average` is fine.
        if first - last not in (1, average):
            said = f"its first frame is number {first:.0f} but {os.path.basename(before.path)}"
            if first <= last:  # not a gap: the same frames twice, or files out of order
                msg = f"{said} ends at frame {last:.0f}: frames repeat or are out of order"
                raise MixedAcquisitionError(after.path, msg)
            msg = (
                f"{said} ends at frame {last:.0f}: frames {last + 1:.0f} to {first - 1:.0f} "
                "are missing (a file of the series is absent?)"
            )
            raise MissingFileError(after.path, msg)
