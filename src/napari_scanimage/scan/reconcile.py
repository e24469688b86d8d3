"""Check the header's channel and slice counts against what the pages show.

The per-page descriptions carry ``frameNumbers`` (the same on every channel of
one frame) and ``acquisitionNumbers`` (one acquisition per slice of a slow
stack).  A header that lost its ``SI.hChannels`` keys, or a file re-saved by
another tool, can disagree with them; reading by the header would then mix
channels into frames without a word.  Where a few descriptions settle the
layout, we follow the pages and warn which header value was wrong; where they
contradict themselves, we raise.  A handful of small reads, whatever the length
and however many channels: light-beads (LBM) rigs save 14 to 30 channels, one
per depth, so nothing here assumes ScanImage's old four.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import HeaderMismatchError, ScanImageWarning
from napari_scanimage.format.descriptions import read_number

if TYPE_CHECKING:
    from collections.abc import Callable

    from napari_scanimage.format.header import ScanImageHeader
    from napari_scanimage.scan.layout import AcquisitionLayout

__all__ = ["reconcile"]

_CHANNEL_KEY = "SI.hChannels.channelSave"
_SLICE_KEY = "SI.hStackManager.framesPerSlice"
_VOLUME_KEY = "SI.hStackManager.actualNumVolumes"


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
    most = max(layout.num_channels, _available_channels(header))
    per_frame = _pages_per_frame(num_pages, layout.num_channels, most, description, path)
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
        per_slice = fixes.get("frames_per_slice", layout.frames_per_slice)
        held = num_pages // (per_slice * nch * layout.planes_per_volume)
        if layout.volumes is not None and held > layout.volumes:
            warnings.warn(
                f"{path}: {_VOLUME_KEY} gives {layout.volumes} volume(s) of the slow stack, "
                f"but the pages hold {held} complete volumes: reading all {held}",
                ScanImageWarning,
                stacklevel=4,
            )
    return fixes


def _available_channels(header: ScanImageHeader) -> int:
    """Channels the rig could save (``channelsAvailable``; four on older DAQs)."""
    value = header.number("SI.hChannels.channelsAvailable")
    return int(value) if math.isfinite(value) and 1 <= value <= 1024 else 4


def _pages_per_frame(
    num_pages: int, said: int, most: int, description: Callable[[int], str], path: str
) -> int | None:
    """Pages sharing each frame number at the start of the recording, or None if unknown.

    Checks that the first two frames hold ``said`` pages each: five descriptions
    (first, last of frame 1, first and last of frame 2, first of frame 3) settle it
    for any channel count, since frame numbers never decrease.  Only when they
    disagree is the first frame's length searched for (a bisection).  A file
    whose pages all share one frame number is one frame of channels only up to
    ``most`` pages (the channels the rig has); beyond that it cannot be told.
    """
    if num_pages == 0:
        return None

    def number(page: int) -> float | None:
        return read_number(description(page), "frameNumbers")

    first = number(0)
    if first is None:
        return None
    probes = [p for p in (said - 1, said, 2 * said - 1, 2 * said) if 0 < p < num_pages]
    found = {p: number(p) for p in probes}
    if any(v is None for v in found.values()):
        return None  # descriptions without frame numbers further on: nothing to go by
    if _frames_of(said, first, found):
        return said
    last = number(num_pages - 1)
    if last == first:
        # One frame number throughout: the pages are one frame's channels.
        if num_pages <= said:
            return None  # one frame, cut short: the frame count will say so
        if num_pages <= most:
            return num_pages
        msg = f"all {num_pages} pages have frame number {first:g}"
        raise HeaderMismatchError(path, f"{msg}; cannot tell channels from frames")
    if last is None or last < first:
        shown = f"{first:g} on page 1, {last} on page {num_pages}"
        raise HeaderMismatchError(path, f"frameNumbers go back ({shown})")
    count = _first_change(number, num_pages)
    probes = [p for p in (count - 1, count, 2 * count - 1, 2 * count) if 0 < p < num_pages]
    found = {p: number(p) for p in probes}
    if not _frames_of(count, first, found):
        shown = ", ".join(f"page {p + 1}: {v}" for p, v in sorted({0: first, **found}.items()))
        msg = f"frameNumbers of the first pages ({shown}) do not repeat once per channel"
        raise HeaderMismatchError(path, msg)
    return count


def _frames_of(count: int, first: float, found: dict[int, float | None]) -> bool:
    """Whether the sampled frame numbers fit frames of ``count`` pages from frame ``first``."""
    second = found.get(count)
    checks = [
        found.get(count - 1, first) == first,
        second is None or second > first,
        second is None or found.get(2 * count - 1, second) == second,
        second is None or (found.get(2 * count) or math.inf) > second,
    ]
    return all(checks)


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
    if acquisition(num_pages - 1) == first:
        return None  # one acquisition throughout: nothing to go by
    hi = _first_change(acquisition, num_pages)
    if hi % channels or acquisition(hi) != first + 1:
        msg = (
            f"the second slice starts at page {hi + 1}, which is not a whole number of "
            f"frames of {channels} channel(s); {_SLICE_KEY} says {said} frame(s) per slice"
        )
        raise HeaderMismatchError(path, msg)
    return hi // channels


def _first_change(value: Callable[[int], float | None], num_pages: int) -> int:
    """The first page whose value differs from page 1's, by bisection (values never fall).

    The last page's value must differ from the first's; about log2(pages) reads.
    """
    first = value(0)
    lo, hi = 0, num_pages - 1  # value(lo) == first != value(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if value(mid) == first:
            lo = mid
        else:
            hi = mid
    return hi
