"""``to_zarr``: plan, prepare the store, run the chunk tasks, finish.

Each step lives in its own module (see the package docstring); this one only
puts them in order and owns the public signature.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from napari_scanimage._version import package_version
from napari_scanimage.export.describe import KEY, field_record, image_name, root_record
from napari_scanimage.export.display import channel_window
from napari_scanimage.export.early_read import start_early_read
from napari_scanimage.export.ngff import image_attrs
from napari_scanimage.export.ome_xml import metadata_xml
from napari_scanimage.export.plan import ExportPlan
from napari_scanimage.export.session import forget, remember
from napari_scanimage.scan.field_groups import group_fields

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from typing import Any

    from distributed import Client

    from napari_scanimage.export.plan import Compression, NgffVersion
    from napari_scanimage.scan.scan import Scan

__all__ = ["DEFAULT_CHUNK_FRAMES", "plan_for", "to_zarr"]

DEFAULT_CHUNK_FRAMES = 32
"""16 MB chunks for 512x512 int16 frames: large enough to write fast, small
enough that a viewer scrubbing through time decodes little per step."""

logger = logging.getLogger(__name__)


def to_zarr(
    scan: Scan,
    path: str | os.PathLike[str],
    *,
    chunk_frames: int | None = None,
    compression: Compression | None = None,
    ngff: NgffVersion = "0.4",
    shard_frames: int | None = None,
    channels: Sequence[int] | None = None,
    fields: Sequence[int] | None = None,
    client: Client | None = None,
    progress: Callable[[int, int], object] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a scan as OME-Zarr (NGFF 0.4 or 0.5): one image per field.

    Each field becomes image group ``"0"``, ``"1"``, ... holding one array
    ``(t, c, [z,] y, x)`` scaled in seconds and µm and translated to where
    ScanImage imaged it, so the store opens in napari (napari-ome-zarr) where the
    live scan's layers are.  The root holds the scan's summary, ScanImage header
    and the conversion's settings under ``attrs["napari_scanimage"]``.

    Parameters
    ----------
    scan
        The open scan; its joining, trims and dtype are kept.
    path
        Local directory to write (conventionally ``*.zarr``).
    chunk_frames
        Frames per chunk; a chunk is ``chunk_frames x 1 channel x [1 x] y x x``.
        None: 32 for NGFF 0.4, 1 for NGFF 0.5 (one frame per chunk inside shards).
    compression
        None (raw), ``'zstd'`` or ``'blosc'`` (Blosc with zstd and byte shuffle).
    ngff
        ``"0.4"``: Zarr format 2, one file per chunk, read by most tools today.
        ``"0.5"``: Zarr format 3 with sharding (the ``ome`` attribute key), a
        few hundred files per field however long the recording.
    shard_frames
        Frames per shard (NGFF 0.5 only), a multiple of ``chunk_frames``; None
        sizes shards to about 128 MB (256 to 1024 frames).
    channels
        Scan channel indices to export (0-based); None exports all.
    fields
        Field indices to export (0-based); None exports all.
    client
        A ``dask.distributed`` client to run on; None uses dask's configured
        scheduler (threads by default).  Workers re-open the scan from its files.
    progress
        Called as ``progress(done, total)`` with counts of chunks (shards in
        NGFF 0.5), in the calling thread, from ``(0, total)`` to ``(total, total)``.
    overwrite
        Replace whatever conversion is at ``path``.  Without it, a conversion with
        the same settings is resumed (chunks already written and intact are
        kept) and one with other settings is refused.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportError
        Bad options, ``path`` holds something else, or the files changed meanwhile.
    """
    target = Path(path)
    plan = plan_for(
        scan,
        chunk_frames=chunk_frames,
        compression=compression,
        channels=channels,
        fields=fields,
        ngff=ngff,
        shard_frames=shard_frames,
    )
    session = plan.recipe.session
    if client is None:  # a cluster's workers read for themselves
        start_early_read(scan, plan)  # reading overlaps the loading of zarr and dask
    recorded = None
    try:  # whatever happens, this conversion's objects (and early frames) are let go
        # zarr and dask load here, on first use (0.2 s), not when the package loads
        from napari_scanimage.export import chunks, schedule, store  # noqa: PLC0415

        creator = f"napari-scanimage {package_version()}"
        record = root_record(scan, plan, creator=creator, version=package_version())
        recorded = store.prepare(target, plan, record, overwrite=overwrite)
        if recorded is None:
            logger.info("%s is complete with these settings; nothing to do", target)
            if progress is not None:
                progress(plan.num_chunks, plan.num_chunks)
            return target
        tasks = chunks.chunk_tasks(plan, target, recorded)
        remember(session, plan.recipe, scan)  # this process reads through the caller's scan
        written = schedule.run_tasks(chunks.write_chunk, tasks, client=client, progress=progress)
    finally:
        forget(session)
        if client is not None and recorded is not None:  # its workers ran tasks
            with suppress(OSError):  # a lost cluster must not hide the real error
                client.run(forget, session)
    logger.info("%s: wrote %d chunks, kept %d", target, sum(written), len(written) - sum(written))
    store.finish(target, plan, _image_attrs(scan, plan), _ome_xml(scan, plan, creator))
    return target


def plan_for(
    scan: Scan,
    *,
    chunk_frames: int | None = None,
    compression: Compression | None = None,
    channels: Sequence[int] | None = None,
    fields: Sequence[int] | None = None,
    ngff: NgffVersion = "0.4",
    shard_frames: int | None = None,
) -> ExportPlan:
    """The plan :func:`to_zarr` follows for these options (its defaults filled in)."""
    if chunk_frames is None:
        chunk_frames = DEFAULT_CHUNK_FRAMES if ngff == "0.4" else 1
    return ExportPlan.of(
        scan,
        chunk_frames=chunk_frames,
        compression=compression,
        channels=channels,
        fields=fields,
        ngff=ngff,
        shard_frames=shard_frames,
    )


def _image_attrs(scan: Scan, plan: ExportPlan) -> list[dict[str, Any]]:
    numbers = [scan.channels[c] for c in plan.channels]
    step = scan.depth_step
    # one window per napari layer (an ROI over its depths), shared by its images
    shown_with: dict[int, tuple[int, ...]] = {}
    for group in group_fields([image.field for image in plan.images]):
        indices = tuple(f.index for f in group.fields)
        shown_with.update(dict.fromkeys(indices, indices))
    windows = {
        (fields, c): channel_window(scan, fields, c)
        for fields in set(shown_with.values())
        for c in plan.channels
    }
    return [
        {
            **image_attrs(
                image,
                name=image_name(scan, image),
                fps=scan.fps,
                z_step=step,
                has_z=plan.has_z,
                channel_numbers=numbers,
                windows=[windows[shown_with[image.field.index], c] for c in plan.channels],
                version=plan.ngff,
            ),
            KEY: field_record(image),
        }
        for image in plan.images
    ]


def _ome_xml(scan: Scan, plan: ExportPlan, creator: str) -> str:
    return metadata_xml(
        plan.images,
        names=[image_name(scan, image) for image in plan.images],
        dtype=plan.recipe.dtype,
        fps=scan.fps,
        channel_numbers=[scan.channels[c] for c in plan.channels],
        creator=creator,
    )
