"""Signed mirrors: `mirror create --sign` signs mirror.json; a signed mirror whose manifest
was edited (a forged `created`, another `id`) is refused on use, as is one signed by a key
not trusted here, and, once `[trust] keys` lists a key, an unsigned one."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from tests.mirror.run import cmpkg

pytestmark = pytest.mark.slow
DRY = ("install", "--frozen", "--offline", "--dry-run", "--mirror")
LINKS = ("--no-index",)


@pytest.fixture(scope="module")
def signed(world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(a signed copy of the world's mirror, the signer's home, its public key line)."""
    root = tmp_path_factory.mktemp("signed")
    home = root / "home"
    made = cmpkg(root, home, "key", "generate", "--name", "lab", "--json")
    assert made.returncode == 0, made.stderr
    mirror = root / "m"
    shutil.copytree(world / "m", mirror)
    links = ("--find-links", str(world / "wheels"), "--no-index")
    done = cmpkg(world, home, "mirror", "create", str(mirror), "--sign", *links, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"]  # same files: only the signature is new
    return mirror, home, json.loads(made.stdout)["public"]


def _trusting(path: Path, public: str) -> dict[str, str]:
    path.write_text(f"[trust]\nkeys = [{json.dumps(public)}]\n")
    return {"CMPKG_CONFIG": str(path)}


def _edited(signed: Path, copy: Path, **changes: str) -> Path:
    shutil.copytree(signed, copy)
    manifest = json.loads((copy / "mirror.json").read_text())
    manifest.update(changes)
    (copy / "mirror.json").write_text(json.dumps(manifest))
    return copy


def test_a_signed_mirror_is_used_where_its_key_is_trusted(
    signed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    mirror, _home, public = signed
    manifest = json.loads((mirror / "mirror.json").read_text())
    assert manifest["signature"]["key"] == public
    env = _trusting(tmp_path / "config.toml", public)
    done = cmpkg(tmp_path, tmp_path / "h", *DRY, str(mirror), extra_env=env)
    assert done.returncode == 0, done.stderr

    untrusted = cmpkg(tmp_path, tmp_path / "h2", *DRY, str(mirror))
    assert untrusted.returncode == 1
    assert "[mirror-signature-untrusted]" in untrusted.stderr and public in untrusted.stderr


@pytest.mark.parametrize(
    "change",
    [
        {
            "created": (
                datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
            ).isoformat()
        },
        {"id": "another-mirror"},
    ],
    ids=["forged-created", "another-id"],
)
def test_an_edited_signed_mirror_is_refused(
    signed: tuple[Path, Path, str], tmp_path: Path, change: dict[str, str]
) -> None:
    mirror, _home, public = signed
    copy = _edited(mirror, tmp_path / "m", **change)
    env = _trusting(tmp_path / "config.toml", public)
    refused = cmpkg(tmp_path, tmp_path / "h", *DRY, str(copy), extra_env=env)
    assert refused.returncode == 1
    assert "[mirror-signature-invalid]" in refused.stderr, refused.stderr


def test_a_stripped_signature_is_refused_once_keys_are_trusted(
    signed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    mirror, _home, public = signed
    copy = tmp_path / "m"
    shutil.copytree(mirror, copy)
    manifest = json.loads((copy / "mirror.json").read_text())
    del manifest["signature"]
    (copy / "mirror.json").write_text(json.dumps(manifest))
    env = _trusting(tmp_path / "config.toml", public)
    refused = cmpkg(tmp_path, tmp_path / "h", *DRY, str(copy), extra_env=env)
    assert refused.returncode == 1
    assert "[mirror-unsigned]" in refused.stderr, refused.stderr
