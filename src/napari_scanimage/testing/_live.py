"""``LiveWriter``: an acquisition replayed as ScanImage writes it, growing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from napari_scanimage.testing._specs import WrittenScan


class LiveWriter:
    """Replay a written acquisition into another folder as ScanImage writes it: growing.

    The files of ``written`` are treated as one stream of bytes, file after file;
    :meth:`write_to` makes the first ``position`` bytes of that stream exist in
    ``directory`` by appending only (never rewriting), so a reader looking in
    between sees exactly what it would see mid-acquisition: a file cut inside an
    IFD, a description or pixels, or a new split file with only a few bytes.
    """

    def __init__(self, written: WrittenScan, directory: str | os.PathLike[str]) -> None:
        self.sources = written.paths
        self.targets = tuple(Path(directory) / p.name for p in written.paths)
        self.sizes = tuple(p.stat().st_size for p in written.paths)
        self.position = 0

    @property
    def total(self) -> int:
        """Bytes of the whole acquisition."""
        return sum(self.sizes)

    def write_to(self, position: int) -> None:
        """Append until the first ``position`` bytes of the stream are on disk."""
        position = min(position, self.total)
        start = 0
        for source, target, size in zip(self.sources, self.targets, self.sizes, strict=True):
            want = min(max(position - start, 0), size)
            have = target.stat().st_size if target.exists() else 0
            if want > have or (want and not target.exists()):
                with source.open("rb") as src, target.open("ab") as dst:
                    src.seek(have)
                    dst.write(src.read(want - have))
                    dst.flush()
            start += size
        self.position = max(self.position, position)

    def stream_offset(self, file: int, offset: int) -> int:
        """Position in the stream of byte ``offset`` of file ``file``."""
        return sum(self.sizes[:file]) + offset
