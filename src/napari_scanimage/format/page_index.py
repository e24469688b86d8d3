"""Locate every page of a ScanImage BigTIFF without walking every IFD.

ScanImage writes pages back to back with a fixed-size description slot, so page
``k`` normally starts at ``ifd0 + k * stride``.  We predict the page count from
the first two IFDs and the file size, then *check* the prediction on the last
IFD and a few sampled ones (next pointers, strip offsets, sizes).  Any mismatch
falls back to following the IFD chain, which is always right and only slower.
A file cut short (acquisition aborted, disk full) yields its complete pages and
a note of what was lost.

Files still being written (see :meth:`PageIndex.extend`): ScanImage appends each
page as IFD, description slot, then pixels, and links the IFD to where the next
page will go, so a reader looking mid-write sees any prefix of that: an IFD cut
short, a description slot or pixels partly there, or a next pointer to bytes
not written yet.  A page counts only once everything it owns lies inside the
file and its description slot holds text.  A writer may also leave the last
next pointer 0 and fill it in when the next page exists; the last known IFD is
therefore read again on every look.  What a network share shows before its
cache catches up (zeros inside the file size) cannot be told from data.
"""

from __future__ import annotations

import dataclasses
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

_SAMPLES = 3
"""IFDs checked after IFD 1: two interior ones and the last.  A page that breaks the
stride shifts every later page, so the last IFD alone catches it; the interior two
catch a break made up for further on.  Each check is one windowed read."""


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
    ifd_offsets: np.ndarray | None = None
    """File offset of each page's IFD (int64), where known; lets :meth:`extend` resume."""
    checked: tuple[int, ...] = ()
    """Pages whose IFDs were read while indexing (spread over the file): the pages
    whose bytes fingerprint it (see ``page_reader``) cost no further read."""

    @property
    def count(self) -> int:
        """Number of complete pages."""
        return len(self.data_offsets)

    @classmethod
    def build(cls, handle: TiffFileHandle) -> PageIndex:
        """Index a file: stride prediction, validated, else a chain walk."""
        return cls._pages_from(handle, handle.read_ifd(handle.first_ifd)).without_blank_tail(
            handle
        )

    @classmethod
    def _pages_from(cls, handle: TiffFileHandle, first: Ifd, tolerant: bool = False) -> PageIndex:
        """Pages from the IFD ``first`` on (``tolerant``: stop at any damage, for live files)."""
        if first.next_offset == 0:
            return cls._from_ifds(handle, [first], None)
        try:
            second = handle.read_ifd(first.next_offset)
        except _stops(tolerant) as exc:
            return cls._from_ifds(handle, [first], _lost(exc))
        stride = second.offset - first.offset
        if stride > 0 and _same_layout(first, second, stride):
            predicted = cls._predict(handle, first, stride)
            if predicted is not None:
                return predicted
        return cls._walk(handle, first, tolerant)

    def extend(self, handle: TiffFileHandle) -> PageIndex:
        """Add the complete pages written to the file since this index was built.

        Re-reads only the last known IFD (its next pointer may have been filled
        in since) and the IFDs after it; never re-walks the file.  A page counts
        only once its IFD, its whole description slot and all its pixels lie
        inside the file (see :meth:`without_blank_tail` for the description
        text).  Damage after the known pages is read as "not written yet".
        """
        if self.ifd_offsets is None or self.count == 0:
            return self
        last = handle.read_ifd(int(self.ifd_offsets[-1]))
        if last.next_offset <= last.offset:  # 0: no next page linked yet
            return self
        try:
            first = handle.read_ifd(last.next_offset)
        except ScanImageError:
            return self  # the next page is still being written
        if (first.width, first.height, first.dtype) != (self.width, self.height, self.dtype):
            msg = (
                f"page {self.count + 1} is {first.width}x{first.height} {first.dtype}, "
                f"page 1 is {self.width}x{self.height} {self.dtype}"
            )
            raise UnsupportedVersionError(handle.path, msg)
        more = self._pages_from(handle, first, tolerant=True)
        assert more.ifd_offsets is not None  # built here, always known
        step = first.offset - last.offset
        uniform = step == self.stride and (more.count == 1 or more.stride == self.stride)
        grown = PageIndex(
            path=self.path,
            height=self.height,
            width=self.width,
            dtype=self.dtype,
            data_offsets=np.concatenate([self.data_offsets, more.data_offsets]),
            description_offsets=np.concatenate(
                [self.description_offsets, more.description_offsets]
            ),
            description_nbytes=np.concatenate([self.description_nbytes, more.description_nbytes]),
            stride=self.stride if uniform else None,
            truncation=more.truncation,
            ifd_offsets=np.concatenate([self.ifd_offsets, more.ifd_offsets]),
            checked=self.checked,
        ).without_blank_tail(handle)
        return self if grown.count == self.count else grown

    def without_blank_tail(self, handle: TiffFileHandle) -> PageIndex:
        """Drop a last page whose description slot is still blank.

        A writer may fill a page's description only after its pixels (ScanImage
        writes the text into a reserved slot), so a reader looking while it
        writes can see a complete-looking page with a blank slot.  When the
        first page has text, a blank last page is taken as not written yet.
        """
        if self.count < 2 or min(self.description_offsets[0], self.description_offsets[-1]) < 0:
            return self
        if not _blank(handle, self, self.count - 1) or _blank(handle, self, 0):
            return self
        return dataclasses.replace(
            self,
            data_offsets=self.data_offsets[:-1],
            description_offsets=self.description_offsets[:-1],
            description_nbytes=self.description_nbytes[:-1],
            truncation=f"the description of page {self.count} is not written yet",
            ifd_offsets=None if self.ifd_offsets is None else self.ifd_offsets[:-1],
            checked=tuple(p for p in self.checked if p < self.count - 1),
        )

    @classmethod
    def _predict(cls, handle: TiffFileHandle, first: Ifd, stride: int) -> PageIndex | None:
        extent = _page_extent(first)
        count = (handle.size - first.offset - extent) // stride + 1
        last = count - 1
        # sorted(set()), not np.unique: that loads numpy.ma (10 ms of every open)
        spread = np.linspace(1, last, _SAMPLES + 1).astype(np.int64).tolist() if last else []
        checks: list[int] = sorted(set(spread))
        handle.preload([(first.offset + k * stride, 8) for k in checks])  # remote: one batch
        truncation = None
        for k in checks:
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
            ifd_offsets=offsets,
            checked=(0, *checks),
        )

    @classmethod
    def _walk(cls, handle: TiffFileHandle, first: Ifd, tolerant: bool = False) -> PageIndex:
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
            except _stops(tolerant) as exc:
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
            stride=None,  # walked or single-page files: no constant step known
            truncation=truncation,
            ifd_offsets=np.array([ifd.offset for ifd in ifds], dtype=np.int64),
            checked=tuple(sorted({0, len(ifds) // 3, 2 * len(ifds) // 3, len(ifds) - 1})),
        )


def _stops(tolerant: bool) -> tuple[type[ScanImageError], ...]:
    """Errors that end a page list: any damage for live files, else a cut end only."""
    return (ScanImageError,) if tolerant else (TruncatedFileError,)


def _blank(handle: TiffFileHandle, index: PageIndex, page: int) -> bool:
    """Whether a page's description slot holds only padding."""
    size = int(index.description_nbytes[page])
    raw = handle.read(int(index.description_offsets[page]), size)
    return not raw.strip(b"\0 \n\r\t")


def _lost(exc: ScanImageError) -> str:
    return f"the last page is incomplete ({getattr(exc, 'problem', exc)})"


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
