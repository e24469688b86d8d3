"""Read pixels and descriptions of indexed pages through a read-only memory map.

A uniform file is one strided array over the map, so a run of pages at a
constant step is copied with a single ``np.copyto`` (no per-page Python work);
other page sets are copied page by page.  Only the requested rows and columns
are touched, which is what lets one mROI field be read without its neighbours.
"""

from __future__ import annotations

import contextlib
import mmap
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.errors import ScanImageFileError, TruncatedFileError

if TYPE_CHECKING:
    from napari_scanimage.format.page_index import PageIndex
    from napari_scanimage.format.tiff import TiffFileHandle

__all__ = ["PageReader"]


class PageReader:
    """Pixel and description access for one indexed file.

    The map is opened with ``ACCESS_READ``: arrays built on it are read-only and
    the file can never be written through it.
    """

    def __init__(self, handle: TiffFileHandle, index: PageIndex) -> None:
        self.path = handle.path
        self.index = index
        self._map = mmap.mmap(handle.fd, 0, access=mmap.ACCESS_READ)
        self._closed = False
        if len(self._map) < handle.size:
            self._map.close()
            raise TruncatedFileError(self.path, "the file shrank while it was opened")

    def close(self) -> None:
        """Unmap the file; views still in use keep their pages mapped until freed."""
        self._closed = True
        # numpy views may still share the map; it is then freed with them.
        with contextlib.suppress(BufferError):
            self._map.close()

    def _buffer(self) -> mmap.mmap:
        if self._closed:
            raise ScanImageFileError(self.path, "the scan was closed")
        return self._map

    @property
    def count(self) -> int:
        """Number of pages."""
        return self.index.count

    def page(self, page: int) -> np.ndarray:
        """A read-only view of one whole page."""
        idx = self.index
        return np.ndarray(
            (idx.height, idx.width),
            dtype=idx.dtype,
            buffer=self._buffer(),
            offset=int(idx.data_offsets[page]),
        )

    def read(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> None:
        """Copy ``page[rows, cols]`` of each page in ``pages`` into ``out[i]``.

        ``out`` has shape ``(len(pages), nrows, ncols)`` and may be any view.
        """
        if len(pages) == 0:
            return
        run = self._strided_run(pages)
        if run is not None:
            np.copyto(out, run[:, rows, cols], casting="unsafe")
            return
        for i, page in enumerate(pages):
            np.copyto(out[i], self.page(int(page))[rows, cols], casting="unsafe")

    def _strided_run(self, pages: np.ndarray) -> np.ndarray | None:
        """The pages as one strided array when they are equally spaced on disk."""
        idx = self.index
        if idx.stride is None:
            return None
        step = int(pages[1] - pages[0]) if len(pages) > 1 else 1
        if step <= 0 or not np.array_equal(np.diff(pages), np.full(len(pages) - 1, step)):
            return None
        itemsize = idx.dtype.itemsize
        return np.ndarray(
            (len(pages), idx.height, idx.width),
            dtype=idx.dtype,
            buffer=self._buffer(),
            offset=int(idx.data_offsets[int(pages[0])]),
            strides=(idx.stride * step, idx.width * itemsize, itemsize),
        )

    def description(self, page: int) -> str:
        """The page's ImageDescription text, padding removed ('' when absent)."""
        start = int(self.index.description_offsets[page])
        if start < 0:
            return ""
        end = start + int(self.index.description_nbytes[page])
        raw = self._buffer()[start:end]
        return raw.rstrip(b"\0 \n").decode("utf-8", errors="replace")
