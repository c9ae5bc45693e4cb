"""Every `--target` form, inline tweaks, shipped profiles and profile validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from cmpkg.errors import CmpkgError, InputError, UsageError
from cmpkg.probe.host import probe_host
from cmpkg.probe.model import Gpu, Target
from cmpkg.probe.nvidia import GpuReading, parse_nvidia_smi_banner, parse_nvidia_smi_csv
from cmpkg.probe.overrides import Overrides
from cmpkg.probe.profiles import SHIPPED_DIR, parse_profile, profile_paths
from cmpkg.probe.targets import list_targets, resolve_target
from tests.probe.helpers import CPU_ONLY_SYSTEM, answering, capture, system

SHIPPED = ["a100-cuda12", "cpu-x86_64", "grace-aarch64", "h100-cuda12", "h200-cuda13"]
H200 = GpuReading("nvml", "580.159.04", "13.0", (Gpu("NVIDIA H200", "9.0", 143771),))


def gpu_host(**kwargs: Any) -> Target:
    return probe_host(
        system=system(), gpu_sources=[answering("nvml", H200)], overrides=Overrides(), **kwargs
    )


def cpu_host(**kwargs: Any) -> Target:
    return probe_host(
        system=system(CPU_ONLY_SYSTEM),
        gpu_sources=[answering("nvml", None)],
        overrides=Overrides(),
        **kwargs,
    )


def test_host_is_the_probe() -> None:
    target = resolve_target("host", probe=gpu_host)
    assert target.name == "host"
    assert target.facts()["__cuda"].version == "13.0"
    assert resolve_target(probe=gpu_host) == target  # host is the default


def test_cpu_ignores_accelerators() -> None:
    target = resolve_target("cpu", probe=gpu_host)
    assert target.name == "cpu"
    assert not target.satisfies("__cuda >= 1")
    assert target.satisfies("__arch == x86_64")


def test_cuda_requires_cuda() -> None:
    target = resolve_target("cuda", probe=gpu_host)
    assert target.requires_cuda
    target.check_installable()


def test_cuda_on_a_cpu_host_resolves_but_cannot_install() -> None:
    target = resolve_target("cuda", probe=cpu_host)
    assert target.requires_cuda and target.cuda is None
    with pytest.raises(CmpkgError) as error:
        target.check_installable()
    assert error.value.code == "cuda-required"
    assert "no __cuda" in error.value.message  # the missing fact, by name
    assert error.value.hint and "--target=cpu" in error.value.hint


def test_cuda_with_inline_tweaks() -> None:
    target = resolve_target("cuda:driver=12.4,arch=8.0", probe=cpu_host)
    facts = target.facts()
    assert (facts["__cuda"].version, facts["__cuda_arch"].version) == ("12.4", "8.0")
    assert facts["__cuda"].source == "--target cuda:driver=12.4,arch=8.0"
    assert not facts["__cuda"].probed
    assert facts["__glibc"].probed  # the rest is still the probe


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_load_with_pep440_facts(name: str) -> None:
    target = resolve_target(name)
    assert target.name == name and target.description
    assert all(Version(f.version) for f in target.facts().values())
    assert all(not f.probed and f.source == f"profile {name}" for f in target.facts().values())
    assert target.platform_tags[0].startswith("manylinux_2_")


def test_shipped_profile_names() -> None:
    assert list(profile_paths()) == SHIPPED
    assert [n for n, _ in list_targets()] == ["host", "cpu", "cuda", *SHIPPED]


def test_h200_profile_matches_the_captures() -> None:
    facts = resolve_target("h200-cuda13").facts()
    driver, cuda = parse_nvidia_smi_banner(capture("h200-cuda13", "nvidia-smi.txt"))
    gpu = parse_nvidia_smi_csv(capture("h200-cuda13", "nvidia-smi-query.csv")).gpus[0]
    assert facts["__cuda"].version == cuda == "13.0"
    assert facts["__cuda_arch"].version == gpu.compute_capability
    assert facts["__gpu_mem_mib"].version == str(gpu.memory_mib)
    assert resolve_target("h200-cuda13").driver_version == driver
    assert facts["__glibc"].version == "2.39"


def test_profile_facts_and_encoding() -> None:
    h100 = resolve_target("h100-cuda12")
    assert h100.satisfies("__cuda >= 12.1") and not h100.satisfies("__cuda >= 13")
    assert h100.satisfies("__microarch == x86_64_v4")
    assert h100.gpus == (Gpu("NVIDIA H100 80GB HBM3", "9.0", 81559),) * 8
    grace = resolve_target("grace-aarch64")
    assert grace.satisfies("__arch == aarch64") and not grace.satisfies("__arch == x86_64")
    assert grace.satisfies("__microarch=neoverse_n1")
    assert "manylinux2014_aarch64" in grace.platform_tags
    assert not resolve_target("cpu-x86_64").satisfies("__cuda")


def test_profile_with_tweaks() -> None:
    target = resolve_target("h100-cuda12:cuda=12.4,python=3.11")
    assert target.facts()["__cuda"].source == "--target h100-cuda12:cuda=12.4,python=3.11"
    assert target.facts()["__cuda_arch"].source == "profile h100-cuda12"
    assert target.python == "3.11"


def test_profile_tweak_glibc_moves_platform_tags() -> None:
    target = resolve_target("a100-cuda12:glibc=2.31")
    assert target.platform_tags[0] == "manylinux_2_31_x86_64"


def test_profile_by_path(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text('python = "3.11"\n[facts]\nos = "linux"\narch = "x86_64"\nglibc = "2.31"\n')
    target = resolve_target(str(path))
    assert (target.name, target.python, target.glibc) == ("node", "3.11", "2.31")
    assert target.platform_tags[0] == "manylinux_2_31_x86_64"
    assert resolve_target(f"{path}:cuda=12.1").cuda == "12.1"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as error:
        resolve_target("h100")
    assert error.value.exit_code == 2
    assert error.value.hint is not None
    assert "host, cpu, cuda, a100-cuda12, cpu-x86_64" in error.value.hint


def test_missing_profile_file() -> None:
    with pytest.raises(UsageError, match="no profile file"):
        resolve_target("./nowhere.toml")


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("cuda:driver", "expected key=value"),
        ("cuda:driver=twelve", "cuda: expected a CUDA driver API version"),
        ("cuda:colour=red", "colour: unknown key"),
        ("cpu:cuda=12.4", "the cpu target has no GPU"),
        ("h100-cuda12:microarch=neoverse_v2", "neoverse_v2 belongs to aarch64"),
        ("h100-cuda12:gpu_mem_mib=0", "gpu_mem_mib: expected a positive whole number"),
    ],
)
def test_bad_tweaks(spec: str, fragment: str) -> None:
    with pytest.raises(UsageError) as error:
        resolve_target(spec, probe=cpu_host)
    assert error.value.code == "bad-target"
    assert any(fragment in line for line in error.value.details), error.value.details


BAD_PROFILE = """
name = "other"
colour = "blue"
python = "2.7"
platform = "linux_x86_64"
requires_cuda = "yes"

