"""The `huggingface` source kind end to end through the CLI, against a loopback gated hub
(tests/support/hub.py): the token opens the repository and is found nowhere afterwards; a
missing or refused token fails before anything is fetched; a user's checkpoint directory is
checked and reused instead of downloaded."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.fetch import huggingface
from cmpkg.index.fields import Problems
from cmpkg.index.load import load_recipe
from tests.support.cli import run_cmpkg
from tests.support.httpserver import FaultServer
from tests.support.hub import GatedHub

REPO = "acme-labs/Tiny-Llama"
REVISION = hashlib.sha1(b"a commit of the test repository").hexdigest()
TOKEN = "hf_cmpkgTestTokenThatMustNeverBeWritten"
CONFIG = b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 16}\n'
WEIGHTS = os.urandom(300 * 1024)
UNCHECKED = "config.json is a git file with no published sha256: unverified"
CONFIG_ROW = '{ path = "config.json" },'


@pytest.fixture
def hub() -> Iterator[GatedHub]:
    with FaultServer() as cdn, GatedHub(REPO, REVISION, TOKEN, cdn) as hub:
        hub.add("config.json", CONFIG)
        hub.add("original/model.safetensors", WEIGHTS, lfs=True)
        yield hub


def _recipe(root: Path, *, gated: bool = True) -> Path:
    index = root / "index"
    index.mkdir(exist_ok=True)
    sha = hashlib.sha256(WEIGHTS).hexdigest()
    (index / "tiny-llama.toml").write_text(
        f"""name = "tiny-llama"
version = "1.0"
kind = "model"
summary = "a gated test model"
license = "MIT"
homepage = "https://example.org"

[provide]
method = "download"

