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
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import (
    FileChangedError,
    FileReadError,
    NotScanImageError,
    ScanImageFileError,
    ScanImageNotFoundError,
)
from napari_scanimage.format.ranges import batches, plan_ranges
from napari_scanimage.format.urls import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import numpy as np

__all__ = ["RemoteObject", "request_timeout", "retries"]

_CONCURRENT = 32  # requests in flight per call
GAP_BYTES = 1 << 18
"""Blocks closer than this share a request: a round trip costs more than these bytes."""
PART_BYTES = 1 << 24
"""Contiguous runs go in parts of 16 to 32 MB, fetched at once."""
BATCH_BYTES = 1 << 28
"""Bytes fetched per batch of concurrent requests (bounds the memory of a big read)."""
_SECRET_KEYS = ("key", "secret", "token", "password", "session_token", "access_key", "sas")


def request_timeout() -> float:
    """Seconds one request may take (``NAPARI_SCANIMAGE_TIMEOUT``, default 60)."""
    return float(os.environ.get("NAPARI_SCANIMAGE_TIMEOUT", "60"))


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
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_read = 0
        self.batches = 0

    @classmethod
    def open(cls, url: str, storage_options: Mapping[str, Any] | None = None) -> RemoteObject:
        """Look the object up (one request, none when a listing already saw it)."""
        name = redact(url)
        fs, path = filesystem(url, storage_options)
        secrets = _secrets_of(fs, storage_options or {})
        try:
            info = _lookup(fs, path)
        except Exception as exc:
            raise _error(name, exc, secrets, "looking it up", opened=False) from None
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

    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(offset, size)`` span, in one concurrent batch."""
        return self._fetch_guarded([(start, start + size) for start, size in spans])

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
            raise _error(self.name, exc, self._secrets, "reading", opened=True) from None
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
                    raise _TriedError(exc, attempt + 1, timeout) from exc
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_blocking(self, start: int, end: int) -> bytes:
        tries = retries()
        for attempt in range(tries + 1):
            try:
                return bytes(self._fs.cat_file(self._path, start=start, end=end))
            except Exception as exc:
                if attempt == tries or not transient(exc):
                    raise _TriedError(exc, attempt + 1, None) from exc
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Nothing to release: the filesystem's connections are shared and kept by fsspec."""


class _TriedError(Exception):
    """A request that failed after ``tries`` tries."""

    def __init__(self, cause: BaseException, tries: int, timeout: float | None) -> None:
        super().__init__(type(cause).__name__)
        self.cause, self.tries, self.timeout = cause, tries, timeout


def _lookup(fs: Any, path: str) -> Any:
    """The object's info (size, ETag), transient failures tried again a few times."""
    tries = retries()
    for attempt in range(tries + 1):
        try:
            return _sync(fs, fs._info(path)) if fs.async_impl else fs.info(path)
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, FileNotFoundError) else exc
            if attempt == tries or cause is None or not transient(cause):
                raise _TriedError(exc, attempt + 1, None) from exc
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


def transient(exc: BaseException) -> bool:
    """Whether trying again may help: timeouts, dropped connections, HTTP 5xx and 429."""
    if isinstance(exc, FileNotFoundError | PermissionError):
        return False
    status = _status(exc)
    if status is not None:
        return status >= 500 or status in (408, 429)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ConnectionError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    hints = ("Timeout", "Connection", "Disconnected", "Payload", "IncompleteRead", "Streaming")
    return any(hint in name for name in names for hint in hints)


def _status(exc: BaseException | None) -> int | None:
    """The HTTP status of a failed request, where the exception (or its cause) carries one."""
    seen = 0
    while exc is not None and seen < 4:  # s3fs turns boto's errors into OSErrors "from" them
        status = getattr(exc, "status", None)
        if isinstance(status, int):
            return status
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(code, int):
                return code
        exc, seen = exc.__cause__, seen + 1
    return None


def _error(
    name: str, exc: BaseException, secrets: list[str], doing: str, opened: bool
) -> ScanImageFileError:
    """Our error for a failed request: what happened, never the URL's query or a secret."""
    tries, timeout = 1, request_timeout()
    if isinstance(exc, _TriedError):
        tries, timeout, exc = exc.tries, exc.timeout or timeout, exc.cause
    after = f" (after {tries} tries)" if tries > 1 else ""
    status = _status(exc)  # fsspec's HTTP lookups turn a 403 into FileNotFoundError "from" it
    if (status is None and isinstance(exc, FileNotFoundError)) or status == 404:
        if opened:
            return FileChangedError(name, "was deleted since it was opened (not found)")
        return ScanImageNotFoundError(name, "no such object")
    if isinstance(exc, PermissionError) or status in (401, 403):
        msg = f"access denied{'' if status is None else f' (HTTP {status})'} while {doing}"
        return FileReadError(name, f"{msg}; check the credentials or storage options")
    if status in (412, 416):
        return FileChangedError(
            name, f"was replaced or shrank since it was opened (HTTP {status})"
        )
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return FileReadError(name, f"no answer within {timeout:g} s while {doing}{after}")
    what = _scrub(str(exc), secrets)
    kind = type(exc).__name__
    detail = f"HTTP {status}" if status is not None else (f"{kind}: {what}" if what else kind)
    if transient(exc):
        return FileReadError(name, f"the connection failed while {doing}{after} ({detail})")
    return FileReadError(name, f"{doing} failed ({detail})")


_QUERY = re.compile(r"\?[^\s'\"<>)]*")
_USERINFO = re.compile(r"(?<=//)[^/\s@'\"]+@")


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` without URL queries, user:password@ parts or any of ``secrets``."""
    text = _USERINFO.sub("", _QUERY.sub("", text))
    for secret in secrets:
        text = text.replace(secret, "***")
    return text.splitlines()[0][:200] if text else ""


def _secrets_of(fs: Any, options: Mapping[str, Any]) -> list[str]:
    """Credential values a message could show: given, configured, or held by the filesystem."""
    import fsspec.config  # noqa: PLC0415 - loaded with the filesystem already

    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else [fs.protocol]
    merged: dict[str, Any] = {}
    for protocol in protocols:
        merged.update(fsspec.config.conf.get(protocol, {}))
    merged.update(options)
    merged.update({k: getattr(fs, k) for k in ("key", "secret", "token") if hasattr(fs, k)})
    return _secret_values(merged)


def _secret_values(options: Mapping[str, Any]) -> list[str]:
    """Credential values among storage options (nested ones too), to keep out of messages."""
    found: list[str] = []
    for key, value in options.items():
        if isinstance(value, dict):
            found += _secret_values(value)
        elif (
            isinstance(value, str)
            and len(value) >= 4
            and any(s in key.lower() for s in _SECRET_KEYS)
        ):
            found.append(value)
    return found
