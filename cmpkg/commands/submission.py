"""`cmpkg submission init | run | generate | check | reproduce` (docs/submission.md).

One workflow per verb, typed inputs and results; the CLI only parses and renders. The
rules come from the round's data (`cmpkg.submission.rules`), the runs are the harness's
own (`cmpkg.submission.runner`), and the tree is computed, then written atomically
(`cmpkg.submission.tree`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.lock.model import Lock, LockedTarget
from cmpkg.project import Project
from cmpkg.submission import cells, runner
from cmpkg.submission.check import Failure
from cmpkg.submission.manifest import Submission
from cmpkg.submission.official import Verdict
from cmpkg.submission.rules import Rules

FACTS = "system-facts.json"
Say = Callable[[str], None]


def _project(start: Path) -> tuple[Submission, Rules]:
    from cmpkg import project
    from cmpkg.submission import manifest, rules

    path = project.require(start).path
    found = manifest.load(path)
    if found is None:
        raise UsageError(
            "no-submission",
            f"{path} has no [submission] table",
            hint="write one with `cmpkg submission init`",
        )
    return found, rules.load(found.round)


# --- init --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitResult:
    path: Path
    benchmarks: tuple[str, ...]
    added_requests: tuple[str, ...]
    placeholders: int


def init(start: Path, picks: Sequence[tuple[str, str]] = (), submitter: str = "") -> InitResult:
    """Append the commented `[submission]` template to the project's cmpkg.toml, adding
    each benchmark's app to the project's requests. `picks`: (benchmark, app) to use
    instead of the index's apps for the round's benchmarks."""
    from cmpkg import project
    from cmpkg.submission import manifest, rules, system, template

    proj = project.require(start)
    if manifest.load(proj.path) is not None:
        raise UsageError(
            "submission-exists",
            f"{proj.path} already has a [submission] table",
            hint="edit it, or remove it to write the template again",
        )
    round_rules = rules.load("v6.0")
    chosen = list(picks) or _index_apps(proj, round_rules)
    if not chosen:
        raise UsageError("no-benchmark-apps", "the index has no app for this round's benchmarks")
    benchmarks = []
    for name, app in chosen:
        scenarios = round_rules.required_scenarios(name, "edge")
        if scenarios is None:
            raise UsageError(
                "not-an-edge-benchmark", f"{name} is not an edge benchmark in {round_rules.round}"
            )
        benchmarks.append((name, app, scenarios, template.level_args(name, _levels(proj, app))))
    added = tuple(a for _, a in chosen if a not in proj.requests)
    added += _loadgen_request(proj, round_rules)
    if added:
        project.save(proj.replace(requests=(*proj.requests, *added)))
    target = next((t for t in proj.targets if t != "host"), None)
    probed = system.read_host(proj.root)
    name = f"{probed.get('host_processor_core_count', 'n')}-core-{target or 'host'}"
    text = template.render(
        submitter or f"{manifest.PLACEHOLDER}-submitter", name, target, benchmarks, probed
    )
    atomic.write_text(proj.path, proj.path.read_text() + text)
    return InitResult(proj.path, tuple(n for n, _ in chosen), added, text.count("PLACEHOLDER"))


def _loadgen_request(proj: Project, round_rules: Rules) -> tuple[str, ...]:
    """The request for the round's LoadGen (its built-in mlperf.conf holds the round's
    seeds, which no conf file can change), when the index has that release and the
    project does not request LoadGen already."""
    from cmpkg.project import project_index

    pin = round_rules["loadgen"]
    name, version = pin["package"], pin["version"]
    if any(r.split()[0] == name for r in proj.requests):
        return ()
    have = {str(r.version) for r in project_index(proj).get(name)}
    return (f"{name} =={version}",) if version in have else ()


def _levels(proj: Project, app: str) -> tuple[str, ...]:
    """The accuracy levels the app's newest recipe offers (its `level` variant group)."""
    from cmpkg.project import project_index

    recipes = project_index(proj).get(app)
    group = recipes[0].group("level") if recipes else None
    return group.names if group else ()


def _index_apps(proj: Project, round_rules: Rules) -> list[tuple[str, str]]:
    """(benchmark, app) for each index app tagged with a benchmark's model family."""
    from cmpkg.project import project_index

    index = project_index(proj)
    apps = [r for r in index.all() if r.kind == "app" and "mlperf-inference" in r.tags]
    out: list[tuple[str, str]] = []
    for bench in round_rules.benchmarks():
        family = bench.split("-")[0]
        for app in sorted({a.name for a in apps if family in a.tags}):
            if all(a != app for _, a in out):
                out.append((bench, app))
    return out


