"""A binary cache on a real OCI registry, end to end: one home builds and pushes, another at
another path installs with nothing built and runs; unsigned, forged, untrusted and tampered
entries are refused; a stopped registry means a local build and one warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmpkg.archive_formats import ZSTD_MAGIC
from tests.cache.conftest import cmpkg, install_args, push, trusting
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.slow


def _venv(home: Path) -> Path:
    record = json.loads((home / "envs" / "app.json").read_text())
    return Path(record["packages"]["python-env"]["path"]) / "venv"


def test_a_home_at_another_path_installs_with_nothing_built_and_runs(
    tmp_path: Path, oci: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    built, public = builder
    pushed = push(built, oci.url("demo"))
    assert pushed.returncode == 0, pushed.stderr
    assert len(json.loads(pushed.stdout)["pushed"]) == 4  # the detected python stays home
    again = push(built, oci.url("demo"))
    assert json.loads(again.stdout)["pushed"] == []  # only what the registry lacks

    home = tmp_path / "another" / "much-longer-path-than-the-builders" / "home"
    config = trusting(tmp_path / "config.toml", public)
    done = cmpkg(
        home,
        "install",
        "app",
        *install_args(wheels),
        "--cache",
        oci.url("demo"),
        "--json",
        config=config,
    )
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["built"], json.loads(done.stdout)["substituted"]) == (0, 4)

    ran = cmpkg(home, "run", "app")
    assert (ran.returncode, ran.stdout.strip()) == (0, "hi"), ran.stderr
    script = _venv(home) / "bin" / "rt-hello"  # a console script: its shebang was rewritten
    assert str(built) not in script.read_text()
    import subprocess

    hello = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert hello.stdout.strip() == "rt-hello 2.0", hello.stderr
    assert str(built) not in (_venv(home) / "pyvenv.cfg").read_text()
    verified = cmpkg(home, "cache", "verify", "--json")
    assert verified.returncode == 0, verified.stdout


def test_an_untrusted_key_is_refused_then_built_locally_unless_forbidden(
    tmp_path: Path, oci: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    built, _public = builder
    assert push(built, oci.url("untrusted")).returncode == 0
    home, args = tmp_path / "home", (*install_args(wheels), "--cache", oci.url("untrusted"))

    refused = cmpkg(home, "install", "app", *args, "--no-build")
    assert refused.returncode == 1
    assert "[cache-signature-untrusted]" in refused.stderr and "[trust] keys" in refused.stderr

    done = cmpkg(home, "install", "app", *args, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["substituted"] == 0 and json.loads(done.stdout)["built"] == 4
    assert "is signed by key 'lab', which is not trusted here" in done.stderr
    # Asked once per entry (all at once, before the waves), so refused and warned once each.
    assert done.stderr.count("which is not trusted here") == 4, done.stderr
    assert "building python environment locally instead" in done.stderr


def test_a_wrong_signature_is_refused(
    tmp_path: Path, oci: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    from cmpkg.cache import artifact, parse_url, signing
    from cmpkg.cache.credentials import Credentials
    from cmpkg.cache.registry import Registry

    built, public = builder
    assert push(built, oci.url("forged")).returncode == 0
    registry = Registry(parse_url(oci.url("forged")), Credentials())
    other = signing.generate(tmp_path / "other", "lab")
    for key in json.loads((built / "envs" / "app.json").read_text())["keys"]:
        found = registry.manifest(key)
        if found is None:
            continue  # the detected python is never pushed
        data, digest = found
        subject = {"mediaType": artifact.MANIFEST_TYPE, "digest": digest, "size": len(data)}
        forged = other.sign(signing.entry_message(key, digest))  # claims the trusted key
        sig = artifact.signature_manifest(key, subject, forged, public)
        registry.put_manifest(artifact.signature_tag(digest), sig)

    config = trusting(tmp_path / "config.toml", public)
    args = (*install_args(wheels), "--cache", oci.url("forged"), "--no-build")
    refused = cmpkg(tmp_path / "home", "install", "app", *args, config=config)
    assert refused.returncode == 1
    assert "[cache-signature-invalid]" in refused.stderr, refused.stderr


def test_a_tampered_layer_is_refused(
    tmp_path: Path, own_registry: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    built, public = builder
    assert push(built, own_registry.url()).returncode == 0
    layers = [p for p in own_registry.blob_paths() if p.read_bytes()[:4] == ZSTD_MAGIC]
    assert layers
    for path in layers:  # same size, one byte changed: only the digest can tell
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    config = trusting(tmp_path / "config.toml", public)
    args = (*install_args(wheels), "--cache", own_registry.url())
    refused = cmpkg(tmp_path / "home", "install", "app", *args, "--no-build", config=config)
    assert refused.returncode == 1
    assert "[cache-entry-tampered]" in refused.stderr, refused.stderr
    assert not list((tmp_path / "home" / "store-v1" / "entries").glob("*/.cmpkg-complete"))[1:]


def test_a_stopped_registry_means_a_local_build_and_one_warning(
    tmp_path: Path, own_registry: RunningRegistry, wheels: Path
) -> None:
    own_registry.stop()
    args = (*install_args(wheels), "--cache", own_registry.url(), "--json")
    done = cmpkg(tmp_path / "home", "install", "app", *args)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["built"] == 4
    warnings = [line for line in done.stderr.splitlines() if "unreachable" in line]
    assert len(warnings) == 1 and own_registry.url() in warnings[0], done.stderr


def _as_gzip_layers(url: str, home: Path, keys: list[str], work: Path) -> int:
    """Rewrite the entries `keys` under `url` as the previous cmpkg pushed them: a tar+gzip
    layer, the manifest signed again by the same key. Returns how many it rewrote."""
    import gzip

    import zstandard

    from cmpkg.cache import artifact, parse_url, signing
    from cmpkg.cache.credentials import Credentials
    from cmpkg.cache.registry import Registry

    registry, signer = Registry(parse_url(url), Credentials()), signing.load(home, "lab")
    rewritten = 0
    for key in keys:
        found = registry.manifest(key)
        if found is None:
            continue  # the detected python is never pushed
        manifest = json.loads(found[0])
        layer = manifest["layers"][0]
        zst = registry.blob(layer["digest"], 1 << 30)
        plain = zstandard.ZstdDecompressor().stream_reader(zst).read()
        path = work / f"{key}.tar.gz"
        path.write_bytes(gzip.compress(plain, compresslevel=1, mtime=0))
        old = {**artifact.descriptor(artifact.GZIP_LAYER_TYPE, path=path)}
        registry.put_blob(str(path), old)
        manifest["layers"] = [{**old, "annotations": layer.get("annotations", {})}]
        data = artifact.canonical(manifest)
        digest = registry.put_manifest(key, data)
        subject = {"mediaType": artifact.MANIFEST_TYPE, "digest": digest, "size": len(data)}
        signature = signer.sign(signing.entry_message(key, digest))
        sig = artifact.signature_manifest(key, subject, signature, signer.public)
        registry.put_manifest(artifact.signature_tag(digest), sig)
        rewritten += 1
    return rewritten


def test_a_cache_of_gzip_layers_pushed_by_the_previous_version_still_substitutes(
    tmp_path: Path, oci: RunningRegistry, builder: tuple[Path, str], wheels: Path
) -> None:
    built, public = builder
    assert push(built, oci.url("gzip")).returncode == 0
    keys = json.loads((built / "envs" / "app.json").read_text())["keys"]
    assert _as_gzip_layers(oci.url("gzip"), built, keys, tmp_path) == 4

    config = trusting(tmp_path / "config.toml", public)
    args = (*install_args(wheels), "--cache", oci.url("gzip"), "--no-build", "--json")
    done = cmpkg(tmp_path / "home", "install", "app", *args, config=config)
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["built"], json.loads(done.stdout)["substituted"]) == (0, 4)
    assert cmpkg(tmp_path / "home", "run", "app").stdout.strip() == "hi"
