"""Listing the objects beside a URL (a split acquisition, a glob) through fsspec.

Always a fresh listing: fsspec's cache of the folder is dropped first, so
files uploaded since the last look are seen and a re-uploaded object is not
opened with its former size.  fsspec loads (through :mod:`.remote`) only when
a listing is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_scanimage.format.urls import GLOB, is_url

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["forget_listings", "list_objects"]


def forget_listings(url: str, storage_options: Mapping[str, Any] | None = None) -> None:
    """Drop what fsspec remembers of ``url``'s folder (no request): opening looks afresh.

    s3fs answers a lookup from a listing it made earlier, however old; an
    object uploaded again since would be read with its former size and ETag.
    """
    _forgotten(url, storage_options)


def _forgotten(url: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    """``url``'s filesystem and path, with what fsspec remembers of its folder dropped."""
    from napari_scanimage.format.remote import filesystem  # noqa: PLC0415 - fsspec on demand

    fs, path = filesystem(url, storage_options)
    fs.invalidate_cache(path.rsplit("/", 1)[0] if "/" in path else path)
    return fs, path


def list_objects(pattern: str, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """URLs of the objects matching a glob ``pattern`` (one listing of its folder).

    A fresh listing every time (fsspec's listing cache is dropped for the
    folder first), so files uploaded since the last look are seen.
    """
    from napari_scanimage.format.remote import (  # noqa: PLC0415 - fsspec on demand
        call_retrying,
        request_timeout,
        timed,
    )

    fs, path = _forgotten(pattern, storage_options)
    timeout = request_timeout()
    found = (
        call_retrying(lambda: timed(fs, "_glob", "glob", path, timeout), timeout)
        if GLOB.search(path)
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