[[sources]]
huggingface = "{REPO}"
revision = "{REVISION}"
gated = {"true" if gated else "false"}
verified = "made by the test; {UNCHECKED}"
files = [
    {{ path = "config.json" }},
    {{ path = "original/model.safetensors", sha256 = "{sha}", size = {len(WEIGHTS)} }},
]
""",
        encoding="utf-8",
    )
    return index


def _env(tmp_path: Path, hub: GatedHub, token: str | None) -> dict[str, str]:
    hf_home = tmp_path / "hf-home"  # never the developer's own token file
    hf_home.mkdir(exist_ok=True)
    env = {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(hf_home), "HF_TOKEN": token or ""}
    return env | {"HF_TOKEN_PATH": ""}


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_install_with_the_token_works_and_the_token_is_written_nowhere(
    tmp_path: Path, hub: GatedHub
) -> None:
    index, home, project = _recipe(tmp_path), tmp_path / "home", tmp_path / "project"
    project.mkdir()
    env = _env(tmp_path, hub, TOKEN) | {"CMPKG_INDEX": str(index)}
    done = run_cmpkg(project, home, "install", "tiny-llama", "--json", env=env)
    assert done.returncode == 0, done.stderr
    entry = home / "store-v1" / "entries" / json.loads(done.stdout)["packages"]["tiny-llama"]
    assert (entry / "config.json").read_bytes() == CONFIG
    assert (entry / "original" / "model.safetensors").read_bytes() == WEIGHTS
    # The hub saw the bearer token; the CDN the LFS redirect went to never did.
    assert {h.get("Authorization") for _, _, h in hub.requests} == {f"Bearer {TOKEN}"}
    assert hub.cdn.requests and all("Authorization" not in h for _, _, h in hub.cdn.requests)
    # A lock pins the unverified git file by the bytes it fetched (again with the token).
    for args in (("init", "--target", "cpu"), ("add", "tiny-llama"), ("lock",)):
        done = run_cmpkg(project, home, *args, env=env)
        assert done.returncode == 0, done.stderr
    lock = (project / "cmpkg.lock").read_text()
    assert hashlib.sha256(CONFIG).hexdigest() in lock
    assert f"https://huggingface.co/{REPO}/resolve/{REVISION}/config.json" in lock
    for root in (home, project):
        assert _files_containing(root, TOKEN.encode()) == []
    assert TOKEN not in done.stdout + done.stderr


def test_without_a_token_a_gated_repository_fails_up_front_with_guidance(
    tmp_path: Path, hub: GatedHub
) -> None:
    index, home = _recipe(tmp_path), tmp_path / "home"
    env = _env(tmp_path, hub, None)
    done = run_cmpkg(tmp_path, home, "install", "tiny-llama", "--index", str(index), env=env)
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "gated-repository" in err and REPO in err and "gated" in err
    assert "accept the licence" in err and "HF_TOKEN" in err
    assert f"https://huggingface.co/{REPO}" in err
    assert "Traceback" not in err
    assert hub.requests == []  # nothing asked of the hub, nothing built
    entries = home / "store-v1" / "entries"
    assert not entries.exists() or not any(entries.iterdir())


def test_an_undeclared_gate_or_a_refused_token_is_found_by_the_probe(
    tmp_path: Path, hub: GatedHub
) -> None:
    index, home = _recipe(tmp_path, gated=False), tmp_path / "home"
    for token, status in ((None, "no token"), ("hf_wrong", "HTTP 403")):
        env = _env(tmp_path, hub, token)
        done = run_cmpkg(tmp_path, home, "install", "tiny-llama", "--index", str(index), env=env)
        assert done.returncode == 1, done.stderr
        assert "gated-repository" in done.stderr and status in done.stderr
        assert "hf_wrong" not in done.stderr
    # One HEAD per attempt, and no GET: the download never started.
    assert [m for m, _, _ in hub.requests] == ["HEAD", "HEAD"]
    assert hub.cdn.requests == []


def test_a_users_checkpoint_is_checked_and_reused_instead_of_downloaded(
    tmp_path: Path, hub: GatedHub
) -> None:
    index, home = _recipe(tmp_path), tmp_path / "home"
    checkpoint = tmp_path / "checkpoint"
    (checkpoint / "original").mkdir(parents=True)
    (checkpoint / "config.json").write_bytes(CONFIG)
    (checkpoint / "original" / "model.safetensors").write_bytes(WEIGHTS)
    args = ("install", "tiny-llama", "--index", str(index), "--json")
    with_path = ("--with", f"tiny-llama.path={checkpoint}")
    env = _env(tmp_path, hub, None)  # no token needed: nothing is downloaded
    done = run_cmpkg(tmp_path, home, *args, *with_path, env=env)
    assert done.returncode == 0, done.stderr
    assert hub.requests == []
    assert "tiny-llama" in json.loads(done.stdout)["packages"]
    # A changed file is named, with the recorded and the found hash.
    (checkpoint / "original" / "model.safetensors").write_bytes(WEIGHTS[:-1] + b"\0")
    done = run_cmpkg(tmp_path, tmp_path / "home2", *args, *with_path, env=env)
    assert done.returncode == 2, done.stderr
    assert "original/model.safetensors: sha256" in done.stderr
    assert hashlib.sha256(WEIGHTS).hexdigest() in done.stderr


def test_the_token_comes_from_hf_token_then_the_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("hf_fromfile\n")
    assert huggingface.token({"HF_TOKEN": " hf_env ", "HF_HOME": str(tmp_path)}) == "hf_env"
    assert huggingface.token({"HF_HOME": str(tmp_path)}) == "hf_fromfile"
    assert huggingface.token({"XDG_CACHE_HOME": str(tmp_path / "none")}) is None
    with pytest.raises(CmpkgError) as caught:  # it would be quoted by the HTTP library
        huggingface.token({"HF_TOKEN": "hf_a\nhf_b"})
    assert "hf_a" not in str(caught.value) and caught.value.code == "bad-hf-token"
    env = {"HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": "hf_t"}
    assert huggingface.request_for("https://huggingface.co/a/b/resolve/c/d", env) == (
        "http://127.0.0.1:9/a/b/resolve/c/d",
        {"Authorization": "Bearer hf_t"},
    )
    assert huggingface.request_for("https://example.org/x", env) == ("https://example.org/x", {})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ([(f'"{REVISION}"', '"main"'), (UNCHECKED, "ok"), (CONFIG_ROW, "")], "commit hash"),
        ([(UNCHECKED, "ok")], "unverified"),
        ([('"config.json"', '"../config.json"')], "relative path"),
        ([("huggingface = ", "huggingface = 'x' #")], "repository id"),
    ],
)
def test_bad_huggingface_sources_are_reported(
    tmp_path: Path, changes: list[tuple[str, str]], problem: str
) -> None:
    path = _recipe(tmp_path) / "tiny-llama.toml"
    text = path.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    problems = Problems(path)
    assert load_recipe(path, problems) is None
    assert any(problem in line for line in problems.lines), problems.lines
