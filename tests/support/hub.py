"""A loopback stand-in for a gated Hugging Face hub, answering as the hub documents it.

    hub = GatedHub("acme/tiny", "ab12...", token="hf_test", cdn=FaultServer())
    hub.add("config.json", b"{}")                 # a git file: served by the hub itself
    hub.add("model.safetensors", weights, lfs=True)  # an LFS file: 302 to the CDN
    env = {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "hf_test"}

`GET|HEAD /<repo>/resolve/<revision>/<path>`, as huggingface_hub's `get_hf_file_metadata`
and `hf_hub_download` expect it: without `Authorization: Bearer <token>` a gated repository
answers 401 with `X-Error-Code: GatedRepo`, a wrong token 403; a git file is answered with
its bytes, `ETag` (the git blob id) and `X-Repo-Commit`; an LFS file with a 302 to the CDN
carrying `X-Linked-Etag` (its sha256), `X-Linked-Size` and `X-Repo-Commit`. Unknown paths
answer 404 with `X-Error-Code: EntryNotFound`. Every request's headers are recorded.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.httpserver import FaultServer


@dataclass(frozen=True)
class HubFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_oid(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()


class GatedHub:
    def __init__(self, repo: str, revision: str, token: str, cdn: FaultServer) -> None:
        self.repo, self.revision, self.token, self.cdn = repo, revision, token, cdn
        self.files: dict[str, HubFile] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def add(self, path: str, data: bytes, *, lfs: bool = False) -> HubFile:
        file = HubFile(data, lfs)
        self.files[path] = file
        if lfs:
            self.cdn.serve(f"/lfs/{file.sha256}", data, etag=f'"{file.sha256}"')
        return file

    def record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> GatedHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler(hub: GatedHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            hub.record(self.command, self.path, dict(self.headers.items()))
            auth = self.headers.get("Authorization")
            if auth is None:
                return self._error(401, "GatedRepo", f"Access to model {hub.repo} is restricted.")
            if auth != f"Bearer {hub.token}":
                return self._error(403, "GatedRepo", "You must be granted access.")
            prefix = f"/{hub.repo}/resolve/{hub.revision}/"
            file = hub.files.get(self.path[len(prefix) :]) if self.path.startswith(prefix) else None
            if file is None:
                return self._error(404, "EntryNotFound", "Entry not found")
            self.send_response(302 if file.lfs else 200)
            self.send_header("X-Repo-Commit", hub.revision)
            if file.lfs:
                self.send_header("Location", hub.cdn.url(f"/lfs/{file.sha256}"))
                self.send_header("X-Linked-Etag", f'"{file.sha256}"')
                self.send_header("X-Linked-Size", str(len(file.data)))
                self.send_header("ETag", f'"{file.git_oid}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self.send_header("ETag", f'"{file.git_oid}"')
            self.send_header("Content-Length", str(len(file.data)))
            self.end_headers()
            if not head:
                self.wfile.write(file.data)
            return None

        def _error(self, status: int, code: str, message: str) -> None:
            body = message.encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler
