"""A terminal progress bar for ``to_zarr``'s ``progress(done, total)`` hook (the CLI's)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["terminal_progress"]


@contextmanager
def terminal_progress(
    description: str, *, file: TextIO | None = None, enabled: bool | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar counting chunks; yields the callback that moves it.

    ``enabled=None`` shows the bar only on a terminal, so logs and pipes stay clean.
    """
    stream = sys.stderr if file is None else file
    disable = None if enabled is None else not enabled
    with tqdm(desc=description, unit="chunk", file=stream, disable=disable) as bar:

        def update(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
                bar.refresh()
            bar.update(done - bar.n)

        yield update
