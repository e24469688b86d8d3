"""Run the chunk tasks on dask, reporting progress as they finish.

Without a client, dask's configured scheduler runs them (threads by default);
a local scheduler reports each finished task through a dask callback, in the
calling thread.  With a ``distributed.Client`` the tasks go to its workers
(threads or processes) and progress follows ``as_completed``.  Tasks return
small values, so memory is bounded by the chunks in flight on each worker.
"""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

import dask.config
from dask.base import get_scheduler
from dask.callbacks import Callback
from dask.threaded import get as threaded_get

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from distributed import Client

__all__ = ["run_tasks"]

T = TypeVar("T")
R = TypeVar("R")


def run_tasks(
    func: Callable[[T], R],
    tasks: Sequence[T],
    *,
    client: Client | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> list[R]:
    """``[func(task) for task in tasks]`` on dask; ``progress(done, total)`` as they end."""
    total = len(tasks)
    report = progress or _ignore
    report(0, total)
    if not tasks:
        return []
    prefix = f"napari-scanimage-chunk-{uuid.uuid4().hex}"
    keys = [f"{prefix}-{i:09d}" for i in range(total)]  # padded: a stable, sortable order
    if client is None:
        return _run_local(func, tasks, keys, prefix, report)
    return _run_distributed(func, tasks, keys, client, report)


def _ignore(done: int, total: int) -> None:
    """No progress wanted."""


def _run_local(
    func: Callable[[T], R],
    tasks: Sequence[T],
    keys: list[str],
    prefix: str,
    report: Callable[[int, int], object],
) -> list[R]:
    done = 0

    def finished(key: object, *_: Any) -> None:
        nonlocal done
        # callbacks are global: count only our own tasks, not another computation's
        if isinstance(key, str) and key.startswith(prefix):
            done += 1
            report(done, len(tasks))

    # One plain graph, not a Delayed per task: building and merging thousands of
    # Delayed objects costs more than the conversion of a long recording.
    graph = {key: (func, task) for key, task in zip(keys, tasks, strict=True)}
    # dask's configured scheduler (e.g. "synchronous"), else its threads
    scheduler = _configured_scheduler() or threaded_get
    with Callback(posttask=finished):  # type: ignore[no-untyped-call]
        results = scheduler(graph, keys)
    return list(results)


def _configured_scheduler() -> Callable[..., Any] | None:
    """The scheduler set in dask's config, or a default client; never imports ``distributed``.

    dask's ``get_scheduler`` imports ``distributed`` (0.1-0.2 s) to look for a
    default client; none can exist before ``distributed`` is imported.
    """
    if "distributed" not in sys.modules and dask.config.get("scheduler", None) is None:
        return None
    found: Callable[..., Any] | None = get_scheduler()  # type: ignore[no-untyped-call]
    return found


def _run_distributed(
    func: Callable[[T], R],
    tasks: Sequence[T],
    keys: list[str],
    client: Client,
    report: Callable[[int, int], object],
) -> list[R]:
    from distributed import as_completed  # noqa: PLC0415 - only with a client

    futures = client.map(func, tasks, key=keys, pure=False)
    results: dict[str, R] = {}
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            results[future.key] = future.result()  # re-raises a task's error here
            report(len(results), len(tasks))
    finally:
        # after an error, stop the rest; a no-op when all are done
        client.cancel(futures)  # type: ignore[no-untyped-call]
    return [results[key] for key in keys]
