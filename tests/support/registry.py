"""The CNCF distribution registry (Debian's `docker-registry`, installed by .ci/run), run by
tests on 127.0.0.1 with its own config file and filesystem storage in a temp dir, without
auth or with htpasswd auth (bcrypt, through the `bcrypt` package). No mocks of a registry.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USER, PASSWORD = "cmpkg-ci", "s3cret-registry-pass-7f1c"


@dataclass
class RunningRegistry:
    host: str  # 127.0.0.1:PORT
    root: Path
    process: subprocess.Popen[bytes]
    auth: bool

    def url(self, repository: str = "cmpkg/cache") -> str:
        return f"oci://{self.host}/{repository}"

    def blob_paths(self) -> list[Path]:
        """Every blob file the registry stores (tests tamper with them)."""
        return sorted(self.root.glob("storage/docker/registry/v2/blobs/sha256/*/*/data"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def available() -> bool:
    return Path(BINARY).is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, auth: bool) -> Path:
    lines = [
        "version: 0.1",
        "log:",
        "  level: error",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'storage'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: cmpkg-test-secret",
    ]
    if auth:
        import bcrypt

        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
        (root / "htpasswd").write_text(f"{USER}:{hashed}\n")
        lines += ["auth:", "  htpasswd:", "    realm: cmpkg-test", f"    path: {root / 'htpasswd'}"]
    path = root / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _wait_ready(registry: RunningRegistry, log: Path) -> None:
    """Until /v2/ answers (200, or 401 with auth): polled, as the port's readiness is the
    event; a registry that exits first fails with its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.ConnectionError):
            status = requests.get(f"http://{registry.host}/v2/", timeout=5).status_code
            if status in (200, 401):
                return
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def running(root: Path, *, auth: bool = False) -> Iterator[RunningRegistry]:
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = _config(root, port, auth)
    log = root / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [BINARY, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    registry = RunningRegistry(f"127.0.0.1:{port}", root, process, auth)
    try:
        _wait_ready(registry, log)
        yield registry
    finally:
        registry.stop()
