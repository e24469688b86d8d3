"""Check the header's channel and slice counts against what the pages show.

The per-page descriptions carry ``frameNumbers`` (the same on every channel of
one frame) and ``acquisitionNumbers`` (one acquisition per slice of a slow
stack).  A header that lost its ``SI.hChannels`` keys, or a file re-saved by
another tool, can disagree with them; reading by the header would then mix
channels into frames without a word.  Where a few descriptions settle the
layout, we follow the pages and warn which header value was wrong; where they
contradict themselves, we raise.  A handful of small reads, whatever the length.
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import HeaderMismatchError, ScanImageWarning
from napari_scanimage.format.descriptions import read_number

if TYPE_CHECKING:
    from collections.abc import Callable

    from napari_scanimage.format.header import ScanImageHeader
    from napari_scanimage.scan.layout import AcquisitionLayout

__all__ = ["reconcile"]

_MAX_CHANNELS = 4  # ScanImage acquires at most four channels
_SAMPLE_PAGES = 2 * _MAX_CHANNELS + 1  # two whole frames of four channels
_CHANNEL_KEY = "SI.hChannels.channelSave"
_SLICE_KEY = "SI.hStackManager.framesPerSlice"


def reconcile(
    header: ScanImageHeader,
    layout: AcquisitionLayout,
    num_pages: int,
    description: Callable[[int], str],
    path: str,
) -> dict[str, Any]:
    """Overrides for ``AcquisitionLayout.from_header`` where the pages disagree.

    ``description(p)`` gives the text of global page ``p``.  Warnings name the
    header value that was wrong; ``HeaderMismatchError`` names ``path``.
    """
    fixes: dict[str, Any] = {}
    per_frame = _pages_per_frame(num_pages, layout.num_channels, description, path)
    if per_frame is not None and per_frame != layout.num_channels:
        channels = _renumber(layout.channels, per_frame)
        said = (
            f"{_CHANNEL_KEY} is missing"
            if not header.has(_CHANNEL_KEY)
            else f"{_CHANNEL_KEY} lists {layout.num_channels} channel(s)"
        )
        warnings.warn(
            f"{path}: {said}, but the pages' frameNumbers show {per_frame} page(s) per "
            f"frame: reading {per_frame} channel(s) {list(channels)}",
            ScanImageWarning,
            stacklevel=4,
        )
        fixes["channels"] = channels
    if layout.slow_stack:
        nch = len(fixes.get("channels", layout.channels))
        per_slice = _frames_per_slice(layout.frames_per_slice, nch, num_pages, description, path)
        if per_slice is not None and per_slice != layout.frames_per_slice:
            warnings.warn(
                f"{path}: {_SLICE_KEY} gives {layout.frames_per_slice} frame(s) per slice "
                f"(after averaging), but the pages' acquisitionNumbers show {per_slice}: "
                f"reading {per_slice}",
                ScanImageWarning,
                stacklevel=4,
            )
            fixes["frames_per_slice"] = per_slice
    return fixes


def _pages_per_frame(
    num_pages: int, said: int, description: Callable[[int], str], path: str
) -> int | None:
    """Pages sharing each frame number at the start of the recording, or None if unknown."""
    sample = min(num_pages, _SAMPLE_PAGES)
    found = [read_number(description(p), "frameNumbers") for p in range(sample)]
    numbers = [n for n in found if n is not None]
    if sample == 0 or len(numbers) < sample:
        return None
    runs: list[int] = []
    for before, after in zip([None, *numbers], numbers, strict=False):
        if after == before:
            runs[-1] += 1
        else:
            runs.append(1)
    shown = ", ".join(f"{n:g}" for n in numbers)
    if len(runs) == 1:
        if sample == num_pages and sample <= _MAX_CHANNELS:
            # One frame: its pages are channels, but a cut file may lack some.
            return None if sample <= said else sample
        msg = f"the first {sample} pages all have frame number {numbers[0]:g}"
        raise HeaderMismatchError(path, f"{msg}; cannot tell channels from frames")
    first = runs[0]
    steps = [b - a for a, b in itertools.pairwise(numbers)]
    if any(r != first for r in runs[1:-1]) or runs[-1] > first or first > _MAX_CHANNELS:
        msg = f"frameNumbers of the first pages ({shown}) do not repeat once per channel"
        raise HeaderMismatchError(path, msg)
    if any(step < 0 for step in steps):
        raise HeaderMismatchError(path, f"frameNumbers of the first pages go back ({shown})")
    return first


def _renumber(channels: tuple[int, ...], count: int) -> tuple[int, ...]:
    """The header's channel numbers cut or extended (with unused numbers) to ``count``."""
    numbers = list(channels[:count])
    candidate = 1
    while len(numbers) < count:
        if candidate not in numbers:
            numbers.append(candidate)
        candidate += 1
    return tuple(numbers)


def _frames_per_slice(
    said: int, channels: int, num_pages: int, description: Callable[[int], str], path: str
) -> int | None:
    """Frames per slice of a slow stack as the pages' acquisition numbers show it."""

    def acquisition(page: int) -> float | None:
        return read_number(description(page), "acquisitionNumbers")

    first = acquisition(0)
    if first is None or num_pages == 0:
        return None
    per = said * channels
    if per < num_pages:
        if acquisition(per - 1) == first and acquisition(per) == first + 1:
            return said  # the header agrees
    elif acquisition(num_pages - 1) == first:
        # One slice, shorter than the header says (cut short, or re-saved in part).
        return max(1, num_pages // channels) if num_pages < per else said
    # Find the first page of the second slice: acquisition numbers never decrease.
    lo, hi = 0, num_pages - 1
    if acquisition(hi) == first:
        return None  # one acquisition throughout: nothing to go by
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if acquisition(mid) == first:
            lo = mid
        else:
            hi = mid
    if hi % channels or acquisition(hi) != first + 1:
        msg = (
            f"the second slice starts at page {hi + 1}, which is not a whole number of "
            f"frames of {channels} channel(s); {_SLICE_KEY} says {said} frame(s) per slice"
        )
        raise HeaderMismatchError(path, msg)
    return hi // channels
