"""Entries moved between homes at different paths, through an OCI image layout directory:
text files holding the build-time prefix are rewritten (and their wheel RECORD rows),
absolute links are remade, a binary file holding it pins the entry to its path."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from cmpkg.cache import parse_url, signing
from cmpkg.cache.push import push
from cmpkg.cache.substitute import Substituter
from cmpkg.errors import CmpkgError
from cmpkg.store.store import Store

KEY = "ab" * 32


def _build(store: Store, binary: bool = False) -> None:
    prefix = str(store.entry_path(KEY))

    def build(tmp: Path) -> dict[str, str]:
        site = tmp / "venv" / "lib" / "site-packages"
        (site / "demo-1.0.dist-info").mkdir(parents=True)
        (tmp / "venv" / "bin").mkdir()
        script = f"#!{prefix}/venv/bin/python\nimport demo\n"
        (tmp / "venv" / "bin" / "demo").write_text(script)
        (site / "paths.pth").write_text(f"{prefix}/extra\n")
        digest = base64.urlsafe_b64encode(hashlib.sha256(script.encode()).digest()).rstrip(b"=")
        (site / "demo-1.0.dist-info" / "RECORD").write_text(
            f"../../bin/demo,sha256={digest.decode()},{len(script)}\n"
        )
        (tmp / "venv" / "bin" / "python").symlink_to("/usr/bin/python3")
        if binary:
            (tmp / "lib.so").write_bytes(b"\0ELF" + prefix.encode() + b"\0")
        return {}

    store.ensure(KEY, build, {"package": "demo"})


def _moved(tmp_path: Path, binary: bool = False) -> tuple[Store, Substituter]:
    old, new = Store(tmp_path / "a"), Store(tmp_path / "somewhere" / "else" / "b")
    _build(old, binary)
    key = signing.generate(old.home, "lab")
    url = parse_url(str(tmp_path / "layout"))
    assert push(old, [KEY], url, key).pushed == (KEY,)
    return new, Substituter([url], [key.public], new)


def test_an_entry_pulled_into_another_home_points_at_its_new_path(tmp_path: Path) -> None:
    new, substituter = _moved(tmp_path)
    assert substituter.pull(KEY) == "pulled"
    entry = new.info(KEY)
    here = str(entry.path)
    site = entry.path / "venv" / "lib" / "site-packages"
    script = (entry.path / "venv" / "bin" / "demo").read_text()
    assert script.startswith(f"#!{here}/venv/bin/python\n")
    assert (site / "paths.pth").read_text() == f"{here}/extra\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(script.encode()).digest()).rstrip(b"=")
    record = (site / "demo-1.0.dist-info" / "RECORD").read_text()
    assert record == f"../../bin/demo,sha256={digest.decode()},{len(script)}\n"
    assert (entry.path / "venv" / "bin" / "python").readlink() == Path("/usr/bin/python3")
    assert new.verify(KEY).ok and new.check(entry).ok
    mode = (entry.path / "venv" / "bin" / "demo").stat().st_mode
    assert not mode & stat.S_IWUSR  # frozen like a local build


def test_a_binary_file_holding_the_prefix_pins_the_entry(tmp_path: Path) -> None:
    new, substituter = _moved(tmp_path, binary=True)
    with pytest.raises(CmpkgError) as refused:
        substituter.pull(KEY)
    assert refused.value.code == "cache-entry-pinned" and "lib.so" in refused.value.message
    assert new.get(KEY) is None


def test_a_signing_key_is_private_to_its_owner(tmp_path: Path) -> None:
    signing.generate(tmp_path, "lab")
    assert stat.S_IMODE((tmp_path / "keys" / "lab.key").stat().st_mode) == 0o600
    with pytest.raises(CmpkgError) as again:
        signing.generate(tmp_path, "lab")
    assert again.value.code == "key-exists"


def test_a_layout_served_over_http_is_a_read_only_cache(tmp_path: Path) -> None:
    from tests.support.httpserver import FaultServer

    new, _substituter = _moved(tmp_path)
    layout = tmp_path / "layout"
    with FaultServer() as server:
        for path in sorted(layout.rglob("*")):
            if path.is_file():
                server.serve("/" + path.relative_to(layout).as_posix(), path.read_bytes())
        url = parse_url(server.url("/").rstrip("/"))
        assert not url.writable
        trusted = signing.own_public_keys(tmp_path / "a")
        assert Substituter([url], trusted, new).pull(KEY) == "pulled"
        assert new.info(KEY).build_result["substituted"]["from"] == url.text
        assert server.hits("/index.json") == 1


def test_offline_asks_only_loopback_and_directory_caches(tmp_path: Path) -> None:
    urls = [parse_url(u) for u in ("oci://registry.example/x", "oci://127.0.0.1:5000/x")]
    urls.append(parse_url(str(tmp_path)))
    offline = Substituter(urls, (), Store(tmp_path / "home"), offline=True)
    assert [u.text for u in offline.urls] == [urls[1].text, urls[2].text]
