"""Target profiles: TOML files that declare a machine cmpkg is not running on.

Format (docs/targets.md): top-level `name` (optional, must match the file name), `description`,
`python`, `platform` (optional when `facts.glibc` is given), `requires_cuda` (optional), and a
`[facts]` table using the keys of `cmpkg.probe.declare.KEYS` plus `gpu_name`. Validation
collects every problem as `file: key.path: message` and raises one `InputError` (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cmpkg.errors import InputError
from cmpkg.probe.declare import KEYS, check_consistent, coerce, declare
from cmpkg.probe.model import Gpu, Origin, Target
from cmpkg.shipped import SHIPPED_INDEX

SHIPPED_DIR = SHIPPED_INDEX / "targets"
TOP_KEYS = {"name", "description", "python", "platform", "requires_cuda", "facts"}
FACT_KEYS = (set(KEYS) - {"python", "platform"}) | {"gpu_name"}
REQUIRED_FACTS = ("os", "arch")
_HINT = (
    "fix the profile; its keys are in docs/targets.md (`cmpkg target list` lists the shipped ones)"
)


def profile_paths(dirs: Sequence[Path] = (SHIPPED_DIR,)) -> dict[str, Path]:
    """Profile name -> file, over `dirs` (a later directory's profile replaces an earlier one)."""
    found: dict[str, Path] = {}
    for directory in dirs:
        found.update({p.stem: p for p in sorted(directory.glob("*.toml"))})
    return dict(sorted(found.items()))


def load_profile(path: Path) -> Target:
    """Read and validate one profile file; InputError with every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError([f"{path}: cannot read: {error.strerror}"], hint=_HINT) from None
    return parse_profile(text, str(path), path.stem)


def parse_profile(text: str, file: str, stem: str) -> Target:
    """A profile's text -> Target (pure). `stem` is the name the file gives it."""
    if sys.version_info >= (3, 11):  # imported here: `--target cpu` reads no profile
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError([f"{file}: invalid TOML: {error}"], hint=_HINT) from None
    problems = [f"{file}: {p}" for p in _problems(data, stem)]
    if problems:
        raise InputError(problems, hint=_HINT)
    target = _build(data, stem)
    problems = [f"{file}: facts.{p}" for p in check_consistent(target)]
    if problems:
        raise InputError(problems, hint=_HINT)
    return target


def _problems(data: Mapping[str, Any], stem: str) -> Iterator[str]:
    for key in sorted(set(data) - TOP_KEYS):
        yield f"{key}: unknown key (known: {', '.join(sorted(TOP_KEYS))})"
    if data.get("name", stem) != stem:
        yield f"name: {data['name']!r} does not match the file name {stem!r}"
    if not isinstance(data.get("description", ""), str):
        yield "description: expected a string"
    if not isinstance(data.get("requires_cuda", False), bool):
        yield "requires_cuda: expected true or false"
    yield from _value_problems(data, "python", required=True)
    yield from _value_problems(data, "platform", required=False)
    facts = data.get("facts")
    if not isinstance(facts, dict):
        yield "facts: missing table [facts]"
        return
    yield from _fact_problems(facts)
    if "platform" not in data and "glibc" not in facts:
        yield "platform: required when facts.glibc is not given"


def _value_problems(data: Mapping[str, Any], key: str, *, required: bool) -> Iterator[str]:
    if key not in data:
        if required:
            yield f"{key}: missing ({KEYS[key][1]})"
        return
    try:
        coerce(key, data[key])
    except ValueError as error:
        yield f"{key}: {error}"


def _fact_problems(facts: Mapping[str, Any]) -> Iterator[str]:
    for key in sorted(facts):
        if key not in FACT_KEYS:
            yield f"facts.{key}: unknown fact (known: {', '.join(sorted(FACT_KEYS))})"
        elif key == "gpu_name":
            if not isinstance(facts[key], str) or not facts[key]:
                yield "facts.gpu_name: expected a GPU name"
        else:
            yield from (f"facts.{p}" for p in _value_problems(facts, key, required=False))
    for key in REQUIRED_FACTS:
        if key not in facts:
            yield f"facts.{key}: missing ({KEYS[key][1]})"


def _build(data: Mapping[str, Any], name: str) -> Target:
    facts = data["facts"]
    source = f"profile {name}"
    base = Target(
        name=name,
        description=data.get("description", ""),
        os=str(facts["os"]),
        arch=str(facts["arch"]),
        python=str(data["python"]),
        platform_tags=(),
        requires_cuda=bool(data.get("requires_cuda", False)),
    )
    values = {k: coerce(k, v) for k, v in facts.items() if k in KEYS}
    values.update({k: coerce(k, data[k]) for k in ("python", "platform") if k in data})
    target = declare(base, values, source)
    gpus = _gpus(facts, target)
    origins = {**target.origins, "gpus": Origin(source, probed=False)} if gpus else target.origins
    return target.with_origins(origins, gpus=gpus)


def _gpus(facts: Mapping[str, Any], target: Target) -> tuple[Gpu, ...]:
    """`gpu_count` GPUs named `gpu_name` (a profile describes a homogeneous node)."""
    if "gpu_name" not in facts:
        return ()
    gpu = Gpu(str(facts["gpu_name"]), target.cuda_arch, target.gpu_mem_mib)
    return (gpu,) * (target.gpu_count or 1)
