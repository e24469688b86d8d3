"""The pixels of one series, streamed to HDF5 buffer by buffer through ``Scan.read_field``.

:class:`FieldFrames` is an hdmf ``GenericDataChunkIterator``: hdmf asks it for
one buffer of whole frames at a time and writes it before asking for the next,
so one buffer, reused by every series of an export
(:class:`~napari_scanimage.export.buffers.ReusedBuffer`), holds everything in
memory, however long the recording.
Every buffer is what ``scan.read_field(field, channel, frames)`` returns, with
the scan's joining, trims and scan-phase correction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from napari_scanimage.export.buffers import ReusedBuffer

if TYPE_CHECKING:
    from collections.abc import Callable

    from napari_scanimage.export.nwb.plan import SeriesPlan
    from napari_scanimage.scan.scan import Scan

__all__ = ["FieldFrames"]


class FieldFrames(GenericDataChunkIterator):  # type: ignore[misc]  # hdmf is untyped
    """``(frames, y, x)`` of one field and channel, one buffer of frames at a time."""

    def __init__(
        self,
        scan: Scan,
        plan: SeriesPlan,
        buffer: ReusedBuffer | None = None,
        moved: Callable[[], None] | None = None,
    ) -> None:
        self._scan = scan
        self._plan = plan
        self._buffer = buffer or ReusedBuffer()
        self._moved = moved
        layout = plan.layout
        _, height, width = layout.shape
        super().__init__(
            chunk_shape=layout.chunk,
            buffer_shape=(layout.buffer_frames, height, width),
            display_progress=False,
        )

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        times, rows, cols = selection
        shape = (times.stop - times.start, 1, rows.stop - rows.start, cols.stop - cols.start)
        out = self._buffer.take(shape, self._scan.dtype)
        self._scan.read_field(
            self._plan.field.index,
            channels=[self._plan.channel],
            frames=np.arange(times.start, times.stop),
            rows=rows,
            cols=cols,
            out=out,
        )
        if self._moved is not None:
            self._moved()
        return out[:, 0]

    def _get_maxshape(self) -> tuple[int, int, int]:
        return self._plan.layout.shape

    def _get_dtype(self) -> np.dtype[Any]:
        return self._scan.dtype
