"""`mirror create` from a lock outside its project, incremental re-creation without the
network, and the freshness rules: expiry, a creation time in the future, --force-mirror."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from tests.mirror.conftest import INDEX
from tests.mirror.run import can_unshare, cmpkg

pytestmark = pytest.mark.slow
DRY = ("install", "--frozen", "--offline", "--dry-run", "--mirror")


def links(world: Path) -> tuple[str, ...]:
    return ("--find-links", str(world / "wheels"), "--no-index")


def test_lock_outside_its_project_snapshots_the_lock_s_index(world: Path, tmp_path: Path) -> None:
    # Run from a directory with no project: the index is the one of the lock's project.
    done = cmpkg(tmp_path, tmp_path / "h", "mirror", "create", str(tmp_path / "m"),
                 "--lock", str(world / "cmpkg.lock"), *links(world))  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = json.loads((tmp_path / "m" / "mirror.json").read_text())["files"]
    assert any(p.startswith("index/") and p.endswith("/app2.toml") for p in files)
    used = cmpkg(tmp_path, tmp_path / "h2", *DRY, str(tmp_path / "m"))
    assert used.returncode == 0, used.stderr
    assert "app2" in used.stdout


def test_a_lock_whose_recipes_changed_is_refused(world: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(world / "extra", project / "extra")
    shutil.copy(world / "cmpkg.lock", project / "cmpkg.lock")
    (project / "cmpkg.toml").write_text(
        "[project]\nrequests = ['app2']\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(INDEX))}, {json.dumps(str(project / 'extra'))}]\n"
    )
    recipe = project / "extra" / "app2.toml"
    recipe.write_text(recipe.read_text().replace('summary = "s"', 'summary = "edited"'))
    done = cmpkg(tmp_path, tmp_path / "h", "mirror", "create", str(tmp_path / "m"),
                 "--lock", str(project / "cmpkg.lock"), *links(world))  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "[mirror-index-mismatch]" in done.stderr
    assert "app2 1: the index holds another version of the recipe" in done.stderr
    assert not (tmp_path / "m" / "mirror.json").exists()


@pytest.mark.skipif(not can_unshare(), reason="cannot create a network namespace here")
def test_recreating_an_unchanged_mirror_needs_no_network(world: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(world / "m", copy)
    before = (copy / "mirror.json").read_bytes()
    done = cmpkg(world, tmp_path / "h", "mirror", "create", str(copy), *links(world), netns=True)
    assert done.returncode == 0, done.stderr
    assert "unchanged" in done.stderr
    assert (copy / "mirror.json").read_bytes() == before  # `created` not bumped


@pytest.mark.skipif(not can_unshare(), reason="cannot create a network namespace here")
def test_recreating_from_requests_reuses_the_mirror_s_lock(world: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    shutil.copytree(world / "wheels", wheels)
    args = ("mirror", "create", str(tmp_path / "m"), "app2", "--target", "cpu",
            "--index", str(INDEX), "--index", str(world / "extra"),
            "--find-links", str(wheels), "--no-index")  # fmt: skip
    first = cmpkg(tmp_path, tmp_path / "h", *args)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "m" / "mirror.json").read_bytes()
    for wheel in wheels.iterdir():
        wheel.unlink()  # a re-lock would now fail: pip finds no rt
    again = cmpkg(tmp_path, tmp_path / "h", *args, netns=True)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "m" / "mirror.json").read_bytes() == before


def _restamp(world: Path, copy: Path, created: datetime.datetime, days: float) -> None:
    shutil.copytree(world / "m", copy)
    manifest = json.loads((copy / "mirror.json").read_text())
    manifest["created"] = created.isoformat()
    manifest["expires"] = (created + datetime.timedelta(days=days)).isoformat()
    (copy / "mirror.json").write_text(json.dumps(manifest))


def test_a_new_mirror_expires_in_a_year(world: Path) -> None:
    manifest = json.loads((world / "m" / "mirror.json").read_text())
    created = datetime.datetime.fromisoformat(manifest["created"])
    expires = datetime.datetime.fromisoformat(manifest["expires"])
    assert expires - created == datetime.timedelta(days=365)


def test_an_expired_mirror_is_refused_unless_forced(world: Path, tmp_path: Path) -> None:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    _restamp(world, tmp_path / "m", past, 30)
    refused = cmpkg(tmp_path, tmp_path / "h", *DRY, str(tmp_path / "m"))
    assert refused.returncode == 1, refused.stderr
    assert "[mirror-expired]" in refused.stderr and "2020-01-31" in refused.stderr
    forced = cmpkg(tmp_path, tmp_path / "h", *DRY, str(tmp_path / "m"), "--force-mirror")
    assert forced.returncode == 0, forced.stderr
    assert "warning: this mirror expired" in forced.stderr


def test_a_mirror_from_the_future_is_refused_and_never_recorded(
    world: Path, tmp_path: Path
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    _restamp(world, tmp_path / "m", now + datetime.timedelta(days=3), 30)
    home = tmp_path / "h"
    refused = cmpkg(tmp_path, home, *DRY, str(tmp_path / "m"))
    assert refused.returncode == 1, refused.stderr
    assert "[mirror-from-the-future]" in refused.stderr
    forced = cmpkg(tmp_path, home, *DRY, str(tmp_path / "m"), "--force-mirror")
    assert forced.returncode == 0, forced.stderr
    # Had the forged time been recorded, the honest mirror would now look like a rollback.
    honest = cmpkg(tmp_path, home, *DRY, str(world / "m"))
    assert honest.returncode == 0, honest.stderr
