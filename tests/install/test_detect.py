"""Tool detection: PATH and default locations, version parsing, and the fingerprint cache
that re-runs an upgraded binary and remembers a missing module until site-packages change."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cmpkg.index.fields import Problems
from cmpkg.index.load import load_recipe
from cmpkg.probe.tools import DetectCache, detect, parse_version


def _tool(directory: Path, name: str, output: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{output}'\necho run >> {directory}/runs\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _recipe(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    file = tmp_path / "tool.toml"
    file.write_text(
        'name = "faketool"\nkind = "tool"\nsummary = "s"\nlicense = "MIT"\n'
        'homepage = "https://example.org"\n[provide]\nmethod = "detect"\n' + body
    )
    problems = Problems(file)
    recipe = load_recipe(file, problems)
    assert recipe is not None, problems.lines
    return recipe


def test_version_regex_takes_the_first_group() -> None:
    assert parse_version("cmake version 3.25.1\n", r"(\d+(?:\.\d+)+)") == "3.25.1"
    assert parse_version("garbage", r"version (\d+)") is None


def test_cached_until_the_binary_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = _tool(bin_dir, "faketool", "faketool 1.2.3")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    recipe = _recipe(tmp_path, 'executables = ["faketool"]\n')
    cache = DetectCache(tmp_path / "cache.json")
    assert detect(recipe, cache).version == "1.2.3"  # type: ignore[union-attr]
    cache.save()
    assert detect(recipe, DetectCache(tmp_path / "cache.json")).version == "1.2.3"  # type: ignore[union-attr]
    assert (bin_dir / "runs").read_text().count("run") == 1  # the second look was a stat
    _tool(bin_dir, "faketool", "faketool 1.3.0 (upgraded)")
    os.utime(tool, ns=(1, tool.stat().st_mtime_ns + 10**9))
    assert detect(recipe, DetectCache(tmp_path / "cache.json")).version == "1.3.0"  # type: ignore[union-attr]


def test_default_locations_after_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opt = tmp_path / "opt"
    opt.mkdir()
    _tool(opt, "faketool", "faketool 2.0")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    recipe = _recipe(tmp_path, f'executables = ["faketool"]\nlocations = ["{opt}"]\n')
    assert detect(recipe, DetectCache(None)).version == "2.0"  # type: ignore[union-attr]


def test_missing_tool_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    recipe = _recipe(tmp_path, 'executables = ["faketool"]\n')
    assert detect(recipe, DetectCache(None)) is None


def test_version_files_from_a_library_symlink_or_a_header(tmp_path: Path) -> None:
    lib = tmp_path / "libcudnn.so.9.19.0"
    lib.write_bytes(b"\x7fELF")
    (tmp_path / "libcudnn.so.9").symlink_to(lib.name)
    header = tmp_path / "cudnn_version.h"
    header.write_text("#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n")
    regex = r"version-regex = '(?:libcudnn\.so\.|#define CUDNN_MAJOR\s+)(\d+(?:\.\d+)*)'" + "\n"
    files = f'version-files = ["{tmp_path}/libcudnn.so.9", "{header}"]\n'
    recipe = _recipe(tmp_path, files + regex)
    assert detect(recipe, DetectCache(None)).version == "9.19.0"  # type: ignore[union-attr]
    (tmp_path / "libcudnn.so.9").unlink()
    assert detect(recipe, DetectCache(None)).version == "8"  # type: ignore[union-attr]