# --- run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInput:
    start: Path
    home: Path
    profile: str = "smoke"
    benchmark: str | None = None
    scenario: str | None = None
    install_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    runs: Path
    done_before: int
    results: tuple[runner.PartResult, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> list[runner.PartResult]:
        return [r for r in self.results if r.code != 0]


def plan_run(given: RunInput) -> tuple[Submission, Rules, list[cells.Part], list[cells.Part]]:
    sub, rules = _project(given.start)
    if given.benchmark and sub.benchmark(given.benchmark) is None:
        raise UsageError("unknown-benchmark", f"{given.benchmark} is not in [submission]")
    chosen = cells.select(cells.parts(sub, rules), given.benchmark, given.scenario)
    runs = cells.runs_dir(sub, given.profile)
    return sub, rules, chosen, [p for p in chosen if not cells.is_done(p, runs)]


def run(given: RunInput, say: Say) -> RunResult:
    """Run every part not yet done; say the plan, the estimate and each part's verdict."""
    from cmpkg.submission import system

    sub, rules, chosen, todo = plan_run(given)
    runs = cells.runs_dir(sub, given.profile)
    lock = _lock(sub)
    label = " (SMOKE RUN: short settings, not a submission)" if given.profile == "smoke" else ""
    seconds = cells.estimate_seconds(todo, given.profile, runner.measured(runs))
    say(f"{len(todo)} of {len(chosen)} runs to do{label}; estimate: about {_minutes(seconds)}")
    if not todo:
        return RunResult(runs, len(chosen))
    runs.mkdir(parents=True, exist_ok=True)
    facts = system.read_host(sub.root)
    atomic.write_text(runs / FACTS, json.dumps(facts, indent=1, sort_keys=True) + "\n")
    runner.install(sub.root, lock, sub.target, given.install_args)
    commands, environ = _app_commands(sub, given.home)
    results = []
    for number, part in enumerate(todo, 1):
        say(f"[{number}/{len(todo)}] {part.label}{label} ...")
        where = part.directory(runs)
        bench = sub.benchmark(part.benchmark)
        assert bench is not None
        argv = [*commands[part.benchmark], *part.app_args(), "--profile", given.profile]
        argv += [*runner.reference_args(part, runs), *bench.args, "--results-dir", str(where)]
        result = runner.run_part(part, argv, runner.app_environment(environ, where), runs, rules)
        say(f"[{number}/{len(todo)}] {part.label}: {result.verdict} in {result.seconds:.1f} s")
        results.append(result)
    return RunResult(runs, len(chosen) - len(todo), tuple(results))


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _lock(sub: Submission) -> Path:
    from cmpkg.project import LOCKFILE

    path = sub.root / LOCKFILE
    if not path.is_file():
        raise UsageError("no-lock", f"{path} is missing", hint="run `cmpkg lock` first")
    return path


def _app_commands(sub: Submission, home: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each benchmark's app command in the submission's environment, and that environment."""
    from cmpkg import project

    index = project.project_index(project.load(sub.path))
    apps = {b.name: b.app for b in sub.benchmarks}
    return app_commands(home, runner.ENV_NAME, _lock(sub), index, apps)


def app_commands(
    home: Path, env: str, lock: Path, index: object, apps: dict[str, str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The run command of each app (benchmark -> app) in environment `env`, checked entry by
    entry (`cmpkg run`'s preflight) before anything runs, and the environment's variables."""
    import contextlib
    import os

    from cmpkg import envs, envvars
    from cmpkg.commands.run import preflight
    from cmpkg.index import Index
    from cmpkg.lock.parse import read_lock
    from cmpkg.store.store import Store

    assert isinstance(index, Index)
    record = envs.load(home, env)
    with contextlib.ExitStack() as held:
        store = Store(home)
        for key in record.runtime_keys():
            held.enter_context(store.hold(key))
        preflight(home, record)
    locked = read_lock(lock).targets[record.target].packages
    commands = {}
    for bench, app in apps.items():
        if app not in locked or app not in record.packages:
            raise CmpkgError(
                "app-not-locked",
                f"{app} ({bench}) is not in {lock}",
                hint="add it to [project] requests and run `cmpkg lock`",
            )
        recipe = next(r for r in index.get(app) if str(r.version) == locked[app].version)
        values = {"entry": record.packages[app]["path"], "version": str(recipe.version)}
        commands[bench] = [envvars.substitute(a, values, str(recipe.path)) for a in recipe.run]
    return commands, envs.run_environment(record, os.environ)


# --- generate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateResult:
    path: Path
    files: int
    lock_sha256: str


def generate(start: Path, destination: Path, profile: str = "smoke") -> GenerateResult:
    from cmpkg.submission import tree

    sub, rules = _project(start)
    runs = cells.runs_dir(sub, profile)
    chosen = cells.parts(sub, rules)
    missing = [p.label for p in chosen if not cells.is_done(p, runs)]
    if missing:
        raise CmpkgError(
            "submission-incomplete",
            f"{len(missing)} run(s) of the {profile} profile are not done: {missing[0]}",
            hint=f"run them: `cmpkg submission run --profile {profile}`",
        )
    lock = _lock(sub)
    given = tree.Inputs(sub, rules, runs, profile, lock, _description(sub, runs, lock))
    content = tree.files(given, chosen)
    tree.write(destination, content)
    return GenerateResult(destination, len(content), hashlib.sha256(lock.read_bytes()).hexdigest())


def _description(sub: Submission, runs: Path, lock: Path) -> dict[str, str]:
    from cmpkg import __version__
    from cmpkg.lock.parse import read_lock
    from cmpkg.submission import system

    facts = json.loads((runs / FACTS).read_text()) if (runs / FACTS).is_file() else {}
    record_target = _target_of(read_lock(lock), sub.target)
    packages = {n: p.version for n, p in record_target.packages.items() if not n.startswith("__")}
    head = {
        "division": sub.division,
        "submitter": sub.submitter,
        "system_name": sub.system,
        "system_type": sub.category,
    }
    stack = system.software(packages)
    stack["other_software_stack"] = f"cmpkg {__version__}; " + stack["other_software_stack"]
    return system.describe(facts, stack, head, dict(sub.system_fields))


def _target_of(lock: Lock, name: str | None) -> LockedTarget:
    if name and name in lock.targets:
        return lock.targets[name]
    if len(lock.targets) == 1 or not name:
        return next(iter(lock.targets.values()))
    raise UsageError("unknown-target", f"the lock has no target {name!r}")


# --- check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    directory: Path
    failures: tuple[Failure, ...]
    official: Verdict | None = None

    @property
    def errors(self) -> list[Failure]:
        return [f for f in self.failures if not f.warning]


def check(
    directory: Path, round_name: str = "v6.0", official: tuple[Path, str] | None = None
) -> CheckResult:
    """cmpkg's checks; with `official` (home, environment) also MLCommons' checker."""
    from cmpkg.submission import check as checks
    from cmpkg.submission import official as official_checker
    from cmpkg.submission import rules

    if not directory.is_dir():
        raise UsageError("no-such-dir", f"{directory} is not a directory")
    failures = tuple(checks.check(directory, rules.load(round_name)))
    verdict = official_checker.run(*official, directory, round_name) if official else None
    return CheckResult(directory, failures, verdict)


# --- reproduce ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReproduceResult:
    benchmark: str
    scenario: str
    submitted: float | None
    reproduced: float | None
    metric: str | None
    run_dir: Path

    @property
    def matches(self) -> bool:
        return self.submitted is not None and self.submitted == self.reproduced


def reproduce(
    directory: Path, benchmark: str, scenario: str, home: Path, extra_index: Sequence[Path] = ()
) -> ReproduceResult:
    """Install the tree's lock (`--frozen`), rerun the cell's accuracy run, compare exactly."""
    import subprocess
    import sys
    import tempfile

    from cmpkg.index import load_active_index
    from cmpkg.submission import tree

    src = _code_dir(directory, benchmark)
    info = json.loads((src / tree.INFO).read_text())
    submitted = (info["cells"].get(scenario) or {}).get("accuracy") or {}
    if not submitted:
        raise UsageError("unknown-cell", f"{src / tree.INFO} has no {benchmark} {scenario}")
    lock = src / "cmpkg.lock"
    env = "submission-reproduce"
    argv = [sys.executable, "-m", "cmpkg", "install", "--frozen", "--lock", str(lock)]
    argv += ["--env", env, *(("--target", info["target"]) if info.get("target") else ())]
    argv += [a for d in extra_index for a in ("--index", str(d))]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CmpkgError(
            "reproduce-install-failed",
            f"installing {lock} failed (exit {done.returncode})",
            details=(done.stderr or done.stdout).strip().splitlines()[-3:],
        )
    index = load_active_index(list(extra_index))
    commands, environ = app_commands(home, env, lock, index, {benchmark: info["app"]})
    where = Path(tempfile.mkdtemp(prefix=f"reproduce-{benchmark}-{scenario}-"))
    part = cells.Part(benchmark, scenario, "accuracy")
    argv = [*commands[benchmark], *part.app_args(), "--profile", info["profile"], *info["args"]]
    with (where / "run.log").open("wb") as log:
        code = subprocess.call(
            [*argv, "--results-dir", str(where)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=runner.app_environment(environ, where),
        )
    result = json.loads((where / "result.json").read_text()) if code == 0 else {}
    value = (result.get("accuracy") or {}).get("value")
    return ReproduceResult(
        benchmark, scenario, submitted["value"], value, submitted["metric"], where
    )


def _code_dir(directory: Path, benchmark: str) -> Path:
    found = sorted(directory.glob(f"*/*/src/{benchmark}"))
    if not found:
        raise UsageError("unknown-benchmark", f"{directory} has no src/{benchmark}")
    return found[0]
