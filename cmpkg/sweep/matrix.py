"""The cells of a sweep: the matrix of a `SweepSpec` less its exclusions (pure, no I/O).

A *build* is what one lock is made for: a benchmark with one value of each variant group
(`mlperf-resnet50[backend=pytorch]`). A *cell* is a build on one target, in one scenario, for
one repeat: scenarios and repeats change only the run's arguments, so every cell of a build
installs the same store entries. Cell order (and so each cell's Slurm array index) is the
matrix order of the manifest, which keeps `sweep plan` and `sweep status` stable.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from cmpkg.sweep.spec import SweepSpec

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Build:
    benchmark: str
    variant: Pairs  # (group, value) in the manifest's group order

    @property
    def request(self) -> str:
        """The request a lock is made for: `name[group=value,...]`."""
        if not self.variant:
            return self.benchmark
        return f"{self.benchmark}[{','.join(f'{g}={v}' for g, v in self.variant)}]"

    @property
    def id(self) -> str:
        """A file name: `mlperf-resnet50+backend-pytorch`."""
        return "+".join([self.benchmark, *(f"{g}-{v}" for g, v in self.variant)])


@dataclass(frozen=True)
class Cell:
    build: Build
    scenario: str
    target: str
    repeat: int  # 1-based

    @property
    def id(self) -> str:
        """`mlperf-resnet50.Offline.cpu.backend-pytorch.r1`: unique in a sweep, a file name."""
        parts = [self.build.benchmark, self.scenario, self.target]
        parts += [f"{g}-{v}" for g, v in self.build.variant]
        return ".".join([*parts, f"r{self.repeat}"])

    def values(self) -> dict[str, str]:
        """Every key an exclusion can match."""
        found = {"benchmark": self.build.benchmark, "scenario": self.scenario}
        found["target"] = self.target
        found.update(self.build.variant)
        return found


def builds(spec: SweepSpec) -> list[Build]:
    groups = [group for group, _ in spec.variants]
    combos = itertools.product(*(values for _, values in spec.variants))
    variants = [tuple(zip(groups, combo, strict=True)) for combo in combos]
    return [Build(b, v) for b in spec.benchmarks for v in variants]


def cells(spec: SweepSpec) -> list[Cell]:
    """Every cell of the matrix that no `exclude` rule matches, in matrix order."""
    found = []
    for build in builds(spec):
        for scenario in spec.scenarios:
            for target in spec.targets:
                for repeat in range(1, spec.repeats + 1):
                    cell = Cell(build, scenario, target, repeat)
                    if not any(_matches(rule, cell) for rule in spec.exclude):
                        found.append(cell)
    return found


def _matches(rule: Pairs, cell: Cell) -> bool:
    values = cell.values()
    return all(values.get(key) == value for key, value in rule)


def unknown_exclude_keys(spec: SweepSpec) -> list[str]:
    """Exclusion keys that name nothing in the matrix: a typo would silently exclude nothing."""
    known = {"benchmark", "scenario", "target", *(g for g, _ in spec.variants)}
    return sorted({key for rule in spec.exclude for key, _ in rule} - known)
