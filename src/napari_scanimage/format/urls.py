"""Telling URLs from paths, naming them safely, and listing objects beside one.

Anything written ``scheme://...`` is a URL for fsspec (``s3://``, ``gs://``,
``https://``, ``memory://``...); everything else is a local path.  These helpers
import no fsspec until a listing is asked for, so local work never loads it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = [
    "forget_listings",
    "has_query",
    "is_url",
    "list_objects",
    "redact",
    "use_storage_options",
]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
_GLOB = re.compile(r"[*?\[]")


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


def forget_listings(url: str, storage_options: Mapping[str, Any] | None = None) -> None:
    """Drop what fsspec remembers of ``url``'s folder (no request): opening looks afresh.

    s3fs answers a lookup from a listing it made earlier, however old; an
    object uploaded again since would be read with its former size and ETag.
    """
    from napari_scanimage.format.remote import filesystem  # noqa: PLC0415 - fsspec on demand

    fs, path = filesystem(url, storage_options)
    fs.invalidate_cache(path.rsplit("/", 1)[0] if "/" in path else path)


def list_objects(pattern: str, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """URLs of the objects matching a glob ``pattern`` (one listing of its folder).

    A fresh listing every time (fsspec's listing cache is dropped for the
    folder first), so files uploaded since the last look are seen.
    """
    from napari_scanimage.format.remote import (  # noqa: PLC0415 - fsspec on demand
        call_retrying,
        filesystem,
        request_timeout,
        timed,
    )

    fs, path = filesystem(pattern, storage_options)
    folder = path.rsplit("/", 1)[0] if "/" in path else path
    fs.invalidate_cache(folder)
    timeout = request_timeout()
    found = (
        call_retrying(lambda: timed(fs, "_glob", "glob", path, timeout), timeout)
        if _GLOB.search(path)
        else [path]
    )
    scheme = pattern.split("://", 1)[0]
    urls = []
    for item in found:
        url = item if is_url(item) else fs.unstrip_protocol(item)
        # the user's scheme, not the filesystem's first (s3a:// stays s3a://): one
        # object must have one name, or a series lists it twice
        urls.append(f"{scheme}://{url.split('://', 1)[1]}" if "://" in url else url)
    return urls


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
