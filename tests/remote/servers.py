"""Real servers for remote-storage tests and benchmarks: S3 (moto) and HTTP with Range.

Both count the requests they answer (method, path, bytes sent), can add a
fixed latency to every request, and can be told to fail the next matching
requests (an HTTP status, a connection reset halfway through the body, or no
answer for a while).  Nothing here mocks our code: the reader talks to them
over sockets through fsspec, s3fs and aiohttp as it would to AWS or a web server.
"""

from __future__ import annotations

import contextlib
import email.utils
import html
import logging
import os
import re
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class Fault:
    """Fail the next ``times`` requests whose path contains ``match``."""

    kind: str  # "status", "reset" or "hang"
    match: str = ""
    times: int = 1
    status: int = 503
    seconds: float = 0.0


@dataclass
class Traffic:
    """What a server answered, the latency it adds, and the faults it will inject."""

    latency: float = 0.0
    requests: list[tuple[str, str, int, float]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, nbytes: int) -> None:
        with self.lock:
            self.requests.append((method, path, nbytes, time.perf_counter()))

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.match in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.latency = 0.0

    def reads(self, name: str = "") -> list[tuple[str, str, int, float]]:
        """GETs of objects whose path contains ``name`` (listings and HEADs left out)."""
        with self.lock:
            return [r for r in self.requests if r[0] == "GET" and name in r[1] and "?" not in r[1]]

    @property
    def count(self) -> int:
        return len(self.requests)

    @property
    def bytes(self) -> int:
        return sum(r[2] for r in self.requests)


def _abort(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed server or proxy does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


class RangeHandler(BaseHTTPRequestHandler):
    """GET/HEAD of files under the server's root, with Range, ETag and folder listings."""

    protocol_version = "HTTP/1.1"
    server: RangeServer

    def setup(self) -> None:
        super().setup()
        # headers and body go in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every response (real servers set it too)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        traffic = self.server.traffic
        if traffic.latency:
            time.sleep(traffic.latency)
        path = urllib.parse.urlsplit(self.path).path
        fault = traffic.fault_for(path)
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            traffic.record(self.command, path, 0)
            return self._empty(fault.status)
        local = self.server.root / urllib.parse.unquote(path).lstrip("/")
        if local.is_dir():
            return self._listing(local, path, body)
        if not local.is_file():
            traffic.record(self.command, path, 0)
            return self._empty(404)
        stat = local.stat()
        size = stat.st_size
        start, end, status = 0, size, 200
        match = _RANGE.fullmatch(self.headers.get("Range", ""))
        if match:
            start = int(match[1])
            end = min(size, int(match[2]) + 1) if match[2] else size
            if start >= size:
                traffic.record(self.command, path, 0)
                return self._empty(416)
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{size:x}"')
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.end_headers()
        if not body:
            traffic.record(self.command, path, 0)
            return None
        with open(local, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start)
        traffic.record(self.command, path, len(data))
        if fault is not None and fault.kind == "reset":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            _abort(self.connection)
            return None
        self.wfile.write(data)
        return None

    def _empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _listing(self, folder: Path, path: str, body: bool) -> None:
        base = path if path.endswith("/") else path + "/"
        links = "".join(
            f'<a href="{html.escape(base + p.name)}">{html.escape(p.name)}</a>\n'
            for p in sorted(folder.iterdir())
        )
        data = f"<html><body>{links}</body></html>".encode()
        self.server.traffic.record(self.command, path + "?list", len(data) if body else 0)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


class RangeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.root = root
        self.traffic = Traffic()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> RangeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Counting:
    """WSGI middleware in front of moto's app: counts, delays and fails requests."""

    def __init__(self, app, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    def __call__(self, environ, start_response):
        traffic = self.traffic
        if traffic.latency:
            time.sleep(traffic.latency)
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        shown = f"{path}?{query}" if query else path
        fault = traffic.fault_for(path)
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            traffic.record(environ["REQUEST_METHOD"], shown, 0)
            start_response(f"{fault.status} Injected", [("Content-Length", "0")])
            return [b""]
        chunks = list(self.app(environ, start_response))
        data = b"".join(chunks)
        traffic.record(environ["REQUEST_METHOD"], shown, len(data))
        if fault is not None and fault.kind == "reset":
            sock = environ.get("werkzeug.socket")

            def broken():
                yield data[: len(data) // 2]
                if sock is not None:
                    _abort(sock)
                raise ConnectionResetError("injected reset")

            return broken()
        return [data]


class MotoS3:
    """moto's S3 in server mode on a free localhost port, with dummy credentials."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.traffic = Traffic()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> MotoS3:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.setdefault(key, "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        self._server.start()
        wsgi = self._server._server
        wsgi.app = _Counting(wsgi.app, self.traffic)
        # accepted connections inherit it on Linux: no 40 ms Nagle/delayed-ACK stalls
        wsgi.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    @property
    def options(self) -> dict:
        return {"endpoint_url": self.endpoint, "key": "testing", "secret": "testing"}

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.options)

    def stop(self) -> None:
        self._server.stop()
