"""Wheel resolution per target (cmpkg.wheels): which file is locked for which platform, the
memo of resolutions, and uv's isolation from the user's configuration. Real uv runs over
wheels the test builds (find-links, no index): nothing leaves the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cmpkg import installer
from cmpkg.errors import CmpkgError
from cmpkg.probe.platform_tags import manylinux_tags
from cmpkg.wheels import (
    CACHE,
    WheelPlatform,
    WheelSource,
    best_wheel,
    parse_pylock,
    resolve_wheels,
    supported_tags,
)
from tests.install.wheels import build_wheel

PROFILE = WheelPlatform(
    "linux", "x86_64", "glibc", "2.28", "3.12", "cp312", manylinux_tags("2.28", "x86_64")
)
ARM = WheelPlatform(
    "linux", "aarch64", "glibc", "2.35", "3.12", "cp312", manylinux_tags("2.35", "aarch64")
)


def ranking(platform: WheelPlatform) -> dict[str, int]:
    return {tag: i for i, tag in enumerate(supported_tags(platform))}


def test_the_installers_preferred_file_is_chosen() -> None:
    files = [
        "protobuf-7.0-py3-none-any.whl",
        "protobuf-7.0-cp310-abi3-manylinux2014_x86_64.whl",
        "protobuf-7.0-cp312-cp312-manylinux_2_17_aarch64.whl",
    ]
    assert best_wheel(files, ranking(PROFILE)) == files[1]  # abi3 binary beats pure Python
    assert best_wheel(files, ranking(ARM)) == files[2]
    newer = [
        "np-2-cp312-cp312-manylinux2014_x86_64.whl",
        "np-2-cp312-cp312-manylinux_2_28_x86_64.whl",
    ]
    assert best_wheel(newer, ranking(PROFILE)) == newer[1]  # the newest glibc it runs on
    assert best_wheel(["np-2-cp313-cp313-manylinux_2_28_x86_64.whl"], ranking(PROFILE)) is None


@pytest.mark.parametrize(
    ("glibc", "arch", "expected"),
    [
        ("2.39", "x86_64", "x86_64-manylinux_2_39"),
        ("2.29", "x86_64", "x86_64-manylinux_2_28"),  # uv names no 2_29: the next one down
        ("2.45", "aarch64", "aarch64-manylinux_2_40"),
        ("2.17", "aarch64", "aarch64-manylinux_2_17"),
    ],
)
def test_uv_platform_is_the_newest_manylinux_at_or_below_the_glibc(
    glibc: str, arch: str, expected: str
) -> None:
    platform = WheelPlatform("linux", arch, "glibc", glibc, "3.12", "cp312", ())
    assert platform.uv_platform() == expected


def test_a_target_without_glibc_is_refused_by_name() -> None:
    with pytest.raises(CmpkgError, match="only glibc Linux") as caught:
        WheelPlatform("linux", "x86_64", "", "", "3.12", "cp312", ()).uv_platform()
    assert caught.value.code == "unsupported-platform"


def test_a_package_with_only_a_source_distribution_is_never_locked() -> None:
    pylock = """lock-version = "1.0"
