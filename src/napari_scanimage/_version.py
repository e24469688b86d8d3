"""The installed package's version, looked up once and only when asked.

``importlib.metadata`` is slow to load, so nothing pays for it at import.  Kept
apart from the package's ``__init__`` (the public facade, which imports the
scan model) so that export code can name its creator without importing upward.
"""

from __future__ import annotations

import functools

__all__ = ["package_version"]


@functools.cache
def package_version() -> str:
    """``napari-scanimage``'s version, or ``'unknown'`` when run from a bare source tree."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("napari-scanimage")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"
