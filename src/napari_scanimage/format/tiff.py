"""Minimal read-only BigTIFF access: the file header and single IFDs.

ScanImage 2016+ writes little-endian BigTIFF with uncompressed strips.  Each
read on a cold disk is a seek, and on remote storage a round trip, so small
reads are served from a few remembered windows: the first read takes the TIFF
header, ScanImage's static block, IFD 0 and the start of page 1 at once, and
reading an IFD brings its description slot and first pixels along.  Opening a
file is then a handful of reads however long it is (see ``page_index``).
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.errors import (
    FileReadError,
    NotScanImageError,
    ScanImageNotFoundError,
    TruncatedFileError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from napari_scanimage.format.remote import RemoteObject

__all__ = ["Ifd", "TiffFileHandle", "is_regular_file", "read_exact"]

IMAGE_WIDTH = 256
IMAGE_LENGTH = 257
BITS_PER_SAMPLE = 258
COMPRESSION = 259
IMAGE_DESCRIPTION = 270
STRIP_OFFSETS = 273
SAMPLES_PER_PIXEL = 277
STRIP_BYTE_COUNTS = 279
PLANAR_CONFIG = 284
SOFTWARE = 305
ARTIST = 315
SAMPLE_FORMAT = 339

# TIFF field type -> numpy dtype of one value (little-endian).
_TYPES: dict[int, str] = {
    1: "u1", 2: "u1", 3: "<u2", 4: "<u4", 6: "i1", 7: "u1", 8: "<i2", 9: "<i4",
    11: "<f4", 12: "<f8", 16: "<u8", 17: "<i8", 18: "<u8",
    5: "<u4", 10: "<i4",  # rationals: two 32-bit values each
}  # fmt: skip
_RATIONAL = {5, 10}
_SIZES = {
    code: np.dtype(kind).itemsize * (1 + (code in _RATIONAL)) for code, kind in _TYPES.items()
}
_MAX_TAGS = 4096  # real ScanImage IFDs have 18; anything huge is a damaged count
HEAD_BYTES = 1 << 18
"""The first read: header, static block (20 kB to 1 MB), IFD 0 and page 1's start."""
WINDOW_BYTES = 1 << 13
"""Read around a small request: an IFD (376 bytes), its description slot and pixels."""
_WINDOWS = 8  # windows remembered per handle


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (following links); never blocks, never raises.

    Opening a FIFO for reading waits for a writer forever, so every open of a
    user's path asks this first.
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_exact(fd: int, offset: int, size: int, path: str) -> bytes:
    """Read ``size`` bytes at ``offset`` or raise ``TruncatedFileError``.

    An ``OSError`` from the filesystem (EIO, a stale network handle) becomes a
    ``FileReadError`` naming the file.
    """
    try:
        data = os.pread(fd, size, offset)
    except OSError as exc:
        msg = f"reading {size} bytes at byte {offset} failed ({exc.strerror or exc})"
        raise FileReadError(path, msg) from exc
    if len(data) != size:
        msg = f"file ends at byte {offset + len(data)}, needed {size} bytes at {offset}"
        raise TruncatedFileError(path, msg)
    return data


@dataclass(frozen=True, slots=True)
class TagEntry:
    """One IFD entry: where its values are, not the values themselves."""

    code: int
    type: int
    count: int
    value_offset: int  # absolute file offset of the values (inline ones too)
    inline: bytes | None = None  # the values themselves when they fit in the entry

    @property
    def nbytes(self) -> int:
        """Size of the values in bytes."""
        return self.count * _SIZES[self.type]


@dataclass(frozen=True, slots=True)
class Ifd:
    """An image file directory, with the entries a strip reader needs decoded."""

    offset: int
    tags: Mapping[int, TagEntry]
    next_offset: int
    width: int
    height: int
    dtype: np.dtype[np.generic]
    strip_offsets: tuple[int, ...]
    strip_byte_counts: tuple[int, ...]

    @property
    def end(self) -> int:
        """File offset just past the IFD's own entry table."""
        return self.offset + 8 + 20 * len(self.tags) + 8

    @property
    def data_offset(self) -> int:
        """Offset of the first pixel; strips are checked to be contiguous."""
        return self.strip_offsets[0]

    @property
    def data_nbytes(self) -> int:
        """Bytes of pixel data in this page."""
        return self.height * self.width * self.dtype.itemsize

    def location(self, code: int) -> tuple[int, int] | None:
        """``(offset, nbytes)`` of a tag's values, or None if the tag is absent."""
        entry = self.tags.get(code)
        return None if entry is None else (entry.value_offset, entry.nbytes)


