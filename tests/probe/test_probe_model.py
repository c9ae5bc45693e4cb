"""The fact encoding, wheel platform tags, and the import-time contract."""

from __future__ import annotations

import subprocess
import sys

import pytest
from packaging import tags

from cmpkg.probe.model import Target, fact_requirement
from cmpkg.probe.platform_tags import manylinux_tags, parse_manylinux_tag
from cmpkg.probe.targets import resolve_target


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("__cuda >= 12.1", ("__cuda", ">=12.1")),
        ("__cuda", ("__cuda", "")),
        ("__glibc>=2.28,<3", ("__glibc", ">=2.28,<3")),
        ("__arch == x86_64", ("__arch=x86_64", "")),
        ("__arch=aarch64", ("__arch=aarch64", "")),
        ("__microarch == x86_64_v3", ("__microarch=x86_64_v3", "")),
        ("__os == linux", ("__os=linux", "")),
    ],
)
def test_fact_requirement(requirement: str, expected: tuple[str, str]) -> None:
    assert fact_requirement(requirement) == expected


def test_fact_requirement_rejects_non_facts() -> None:
    with pytest.raises(ValueError):
        fact_requirement("numpy >= 1")


def test_features_and_facts_cover_the_same_values() -> None:
    target = resolve_target("h200-cuda13")
    features = target.features()
    assert {k: f.value for k, f in features.items()} == {
        "arch": "x86_64",
        "os": "linux",
        "distro": "ubuntu",
        "microarch": "icelake",
    }
    for name, feature in features.items():
        fact = target.facts()[f"__{name}={feature.value}"]
        assert (fact.version, fact.source) == ("1", feature.source)


def test_absent_facts_fail_requirements() -> None:
    cpu = resolve_target("cpu-x86_64")
    assert not cpu.satisfies("__cuda >= 12")
    assert not cpu.satisfies("__arch == aarch64")
    assert cpu.satisfies("__glibc >= 2.17")


def test_target_is_a_hashable_frozen_value() -> None:
    target = resolve_target("a100-cuda12")
    assert hash(target) == hash(resolve_target("a100-cuda12"))
    with pytest.raises(AttributeError):
        target.cuda = "13.0"  # type: ignore[misc]
    with pytest.raises(TypeError):
        target.origins["cuda"] = target.origins["glibc"]  # type: ignore[index]


def test_to_json_lists_facts_sources_and_python_fields() -> None:
    data = resolve_target("h100-cuda12").to_json()
    assert data["facts"]["__cuda"] == {
        "version": "12.8",
        "source": "profile h100-cuda12",
        "probed": False,
    }
    assert data["python"] == "3.12"
    assert data["platform_tags"][:2] == ["manylinux_2_35_x86_64", "manylinux_2_34_x86_64"]
    assert len(data["gpus"]) == 8


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tags")
def test_manylinux_tags_match_packaging_on_this_host() -> None:
    host = [t for t in tags.platform_tags() if t.startswith("manylinux_2_")]
    if not host:
        pytest.skip("not a glibc host")
    glibc, arch = parse_manylinux_tag(host[0])
    expected = [t for t in tags.platform_tags() if t.startswith("manylinux")]
    assert list(manylinux_tags(glibc, arch)) == expected


def test_manylinux_tags_aarch64_and_errors() -> None:
    assert manylinux_tags("2.17", "aarch64") == ("manylinux_2_17_aarch64", "manylinux2014_aarch64")
    with pytest.raises(ValueError):
        manylinux_tags("3.1", "x86_64")
    with pytest.raises(ValueError):
        parse_manylinux_tag("linux_x86_64")


def test_importing_the_probe_loads_no_archspec_or_pynvml() -> None:
    code = (
        "import sys, cmpkg.probe, cmpkg.cli.target_cmds; "
        "print(sorted(m for m in ('archspec', 'pynvml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_origin_is_declared() -> None:
    target = Target(name="t", os="linux", arch="x86_64", python="3.12", platform_tags=())
    assert target.origin("cuda").source == "unknown"
    assert target.facts() == {
        "__os=linux": target.facts()["__os=linux"],
        "__arch=x86_64": target.facts()["__arch=x86_64"],
    }
