"""`--target` specs -> `Target`: host, cpu, cuda, a profile name or file, and inline tweaks.

    host                          the probe (the default)
    cpu                           the probe with accelerators ignored: only CPU variants fit
    cuda                          the probe, and CUDA variants are required (requires_cuda)
    h100-cuda12                   a profile shipped in index/targets/
    ./my-node.toml                a profile file (any spec with a `/` or ending in .toml)
    cuda:driver=12.4,arch=8.0     any of the above, then declared values (`key=value,...`)

Tweak keys are those of profile facts plus `python` and `platform`; `driver` means `cuda` (the
driver API version) and a numeric `arch` (8.0) means `cuda_arch`, so the short forms read as
people say them. Unknown names are a usage error (exit 2) whose hint lists the known targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from cmpkg.errors import UsageError
from cmpkg.probe.declare import check_consistent, coerce, declare
from cmpkg.probe.host import probe_host
from cmpkg.probe.model import Target
from cmpkg.probe.profiles import SHIPPED_DIR, load_profile, profile_paths

BUILTIN = {
    "host": "this machine, as probed (default)",
    "cpu": "this machine with accelerators ignored: only CPU variants are eligible",
    "cuda": "this machine, requiring CUDA variants (install fails without a CUDA driver)",
}
_GPU_KEYS = {"cuda", "cuda_arch", "gpu_mem_mib", "gpu_count", "driver_version"}


def resolve_target(
    spec: str = "host",
    *,
    probe: Callable[..., Target] = probe_host,
    profile_dirs: Sequence[Path] = (SHIPPED_DIR,),
) -> Target:
    """The Target a `--target` spec names. `probe` is `probe_host` (injected in tests)."""
    base, _, tweaks = spec.partition(":")
    target = _base_target(base.strip() or "host", probe, profile_dirs)
    return apply_tweaks(target, tweaks, spec) if tweaks else target


def _base_target(name: str, probe: Callable[..., Target], dirs: Sequence[Path]) -> Target:
    if name == "host":
        return probe()
    if name == "cpu":
        return probe(ignore_gpus=True, name="cpu", description=BUILTIN["cpu"])
    if name == "cuda":
        target: Target = probe(name="cuda", description=BUILTIN["cuda"])
        return _require_cuda(target)
    if "/" in name or name.endswith(".toml"):
        return _profile_file(Path(name))
    paths = profile_paths(dirs)
    if name not in paths:
        raise UsageError(
            "unknown-target",
            f"unknown target {name!r}",
            hint=f"known targets: {', '.join([*BUILTIN, *paths])}, or a path to a profile .toml",
        )
    return load_profile(paths[name])


def _require_cuda(target: Target) -> Target:
    return target._replace(requires_cuda=True)


def _profile_file(path: Path) -> Target:
    if not path.is_file():
        raise UsageError(
            "unknown-target", f"no profile file {path}", hint="`cmpkg target list` shows profiles"
        )
    return load_profile(path)


def parse_tweaks(text: str) -> dict[str, str]:
    """`driver=12.4,arch=8.0` -> {"cuda": "12.4", "cuda_arch": "8.0"} (aliases resolved)."""
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r}: expected key=value")
        values[_alias(key.strip(), value.strip())] = value.strip()
    return values


def _alias(key: str, value: str) -> str:
    if key == "driver":
        return "cuda"
    if key == "arch" and re.fullmatch(r"[0-9]+\.[0-9]+", value):
        return "cuda_arch"
    return key


def apply_tweaks(target: Target, tweaks: str, spec: str) -> Target:
    """`target` with the inline `key=value` tweaks declared; UsageError naming each bad one."""
    try:
        raw = parse_tweaks(tweaks)
    except ValueError as error:
        raise _bad(spec, [str(error)]) from None
    values, problems = {}, []
    for key, value in raw.items():
        try:
            values[key] = coerce(key, value)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    if target.name == "cpu":
        problems += [
            f"{k}: the cpu target has no GPU; use cuda:{k}=..." for k in values if k in _GPU_KEYS
        ]
    if not problems:
        target = declare(target, values, f"--target {spec}")
        problems = check_consistent(target)
    if problems:
        raise _bad(spec, problems)
    return target


def _bad(spec: str, problems: list[str]) -> UsageError:
    return UsageError(
        "bad-target",
        f"invalid --target {spec!r}",
        details=problems,
        hint="tweaks are key=value,... with the keys of docs/targets.md (e.g. cuda:driver=12.4)",
    )


def list_targets(profile_dirs: Sequence[Path] = (SHIPPED_DIR,)) -> list[tuple[str, str]]:
    """(name, description) of the built-in targets, then of every profile."""
    profiles = [(n, load_profile(p).description) for n, p in profile_paths(profile_dirs).items()]
    return [*BUILTIN.items(), *profiles]
