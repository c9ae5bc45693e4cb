"""RELIABILITY E27: offline, an artifact missing from the mirror fails naming the artifact
and every place looked at: the mirror's path and each URL skipped because it is not local."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.fetch import Artifact, fetch
from cmpkg.mirror import Manifest, open_mirror
from cmpkg.mirror.manifest import write_manifest


def test_offline_missing_artifact_names_the_mirror_and_every_url(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "artifacts").mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    write_manifest(root, Manifest("abc", now, now + datetime.timedelta(days=1), {}))
    mirror = open_mirror(str(root), tmp_path / "home")
    remote = "https://example.invalid/blob.tar.gz"
    urls = (*mirror.artifact_urls("blob.tar.gz"), remote)
    artifact = Artifact("blob (blob.tar.gz)", urls, "blob.tar.gz", "0" * 64, 10)
    with pytest.raises(CmpkgError) as caught:
        fetch(artifact, tmp_path / "downloads", offline=True)
    assert caught.value.code == "fetch-failed"
    assert "blob (blob.tar.gz)" in caught.value.message
    details = "\n".join(caught.value.details)
    assert f"{(root / 'artifacts' / 'blob.tar.gz').as_uri()}: no such file" in details
    assert f"{remote}: not local; skipped offline" in details
