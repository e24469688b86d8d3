"""The unit of work: one chunk (a run of frames of one channel of one field).

A task is plain picklable data, so any dask worker, thread or process, can run
it: it re-opens the scan from its :class:`~napari_scanimage.export.recipe.ScanRecipe`,
reads its frames with :meth:`Scan.read_field`, stores them, and only then
records the chunk's checksum.  A chunk recorded by an earlier, interrupted run
is read back and kept if its checksum still matches; otherwise it is written again.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from napari_scanimage.export.buffers import ReusedBuffer
from napari_scanimage.export.chunk_files import ChunkFiles
from napari_scanimage.export.early_read import early_frames
from napari_scanimage.export.session import cached
from napari_scanimage.export.store import NOT_DONE, array_path, records_path

if TYPE_CHECKING:
    from pathlib import Path

    from napari_scanimage.export.plan import ExportPlan
    from napari_scanimage.export.recipe import ScanRecipe

__all__ = ["ChunkTask", "checksum", "chunk_tasks", "write_chunk"]

_BLOCK_WORDS = 4096


@dataclass(frozen=True)
class ChunkTask:
    """Where one chunk comes from and where it goes."""

    recipe: ScanRecipe
    root: str
    image: str
    field: int
    channel: int
    """Scan channel index to read."""
    position: int
    """Index on the array's ``c`` axis."""
    block: int
    start: int
    stop: int
    has_z: bool
    expected: int | None
    """Checksum recorded by an earlier run, to verify instead of rewriting."""

    def region(self) -> tuple[slice, ...]:
        """The chunk's selection in the image's array."""
        z = (slice(0, 1),) if self.has_z else ()
        return (slice(self.start, self.stop), slice(self.position, self.position + 1), *z)


def chunk_tasks(plan: ExportPlan, root: Path, recorded: dict[str, np.ndarray]) -> list[ChunkTask]:
    """Every chunk, field by field and time block by block (channels of a block together).

    Channels are interleaved in the TIFF pages, so writing a block's channels
    one after the other reads each stretch of the files once.
    """
    tasks = []
    for image in plan.images:
        for block in range(plan.num_blocks):
            start, stop = plan.frames(block)
            for position, channel in enumerate(plan.channels):
                expected = int(recorded[image.path][block, position])
                tasks.append(
                    ChunkTask(
                        recipe=plan.recipe,
                        root=str(root),
                        image=image.path,
                        field=image.field.index,
                        channel=channel,
                        position=position,
                        block=block,
                        start=start,
                        stop=stop,
                        has_z=plan.has_z,
                        expected=None if expected == NOT_DONE else expected,
                    )
                )
    return tasks


def checksum(data: np.ndarray) -> int:
    """CRC-32 of the sums of each 32 KiB block of the chunk's bytes (as 64-bit words).

    A plain CRC-32 of every byte costs as much as storing an uncompressed
    chunk; summing blocks runs at memory speed.  Any damage a store suffers
    (zeroed, truncated or foreign data, blocks out of place) changes a block's
    sum or the order of the sums.
    """
    raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    words = len(raw) // 8
    blocks, rest = divmod(words, _BLOCK_WORDS)
    body = raw[: words * 8].view(np.uint64)
    sums = body[: blocks * _BLOCK_WORDS].reshape(blocks, _BLOCK_WORDS).sum(axis=1, dtype=np.uint64)
    last = body[blocks * _BLOCK_WORDS :].sum(dtype=np.uint64) if rest else np.uint64(0)
    crc = zlib.crc32(sums.tobytes())
    crc = zlib.crc32(last.tobytes(), crc)
    return zlib.crc32(raw[words * 8 :].tobytes(), crc)


def write_chunk(task: ChunkTask) -> bool:
    """Store one chunk unless an earlier run stored it intact; True if written."""
    array = _open(task, array_path(task.root, task.image))
    region = task.region()
    if task.expected is not None and _stored_checksum(array, region) == task.expected:
        return False
    data = early_frames(task.recipe.session, task.field, task.channel, task.start, task.stop)
    if data is None:
        frames = np.arange(task.start, task.stop)
        scan = task.recipe.open()
        out = _buffer(scan, task)
        data = scan.read_field(task.field, channels=[task.channel], frames=frames, out=out)
    if task.has_z:
        data = data[:, :, np.newaxis]
    files = _chunk_files(task, array)
    if files is None:
        array[region] = data
    else:  # the same bytes zarr would write, at a fraction of its cost
        files.write(task.start, task.position, data)
    # only now, with the chunk stored, may the chunk count as done
    records = _open(task, records_path(task.root, task.image))
    records[task.block, task.position] = checksum(data)
    return True


def _buffer(scan: Any, task: ChunkTask) -> np.ndarray:
    """A buffer for a task's frames, one per thread, reused from task to task.

    A task's data is stored before its thread takes the next; the buffers go
    when the session ends.
    """
    field = scan.fields[task.field]
    shape = (task.stop - task.start, 1, field.height, field.width)
    held = cached(task.recipe.session, ("buffer", threading.get_ident()), ReusedBuffer)
    return held.take(shape, np.dtype(scan.dtype))


def _open(task: ChunkTask, path: str) -> zarr.Array[Any]:
    """An array of the store, opened once per process and conversion."""
    return cached(task.recipe.session, ("zarr", path), lambda: zarr.open_array(path, mode="r+"))


def _chunk_files(task: ChunkTask, array: zarr.Array[Any]) -> ChunkFiles | None:
    key = ("chunk files", task.root, task.image)
    return cached(task.recipe.session, key, lambda: ChunkFiles.of(array))


def _stored_checksum(array: zarr.Array[Any], region: tuple[slice, ...]) -> int | None:
    try:
        return checksum(np.asarray(array[region]))
    except Exception:  # a damaged chunk, whatever the damage, is written again
        return None