class TiffFileHandle:
    """A read-only file descriptor with the BigTIFF header checked.

    Opened with ``O_RDONLY``: nothing in this package can change a user's file.
    On an object in remote storage (:meth:`on_remote`) there is no descriptor
    (``fd`` is -1) and reads are range requests to ``source``.
    """

    source: RemoteObject | None = None
    """The remote object read, or None for a local file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._windows: list[tuple[int, bytes]] = []  # (offset, bytes) most recent first
        try:
            # O_NONBLOCK: a FIFO named like a TIFF must not hang the open (it is refused
            # below); regular files ignore the flag.
            flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
            self.fd = os.open(self.path, flags)
        except FileNotFoundError as exc:
            raise ScanImageNotFoundError(self.path, "no such file") from exc
        except OSError as exc:
            msg = f"cannot open for reading ({exc.strerror})"
            raise NotScanImageError(self.path, msg) from exc
        self._check_and_read_header()

    @classmethod
    def adopt(cls, fd: int, path: str) -> TiffFileHandle:
        """A handle on an already open descriptor, which it then owns (closes).

        Used to look again at a file a scan holds open (its size grows while
        ScanImage writes), so the same file is read even if the name was reused.
        """
        handle = cls.__new__(cls)
        handle.path, handle.fd = path, fd
        handle._windows = []
        handle._check_and_read_header()
        return handle

    @classmethod
    def on_remote(cls, source: RemoteObject) -> TiffFileHandle:
        """A handle reading ``source`` by byte ranges (the first read takes the head)."""
        handle = cls.__new__(cls)
        handle.path, handle.fd, handle.source = source.name, -1, source
        handle._windows = []
        handle.size = source.size
        handle.first_ifd = handle._read_header()
        return handle

    def preload(self, spans: list[tuple[int, int]]) -> None:
        """Fetch the ``(offset, size)`` spans not yet in memory together, with windows.

        Remote reads go in one concurrent batch; local files read each span
        when asked (a page-cache hit costs less than a read that may not be needed).
        """
        if self.source is None:
            return
        wanted = sorted(
            {(o, n) for o, n in spans if 0 <= o < self.size and not self._cached(o, n)}
        )
        ranges = [(o, min(o + max(n, WINDOW_BYTES), self.size)) for o, n in wanted]
        for (start, _), data in zip(ranges, self.source.fetch(ranges), strict=True):
            self._remember(start, data)

    def windows(self) -> list[tuple[int, bytes]]:
        """The ``(offset, bytes)`` windows read so far (the head among them)."""
        return list(self._windows)

    def _cached(self, offset: int, size: int) -> bool:
        return any(s <= offset and offset + size <= s + len(d) for s, d in self._windows)

    def _read_exact(self, offset: int, size: int) -> bytes:
        if self.source is not None:
            return self.source.read(offset, size)
        return read_exact(self.fd, offset, size, self.path)

    def _check_and_read_header(self) -> None:
        try:
            try:
                status = os.fstat(self.fd)
            except OSError as exc:
                msg = f"cannot read the file's status ({exc.strerror or exc})"
                raise FileReadError(self.path, msg) from exc
            if stat.S_ISDIR(status.st_mode):
                raise NotScanImageError(self.path, "is a folder, not a file")
            if not stat.S_ISREG(status.st_mode):
                msg = "is not a regular file (a FIFO, device or socket)"
                raise NotScanImageError(self.path, msg)
            self.size = status.st_size
            self.first_ifd = self._read_header()
        except BaseException:
            os.close(self.fd)
            self.fd = -1
            raise

    def _read_header(self) -> int:
        self._remember(0, self._read_exact(0, min(HEAD_BYTES, self.size)))
        head = self.read(0, min(16, self.size))
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            raise NotScanImageError(self.path, "not a TIFF file")
        if head[:2] == b"MM":
            msg = "big-endian TIFF; ScanImage writes little-endian BigTIFF"
            raise NotScanImageError(self.path, msg)
        (magic,) = struct.unpack_from("<H", head, 2)
        if magic == 42 and self.source is not None:
            msg = (
                "a classic (non-Big) TIFF of ScanImage 2015 or older: such files are read "
                "from local disks only; download it first"
            )
            raise NotScanImageError(self.path, msg)
        if magic == 42:
            msg = (
                "classic (non-Big) TIFF; ScanImage 2016 and later write BigTIFF "
                "(files of ScanImage 5 / 2015 and older are not supported)"
            )
            raise NotScanImageError(self.path, msg)
        if magic != 43 or len(head) < 16:
            raise NotScanImageError(self.path, "not a TIFF file")
        offset_size, _, first = struct.unpack_from("<HHQ", head, 4)
        if offset_size != 8:
            raise NotScanImageError(self.path, "malformed BigTIFF header")
        if not 16 <= first < self.size:
            msg = f"first IFD offset {first} lies outside the file ({self.size} bytes)"
            raise TruncatedFileError(self.path, msg)
        return int(first)

    def read(self, offset: int, size: int) -> bytes:
        """Read exactly ``size`` bytes at ``offset``; small reads come with a window around."""
        for start, data in self._windows:
            if start <= offset and offset + size <= start + len(data):
                return data[offset - start : offset - start + size]
        if size >= WINDOW_BYTES:
            return self._read_exact(offset, size)
        length = max(size, min(WINDOW_BYTES, self.size - offset))
        data = self._read_exact(offset, length)
        self._remember(offset, data)
        return data[:size]

    def _remember(self, offset: int, data: bytes) -> None:
        self._windows.insert(0, (offset, data))
        del self._windows[_WINDOWS:]

    def read_ifd(self, offset: int) -> Ifd:
        """Decode the IFD at ``offset`` (one windowed read, plus far strip arrays)."""
        if not 16 <= offset <= self.size - 8:
            msg = f"IFD offset {offset} lies outside the file ({self.size} bytes)"
            raise TruncatedFileError(self.path, msg)
        (ntags,) = struct.unpack("<Q", self.read(offset, 8))
        if not 0 < ntags <= _MAX_TAGS:
            msg = f"IFD at byte {offset} claims {ntags} entries"
            raise NotScanImageError(self.path, msg)
        table = self.read(offset + 8, 20 * ntags + 8)
        tags: dict[int, TagEntry] = {}
        for i in range(ntags):
            code, typ, count = struct.unpack_from("<HHQ", table, 20 * i)
            if typ not in _TYPES:
                continue  # unknown types are legal TIFF; we need none of them
            entry = TagEntry(code, typ, count, offset + 8 + 20 * i + 12)
            if entry.nbytes > 8:
                (where,) = struct.unpack_from("<Q", table, 20 * i + 12)
                entry = TagEntry(code, typ, count, where)
            else:
                start = 20 * i + 12
                entry = TagEntry(
                    code, typ, count, entry.value_offset, table[start : start + entry.nbytes]
                )
            if entry.value_offset + entry.nbytes > self.size:
                msg = f"tag {code} of the IFD at byte {offset} points past the end"
                raise TruncatedFileError(self.path, msg)
            tags[code] = entry
        (next_offset,) = struct.unpack_from("<Q", table, 20 * ntags)
        return self._decode(offset, tags, int(next_offset))

    def tag_values(self, entry: TagEntry) -> np.ndarray:
        """The values of an integer tag as an int64 array."""
        raw = entry.inline
        if raw is None:
            raw = self.read(entry.value_offset, entry.nbytes)
        return np.frombuffer(raw, dtype=_TYPES[entry.type]).astype(np.int64)

    def _scalar(self, tags: Mapping[int, TagEntry], code: int, default: int) -> int:
        entry = tags.get(code)
        if entry is None:
            return default
        if entry.count != 1:
            msg = f"tag {code} has {entry.count} values, expected one"
            raise NotScanImageError(self.path, msg)
        return int(self.tag_values(entry)[0])

    def _decode(self, offset: int, tags: dict[int, TagEntry], nxt: int) -> Ifd:
        where = f"IFD at byte {offset}"
        for code in (IMAGE_WIDTH, IMAGE_LENGTH, STRIP_OFFSETS, STRIP_BYTE_COUNTS):
            if code not in tags:
                msg = f"{where} lacks tag {code}; not a strip image as ScanImage writes"
                raise NotScanImageError(self.path, msg)
        if self._scalar(tags, COMPRESSION, 1) != 1:
            msg = f"{where} is compressed; ScanImage writes uncompressed pages"
            raise NotScanImageError(self.path, msg)
        if self._scalar(tags, SAMPLES_PER_PIXEL, 1) != 1:
            raise NotScanImageError(self.path, f"{where} has several samples/pixel")
        bits = self._scalar(tags, BITS_PER_SAMPLE, 1)
        fmt = self._scalar(tags, SAMPLE_FORMAT, 1)
        kind = {1: "u", 2: "i", 3: "f"}.get(fmt)
        if kind is None or bits not in (8, 16, 32, 64) or (kind == "f" and bits < 32):
            msg = f"{where} has unsupported samples ({bits} bits, format {fmt})"
            raise NotScanImageError(self.path, msg)
        dtype = np.dtype(f"<{kind}{bits // 8}")
        width = self._scalar(tags, IMAGE_WIDTH, 0)
        height = self._scalar(tags, IMAGE_LENGTH, 0)
        offsets = self.tag_values(tags[STRIP_OFFSETS])
        counts = self.tag_values(tags[STRIP_BYTE_COUNTS])
        # offsets past 2**63 wrap negative in int64: reject rather than map before the file
        bad_values = bool(np.any(offsets < 0) or np.any(counts < 0))
        if (
            width <= 0
            or height <= 0
            or len(offsets) == 0
            or len(offsets) != len(counts)
            or bad_values
        ):
            raise NotScanImageError(self.path, f"{where} has a malformed image size")
        nbytes = width * height * dtype.itemsize
        contiguous = np.array_equal(offsets[1:], offsets[:-1] + counts[:-1])
        if not contiguous or int(counts.sum()) != nbytes:
            msg = f"{where} has strips that are not one contiguous block of pixels"
            raise NotScanImageError(self.path, msg)
        if int(offsets[0]) + nbytes > self.size:
            msg = f"pixels of the {where} end past the end of the file"
            raise TruncatedFileError(self.path, msg)
        return Ifd(
            offset=offset,
            tags=tags,
            next_offset=nxt,
            width=width,
            height=height,
            dtype=dtype,
            strip_offsets=tuple(int(v) for v in offsets),
            strip_byte_counts=tuple(int(v) for v in counts),
        )

    def close(self) -> None:
        """Close the file descriptor (idempotent)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> TiffFileHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