[[packages]]
name = "legacy"
version = "1.0"
sdist = { url = "https://example.invalid/legacy-1.0.tar.gz", hashes = { sha256 = "00" } }
"""
    with pytest.raises(CmpkgError, match=r"legacy 1\.0 has no wheel") as caught:
        parse_pylock(pylock, ranking(PROFILE))
    assert caught.value.code == "no-wheel"


@pytest.fixture
def links(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for tag in (
        "cp312-cp312-manylinux_2_28_x86_64",
        "cp312-cp312-manylinux_2_35_aarch64",
        f"cp3{sys.version_info.minor}-cp3{sys.version_info.minor}-manylinux2014_x86_64",
        "py3-none-any",
    ):
        build_wheel(wheels, "fast", "1.0", "X = 1\n", tag=tag)
    build_wheel(wheels, "app", "1.0", "import fast\n", ("fast>=1",))
    return wheels


def names(wheels: tuple[object, ...]) -> list[str]:
    return [w.url.rsplit("/", 1)[-1] for w in wheels]  # type: ignore[attr-defined]


def test_each_declared_platform_gets_its_own_files(links: Path, tmp_path: Path) -> None:
    source = WheelSource((str(links),), (), no_index=True)
    x86 = resolve_wheels(["app"], (), PROFILE, source, tmp_path / "home")
    arm = resolve_wheels(["app"], (), ARM, source, tmp_path / "home")
    assert names(x86) == [
        "app-1.0-py3-none-any.whl",
        "fast-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
    ]
    assert names(arm) == [
        "app-1.0-py3-none-any.whl",
        "fast-1.0-cp312-cp312-manylinux_2_35_aarch64.whl",
    ]
    assert all(len(w.sha256) == 64 for w in x86 + arm)


def test_a_host_target_resolves_for_the_detected_interpreter(links: Path, tmp_path: Path) -> None:
    from cmpkg.wheels import host_platform

    if not any(
        t.startswith("manylinux") and "x86_64" in t for t in host_platform(sys.executable, "3").tags
    ):
        pytest.skip("needs an x86_64 glibc host")
    platform = host_platform(sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}")
    wheels = resolve_wheels(["fast"], (), platform, WheelSource((str(links),), (), True), tmp_path)
    minor = sys.version_info.minor
    assert names(wheels) == [f"fast-1.0-cp3{minor}-cp3{minor}-manylinux2014_x86_64.whl"]


def test_an_unchanged_resolution_is_answered_from_the_memo(
    links: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, source = tmp_path / "home", WheelSource((str(links),), (), no_index=True)
    first = resolve_wheels(["app"], (), PROFILE, source, home)
    assert len(list((home / CACHE).iterdir())) == 1
    # From here on uv cannot run: only the memo can answer.
    monkeypatch.setattr(installer, "uv_binary", lambda: str(tmp_path / "no-uv"))
    assert resolve_wheels(["app"], (), PROFILE, source, home) == first
    with pytest.raises(FileNotFoundError):
        resolve_wheels(["app"], (), PROFILE, source, home, refresh=True)
    build_wheel(links, "fast", "2.0", "X = 2\n")  # a changed find-links directory: a new key
    with pytest.raises(FileNotFoundError):
        resolve_wheels(["app"], (), PROFILE, source, home)


def test_a_damaged_memo_entry_is_resolved_again(links: Path, tmp_path: Path) -> None:
    home, source = tmp_path / "home", WheelSource((str(links),), (), no_index=True)
    first = resolve_wheels(["app"], (), PROFILE, source, home)
    for entry in (home / CACHE).iterdir():
        entry.write_text("{not json")
    assert resolve_wheels(["app"], (), PROFILE, source, home) == first


def test_uv_and_pip_settings_of_the_user_do_not_reach_uv(
    links: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison = tmp_path / "poison"
    poison.mkdir()
    build_wheel(poison, "fast", "9.0", "X = 9\n")
    (tmp_path / "constraints.txt").write_text("fast==0.1\n")
    (tmp_path / "uv.toml").write_text(f'find-links = ["{poison}"]\n')
    for name, value in {
        "UV_FIND_LINKS": str(poison),
        "UV_CONSTRAINT": str(tmp_path / "constraints.txt"),
        "UV_CONFIG_FILE": str(tmp_path / "uv.toml"),
        "UV_EXCLUDE_NEWER": "2000-01-01T00:00:00Z",
        "PIP_FIND_LINKS": str(poison),
        "PIP_CONSTRAINT": str(tmp_path / "constraints.txt"),
        "VIRTUAL_ENV": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # a uv.toml in the working directory is not read either
    wheels = resolve_wheels(
        ["fast"], (), PROFILE, WheelSource((str(links),), (), True), tmp_path / "home"
    )
    assert [(w.name, w.version) for w in wheels] == [("fast", "1.0")]
    assert "UV_CONSTRAINT" not in installer.isolated_environment()


def test_environments_share_the_wheels_files_and_record_each_wheel(
    links: Path, tmp_path: Path
) -> None:
    from cmpkg import pyenv
    from cmpkg.wheels import host_platform

    home, source = tmp_path / "home", WheelSource((str(links),), (), no_index=True)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = resolve_wheels(["app"], (), host_platform(sys.executable, version), source, home)
    for root in (tmp_path / "a", tmp_path / "b"):  # the same wheels twice from one cache
        pyenv.create(root, sys.executable)
        done = pyenv.install(root, wheels, source, home)
        assert [(w["name"], w["sha256"]) for w in done["installed"]] == [
            (w.name, w.sha256) for w in wheels
        ]
        assert done["link-mode"] == "hardlink"
    a, b = (next((tmp_path / n).glob("venv/lib/python*/site-packages/fast.py")) for n in "ab")
    assert a.stat().st_ino == b.stat().st_ino  # one file: linked from uv's cache into both
    assert a.stat().st_nlink == 3
    bytecode = list(a.parent.glob("__pycache__/fast.*.pyc"))
    assert bytecode and bytecode[0].stat().st_nlink == 1  # compiled at install, its own


def test_a_cache_on_another_file_system_is_copied_from(tmp_path: Path) -> None:
    from cmpkg import pyenv

    assert pyenv.link_mode(tmp_path / "home" / "uv-v1", tmp_path / "build")[0] == "hardlink"
    mode, why = pyenv.link_mode(Path("/proc/self"), tmp_path)  # procfs: another device
    assert mode == "copy" and "another file system" in why
