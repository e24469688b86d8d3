"""What a failed request becomes: our error naming the object, retried first if transient.

Client libraries raise many kinds of exceptions (aiohttp's, botocore's turned
into ``OSError`` by s3fs, fsspec's ``FileNotFoundError`` hiding an HTTP 403);
here they become one of ours, saying what happened.  Their texts may carry the
URL with its signed query or a credential, so what we quote is scrubbed.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import TYPE_CHECKING, Any

from napari_scanimage.errors import (
    FileChangedError,
    FileReadError,
    ScanImageFileError,
    ScanImageNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["TriedError", "remote_error", "request_timeout", "secrets_of", "transient"]

_SECRET_KEYS = ("key", "secret", "token", "password", "session_token", "access_key", "sas")


def request_timeout() -> float:
    """Seconds one request may take (``NAPARI_SCANIMAGE_TIMEOUT``, default 60)."""
    return float(os.environ.get("NAPARI_SCANIMAGE_TIMEOUT", "60"))


class TriedError(Exception):
    """A request that failed after ``tries`` tries."""

    def __init__(self, cause: BaseException, tries: int, timeout: float | None) -> None:
        super().__init__(type(cause).__name__)
        self.cause, self.tries, self.timeout = cause, tries, timeout


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


def remote_error(
    name: str, exc: BaseException, secrets: list[str], doing: str, opened: bool
) -> ScanImageFileError:
    """Our error for a failed request: what happened, never the URL's query or a secret."""
    tries, timeout = 1, request_timeout()
    if isinstance(exc, TriedError):
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


def secrets_of(fs: Any, options: Mapping[str, Any]) -> list[str]:
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
