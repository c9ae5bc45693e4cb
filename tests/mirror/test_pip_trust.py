"""`mirror create`'s pip trusts the CA bundle the user named, as uv does.

Behind a TLS-intercepting proxy a user sets `SSL_CERT_FILE` (which uv reads) or `PIP_CERT`.
pip runs `--isolated`, which ignores every `PIP_*` variable and pip.conf, so before it was
given `--cert` it trusted only its own certifi bundle and every download failed with
CERTIFICATE_VERIFY_FAILED while the lock (uv) had succeeded. A real TLS server on loopback
with a throwaway CA (trustme) stands in for the proxy.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from cmpkg.errors import CmpkgError
from cmpkg.installer import pip_trust_args
from cmpkg.lock.model import LockedTarget, LockedWheel, WheelSource
from cmpkg.mirror.create import add_wheels
from tests.install.wheels import build_wheel


@pytest.fixture
def tls_links(tmp_path: Path) -> Iterator[tuple[str, Path, LockedWheel]]:
    """A find-links page with one wheel, over TLS on 127.0.0.1; its CA's PEM file."""
    served = tmp_path / "served"
    served.mkdir()
    wheel = build_wheel(served, "rt", "1.0", "VERSION = '1.0'\n")
    (served / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    url = f"https://127.0.0.1:{httpd.server_address[1]}/"
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    try:
        yield url, pem, LockedWheel("rt", "1.0", url + wheel.name, sha)
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def target(wheel: LockedWheel) -> LockedTarget:
    return LockedTarget("cpu", "3.11", (), {}, ("app",), {}, (wheel,), None)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "PIP_CERT"])
def test_pip_downloads_through_the_ca_the_user_trusts(
    tls_links: tuple[str, Path, LockedWheel],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    url, pem, wheel = tls_links
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(pem))
    mirror = tmp_path / "m"
    mirror.mkdir()
    assert add_wheels(mirror, target(wheel), WheelSource(find_links=(url,), no_index=True)) == 1
    got = mirror / "wheels" / wheel.url.rsplit("/", 1)[1]
    assert hashlib.sha256(got.read_bytes()).hexdigest() == wheel.sha256


def test_without_the_ca_the_download_is_refused(
    tls_links: tuple[str, Path, LockedWheel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server really is untrusted without the bundle: the test above is not vacuous.
    url, _, wheel = tls_links
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    mirror = tmp_path / "m"
    mirror.mkdir()
    with pytest.raises(CmpkgError) as failed:
        add_wheels(mirror, target(wheel), WheelSource(find_links=(url,), no_index=True))
    assert failed.value.code == "mirror-wheels-failed"


def test_pip_s_own_setting_comes_first() -> None:
    env = {"SSL_CERT_FILE": "/ssl.pem", "PIP_CERT": "/pip.pem", "PIP_CLIENT_CERT": "/me.pem"}
    assert pip_trust_args(env) == ["--cert", "/pip.pem", "--client-cert", "/me.pem"]
    assert pip_trust_args({"SSL_CERT_FILE": "/ssl.pem"}) == ["--cert", "/ssl.pem"]
    assert pip_trust_args({}) == []
