"""What one conversion opens in a process (scans, Zarr arrays), kept until it ends.

Every chunk task needs the scan and two Zarr arrays.  Opening them costs a few
milliseconds, as much as writing a small chunk, so each process opens them once
per conversion (*session*) and :func:`forget` drops them all when it ends.  The
session, not the path, keys them: a store replaced by another conversion must
never be written through arrays opened for the old one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

__all__ = ["cached", "count", "forget", "remember", "take"]

T = TypeVar("T")

_OPEN: dict[tuple[str, Hashable], Any] = {}
_LOCK = threading.Lock()


def cached(session: str, key: Hashable, make: Callable[[], T]) -> T:
    """The session's object under ``key``, made on first use in this process."""
    with _LOCK:
        if (session, key) in _OPEN:
            return cast("T", _OPEN[session, key])
    value = make()  # outside the lock: opening reads files
    with _LOCK:
        return cast("T", _OPEN.setdefault((session, key), value))


def remember(session: str, key: Hashable, value: object) -> None:
    """Use ``value`` for ``key`` in this process (e.g. the caller's open scan)."""
    with _LOCK:
        _OPEN[session, key] = value


def take(session: str, key: Hashable) -> Any:
    """Remove and return the session's object under ``key`` (None if there is none)."""
    with _LOCK:
        return _OPEN.pop((session, key), None)


def forget(session: str) -> None:
    """Drop this process's objects of one conversion; files close when unreferenced."""
    with _LOCK:
        for key in [k for k in _OPEN if k[0] == session]:
            del _OPEN[key]


def count(session: str | None = None) -> int:
    """Objects held (for one session, or all): 0 once conversions have ended."""
    with _LOCK:
        return sum(1 for k in _OPEN if session is None or k[0] == session)
