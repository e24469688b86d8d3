"""Progress of a long command (convert, summary, NWB) for the ``progress(done, total)`` hook.

On a terminal a tqdm bar; in a log or a pipe, plain percentage lines at most every
few seconds (a bar's carriage-return redraws would fill the log); nothing with ``--quiet``.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["LINE_EVERY_S", "terminal_progress"]

LINE_EVERY_S = 5.0
"""Seconds between plain progress lines when stderr is not a terminal."""


@contextmanager
def terminal_progress(
    description: str,
    *,
    unit: str = "chunk",
    file: TextIO | None = None,
    enabled: bool | None = None,
    quiet: bool = False,
) -> Iterator[Callable[[int, int], None]]:
    """Yield the callback that reports ``(done, total)``.

    ``enabled=None`` draws a bar only on a terminal and writes lines otherwise;
    True always draws the bar, False (or ``quiet``) reports nothing.
    """
    stream = sys.stderr if file is None else file
    if quiet or enabled is False:
        yield lambda done, total: None
        return
    if enabled or _is_terminal(stream):
        from tqdm import tqdm  # noqa: PLC0415 - only a terminal needs it

        with tqdm(desc=description, unit=unit, file=stream) as bar:

            def update(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                    bar.refresh()
                bar.update(done - bar.n)

            yield update
        return
    yield _Lines(description, unit, stream).report


class _Lines:
    """``description: 42% (420/1000 chunks)`` lines, at most one every few seconds."""

    def __init__(self, description: str, unit: str, stream: TextIO) -> None:
        self.description, self.unit, self.stream = description, unit, stream
        self.last = time.monotonic()  # the first line after a while, or at the end
        self.said: tuple[int, int] | None = None

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if (done, total) == self.said or not (finished or now - self.last >= LINE_EVERY_S):
            return
        self.last, self.said = now, (done, total)
        percent = f"{100 * done // total}%" if total else "?"
        line = f"{self.description}: {percent} ({done}/{total} {self.unit}s)"
        print(line, file=self.stream, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False
