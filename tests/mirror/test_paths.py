"""The one checked join (cmpkg.paths) and the capped metadata read (cmpkg.fetch.metadata)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cmpkg.fetch.metadata import MetadataTooLargeError, read_capped, take_capped
from cmpkg.mirror.manifest import key_problem
from cmpkg.paths import UnsafePathError, check_part, path_problem, safe_join

UNSAFE = [
    "",
    "/etc/passwd",
    "../x",
    "a/../../x",
    "a/./b",
    "a//b",
    "a/",
    "a\\..\\b",
    "C:x",
    "c:/x",
    "a/b:stream",
    "a\x00b",
    "a\nb",
    "con",
    "NUL.txt",
    "a/com1.tar.gz",
    "Lpt9",
    "aux.",
    "trailing.",
    "trailing ",
    "x" * 256,
]
SAFE = ["a", "index/00/tools/python.toml", "model.onnx", "rt-2.0-py3-none-any.whl", "con2", "a.b.c"]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    assert path_problem(name) is not None
    with pytest.raises(UnsafePathError) as caught:
        safe_join(tmp_path, name, "mirror.json: files")
    assert caught.value.code == "unsafe-path" and caught.value.exit_code == 2
    assert "mirror.json: files" in caught.value.message


@pytest.mark.parametrize("name", SAFE)
def test_safe_names_join_inside_the_base(tmp_path: Path, name: str) -> None:
    joined = safe_join(tmp_path, name, "test")
    assert joined == tmp_path.joinpath(*name.split("/"))
    assert joined.resolve().is_relative_to(tmp_path.resolve())


def test_a_part_has_no_slash() -> None:
    assert check_part("model.onnx", "t") == "model.onnx"
    with pytest.raises(UnsafePathError):
        check_part("a/b", "t")


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("cmpkg.lock", True),
        ("index/00/a.toml", True),
        ("artifacts/blob.tar.gz", True),
        ("wheels/rt-2.0-py3-none-any.whl", True),
        ("index/a.toml", False),  # only index/NN/ directories are layers
        ("index", False),  # a directory, not a file
        ("artifacts/sub/x", False),  # flat
        ("wheels/", False),
        ("other/x", False),
        ("mirror.json", False),
        ("cmpkg.lock/x", False),
    ],
)
def test_manifest_keys_name_one_of_four_places(key: str, ok: bool) -> None:
    assert (key_problem(key) is None) == ok


def test_the_cap_stops_consuming_a_stream() -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 1000

    with pytest.raises(MetadataTooLargeError):
        take_capped(endless(), 10_000, "http://127.0.0.1/mirror.json")
    assert pulled == 11  # 11,000 bytes: one chunk past the cap, never more
    assert take_capped(iter([b"ab", b"c"]), 3, "x") == b"abc"


def test_an_oversized_local_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "mirror.json"
    with big.open("wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB declared, nothing to read
    with pytest.raises(MetadataTooLargeError) as caught:
        read_capped(big, 32 << 20)
    assert "larger than 32 MiB" in caught.value.message


# Every place a name from outside becomes a path goes through the same rules.


def test_an_environment_name_is_one_checked_part(tmp_path: Path) -> None:
    from cmpkg import envs

    assert envs.record_path(tmp_path, "app2") == tmp_path / envs.ENVS_DIR / "app2.json"
    for name in ("../../victim", "a/b", "con", ""):
        with pytest.raises(UnsafePathError):
            envs.record_path(tmp_path, name)


@pytest.mark.parametrize("name", ["sub/x.bin", "con.txt", "a:b", "x."])
def test_a_download_filename_is_one_checked_part(tmp_path: Path, name: str) -> None:
    from cmpkg import fetch
    from cmpkg.errors import CmpkgError

    artifact = fetch.Artifact("demo", ("http://127.0.0.1:9/x",), name, "0" * 64, 1)
    with pytest.raises(CmpkgError) as caught:
        fetch.destination(artifact, tmp_path)
    assert (
        caught.value.code == "bad-artifact" and "must be a plain file name" in caught.value.message
    )


RECIPE = """\
name = "data"
version = "1"
kind = "dataset"
summary = "s"
license = "MIT"
homepage = "https://example.org"
[provide]
method = "download"
[[sources]]
url = "https://example.org/data.bin"
filename = "{filename}"
md5 = "0123456789abcdef0123456789abcdef"
verified = "test"
"""


@pytest.mark.parametrize(
    ("filename", "problem"),
    [
        ("sub/data.bin", "must be a plain file name, without '/'"),
        ("nul.bin", "contains a reserved device name on Windows"),
        ("../data.bin", "must be a relative path inside the entry"),
        ("data.bin.", "is not a portable relative path (has a part ending in a dot"),
    ],
)
def test_a_recipe_source_filename_follows_the_same_rules(
    tmp_path: Path, filename: str, problem: str
) -> None:
    from cmpkg.errors import InputError
    from cmpkg.index import load_index

    (tmp_path / "data.toml").write_text(RECIPE.format(filename=filename))
    with pytest.raises(InputError) as caught:
        load_index([tmp_path])
    assert any(f"sources[0].filename: {filename!r} {problem}" in d for d in caught.value.details)
