"""A registry with htpasswd auth: credentials from the Docker config are needed, used, and
written nowhere (not the homes, the lock, the logs or the output). The installing home
takes its cache and trust from the project's cmpkg.toml and installs `--frozen` a lock."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.cache.conftest import cmpkg, install_args, push
from tests.install.wheels import TEST_INDEX
from tests.support.registry import PASSWORD, USER, RunningRegistry

pytestmark = pytest.mark.slow


def _files_holding(root: Path, secrets: list[bytes]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(s in data for s in secrets):
                found.append(path)
    return found


def test_credentials_are_needed_and_appear_nowhere(
    tmp_path: Path, auth_registry: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    built, public = builder
    url = auth_registry.url("private")
    anonymous = push(built, url, HOME=str(tmp_path / "nobody"))
    assert anonymous.returncode == 1
    assert "[cache-unauthorized]" in anonymous.stderr, anonymous.stderr

    docker = tmp_path / "docker"
    docker.mkdir()
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(
        json.dumps({"auths": {auth_registry.host: {"auth": token}}})
    )
    env = {"DOCKER_CONFIG": str(docker), "HOME": str(tmp_path / "nobody")}

    project = tmp_path / "project"
    project.mkdir()
    (project / "cmpkg.toml").write_text(
        "[project]\nname = 'demo'\nrequests = ['app']\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(TEST_INDEX))}]\n\n"
        f"[[cache]]\nurl = {json.dumps(url)}\n\n[trust]\nkeys = [{json.dumps(public)}]\n"
    )
    home = tmp_path / "b" / "home"
    wheel_args = install_args(wheels)[4:]  # --find-links DIR --no-index
    locked = cmpkg(built, "lock", *wheel_args, cwd=project, **env)
    assert locked.returncode == 0, locked.stderr
    ours = cmpkg(built, "install", "--frozen", *wheel_args, cwd=project, **env)  # the lock's venv
    assert ours.returncode == 0, ours.stderr
    pushed = push(built, url, **env)
    assert pushed.returncode == 0, pushed.stderr
    done = cmpkg(home, "install", "--frozen", *wheel_args, "--json", cwd=project, **env)
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["built"], json.loads(done.stdout)["substituted"]) == (0, 4)

    secrets = [PASSWORD.encode(), token.encode()]
    outputs = "".join(p.stdout + p.stderr for p in (anonymous, pushed, locked, ours, done))
    assert not any(s.decode() in outputs for s in secrets)
    assert _files_holding(home, secrets) == []
    assert _files_holding(built, secrets) == []
    assert _files_holding(project, secrets) == []  # cmpkg.lock and cmpkg.toml
