"""Summary (QC) images of a field: mean, max, standard deviation and local correlation.

Single frames hide seams, focus and cells in shot noise; these images don't.
Every kind comes from **one streaming pass** over the field: chunks of frames
are read through :meth:`Scan.read_field` (so joining, trims and scan-phase
correction apply) into two reused buffers (the next chunk is read while the
last one is summed) and folded into :class:`~napari_scanimage.scan.running_sums.RunningSums`.
Memory is a few images plus two chunks, whatever the recording's length.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage.errors import ScanImageError
from napari_scanimage.scan.indexing import normalize_axis
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.running_sums import RunningSums

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from napari_scanimage.scan.scan import Scan

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "KINDS",
    "WORKERS",
    "SummaryCancelledError",
    "check_kinds",
    "stitch_summaries",
    "stitched_summary_images",
    "summary_images",
]

KINDS = ("mean", "max", "std", "correlation")
DEFAULT_CHUNK_FRAMES = 32
WORKERS = max(1, min(4, (os.cpu_count() or 1) - 1))
"""Threads summing the rows of a chunk; one core is left to read the next chunk."""


class SummaryCancelledError(Exception):
    """The caller's ``cancel`` check asked to stop; nothing is returned."""


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds asked, in order without repeats; raises our error for unknown ones."""
    chosen = tuple(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        msg = f"summary image kinds must be among {', '.join(KINDS)}; got {list(chosen)!r}"
        raise ScanImageError(msg)
    return chosen


def _frame_indices(scan: Scan, frames: Any) -> np.ndarray:
    key = slice(None) if frames is None else frames
    return normalize_axis(key, scan.num_frames, "frames").values


def summary_images(
    scan: Scan,
    field: int,
    channel: int = 0,
    kinds: Iterable[str] = KINDS,
    frames: Any = None,
    *,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """Several summary images of one field and channel from one pass over its frames.

    Parameters
    ----------
    scan
        The scan, with its joining, trims and scan-phase correction.
    field, channel
        0-based field and channel index.
    kinds
        Any of ``mean``, ``max``, ``std`` (ddof=0) and ``correlation`` (each
        pixel's mean Pearson correlation with its 8 neighbours over time; a pair
        with a constant trace counts 0).
    frames
        The frames to summarise (int, slice, range or list); all by default.
    chunk_frames
        Frames read at once: memory is two chunks of the field.
    progress
        Called as ``progress(frames_done, frames_total)`` after each chunk.
    cancel
        Checked before each chunk; when it returns True the pass stops.
    workers
        Threads summing each chunk (default: one per CPU but one, 1 to 4).

    Returns
    -------
    dict
        ``{kind: float64 image (y, x)}`` in the order asked.

    Raises
    ------
    ScanImageError
        An unknown kind, or no frames selected.
    SummaryCancelledError
        ``cancel()`` returned True.
    """
    chosen = check_kinds(kinds)
    selected = _frame_indices(scan, frames)
    if len(selected) == 0:
        raise ScanImageError(f"{scan.filenames[0]}: no frames selected for summary images")
    chunk_frames = max(1, min(int(chunk_frames), len(selected)))
    index = normalize_axis(field, scan.num_fields, "fields").values[0]
    shape = (scan.fields[index].height, scan.fields[index].width)
    threads = max(1, WORKERS if workers is None else int(workers))
    sums = RunningSums(shape, set(chosen), threads)
    buffers = [np.empty((chunk_frames, 1, *shape), scan.dtype) for _ in range(2)]
    with ThreadPoolExecutor(threads) as pool:
        for number, start in enumerate(range(0, len(selected), chunk_frames)):
            if cancel is not None and cancel():
                sums.wait()
                raise SummaryCancelledError
            part = selected[start : start + chunk_frames]
            out = buffers[number % 2][: len(part)]
            # read while the previous chunk (the other buffer) is summed
            chunk = scan.read_field(index, channels=[channel], frames=part, out=out)
            sums.add(chunk[:, 0], pool)
            if progress is not None:
                progress(start + len(part), len(selected))
        sums.wait()
    return {kind: sums.result(kind) for kind in chosen}


def stitch_summaries(
    mosaic: Mosaic, depth: int, images: dict[int, dict[str, np.ndarray]], kinds: Sequence[str]
) -> dict[str, np.ndarray]:
    """Paste per-field summary images (``images[field][kind]``) into one depth of ``mosaic``.

    Gaps between fields are 0, as in the stitched raw frames.
    """
    stacked = {f: np.stack([by_kind[k] for k in kinds]) for f, by_kind in images.items()}
    canvas = np.zeros((len(kinds), *mosaic.shape))
    mosaic.paste(depth, stacked, canvas)
    return dict(zip(kinds, canvas, strict=True))


def stitched_summary_images(
    scan: Scan,
    channel: int = 0,
    kinds: Iterable[str] = KINDS,
    depth: int = 0,
    frames: Any = None,
    **options: Any,
) -> tuple[Mosaic, dict[str, np.ndarray]]:
    """Summary images of every field at one depth, pasted at their µm positions.

    ``options`` go to :func:`summary_images` (``chunk_frames``, ``progress``,
    ``cancel``); ``progress`` counts frames over all the fields.  Returns the
    mosaic grid (its ``top_left_um`` and ``pixel_size_um`` place the images)
    and ``{kind: image (y, x)}``.
    """
    chosen = check_kinds(kinds)
    fields = [f.index for f in scan.fields if f.depth_index == depth]
    if not fields:
        raise ScanImageError(f"{scan.filenames[0]}: no field at depth index {depth}")
    mosaic = Mosaic.of(scan, fields)
    report = options.pop("progress", None)
    count = len(_frame_indices(scan, frames))
    images = {}
    for i, field in enumerate(fields):

        def step(done: int, _total: int, before: int = i * count) -> None:
            if report is not None:
                report(before + done, count * len(fields))

        images[field] = summary_images(
            scan, field, channel, chosen, frames, progress=step, **options
        )
    return mosaic, stitch_summaries(mosaic, depth, images, chosen)
