"""The `[sweep]` table of cmpkg.toml, read into a `SweepSpec` (every problem reported at once).

[sweep]
benchmarks = ["mlperf-resnet50"]
scenarios = ["Offline", "SingleStream"]
targets = ["cpu"]
variants = { backend = ["onnxruntime", "pytorch"] }
profile = "smoke"            # passed to each run as `--profile smoke`; "" passes none
repeats = 1
exclude = [{ scenario = "SingleStream", backend = "pytorch" }]
args = ["--count", "64"]     # more arguments for every run
dir = "sweep"                # cells, locks and logs (shared by all nodes for Slurm)

[sweep.slurm]                # defaults for `--executor slurm`; flags override them
partition = "debug"
time = "00:30:00"
cpus-per-cell = 1
gpus-per-cell = 0
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cmpkg.errors import InputError, UsageError
from cmpkg.index.fields import Fields, Problems
from cmpkg.index.load import read_toml

#: Names that become directory and array-task names: no separators, nothing hidden.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
#: Keys an exclusion may match besides variant groups.
CELL_KEYS = ("benchmark", "scenario", "target")
_HINT = "fix cmpkg.toml; the [sweep] table's keys are in docs/sweeps.md"


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    time: str | None = None
    cpus_per_cell: int = 1
    gpus_per_cell: int = 0
    extra: tuple[str, ...] = ()  # more `sbatch` options, verbatim


@dataclass(frozen=True)
class SweepSpec:
    root: Path  # the project directory (cmpkg.toml's)
    name: str
    benchmarks: tuple[str, ...]
    scenarios: tuple[str, ...]
    targets: tuple[str, ...]
    variants: tuple[tuple[str, tuple[str, ...]], ...]  # group -> values, in file order
    profile: str
    repeats: int
    exclude: tuple[tuple[tuple[str, str], ...], ...]  # each: sorted (key, value) pairs
    args: tuple[str, ...]
    index: tuple[str, ...]  # the project's extra index dirs, relative to root
    directory: str = "sweep"
    slurm: SlurmOptions = field(default_factory=SlurmOptions)

    @property
    def dir(self) -> Path:
        return self.root / self.directory

    def digest(self) -> str:
        """What the plan depends on in the manifest (not the Slurm options: they do not
        change a cell, only where it runs)."""
        data = asdict(self)
        data.pop("slurm")
        data["root"] = str(self.root)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def load(manifest_path: Path) -> SweepSpec:
    """The `[sweep]` table of `manifest_path`; a usage error when there is none."""
    problems = Problems(manifest_path)
    raw = read_toml(manifest_path, problems)
    if raw is None:
        raise InputError(problems.lines, hint=_HINT)
    table = raw.get("sweep")
    if table is None:
        raise UsageError(
            "no-sweep",
            f"{manifest_path} has no [sweep] table",
            hint="add one (docs/sweeps.md), e.g. benchmarks = [...] and scenarios = [...]",
        )
    project = raw.get("project", {})
    fields = Fields(table if isinstance(table, dict) else {}, "sweep", problems)
    if not isinstance(table, dict):
        problems.add("sweep", "expected a table")
    spec = _read(fields, manifest_path.parent, project if isinstance(project, dict) else {})
    if problems.lines:
        raise InputError(problems.lines, hint=_HINT)
    return spec


def _read(fields: Fields, root: Path, project: dict[str, Any]) -> SweepSpec:
    name = fields.str("name", str(project.get("name") or root.name))
    spec = SweepSpec(
        root=root,
        name=name,
        benchmarks=_names(fields, "benchmarks", required=True),
        scenarios=fields.str_list("scenarios", required=True),
        targets=_names(fields, "targets") or tuple(project.get("targets") or ("host",)),
        variants=_variants(fields),
        profile=fields.str("profile", "smoke"),
        repeats=_repeats(fields),
        exclude=_exclude(fields),
        args=fields.str_list("args"),
        index=tuple(project.get("index") or ()),
        directory=fields.str("dir", "sweep"),
        slurm=_slurm(fields),
    )
    fields.finish()
    if not _SAFE.match(name):
        fields.error("name", f"{name!r} must be letters, digits and _.+- only")
    return spec


def _names(fields: Fields, key: str, *, required: bool = False) -> tuple[str, ...]:
    names = fields.str_list(key, required=required)
    for i, name in enumerate(names):
        if not _SAFE.match(name):
            fields.error(f"{key}[{i}]", f"{name!r} must be letters, digits and _.+- only")
    if required and not names:
        fields.error(key, "needs at least one value")
    return names


def _variants(fields: Fields) -> tuple[tuple[str, tuple[str, ...]], ...]:
    sub = fields.sub("variants")
    if sub is None:
        return ()
    groups = tuple((group, _names(sub, group, required=True)) for group in sub.table)
    for group, _values in groups:
        if group in CELL_KEYS or not _SAFE.match(group):
            sub.error(group, f"{group!r} cannot name a variant group")
    return groups


def _repeats(fields: Fields) -> int:
    repeats = fields.int("repeats")
    if repeats is None:
        return 1
    if repeats < 1:
        fields.error("repeats", "must be 1 or more")
        return 1
    return repeats


def _exclude(fields: Fields) -> tuple[tuple[tuple[str, str], ...], ...]:
    rules = []
    for i, item in enumerate(fields.list("exclude")):
        if not isinstance(item, dict) or not item:
            fields.error(f"exclude[{i}]", 'expected a table such as { scenario = "Server" }')
            continue
        rule = Fields(item, f"{fields.key('exclude')}[{i}]", fields.problems)
        rules.append(tuple(sorted((key, rule.str(key, required=True)) for key in item)))
    return tuple(rules)


def _slurm(fields: Fields) -> SlurmOptions:
    sub = fields.sub("slurm")
    if sub is None:
        return SlurmOptions()
    options = SlurmOptions(
        partition=sub.optional_str("partition"),
        time=sub.optional_str("time"),
        cpus_per_cell=sub.int("cpus-per-cell") or 1,
        gpus_per_cell=sub.int("gpus-per-cell") or 0,
        extra=sub.str_list("extra"),
    )
    sub.finish()
    return options
