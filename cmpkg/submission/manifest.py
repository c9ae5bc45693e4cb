"""The `[submission]` table of `cmpkg.toml` (a `Submission`), and the template `init` writes.

    [submission]
    round = "v6.0"
    submitter = "ExampleOrg"
    division = "closed"
    category = "edge"
    system = "cpu-2c-onnxruntime"
    target = "cpu"                      # the lock target the runs install

    [submission.benchmarks.resnet50]
    app = "mlperf-resnet50"
    scenarios = ["SingleStream", "MultiStream", "Offline"]

    [submission.description]                 # the system-description fields no probe can know
    status = "available"
    cooling = "air"

Every problem is reported at once as `file: key: message` (exit 2). Placeholders in the
template carry `PLACEHOLDER` in their comment and `(placeholder)` in their value, so that
the file is valid as written and `submission check` can warn about each one left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import InputError
from cmpkg.index.fields import Fields, Problems
from cmpkg.index.load import read_toml

TABLE = "submission"
PLACEHOLDER = "(placeholder)"
DIVISIONS = ("closed", "open")
CATEGORIES = ("edge", "datacenter", "datacenter,edge")
SCENARIOS = ("SingleStream", "MultiStream", "Offline", "Server")
_HINT = "fix cmpkg.toml; the [submission] table's keys are in docs/submission.md"


@dataclass(frozen=True)
class Benchmark:
    name: str  # the benchmark's directory name in the tree (`resnet50`, `bert-99`)
    app: str  # the index app that runs it
    scenarios: tuple[str, ...]
    args: tuple[str, ...] = ()  # extra app flags (recorded in result.json as overrides)
    measurements: tuple[tuple[str, str], ...] = ()  # measurements.json fields given by hand


@dataclass(frozen=True)
class Submission:
    path: Path  # the cmpkg.toml it came from
    round: str
    submitter: str
    division: str
    category: str
    system: str
    target: str | None
    benchmarks: tuple[Benchmark, ...]
    system_fields: tuple[tuple[str, str], ...]

    @property
    def root(self) -> Path:
        return self.path.parent

    def benchmark(self, name: str) -> Benchmark | None:
        return next((b for b in self.benchmarks if b.name == name), None)

    def placeholders(self) -> list[str]:
        """The manifest keys still holding a template placeholder."""
        found = [f"submission.description.{k}" for k, v in self.system_fields if PLACEHOLDER in v]
        if PLACEHOLDER in self.submitter:
            found.insert(0, "submission.submitter")
        return found


def load(path: Path) -> Submission | None:
    """The `[submission]` of `path`, or None when the file has none."""
    problems = Problems(path)
    raw = read_toml(path, problems)
    if raw is None:
        raise InputError(problems.lines, hint=_HINT)
    if TABLE not in raw:
        return None
    found = parse(path, Fields(raw, "", problems).sub(TABLE), problems)
    if problems.lines or found is None:
        raise InputError(problems.lines, hint=_HINT)
    return found


def parse(path: Path, table: Fields | None, problems: Problems) -> Submission | None:
    if table is None:
        return None
    submission = Submission(
        path=path,
        round=table.str("round", "v6.0"),
        submitter=_name(table, "submitter"),
        division=_choice(table, "division", DIVISIONS, "closed"),
        category=_choice(table, "category", CATEGORIES, "edge"),
        system=_name(table, "system"),
        target=table.optional_str("target"),
        benchmarks=_benchmarks(table),
        system_fields=_system_fields(table),
    )
    table.finish()
    return submission


def _name(table: Fields, key: str) -> str:
    """A name that becomes a directory of the tree: no separators, not empty."""
    value = table.str(key, required=True)
    if value and ("/" in value or "\\" in value or value in (".", "..")):
        table.error(key, f"{value!r} cannot be a directory name")
    return value


def _choice(table: Fields, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = table.str(key, default)
    if value not in allowed:
        table.error(key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _benchmarks(table: Fields) -> tuple[Benchmark, ...]:
    sub = table.sub("benchmarks", required=True)
    if sub is None:
        return ()
    out = []
    for name in sorted(sub.table):
        one = sub.sub(name)
        if one is None:
            continue
        scenarios = one.str_list("scenarios", required=True)
        for scenario in scenarios:
            if scenario not in SCENARIOS:
                one.error("scenarios", f"{scenario!r} is not one of {', '.join(SCENARIOS)}")
        app = one.str("app", required=True)
        out.append(Benchmark(name, app, scenarios, one.str_list("args"), _strings(one)))
        one.finish()
    sub.finish()
    if not out:
        table.error("benchmarks", "names no benchmark")
    return tuple(out)


def _strings(one: Fields) -> tuple[tuple[str, str], ...]:
    return one.string_table("measurements")


def _system_fields(table: Fields) -> tuple[tuple[str, str], ...]:
    sub = table.sub("description")
    if sub is None:
        return ()
    pairs = []
    for key, value in sub.table.items():
        if isinstance(value, bool | dict | list):
            sub.error(key, "expected a string or a number")
            continue
        pairs.append((key, str(value)))
    return tuple(sorted(pairs))
