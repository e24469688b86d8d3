"""The first chunk's frames, read while the rest of the export is still loading.

Before its first task runs, a conversion imports zarr and dask (about 0.2 s)
and creates the store.  Nothing in that needs the pixels, so the first task's
read starts at once in a thread and its frames wait for the task in the
session: reading overlaps the imports instead of following them.  Only for
local runs (a cluster's workers read for themselves); if the task never comes
(the chunk was already done) the frames go with the session.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

from napari_scanimage.export.session import remember, take

if TYPE_CHECKING:
    from collections.abc import Hashable

    from napari_scanimage.export.plan import ExportPlan
    from napari_scanimage.scan.scan import Scan

__all__ = ["early_frames", "start_early_read"]


def _key(field: int, channel: int, start: int, stop: int) -> Hashable:
    return ("early frames", field, channel, start, stop)


def start_early_read(scan: Scan, plan: ExportPlan) -> None:
    """Begin reading the frames of the plan's first task (first image, block and channel)."""
    if not plan.images or not plan.channels or plan.num_blocks < 1:
        return
    field, channel = plan.images[0].field.index, plan.channels[0]
    start, stop = plan.frames(0)
    pending: Future[np.ndarray] = Future()
    remember(plan.recipe.session, _key(field, channel, start, stop), pending)

    def read() -> None:
        try:
            frames = np.arange(start, stop)
            pending.set_result(scan.read_field(field, channels=[channel], frames=frames))
        except BaseException as exc:  # the task reads again, and reports it itself
            pending.set_exception(exc)

    threading.Thread(target=read, name="napari-scanimage-early-read", daemon=True).start()


def early_frames(
    session: str, field: int, channel: int, start: int, stop: int
) -> np.ndarray | None:
    """The frames read early for this task (once), or None if none were."""
    pending = take(session, _key(field, channel, start, stop))
    if not isinstance(pending, Future):
        return None
    try:
        found: np.ndarray = pending.result()
    except Exception:  # read again by the task, which raises it properly
        return None
    return found
