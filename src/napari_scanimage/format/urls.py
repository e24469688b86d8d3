"""Telling URLs from paths and naming them safely: string work, no fsspec.

Anything written ``scheme://...`` is a URL for fsspec (``s3://``, ``gs://``,
``https://``, ``memory://``...); everything else is a local path.  Listing
objects is :mod:`.listing`'s, reading them :mod:`.remote`'s; both build on this
module and it on neither, so local work never loads fsspec.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = [
    "GLOB",
    "has_query",
    "is_url",
    "redact",
    "use_storage_options",
]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
GLOB = re.compile(r"[*?\[]")


def is_url(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path.

    Examples
    --------
    >>> is_url("s3://bucket/scan_00001.tif"), is_url("/data/scan_00001.tif")
    (True, False)
    """
    return isinstance(path, str) and _SCHEME.match(path) is not None


def redact(url: str) -> str:
    """The URL without user, password, query or fragment: what messages may show.

    A presigned URL's signature lives in its query, HTTP credentials in its
    user part; neither may reach a message, a log or a file written.

    Examples
    --------
    >>> redact("https://u:pw@host/rec/scan.tif?X-Amz-Signature=abc")
    'https://host/rec/scan.tif'
    """
    if not is_url(url):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host or parts.netloc.rpartition("@")[2], parts.path, "", ""))


def has_query(url: str) -> bool:
    """Whether the URL carries a query (a presigned URL: its neighbours can't be listed)."""
    return bool(urlsplit(url).query)


def use_storage_options(urls: list[str], options: Mapping[str, Any]) -> None:
    """Make ``options`` the defaults of the filesystems of ``urls``, in this process.

    What the command line's ``--storage-option`` does: every later open of
    such a URL (by the reader, napari, an export) gets them, as if they were
    in fsspec's config file.
    """
    import fsspec.config  # noqa: PLC0415 - only when a URL is given

    for url in urls:
        if is_url(url):
            fsspec.config.conf.setdefault(url.split("://", 1)[0], {}).update(options)
