"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the real registry: each request is
logged, then forwarded, or forwarded with its answer lost (the connection closed instead),
or refused (closed before forwarding), or its body cut after N bytes and held. It forwards
the client's Host header, so the registry's Location headers name the proxy."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # with its query
    headers: dict[str, str]
    body: int  # bytes of the request body


@dataclass(frozen=True)
class Fault:
    action: str = "forward"  # forward | lose-answer | refuse | hold-body
    after: int = 0  # hold-body: answer bytes sent before holding


Rule = Callable[[Seen], Fault]


@dataclass
class Proxy:
    host: str
    log: list[Seen] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)  # a body is being held
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, repository: str) -> str:
        return f"oci://{self.host}/{repository}"


def _handler(upstream: str, rule: Rule, proxy: Proxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, dict(self.headers.items()), len(body))
            proxy.log.append(seen)
            fault = rule(seen)
            if fault.action == "refuse":
                self.close_connection = True
                return
            connection = http.client.HTTPConnection(upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            if fault.action == "lose-answer":  # the registry did it; the client never hears
                self.close_connection = True
                return
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.end_headers()
            if fault.action == "hold-body":
                self.wfile.write(data[: fault.after])
                self.wfile.flush()
                proxy.held.set()
                proxy.release.wait(120)
                self.close_connection = True
                return
            self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any  # noqa: N815

    return Handler


@contextlib.contextmanager
def running(upstream: str, rule: Rule = lambda _s: Fault()) -> Iterator[Proxy]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    proxy = Proxy(f"127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(upstream, rule, proxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
