"""A loopback HTTP server with fault injection, for hermetic network tests.

    server = FaultServer()            # or the `http_server` fixture (tests/support/fixtures.py)
    url = server.serve("/a.tar.gz", data, etag='"v1"')
    server.fail("/a.tar.gz", Fault(status=503, retry_after="0"), times=2)
    ... fetch(url) ...
    assert server.hits("/a.tar.gz") == 3

Each request to a path consumes the next queued `Fault` of that path (if any); with none
left, the file is served properly, with Range/If-Range support. Faults:

    status=503, retry_after="1"     answer with that status (no body)
    reset_after=N                   send headers for the full body, N bytes, then RST
    body=b"..."                     serve these bytes instead (wrong bytes)
    extra=b"..."                    append bytes to the body (and to Content-Length)
    stall=S                         sleep S seconds before the first body byte
    trickle=(nbytes, delay)         send the body nbytes at a time, sleeping between
    ignore_range=True               answer 200 with the whole body even to a Range request
    content_length=N                lie in the Content-Length header (and close after)
    status=302, location=URL        redirect
    swap_to=(data, etag)            after answering, the file changes (a new upstream version)

Binds 127.0.0.1 port 0 only. Threads are daemons: a stalled handler never blocks teardown.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: str | None = None
    reset_after: int | None = None
    body: bytes | None = None
    extra: bytes = b""
    stall: float = 0.0
    trickle: tuple[int, float] | None = None
    ignore_range: bool = False
    content_length: int | None = None
    location: str | None = None  # with status=302: a redirect
    swap_to: tuple[bytes, str] | None = None  # after this response: new (data, etag)


@dataclass
class _File:
    data: bytes
    etag: str | None


class FaultServer:
    """Serve bytes at paths on 127.0.0.1 with per-path fault queues and hit counters."""

    def __init__(self) -> None:
        self._files: dict[str, _File] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._hits: Counter[str] = Counter()
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- configuring

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, data: bytes, *, etag: str | None = '"v1"') -> str:
        with self._lock:
            self._files[path] = _File(data, etag)
        return self.url(path)

    def fail(self, path: str, fault: Fault, *, times: int = 1) -> None:
        with self._lock:
            self._faults[path].extend([fault] * times)

    # -- observing

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._hits.values())

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- used by the handler

    def _take(self, path: str, headers: dict[str, str], method: str) -> tuple[_File | None, Fault]:
        with self._lock:
            self._hits[path] += 1
            self.requests.append((method, path, headers))
            queue = self._faults.get(path)
            fault = queue.popleft() if queue else Fault()
            return self._files.get(path), fault


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that abort (stall timeouts, size cuts) reset connections: expected here.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: FaultServer
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is exercised

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet tests

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        file, fault = self.owner._take(path, dict(self.headers.items()), self.command)
        if fault.status is not None:
            return self._status(fault)
        if file is None:
            return self._status(Fault(status=404))
        body = fault.body if fault.body is not None else file.data
        body += fault.extra
        status, start = self._range(file, body, fault)
        self.send_response(status)
        chunk = body[start:]
        length = fault.content_length if fault.content_length is not None else len(chunk)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if file.etag:
            self.send_header("ETag", file.etag)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        if fault.content_length is not None or fault.reset_after is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            try:
                self._body(chunk, fault)
            except OSError:  # the client gave up (stall timeout, reset): that is the test
                self.close_connection = True
        if fault.swap_to is not None:
            self.owner.serve(path, fault.swap_to[0], etag=fault.swap_to[1])

    def _range(self, file: _File, body: bytes, fault: Fault) -> tuple[int, int]:
        header = self.headers.get("Range", "")
        if fault.ignore_range or not header.startswith("bytes="):
            return 200, 0
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range != file.etag:
            return 200, 0
        start_text = header[len("bytes=") :].partition("-")[0]
        start = int(start_text) if start_text.isdigit() else 0
        if start >= len(body):
            return 200, 0
        return 206, start

    def _status(self, fault: Fault) -> None:
        self.send_response(fault.status or 500)
        if fault.retry_after is not None:
            self.send_header("Retry-After", fault.retry_after)
        if fault.location is not None:
            self.send_header("Location", fault.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self, chunk: bytes, fault: Fault) -> None:
        if fault.stall:
            time.sleep(fault.stall)
        if fault.reset_after is not None:
            self.wfile.write(chunk[: fault.reset_after])
            self.wfile.flush()
            self._reset()
            return
        if fault.trickle is not None:
            step, delay = fault.trickle
            for offset in range(0, len(chunk), step):
                self.wfile.write(chunk[offset : offset + step])
                self.wfile.flush()
                time.sleep(delay)
            return
        self.wfile.write(chunk)
        if fault.content_length is not None:
            self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST: a real "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
