"""Open and index files that lack ScanImage's static block: classic TIFFs and re-saved BigTIFFs.

Files of ScanImage 5 / 2015 and older (classic TIFF) and files re-saved by other
tools have no fixed page stride to predict, so their pages are located with one
tifffile pass (speed is not the point for them).  tifffile's ScanImage "virtual
frames" are switched off (``is_scanimage=False``): they extrapolate pages from
the first five and drop the last page of a file without trailing padding.
Classic TIFFs over 4 GB, whose 32-bit offsets overflow, are refused.  Every page
must be one contiguous, uncompressed run of strips of the first page's size,
else we raise our error naming the file and what is unsupported.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import (
    NotScanImageError,
    ScanImageFileError,
    TruncatedFileError,
    UnsupportedVersionError,
)
from napari_scanimage.format.header_model import SCANIMAGE_MAGIC
from napari_scanimage.format.legacy_limits import REMOTE_LEGACY, TIFFFILE_ERRORS
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.format.tiff import Ifd, TiffFileHandle, is_regular_file
from napari_scanimage.format.urls import is_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    import tifffile

__all__ = [
    "ClassicTiffHandle",
    "has_static_block",
    "index_pages",
    "open_handle",
]

_DESCRIPTION = 270


class ClassicTiffHandle(TiffFileHandle):
    """A read-only descriptor on a little-endian classic TIFF (IFDs are read by tifffile)."""

    def _read_header(self) -> int:
        head = os.pread(self.fd, 8, 0)
        if len(head) < 8 or head[:4] != b"II*\0":
            raise NotScanImageError(self.path, "not a little-endian classic TIFF")
        (first,) = struct.unpack_from("<I", head, 4)
        if not 8 <= first < self.size:
            msg = f"first IFD offset {first} lies outside the file ({self.size} bytes)"
            raise TruncatedFileError(self.path, msg)
        return int(first)

    def read_ifd(self, offset: int) -> Ifd:
        """Classic IFDs are read through tifffile (see :func:`index_pages`)."""
        msg = f"classic TIFF IFD at byte {offset} is read through tifffile"
        raise UnsupportedVersionError(self.path, msg)


def open_handle(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> TiffFileHandle:
    """A handle on a BigTIFF, or on a classic TIFF (which ``TiffFileHandle`` refuses).

    A URL (``s3://``, ``https://``, any fsspec URL) opens the object it names,
    read by byte ranges with ``storage_options``: 2016+ BigTIFFs only, with their
    static block (the one place remote files without it are refused).
    """
    if is_url(path):
        from napari_scanimage.format.remote import RemoteObject  # noqa: PLC0415 - fsspec

        handle = TiffFileHandle.on_remote(RemoteObject.open(os.fspath(path), storage_options))
        if not has_static_block(handle):  # from the head already read: no request
            handle.close()
            raise UnsupportedVersionError(handle.path, REMOTE_LEGACY)
        return handle
    head = b""  # TiffFileHandle raises the right error (missing, folder, FIFO, ...)
    if is_regular_file(path):
        try:
            with open(path, "rb") as fh:
                head = fh.read(4)
        except OSError:
            pass
    if head[:2] == b"MM":  # big-endian: say which ScanImage version it is, if any
        from napari_scanimage.format.legacy_header import read_legacy_header  # noqa: PLC0415

        read_legacy_header(os.fspath(path))  # raises naming the version found
    return ClassicTiffHandle(path) if head == b"II*\0" else TiffFileHandle(path)


def has_static_block(handle: TiffFileHandle) -> bool:
    """Whether a BigTIFF carries ScanImage's 16-byte block at byte 16."""
    if isinstance(handle, ClassicTiffHandle) or handle.size < 32:
        return False
    (magic,) = struct.unpack("<I", handle.read(16, 4))
    return bool(magic == SCANIMAGE_MAGIC)


def index_pages(handle: TiffFileHandle) -> PageIndex:
    """The page index: stride-predicted for 2016+ files, one tifffile pass otherwise."""
    if has_static_block(handle):
        return PageIndex.build(handle)
    return _index_with_tifffile(handle.path)


def _index_with_tifffile(path: str) -> PageIndex:
    import tifffile  # noqa: PLC0415 - only files without the static block need it

    try:
        with tifffile.TiffFile(path, is_scanimage=False) as tif:
            if not tif.is_bigtiff and os.path.getsize(path) >= 2**32:
                msg = (
                    "a classic TIFF larger than 4 GB (ScanImage 5 wrote such 'broken' "
                    "files): its 32-bit page offsets overflow; not supported"
                )
                raise UnsupportedVersionError(path, msg)
            return _from_pages(path, tif)
    except ScanImageFileError:
        raise
    except TIFFFILE_ERRORS as exc:
        raise NotScanImageError(path, f"tifffile cannot index its pages ({exc})") from exc


def _from_pages(path: str, tif: tifffile.TiffFile) -> PageIndex:
    from tifffile import TiffPage  # noqa: PLC0415 - loaded by the caller already

    first = tif.pages.first
    height, width = int(first.imagelength), int(first.imagewidth)
    dtype = np.dtype(first.dtype).newbyteorder("<")
    data, desc_offsets, desc_sizes = [], [], []
    size = os.path.getsize(path)
    nbytes = height * width * dtype.itemsize
    truncation = None
    for number, page in enumerate(tif.pages, start=1):
        where = f"page {number}"
        if not isinstance(page, TiffPage):
            raise UnsupportedVersionError(path, f"{where}: tifffile gave no IFD for it")
        if page.compression != 1 or page.samplesperpixel != 1:
            msg = f"{where} is compressed or has several samples per pixel (unsupported)"
            raise UnsupportedVersionError(path, msg)
        if (page.imagelength, page.imagewidth, page.dtype) != (height, width, first.dtype):
            msg = (
                f"{where} is {page.imagelength}x{page.imagewidth} {page.dtype}, "
                f"page 1 is {height}x{width} {first.dtype}"
            )
            raise UnsupportedVersionError(path, msg)
        tag = page.tags.get(_DESCRIPTION)
        desc = (-1, 0) if tag is None else (int(tag.valueoffset), int(tag.count))
        offsets = np.asarray(page.dataoffsets, dtype=np.int64)
        counts = np.asarray(page.databytecounts, dtype=np.int64)
        contiguous = len(offsets) > 0 and np.array_equal(offsets[1:], offsets[:-1] + counts[:-1])
        if not contiguous or int(counts.sum()) != nbytes:
            msg = f"{where} has strips that are not one contiguous block of pixels (unsupported)"
            raise UnsupportedVersionError(path, msg)
        if int(offsets[0]) + nbytes > size:
            kept = number - 1
            truncation = f"the file ends inside page {number}; read the {kept} complete pages"
            break
        data.append(int(offsets[0]))
        desc_offsets.append(desc[0])
        desc_sizes.append(desc[1])
    return PageIndex(
        path=path,
        height=height,
        width=width,
        dtype=dtype,
        data_offsets=np.array(data, dtype=np.int64),
        description_offsets=np.array(desc_offsets, dtype=np.int64),
        description_nbytes=np.array(desc_sizes, dtype=np.int64),
        stride=None,
        truncation=truncation,
    )
