"""The shipped detect recipes' regexes against the output formats of the real tools."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmpkg.index import SHIPPED_INDEX, load_index

INDEX = load_index([SHIPPED_INDEX])
FIXTURES = SHIPPED_INDEX.parent.parent / "shared" / "fixtures" / "hardware" / "h200-cuda13"

# Captured outputs (the nvcc and nvidia-smi lines are those of the H200 fixture machine).
SAMPLES = [
    ("python", "Python 3.12.3\n", "3.12.3"),
    ("python", "Python 3.14.0rc1\n", "3.14.0rc1"),
    ("git", "git version 2.39.5\n", "2.39.5"),
    (
        "cmake",
        "cmake version 3.25.1\n\nCMake suite maintained and supported by Kitware\n",
        "3.25.1",
    ),
    ("gcc", "12.2.0\n", "12.2.0"),
    (
        "cuda-toolkit",
        "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 13.0, V13.0.88\n"
        "Build cuda_13.0.r13.0/compiler.36424714_0\n",
        "13.0.88",
    ),
    ("nvidia-driver", "580.159.04\n580.159.04\n", "580.159.04"),
    ("cudnn", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.19.0", "9.19.0"),
    ("cudnn", "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n", "9"),
]


def first_group(name: str, text: str) -> str | None:
    (recipe,) = INDEX.get(name)
    assert recipe.provide is not None
    match = re.search(recipe.provide.version_regex, text)
    return match.group(1) if match else None


@pytest.mark.parametrize(("name", "text", "version"), SAMPLES)
def test_version_regex(name: str, text: str, version: str) -> None:
    assert first_group(name, text) == version


def test_found_versions_are_in_range() -> None:
    for name, _, version in SAMPLES:
        (recipe,) = INDEX.get(name)
        assert recipe.provide is not None
        assert recipe.provide.version_range.contains(version, prereleases=True)


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared hardware fixtures not present")
def test_nvcc_fixture() -> None:
    text = (FIXTURES / "nvcc-version.txt").read_text()
    assert first_group("cuda-toolkit", text) == "13.0.88"


def test_detect_recipes_have_no_version() -> None:
    for recipe in INDEX.all():
        if recipe.provide is not None and recipe.provide.method == "detect":
            assert recipe.version is None
            assert str(recipe.provide.version_range)
            assert all(Path(p).is_absolute() for p in recipe.provide.version_files)
