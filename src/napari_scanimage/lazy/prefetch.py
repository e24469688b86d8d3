"""Stepping through a remote scan in napari: whole frames fetched, neighbours ahead.

A napari step asks every layer (one per field and channel) for one frame.  Over
remote storage each ask would cost a round trip, so the first ask fetches every
page of that frame at once (all fields, channels and depths lie side by side in
the file: one concurrent batch of requests), the other layers copy from memory,
and a background thread fetches the next frames (and the one before) while the
user looks.  Memory is bounded (``NAPARI_SCANIMAGE_PREFETCH_MB``, default 256):
the frames used least recently are dropped.  Local files never get one: the
page cache does this for them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.errors import ScanImageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from napari_scanimage.scan.scan import Scan
    from napari_scanimage.scan.source import ScanSource

__all__ = ["FramePrefetcher", "prefetcher"]

AHEAD = 4
"""Frames fetched after the one shown (and one before it)."""
_SHOWN_FRAMES = 2
"""Reads of at most this many frames are steps (larger ones bypass the prefetcher)."""
_CREATING = threading.Lock()


def prefetcher(scan: Scan) -> FramePrefetcher | None:
    """The prefetcher of a remote scan (made on first use, shared by its views), else None."""
    source = scan._source
    if not source.is_remote:
        return None
    with _CREATING:
        if not isinstance(source.page_cache, FramePrefetcher):
            source.page_cache = FramePrefetcher(scan)
        return source.page_cache


def budget_bytes() -> int:
    """Memory the held frames may take."""
    return int(float(os.environ.get("NAPARI_SCANIMAGE_PREFETCH_MB", "256")) * 2**20)


class FramePrefetcher:
    """Whole frames of one scan held in memory; serves :meth:`ScanSource.read` from them."""

    def __init__(self, scan: Scan, ahead: int = AHEAD, behind: int = 1) -> None:
        self._scan = scan
        self._source: ScanSource = scan._source
        self.ahead, self.behind = ahead, behind
        self._lock = threading.Lock()
        self._held: OrderedDict[int, dict[int, np.ndarray]] = OrderedDict()  # frame -> pages
        self._pages: dict[int, np.ndarray] = {}  # page -> its pixels, for every held frame
        self._loading: dict[int, threading.Event] = {}
        self._target: int | None = None
        self._worker: threading.Thread | None = None
        self.fetched_frames = 0  # frames fetched (for tests and benchmarks)

    # -- what a frame is ----------------------------------------------------------------

    def pages_of(self, frame: int) -> np.ndarray:
        """Every page of ``frame``: all depths and channels, in file order."""
        scan = self._scan
        chans = np.arange(scan.num_channels)
        pages = [
            scan.layout.pages(np.array([frame]), d, chans)[0]
            for d in range(scan.num_scanning_depths)
        ]
        return np.sort(np.concatenate(pages))

    @functools.cached_property
    def _frame_bytes(self) -> int:
        """Bytes of one frame's pages: the same for every frame of a scan."""
        scan = self._scan
        page = scan.page_height * scan.page_width * scan.file_dtype.itemsize
        return len(self.pages_of(0)) * page

    def _capacity(self) -> int:
        """Frames that fit in the budget (at least two: the one shown and the next)."""
        return max(2, budget_bytes() // max(1, self._frame_bytes))

    # -- serving ------------------------------------------------------------------------

    def copy(self, pages: np.ndarray, rows: slice, cols: slice, out: np.ndarray) -> bool:
        """Copy ``page[rows, cols]`` into ``out[i]`` if every page is held; else False."""
        with self._lock:
            held = [self._pages.get(int(p)) for p in pages]
        if any(page is None for page in held):
            return False
        for i, page in enumerate(held):
            assert page is not None
            np.copyto(out[i], page[rows, cols], casting="unsafe")
        return True

    def show(self, frames: Iterable[int]) -> None:
        """Hold ``frames`` (the missing ones fetched together, now), then fetch around them."""
        wanted = [int(f) for f in frames]
        if not wanted or len(wanted) > _SHOWN_FRAMES:
            return
        self._load(wanted)
        with self._lock:
            for frame in wanted:
                if frame in self._held:
                    self._held.move_to_end(frame)
            self._target = wanted[-1]
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._prefetch, name="scanimage-prefetch", daemon=True
                )
                self._worker.start()

    # -- fetching -----------------------------------------------------------------------

    def _load(self, frames: list[int]) -> None:
        """Fetch the frames not held yet in one read; wait for those another thread fetches."""
        total = self._scan.num_frames
        mine: list[int] = []
        theirs: list[threading.Event] = []
        with self._lock:
            for frame in dict.fromkeys(f for f in frames if 0 <= f < total):
                if frame in self._held:
                    continue
                if frame in self._loading:
                    theirs.append(self._loading[frame])
                else:
                    self._loading[frame] = threading.Event()
                    mine.append(frame)
        try:
            if mine:
                self._fetch(mine)
        finally:
            with self._lock:
                for frame in mine:
                    self._loading.pop(frame).set()
        for event in theirs:
            event.wait()

    def _fetch(self, frames: list[int]) -> None:
        scan = self._scan
        per_frame = [self.pages_of(f) for f in frames]
        pages = np.concatenate(per_frame)
        data = np.empty((len(pages), scan.page_height, scan.page_width), scan.file_dtype)
        self._source.read(pages, slice(None), slice(None), data, cached=False)
        capacity = self._capacity()
        with self._lock:
            at = 0
            for frame, its_pages in zip(frames, per_frame, strict=True):
                held = {int(p): data[at + k] for k, p in enumerate(its_pages)}
                at += len(its_pages)
                self._held[frame] = held
                self._pages.update(held)
                self.fetched_frames += 1
            while len(self._held) > capacity:
                _, dropped = self._held.popitem(last=False)
                for page in dropped:
                    self._pages.pop(page, None)

    def _neighbours(self, frame: int) -> list[int]:
        ahead = min(self.ahead, self._capacity() - 1 - self.behind)
        around = [frame + k for k in range(1, max(0, ahead) + 1)]
        around += [frame - k for k in range(1, self.behind + 1)]
        total = self._scan.num_frames
        with self._lock:
            return [f for f in around if 0 <= f < total and f not in self._held]

    def _prefetch(self) -> None:
        """Background: fetch around the latest frame shown until nothing is missing."""
        while True:
            with self._lock:
                target, self._target = self._target, None
                if target is None:
                    self._worker = None
                    return
            missing = self._neighbours(target)
            if missing:
                with contextlib.suppress(ScanImageError):  # the step that needs it will say
                    self._load(missing)