[facts]
os = "linux"
cuda = "twelve"
cuda_arch = 9
gpu_mem_mib = "80GB"
microarch = "pentium9000"
flux = 1
"""


def test_profile_validation_reports_every_problem() -> None:
    with pytest.raises(InputError) as error:
        parse_profile(BAD_PROFILE, "targets/bad.toml", "bad")
    details = error.value.details
    expected = [
        "targets/bad.toml: colour: unknown key",
        "targets/bad.toml: name: 'other' does not match the file name 'bad'",
        "targets/bad.toml: requires_cuda: expected true or false",
        "targets/bad.toml: python: expected a Python version like 3.12, got '2.7'",
        "targets/bad.toml: platform: expected a PEP 600 tag",
        "targets/bad.toml: facts.cuda: expected a CUDA driver API version like 12.8",
        "targets/bad.toml: facts.cuda_arch: expected a compute capability like 9.0, got 9",
        "targets/bad.toml: facts.gpu_mem_mib: expected a positive whole number of MiB",
        "targets/bad.toml: facts.microarch: unknown microarchitecture 'pentium9000'",
        "targets/bad.toml: facts.flux: unknown fact",
        "targets/bad.toml: facts.arch: missing",
    ]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in details), (prefix, details)
    assert len(details) == len(expected)
    assert error.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("python = [", "f.toml: invalid TOML"),
        ('python = "3.12"\nplatform = "manylinux_2_17_x86_64"', "f.toml: facts: missing table"),
        ('python = "3.12"\n[facts]\nos = "linux"\narch = "x86_64"', "f.toml: platform: required"),
        (
            'python = "3.12"\n[facts]\nos = "linux"\narch = "x86_64"\nglibc = "2.35"\n'
            'microarch = "neoverse_v2"',
            "f.toml: facts.microarch: neoverse_v2 belongs to aarch64, not to arch x86_64",
        ),
    ],
)
def test_profile_validation_cases(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as error:
        parse_profile(text, "f.toml", "f")
    assert any(line.startswith(fragment) for line in error.value.details), error.value.details


def test_profiles_dir_is_the_shipped_index() -> None:
    assert SHIPPED_DIR.parts[-2:] == ("index", "targets")


def test_the_documented_profile_example_is_valid() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "targets.md").read_text()
    example = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    target = parse_profile(example, "docs/targets.md", "h100-cuda12")
    assert target.facts()["__gpu_count"].version == "8"
    assert target.kernel_version == "5.15.0"
