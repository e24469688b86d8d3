"""How the command line talks to a user: one line per error, once per warning.

Every command runs inside :func:`run_command`.  Whatever goes wrong (our own
errors, the operating system's, Ctrl-C, a cluster that cannot be reached) ends
as one line ``napari-scanimage: error: PATH: what happened`` on stderr and a
nonzero exit, never a traceback; a reader that closed the pipe (``| head``) ends
the command quietly.  Warnings print as ``napari-scanimage: warning: ...``, each
text once, without Python's source line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import TYPE_CHECKING, TextIO

from napari_scanimage.errors import ScanImageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_PIPE",
    "describe_error",
    "run_command",
    "warnings_as_lines",
]

PROGRAM = "napari-scanimage"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_PIPE = 141  # 128 + SIGPIPE, as `cat` ends when `head` stops reading


def describe_error(exc: BaseException) -> str:
    """One line: the path first where there is one, then what happened.

    Examples
    --------
    >>> describe_error(FileExistsError(17, "File exists", "/d/out.zarr"))
    '/d/out.zarr: File exists'
    >>> describe_error(OSError(28, "No space left on device"))
    'No space left on device'
    """
    if isinstance(exc, OSError) and not isinstance(exc, ScanImageError):
        what = exc.strerror or str(exc) or type(exc).__name__
        names = [n for n in (exc.filename, exc.filename2) if n is not None]
        return ": ".join([*(os.fsdecode(n) for n in names), what])
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line, whatever the message held


@contextlib.contextmanager
def warnings_as_lines(stream: TextIO | None = None) -> Iterator[None]:
    """Show warnings as ``napari-scanimage: warning: ...``, each text once."""
    seen: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"{PROGRAM}: warning: {text}", file=stream or sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)  # ours (ScanImageWarning) included
        warnings.showwarning = show
        yield


def run_command(command: Callable[[], int]) -> int:
    """Run one command and turn every way it can fail into one line and an exit status."""
    try:
        with warnings_as_lines():
            return command()
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except (ScanImageError, OSError) as exc:
        _say(f"error: {describe_error(exc)}")
        return EXIT_ERROR


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        print(f"{PROGRAM}: {text}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
