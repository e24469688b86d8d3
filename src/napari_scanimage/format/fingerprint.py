"""Which bytes tell a file from one rewritten (or an object from one replaced) under its name.

Appending pages never changes the bytes of earlier pages; saving another
recording under the same name almost surely does.  The page reader keeps these
bytes from opening (the index read them already, so this costs no read) and
compares them when a local file's modification time changes; a remote object
gets the first of them fetched along with every read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from napari_scanimage.format.page_index import PageIndex

__all__ = ["fingerprint_spans", "guard_span"]

_FINGERPRINT_BYTES = 1024  # first pixels of each fingerprinted page
_GUARD_JOIN = 1 << 12  # a remote object's guard spans description and pixels this close


def fingerprint_spans(idx: PageIndex) -> list[tuple[int, int]]:
    """``(offset, size)`` of the bytes that tell this file from a rewritten one.

    For pages spread over the file (those the index read, so no extra read at
    open): each page's description (frame number, timestamp, wall clock) and
    first pixels.  Appending pages never changes them; writing another recording
    over the file, or bytes in place, almost surely does.  The last page's
    description is left out: a writer may still be filling it in.
    """
    if idx.count == 0:
        return []
    pixels = min(_FINGERPRINT_BYTES, idx.height * idx.width * idx.dtype.itemsize)
    last = idx.count - 1
    spans = []
    for page in sorted({0, *(p for p in idx.checked if p <= last), last}):
        if page != last and idx.description_offsets[page] >= 0:
            spans.append((int(idx.description_offsets[page]), int(idx.description_nbytes[page])))
        spans.append((int(idx.data_offsets[page]), pixels))
    return spans


def guard_span(spans: list[tuple[int, int]]) -> tuple[int, int]:
    """Page 1's description, with its first pixels when they follow closely (one range)."""
    start, size = spans[0]
    if len(spans) > 1 and 0 <= spans[1][0] - (start + size) < _GUARD_JOIN:
        return start, spans[1][0] + spans[1][1] - start
    return start, size
