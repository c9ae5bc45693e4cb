"""Fixtures of the binary cache tests: a real registry, tiny real wheels with a console
script, and one home that built the test app (the machine that pushes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.install.wheels import TEST_INDEX, build_wheel
from tests.support import registry

SCRIPT = {"entry_points.txt": b"[console_scripts]\nrt-hello = rt:main\n"}


def cmpkg(
    home: Path, *args: str, config: Path | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", **env}
    if config is not None:
        environ["CMPKG_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        check=False,
    )


def install_args(wheels: Path) -> tuple[str, ...]:
    return (
        "--index",
        str(TEST_INDEX),
        "--target",
        "cpu",
        "--find-links",
        str(wheels),
        "--no-index",
    )


def trusting(path: Path, *public: str) -> Path:
    """A config file trusting `public` keys."""
    path.write_text(f"[trust]\nkeys = {json.dumps(list(public))}\n")
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("wheels")
    for version in ("1.0", "2.0"):
        module = f"VERSION = {version!r}\ndef main():\n    print('rt-hello', VERSION)\n"
        build_wheel(directory, "rt", version, module, extra=SCRIPT)
    return directory


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> tuple[Path, str]:
    """(home, public key): a home that built `app` and has the signing key `lab`."""
    home = tmp_path_factory.mktemp("a") / "home"
    done = cmpkg(home, "install", "app", *install_args(wheels))
    assert done.returncode == 0, done.stderr
    made = cmpkg(home, "key", "generate", "--name", "lab", "--json")
    assert made.returncode == 0, made.stderr
    return home, json.loads(made.stdout)["public"]


def _registry(root: Path, auth: bool) -> Iterator[registry.RunningRegistry]:
    if not registry.available():
        pytest.skip("needs the CNCF distribution registry (apt-get install docker-registry)")
    with registry.running(root, auth=auth) as running:
        yield running


@pytest.fixture(scope="module")
def oci(tmp_path_factory: pytest.TempPathFactory) -> Iterator[registry.RunningRegistry]:
    """A registry without auth, shared by the module's tests (one repository each)."""
    yield from _registry(tmp_path_factory.mktemp("registry"), auth=False)


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[registry.RunningRegistry]:
    """A registry of the test's own, for tests that tamper with its storage or stop it."""
    yield from _registry(tmp_path / "registry", auth=False)


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[registry.RunningRegistry]:
    yield from _registry(tmp_path / "registry", auth=True)


def push(home: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cmpkg(home, "cache", "push", "--env", "app", "--to", url, "--json", **env)
