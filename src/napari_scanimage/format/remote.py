"""Objects on S3, GCS, HTTP(S) or any fsspec filesystem, read by byte ranges.

The page reader asks a byte source for ranges; a local file answers with
``pread``, a :class:`RemoteObject` with ranged GETs through fsspec (s3fs, gcsfs,
its HTTP filesystem over aiohttp), all ranges of one call issued at once on
fsspec's event loop.  Each request is given ``timeout`` seconds and transient
failures (timeouts, dropped connections, HTTP 5xx/429) are retried a bounded
number of times; what remains ends in our error naming the object.  Messages
name an object by :func:`redact` of its URL, and exception texts are scrubbed
of query strings and credential values: a presigned URL's signature or a secret
key never reaches a message.

fsspec is imported only here, and only when a URL is opened (see ``urls``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from napari_scanimage.errors import (
    FileChangedError,
    FileReadError,
    NotScanImageError,
    ScanImageFileError,
)
from napari_scanimage.format.ranges import batches, plan_ranges
from napari_scanimage.format.remote_errors import (
    TriedError,
    remote_error,
    request_timeout,
    secrets_of,
    transient,
)
from napari_scanimage.format.urls import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import numpy as np

__all__ = ["RemoteObject", "call_retrying", "request_timeout", "retries", "timed"]

T = TypeVar("T")

_CONCURRENT = 32  # requests in flight per call
GAP_BYTES = 1 << 18
"""Blocks closer than this share a request: a round trip costs more than these bytes."""
PART_BYTES = 1 << 24
"""Contiguous runs go in parts of 16 to 32 MB, fetched at once."""
BATCH_BYTES = 1 << 28
"""Bytes fetched per batch of concurrent requests (bounds the memory of a big read)."""


def retries() -> int:
    """Extra tries of a request that failed transiently (``NAPARI_SCANIMAGE_RETRIES``, 3)."""
    return max(0, int(os.environ.get("NAPARI_SCANIMAGE_RETRIES", "3")))


class RemoteObject:
    """One object, read by byte ranges; counts its requests, bytes and batches.

    ``name`` is the URL without credentials or query (for messages), ``url`` the
    URL as given (to open it again), ``identity`` what tells this version of
    the object from a replaced one (ETag or version, and size).
    """

    def __init__(
        self, url: str, fs: Any, path: str, info: Mapping[str, Any], secrets: list[str]
    ) -> None:
        self.url = url
        self.name = redact(url)
        self._fs = fs
        self._path = path
        self.size = int(info.get("size") or 0)
        tag = next(
            (
                info[k]
                for k in ("ETag", "etag", "VersionId", "generation", "md5Hash")
                if info.get(k)
            ),
            None,
        )
        self.identity = (self.name, self.size, None if tag is None else str(tag))
        self._secrets = secrets
        self._guard: tuple[tuple[int, int], bytes] | None = None
        self._kept: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_read = 0
        self.batches = 0

    @classmethod
    def open(cls, url: str, storage_options: Mapping[str, Any] | None = None) -> RemoteObject:
        """Look the object up (one request, none when a listing already saw it)."""
        name = redact(url)
        fs, path = filesystem(url, storage_options)
        secrets = secrets_of(fs, storage_options or {})
        try:
            info = _lookup(fs, path)
        except Exception as exc:
            raise remote_error(name, exc, secrets, "looking it up", opened=False) from None
        if info.get("type") == "directory":
            raise NotScanImageError(name, "is a folder (prefix), not an object")
        if info.get("size") is None:
            raise FileReadError(name, "the server does not say how long the object is")
        return cls(url, fs, path, info, secrets)

    # -- reading ----------------------------------------------------------------------

    def watch(self, span: tuple[int, int], expected: bytes) -> None:
        """Bytes that must not change: fetched along with every read of pages.

        An object replaced under the same name (same size or not) almost surely
        differs there (page 1's description and first pixels), which costs one
        small request in the same concurrent batch instead of a round trip.
        """
        self._guard = (span, expected)

    def read_blocks(
        self, offsets: list[int], block: int, target: Callable[[int], np.ndarray]
    ) -> None:
        """Fill ``target(i)`` (``block`` contiguous bytes) from ``offsets[i]``, few requests.

        Neighbouring blocks share a request (see ``ranges``), all requests of a
        batch go at once, and a batch holds at most ``BATCH_BYTES``.
        """
        for group in batches(plan_ranges(offsets, block, GAP_BYTES, PART_BYTES), BATCH_BYTES):
            datas = self._fetch_guarded([(r.start, r.end) for r in group])
            for part, data in zip(group, datas, strict=True):
                view = memoryview(data)
                for i in part.members:
                    at = offsets[i] - part.start
                    page: Any = target(i)  # an ndarray: a buffer
                    memoryview(page).cast("B")[:] = view[at : at + block]

    def keep(self, windows: list[tuple[int, bytes]]) -> None:
        """Bytes opening read (``(offset, bytes)``): spans inside them need no request."""
        self._kept = list(windows)

    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(offset, size)`` span: kept ones, the rest in one batch."""
        found: dict[int, bytes] = {}
        for k, (start, size) in enumerate(spans):
            for at, data in self._kept:
                if at <= start and start + size <= at + len(data):
                    found[k] = data[start - at : start - at + size]
                    break
        missing = [k for k in range(len(spans)) if k not in found]
        if missing:
            ranges = [(spans[k][0], spans[k][0] + spans[k][1]) for k in missing]
            found.update(zip(missing, self._fetch_guarded(ranges), strict=True))
        return [found[k] for k in range(len(spans))]

    def _fetch_guarded(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        guard = self._guard
        if guard is None:
            return self.fetch(ranges)
        (start, size), expected = guard
        *datas, seen = self.fetch([*ranges, (start, start + size)])
        if seen != expected:
            msg = (
                "was replaced since it was opened (the bytes of its first page changed; "
                "a new recording uploaded under the same name?); open it again"
            )
            raise FileChangedError(self.name, msg)
        return datas

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset`` (one request)."""
        return self.fetch([(offset, offset + size)])[0]

    def fetch(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(start, end)`` range, all requested at once.

        Raises ``FileChangedError`` when a range lies past the object's end (it
        shrank or was replaced), ``FileReadError`` when the server fails.
        """
        wanted = [(int(a), int(b)) for a, b in ranges]
        if not wanted:
            return []
        if any(b > self.size for _, b in wanted):
            end = max(b for _, b in wanted)
            msg = f"byte {end} requested, the object has {self.size}"
            raise FileChangedError(self.name, msg)
        got: list[bytes]
        try:
            if self._fs.async_impl:
                got = _sync(self._fs, self._gather(wanted))
            else:
                got = list(_pool().map(lambda r: self._get_blocking(*r), wanted))
        except Exception as exc:
            raise remote_error(self.name, exc, self._secrets, "reading", opened=True) from None
        with self._lock:
            self.batches += 1
            self.requests += len(wanted)
            self.bytes_read += sum(len(data) for data in got)
        for (start, end), data in zip(wanted, got, strict=True):
            if len(data) != end - start:
                raise self._short(start, end, len(data))
        return got

    def _short(self, start: int, end: int, got: int) -> ScanImageFileError:
        if got > end - start:
            msg = (
                f"the server sent {got} bytes for the {end - start} at byte {start}: "
                "it ignores byte ranges, which reading needs"
            )
            return FileReadError(self.name, msg)
        msg = (
            f"ends at byte {start + got}, {end - start} bytes at {start} were needed: "
            "it shrank or was replaced since it was opened"
        )
        return FileChangedError(self.name, msg)

    async def _gather(self, wanted: list[tuple[int, int]]) -> list[bytes]:
        limit = asyncio.Semaphore(_CONCURRENT)

        async def one(start: int, end: int) -> bytes:
            async with limit:
                return await self._get(start, end)

        return list(await asyncio.gather(*(one(a, b) for a, b in wanted)))

    async def _get(self, start: int, end: int) -> bytes:
        """One range, with a timeout per try and bounded retries of transient failures."""
        tries, timeout = retries(), request_timeout()
        for attempt in range(tries + 1):
            try:
                data = await asyncio.wait_for(
                    self._fs._cat_file(self._path, start=start, end=end), timeout
                )
                return bytes(data)
            except Exception as exc:
                if attempt == tries or not transient(exc):
                    raise TriedError(exc, attempt + 1, timeout) from exc
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_blocking(self, start: int, end: int) -> bytes:
        return bytes(
            call_retrying(lambda: self._fs.cat_file(self._path, start=start, end=end), None)
        )

    def close(self) -> None:
        """Nothing to release: the filesystem's connections are shared and kept by fsspec."""


def _lookup(fs: Any, path: str) -> Any:
    """The object's info (size, ETag), within the request timeout, retried a few times."""
    timeout = request_timeout()
    return call_retrying(lambda: timed(fs, "_info", "info", path, timeout), timeout)


def timed(fs: Any, coroutine: str, blocking: str, path: str, timeout: float) -> Any:
    """``fs.<method>(path)``, given up after ``timeout`` seconds where fsspec is async."""
    if fs.async_impl:
        return _sync(fs, asyncio.wait_for(getattr(fs, coroutine)(path), timeout))
    return getattr(fs, blocking)(path)


def call_retrying(call: Callable[[], T], timeout: float | None) -> T:
    """``call()``, tried again (with a growing pause) while it fails transiently."""
    tries = retries()
    for attempt in range(tries + 1):
        try:
            return call()
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, FileNotFoundError) else exc
            if attempt == tries or cause is None or not transient(cause):
                raise TriedError(exc, attempt + 1, timeout) from exc
            time.sleep(min(0.05 * 2**attempt, 1.0))
    raise AssertionError("unreachable")  # pragma: no cover


def filesystem(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the object's path in it."""
    import fsspec.core  # noqa: PLC0415 - only when a URL is opened

    try:
        return fsspec.core.url_to_fs(url, **dict(storage_options or {}))  # type: ignore[no-any-return]
    except (ImportError, ValueError) as exc:
        problem = str(exc).splitlines()[0] if isinstance(exc, ImportError) else type(exc).__name__
        msg = (
            f"cannot open this kind of URL ({problem}); remote storage needs "
            '`pip install "napari-scanimage[remote]"` (and gcsfs for gs://)'
        )
        raise ScanImageFileError(redact(url), msg) from None


def _sync(fs: Any, coro: Any) -> Any:
    import fsspec.asyn  # noqa: PLC0415 - loaded with the filesystem already

    return fsspec.asyn.sync(fs.loop, lambda: coro)


@functools.cache
def _pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="scanimage-remote")
