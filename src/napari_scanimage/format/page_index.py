"""Locate every page of a ScanImage BigTIFF without walking every IFD.

ScanImage writes pages back to back with a fixed-size description slot, so page
``k`` normally starts at ``ifd0 + k * stride``.  We predict the page count from
the first two IFDs and the file size, then *check* the prediction on the last
IFD and a few sampled ones (next pointers, strip offsets, sizes).  Any mismatch
falls back to following the IFD chain, which is always right and only slower.
A file cut short (acquisition aborted, disk full) yields its complete pages and
a note of what was lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_scanimage.errors import (
    ScanImageError,
    ScanImageFileError,
    TruncatedFileError,
    UnsupportedVersionError,
)
from napari_scanimage.format.tiff import IMAGE_DESCRIPTION, Ifd, TiffFileHandle

__all__ = ["PageIndex"]

_SAMPLES = 8  # interior IFDs checked besides the last one


@dataclass(frozen=True, eq=False)
class PageIndex:
    """Where each page's pixels and description lie in one file."""

    path: str
    height: int
    width: int
    dtype: np.dtype[np.generic]
    data_offsets: np.ndarray
    """File offset of each page's first pixel (int64, one per complete page)."""
    description_offsets: np.ndarray
    """File offset of each page's ImageDescription (int64; -1 where absent)."""
    description_nbytes: np.ndarray
    """Length of each description slot in bytes."""
    stride: int | None
    """Constant distance between pages, or None where the file is not uniform."""
    truncation: str | None = None
    """What was lost at the end of a file cut short, or None."""

    @property
    def count(self) -> int:
        """Number of complete pages."""
        return len(self.data_offsets)

    @classmethod
    def build(cls, handle: TiffFileHandle) -> PageIndex:
        """Index a file: stride prediction, validated, else a chain walk."""
        first = handle.read_ifd(handle.first_ifd)
        if first.next_offset == 0:
            return cls._from_ifds(handle, [first], None)
        try:
            second = handle.read_ifd(first.next_offset)
        except TruncatedFileError as exc:
            return cls._from_ifds(handle, [first], _lost(exc))
        stride = second.offset - first.offset
        if stride > 0 and _same_layout(first, second, stride):
            predicted = cls._predict(handle, first, stride)
            if predicted is not None:
                return predicted
        return cls._walk(handle, first)

    @classmethod
    def _predict(cls, handle: TiffFileHandle, first: Ifd, stride: int) -> PageIndex | None:
        extent = _page_extent(first)
        count = (handle.size - first.offset - extent) // stride + 1
        last = count - 1
        checks = np.unique(np.linspace(1, last, _SAMPLES + 1).astype(np.int64))
        truncation = None
        for k in (int(k) for k in checks):
            offset = first.offset + k * stride
            try:
                ifd = handle.read_ifd(offset)
            except ScanImageError:
                return None
            if not _same_layout(first, ifd, k * stride):
                return None
            expected_next = offset + stride
            if k < last and ifd.next_offset != expected_next:
                return None
            if k == last and ifd.next_offset != 0:
                if ifd.next_offset != expected_next:
                    return None
                truncation = (
                    f"the file ends inside page {count + 1}; read the {count} complete pages"
                )
        offsets = first.offset + stride * np.arange(count, dtype=np.int64)
        desc = first.location(IMAGE_DESCRIPTION)
        desc_rel, desc_len = (-1, 0) if desc is None else (desc[0] - first.offset, desc[1])
        return cls(
            path=handle.path,
            height=first.height,
            width=first.width,
            dtype=first.dtype,
            data_offsets=offsets + (first.data_offset - first.offset),
            description_offsets=offsets + desc_rel if desc else np.full(count, -1),
            description_nbytes=np.full(count, desc_len, dtype=np.int64),
            stride=stride,
            truncation=truncation,
        )

    @classmethod
    def _walk(cls, handle: TiffFileHandle, first: Ifd) -> PageIndex:
        ifds = [first]
        seen = {first.offset}
        truncation = None
        offset = first.next_offset
        while offset:
            if offset in seen:
                msg = f"the IFD chain loops back to byte {offset}"
                raise ScanImageFileError(handle.path, msg)
            seen.add(offset)
            try:
                ifd = handle.read_ifd(offset)
            except TruncatedFileError as exc:
                truncation = _lost(exc)
                break
            if (ifd.width, ifd.height, ifd.dtype) != (first.width, first.height, first.dtype):
                msg = (
                    f"page {len(ifds) + 1} is {ifd.width}x{ifd.height} {ifd.dtype}, "
                    f"page 1 is {first.width}x{first.height} {first.dtype}"
                )
                raise UnsupportedVersionError(handle.path, msg)
            ifds.append(ifd)
            offset = ifd.next_offset
        return cls._from_ifds(handle, ifds, truncation)

    @classmethod
    def _from_ifds(
        cls, handle: TiffFileHandle, ifds: list[Ifd], truncation: str | None
    ) -> PageIndex:
        descs = [ifd.location(IMAGE_DESCRIPTION) or (-1, 0) for ifd in ifds]
        return cls(
            path=handle.path,
            height=ifds[0].height,
            width=ifds[0].width,
            dtype=ifds[0].dtype,
            data_offsets=np.array([ifd.data_offset for ifd in ifds], dtype=np.int64),
            description_offsets=np.array([d[0] for d in descs], dtype=np.int64),
            description_nbytes=np.array([d[1] for d in descs], dtype=np.int64),
            stride=None,  # walked or single-page files are read page by page
            truncation=truncation,
        )


def _lost(exc: TruncatedFileError) -> str:
    return f"the last page is incomplete ({exc.problem})"


def _page_extent(ifd: Ifd) -> int:
    """Bytes from the IFD to the end of everything the page owns."""
    ends = [ifd.end, ifd.data_offset + ifd.data_nbytes]
    ends += [entry.value_offset + entry.nbytes for entry in ifd.tags.values()]
    return max(ends) - ifd.offset


def _same_layout(first: Ifd, other: Ifd, shift: int) -> bool:
    """Whether ``other`` is ``first`` moved by ``shift`` bytes (same size and placement)."""
    if (other.width, other.height, other.dtype) != (first.width, first.height, first.dtype):
        return False
    if other.data_offset != first.data_offset + shift or len(other.tags) != len(first.tags):
        return False
    a, b = first.location(IMAGE_DESCRIPTION), other.location(IMAGE_DESCRIPTION)
    if a is None or b is None:
        return a is b
    return b == (a[0] + shift, a[1])
