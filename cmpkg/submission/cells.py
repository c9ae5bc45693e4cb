"""The runs of a submission: one cell per benchmark x scenario, one part per LoadGen run.

    <project>/results/submission/<profile>/<benchmark>/<scenario>/<part>/
        result.json, user.conf, accuracy/ | performance/run_1/ | TEST0x/...   (the harness)
        done.json                                                         (written last)

A part is `accuracy`, `performance` or a compliance test the round requires for the
benchmark (`TEST01`, `TEST04`). `done.json` is written atomically after the part and its
verification succeeded, so a finished part is never rerun and an interrupted one (no
`done.json`) is started again from an empty directory. Pure but for `is_done`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmpkg.submission.manifest import Submission
from cmpkg.submission.rules import Rules

RUNS_DIR = Path("results", "submission")
DONE = "done.json"
BASE_PARTS = ("accuracy", "performance")


@dataclass(frozen=True)
class Part:
    benchmark: str
    scenario: str
    name: str  # accuracy | performance | TEST01 | TEST04 ...

    def directory(self, runs: Path) -> Path:
        return runs / self.benchmark / self.scenario / self.name

    def app_args(self) -> tuple[str, ...]:
        """The harness flags of this part (the profile is added by the runner)."""
        if self.name in BASE_PARTS:
            return ("--scenario", self.scenario, "--mode", self.name)
        return ("--scenario", self.scenario, "--compliance", self.name)

    @property
    def label(self) -> str:
        return f"{self.benchmark} {self.scenario} {self.name}"


def runs_dir(submission: Submission, profile: str) -> Path:
    return submission.root / RUNS_DIR / profile


def parts(submission: Submission, rules: Rules) -> list[Part]:
    """Every part, in run order: per cell the accuracy and performance runs first (the
    compliance verifications compare against them), then the compliance tests."""
    out = []
    for bench in submission.benchmarks:
        tests = rules.compliance_tests(bench.name) if submission.division == "closed" else ()
        for scenario in bench.scenarios:
            out += [Part(bench.name, scenario, p) for p in (*BASE_PARTS, *tests)]
    return out


def select(all_parts: list[Part], benchmark: str | None, scenario: str | None) -> list[Part]:
    return [
        p
        for p in all_parts
        if (benchmark is None or p.benchmark == benchmark)
        and (scenario is None or p.scenario == scenario)
    ]


def is_done(part: Part, runs: Path) -> bool:
    return (part.directory(runs) / DONE).is_file()


#: Rough seconds per part when no earlier part measured one (a smoke run on a 2-core
#: machine; a full performance run lasts at least the round's 600 s).
SMOKE_GUESS_S = 30.0
FULL_PERFORMANCE_S = 660.0


def estimate_seconds(todo: list[Part], profile: str, measured: dict[str, float]) -> float:
    """The total time of `todo`: each part's kind as measured before here, else the guess."""
    total = 0.0
    for part in todo:
        known = measured.get(part.name)
        if known is not None:
            total += known
        elif profile == "full" and part.name != "accuracy":
            total += FULL_PERFORMANCE_S
        else:
            total += SMOKE_GUESS_S
    return total
