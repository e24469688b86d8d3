"""Read pixels and descriptions of indexed pages with positional reads, no memory maps.

A request's rows go straight from the file into the caller's array with
``os.preadv``: one call covers a run of pages, the small gaps between them (IFD,
description slot) landing in a scratch buffer, so a field costs about one
sequential read of its bytes and a frame one system call.  Only the requested
rows are read (the rows of one page are contiguous on disk), which is what lets
one mROI field be read without its neighbours; a column sub-range or a dtype
conversion goes through a small scratch block.

Unlike a memory map, a file that shrinks or fails under us gives an error that
names it and says what changed, never a SIGBUS: each read checks the file's
size first and the number of bytes it got after.

An object in remote storage is read through the same geometry: the blocks a
local read would fill come from range requests instead (``RemoteObject``,
neighbours merged, all requests of a read at once), and its first page's
bytes, fetched along with every read, tell a replaced object.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import (
    FileChangedError,
    FileReadError,
    ScanImageFileError,
)
from napari_scanimage.format.fingerprint import fingerprint_spans, guard_span
from napari_scanimage.format.tiff import TiffFileHandle

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import ThreadPoolExecutor

    from napari_scanimage.format.page_index import PageIndex
    from napari_scanimage.format.remote import RemoteObject

__all__ = ["PageReader"]

_MAX_IOV = 1024  # IOV_MAX on Linux and macOS
_MAX_CALL_BYTES = 1 << 28  # per call; Linux caps one read at ~2 GiB
_MAX_GAP = 1 << 14  # read a gap into scratch rather than make another call
_SCRATCH_BYTES = 1 << 22  # pages staged at once for cropped or converted reads
_REMOTE_SCRATCH_BYTES = 1 << 26  # the same for remote objects: a batch of requests each
_DESCRIPTION_SPAN = 1 << 22  # descriptions this close together come in one read
_REMOTE_DESCRIPTION_SPAN = 1 << 18  # the same for a remote object (one request each run)
_PARALLEL_BYTES = 1 << 26  # reads this big are split over threads
_WORKERS = min(3, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1) - 1
_GAP = memoryview(bytearray(_MAX_GAP))  # shared by every thread: its contents are never used


class PageReader:
    """Pixel and description access for one indexed file.

    Holds its own read-only descriptor (``O_RDONLY``), so the file can never be
    written through it.  Reads may run in several threads at once; ``close``
    waits for none of them but closes the descriptor only once they are done.
    """

    def __init__(self, handle: TiffFileHandle, index: PageIndex) -> None:
        self.path = handle.path
        """The file's path, or the object's URL without credentials or query."""
        self.url = self.path if handle.source is None else handle.source.url
        """What opens it again: the path, or the URL as given."""
        self.index = index
        self.size = handle.size
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False
        self._remote: RemoteObject | None = handle.source
        if self._remote is not None:
            self._fd = -1
            self._remote.keep(handle.windows())  # what opening read: descriptions among it
            spans = fingerprint_spans(index)
            if spans:  # page 1's bytes, fetched along with every read (see RemoteObject.watch)
                start, size = guard_span(spans)
                self._remote.watch((start, size), handle.read(start, size))
            return
        self._fd = os.dup(handle.fd)
        try:
            status = os.fstat(self._fd)
            self._identity = (status.st_dev, status.st_ino)
            self._size = status.st_size  # when opened, or at the last refresh
            self._mtime = status.st_mtime_ns
            self._spans = fingerprint_spans(index)
            # the index has just read these bytes: the handle serves them from memory
            self._fingerprint = [handle.read(start, size) for start, size in self._spans]
        except BaseException:
            os.close(self._fd)
            raise

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the file (idempotent); reads in progress finish first."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._users == 0 and self._fd >= 0:
                os.close(self._fd)

    @contextlib.contextmanager
    def _using(self) -> Iterator[int]:
        """The descriptor, kept open (and its number not reused) while in use."""
        fd = self._enter()
        try:
            yield fd
        finally:
            self._leave()

    def _enter(self) -> int:
        with self._lock:
            if self._closed:
                raise ScanImageFileError(self.path, "the scan was closed")
            self._users += 1
            return self._fd

    def _leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closed and self._users == 0 and self._fd >= 0:
                os.close(self._fd)

    @property
    def remote(self) -> bool:
        """Whether this is an object in remote storage, read by range requests."""
        return self._remote is not None

    @property
    def count(self) -> int:
        """Number of pages."""
        return self.index.count

    # -- pixels -----------------------------------------------------------------------

    def read(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> None:
        """Copy ``page[rows, cols]`` of each page in ``pages`` into ``out[i]``.

        ``out`` has shape ``(len(pages), nrows, ncols)`` and may be any view of
        any dtype (values are cast as numpy's ``copyto(casting='unsafe')``).
        Big reads are split over a few threads: one thread copying from the
        page cache does not reach the memory bandwidth (the system call drops
        the GIL, so the parts really run at once).
        """
        n = len(pages)
        if n == 0:
            return
        size = n * self.index.width * self.index.height * self.index.dtype.itemsize
        parts = min(_WORKERS + 1, n, size // _PARALLEL_BYTES + 1)
        if parts < 2 or self._remote is not None:  # remote requests run at once anyway
            self._read(pages, rows, cols, out)
            return
        cuts = [n * k // parts for k in range(parts + 1)]
        futures = [
            _pool().submit(self._read, pages[a:b], rows, cols, out[a:b])
            for a, b in itertools.pairwise(cuts[1:])
        ]
        try:
            self._read(pages[: cuts[1]], rows, cols, out[: cuts[1]])
        finally:
            for future in futures:
                future.result()  # waits for all, re-raises the first error

    def _read(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> None:
        idx = self.index  # one snapshot: a refresh may swap in a longer index
        r0, r1, _ = rows.indices(idx.height)
        c0, c1, _ = cols.indices(idx.width)
        nrows, ncols = max(0, r1 - r0), max(0, c1 - c0)
        if nrows == 0 or ncols == 0:
            return
        itemsize = idx.dtype.itemsize
        row_bytes = idx.width * itemsize
        starts = idx.data_offsets[np.asarray(pages, dtype=np.int64)] + r0 * row_bytes
        whole_rows = ncols == idx.width or nrows == 1
        if nrows == 1:
            starts = starts + c0 * itemsize
        block = (ncols if nrows == 1 else idx.width) * itemsize * nrows
        direct = (
            whole_rows
            and out.dtype == idx.dtype
            and out.shape[1:] == (nrows, ncols)
            and out.strides[2] == itemsize
            and (nrows == 1 or out.strides[1] == ncols * itemsize)
        )
        fd = self._enter()  # not a context manager: this is the per-frame path
        try:
            offsets = starts.tolist()
            if self._remote is None:
                self._check(fd, max(offsets) + block)
            if direct:
                self._read_blocks(fd, offsets, block, out.__getitem__)
                return
            scratch_bytes = _SCRATCH_BYTES if self._remote is None else _REMOTE_SCRATCH_BYTES
            per = max(1, scratch_bytes // block)
            width = ncols if nrows == 1 else idx.width
            scratch = np.empty((min(per, len(offsets)), nrows, width), dtype=idx.dtype)
            crop = scratch if nrows == 1 else scratch[:, :, c0:c1]
            for a in range(0, len(offsets), per):
                chunk = offsets[a : a + per]
                self._read_blocks(fd, chunk, block, scratch.__getitem__)
                np.copyto(out[a : a + len(chunk)], crop[: len(chunk)], casting="unsafe")
        finally:
            self._leave()

    def _read_blocks(
        self, fd: int, offsets: list[int], block: int, target: Callable[[int], np.ndarray]
    ) -> None:
        """Fill ``target(i)`` (``block`` contiguous bytes) from ``offsets[i]``, few calls."""
        if self._remote is not None:
            self._remote.read_blocks(offsets, block, target)
            return
        gap = _GAP  # bytes between pages are read into this and dropped
        i, n = 0, len(offsets)
        while i < n:
            buffers: list[Any] = [target(i)]  # ndarrays and memoryviews (buffers)
            total, j = block, i + 1
            while j < n and len(buffers) < _MAX_IOV - 1 and total < _MAX_CALL_BYTES:
                skip = offsets[j] - offsets[j - 1] - block
                if not 0 <= skip <= _MAX_GAP:
                    break
                if skip:
                    buffers.append(gap[:skip])
                buffers.append(target(j))
                total += skip + block
                j += 1
            got = self._preadv(fd, buffers, offsets[i])
            if got != total:  # a short read: the file ended, or the call was cut short
                for k in range(i, j):
                    page: Any = target(k)
                    self._fill(fd, memoryview(page).cast("B"), offsets[k])
            i = j

    def _preadv(self, fd: int, buffers: list[Any], offset: int) -> int:
        try:
            if hasattr(os, "preadv"):
                return os.preadv(fd, buffers, offset)
            got = 0  # platforms without preadv: one pread per buffer
            for buffer in buffers:
                view = memoryview(buffer).cast("B")
                data = os.pread(fd, len(view), offset + got)
                view[: len(data)] = data
                got += len(data)
                if len(data) < len(view):
                    break
            return got
        except OSError as exc:
            raise self._failure(fd, exc, offset) from exc

    def _fill(self, fd: int, view: memoryview, offset: int) -> None:
        """Read exactly ``len(view)`` bytes, or explain why the file has fewer."""
        done = 0
        while done < len(view):
            got = self._preadv(fd, [view[done:]], offset + done)
            if got == 0:
                raise self._gone(fd, offset + len(view))
            done += got

    # -- descriptions -----------------------------------------------------------------

    def description(self, page: int) -> str:
        """The page's ImageDescription text, padding removed ('' when absent)."""
        idx = self.index
        start = int(idx.description_offsets[page])
        if start < 0:
            return ""
        raw = bytearray(int(idx.description_nbytes[page]))
        if self._remote is not None:
            with self._using():
                return _text(self._remote.read_spans([(start, len(raw))])[0])
        with self._using() as fd:
            self._check(fd, start + len(raw))
            self._fill(fd, memoryview(raw), start)
        return _text(raw)

    def descriptions(self, pages: list[int]) -> dict[int, str]:
        """Several pages' descriptions, in as few reads as their places allow.

        Descriptions within ``_DESCRIPTION_SPAN`` bytes of each other come in one
        read (the pixels between them are dropped): opening a file needs the
        descriptions of the first two frames, and a read is a seek on a cold
        disk and a round trip on remote storage.
        """
        idx = self.index
        places = sorted(
            (int(idx.description_offsets[p]), int(idx.description_nbytes[p]), p)
            for p in set(pages)
        )
        found = {page: "" for start, _, page in places if start < 0}  # none in the page
        places = [place for place in places if place[0] >= 0]
        span = _DESCRIPTION_SPAN if self._remote is None else _REMOTE_DESCRIPTION_SPAN
        runs = []
        while places:
            first = places[0][0]
            count = 1
            while count < len(places) and places[count][0] + places[count][1] - first <= span:
                count += 1
            runs.append(places[:count])
            places = places[count:]
        ends = [max(start + size for start, size, _ in run) for run in runs]
        with self._using() as fd:
            if self._remote is not None:
                spans = [(run[0][0], end - run[0][0]) for run, end in zip(runs, ends, strict=True)]
                raws: list[bytes | bytearray] = list(self._remote.read_spans(spans))
            else:
                raws = []
                for run, end in zip(runs, ends, strict=True):
                    raws.append(bytearray(end - run[0][0]))
                    self._check(fd, end)
                    self._fill(fd, memoryview(raws[-1]), run[0][0])
        for run, raw in zip(runs, raws, strict=True):
            first = run[0][0]
            for start, size, page in run:
                found[page] = _text(raw[start - first : start - first + size])
        return found

    # -- growth -----------------------------------------------------------------------

    def refresh(self) -> int:
        """Index pages appended to the file since the last look; returns how many."""
        if self.index.ifd_offsets is None or self._remote is not None:
            return 0  # no IFD offsets to resume from (classic TIFF), or an object (never grows)
        with self._using() as fd:
            idx = self.index
            self._check(fd, int(idx.data_offsets[-1]) + _page_bytes(idx))
            with TiffFileHandle.adopt(os.dup(fd), self.path) as handle:
                grown = idx.extend(handle)
                size = handle.size
        if grown.count > idx.count:
            self.index = grown
            self._size = max(self._size, size)
        return grown.count - idx.count

    # -- noticing changes ---------------------------------------------------------------

    def _rewritten(self, fd: int, size: int) -> bool:
        """Whether fingerprinted bytes still in the file (``size`` bytes) have changed.

        Bytes past the end are not compared: a file cut short lost them, which
        the read that needs them reports; what is left stays readable.
        """
        try:
            return any(
                os.pread(fd, length, start) != before
                for (start, length), before in zip(self._spans, self._fingerprint, strict=True)
                if start + length <= size
            )
        except OSError as exc:
            raise FileReadError(self.path, f"reading failed ({exc.strerror or exc})") from exc

    def _check(self, fd: int, end: int) -> None:
        """The file still holds ``end`` bytes and was not rewritten since we looked."""
        try:
            status = os.fstat(fd)
        except OSError as exc:
            raise self._failure(fd, exc, end) from exc
        if status.st_size < end:
            raise self._gone(fd, end)
        if status.st_mtime_ns != self._mtime:
            # Written to since: growing (live acquisition) is fine, rewritten is not.
            if self._rewritten(fd, status.st_size):
                msg = (
                    "was rewritten since it was opened (pages read when it was opened "
                    "changed; a new acquisition saved under the same name?); open it again"
                )
                raise FileChangedError(self.path, msg)
            self._mtime = status.st_mtime_ns

    def _what_changed(self, fd: int) -> list[str]:
        changes = []
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            changes.append("was deleted since it was opened")
        except OSError:
            pass
        else:
            if (now.st_dev, now.st_ino) != self._identity:
                changes.append("was replaced by another file (inode changed) since it was opened")
        try:
            size = os.fstat(fd).st_size
        except OSError:
            return changes
        if size < self._size:
            changes.append(f"shrank from {self._size} to {size} bytes since it was opened")
        return changes

    def _gone(self, fd: int, end: int) -> FileChangedError:
        changes = self._what_changed(fd) or ["ends early"]
        msg = f"{'; '.join(changes)}: the pages up to byte {end} are no longer there"
        return FileChangedError(self.path, msg)

    def _failure(self, fd: int, exc: OSError, offset: int) -> FileReadError:
        what = f"reading at byte {offset} failed ({exc.strerror or exc})"
        return FileReadError(self.path, "; ".join([what, *self._what_changed(fd)]))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Threads for the extra parts of big reads, started on first use."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - not for small reads

    return ThreadPoolExecutor(max_workers=max(1, _WORKERS), thread_name_prefix="scanimage-read")


def _page_bytes(idx: PageIndex) -> int:
    return idx.height * idx.width * idx.dtype.itemsize


def _text(raw: bytes | bytearray) -> str:
    """A description slot's text, padding removed."""
    return bytes(raw).rstrip(b"\0 \n").decode("utf-8", errors="replace")
