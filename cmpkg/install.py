"""Carrying out a `Plan`: every step becomes a complete store entry, in dependency order.

`execute(plan, store, policy, reporter)`: the plan says everything each step needs (the
wheels with their hashes, tool and user paths, source URLs); the policy is only how to go
about it (offline, parallel jobs) and the reporter where progress goes.

Owns what each provide method does inside a store build directory (detect, download, python,
generate, user-path, meta) and the composition of the exported envvars. The store
(`cmpkg.store`) owns atomicity and locking, `cmpkg.fetch` the downloads and `cmpkg.archive`
safe extraction; this module only sequences them. A failed step raises a `CmpkgError` naming
the package and the step with the last lines of its output; no partial entry stays visible.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import envvars, process, pyenv
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.index.model import Recipe
from cmpkg.lock.model import LockedWheel
from cmpkg.paths import safe_join
from cmpkg.plan import PYENV, Download, Plan, PythonEnv, Step
from cmpkg.process import run_or_raise
from cmpkg.store.store import Build, Entry, Store
from cmpkg.wheels import WheelSource

if TYPE_CHECKING:
    from cmpkg.cache.substitute import Substituter

#: Steps whose entries describe this machine (a tool found here, a user's path): always made
#: here, never substituted from a cache.
LOCAL_ONLY = frozenset({"detect", "user-path"})


@dataclass(frozen=True)
class Policy:
    """How to carry out a plan, never what it contains."""

    offline: bool = False
    jobs: int = 4  # parallel downloads, and parallel builds of independent packages
    substituter: Substituter | None = None  # binary caches asked before building (docs/cache.md)


@dataclass(frozen=True)
class Reporter:
    report: Callable[[str], None] = lambda _text: None
    json_output: bool = False  # no progress bar (nor any other drawing) under --json


@dataclass
class Installed:
    entries: dict[str, Entry]
    variables: dict[str, str]  # composed exports of every package, for the named environment
    exports: dict[str, dict[str, str]]  # per package, for its dependents' steps
    #: Tool environments not made (yet): one is made only when a generate step that runs in
    #: it is really built, not when every such step's product was reused or substituted.
    skipped: set[str] = field(default_factory=set)


def execute(
    plan: Plan, store: Store, policy: Policy = Policy(), reporter: Reporter = Reporter()
) -> Installed:
    if policy.substituter is None:  # with caches, a download step fetches only on a miss
        _prefetch(plan, store, policy, reporter)
    state = Installed({}, {}, {}, _deferred(plan, policy))
    keys = plan.keys()  # every step's store key, taken once
    on_demand = {name: threading.Lock() for name in state.skipped}

    def need(name: str) -> None:
        """Make a deferred tool environment now: a step that runs in it is being built."""
        with on_demand[name]:
            if name in state.skipped:
                step = plan.step(name)
                entry = provide(step)
                state.entries[name] = entry
                _export(step, entry, state)
                state.skipped.discard(name)

    if policy.substituter is not None:
        _substitute_ahead(plan, keys, state, policy, store, reporter)
    provide = functools.partial(
        _provide,
        keys=keys,
        state=state,
        policy=policy,
        reporter=reporter,
        store=store,
        need=need,
    )
    for planned in plan.waves():
        # A wave's steps need only earlier waves: independent builds run side by side.
        wave = tuple(s for s in planned if s.name not in state.skipped)
        todo = sum(1 for s in wave if not s.cached)
        if todo > 1:
            with ThreadPoolExecutor(max_workers=policy.jobs, thread_name_prefix="build") as pool:
                try:
                    entries = list(pool.map(provide, wave))
                except KeyboardInterrupt:  # the pool waits for its workers, they for children
                    with process.stopping():
                        pool.shutdown(wait=True, cancel_futures=True)
                    raise
        else:
            entries = [provide(step) for step in wave]
        for step, entry in zip(wave, entries, strict=True):  # plan order: deterministic exports
            state.entries[step.name] = entry
            _export(step, entry, state)
    return state


def _substitute_ahead(
    plan: Plan,
    keys: Mapping[str, str],
    state: Installed,
    policy: Policy,
    store: Store,
    reporter: Reporter,
) -> None:
    """Every entry the plan makes, asked of the caches at once (`Substituter.ahead`): a
    substituted entry needs none of its dependencies, so only building keeps wave order.
    The waves then find the hits in the store; deferred tool environments are left out."""
    from cmpkg.cache.substitute import Wanted

    assert policy.substituter is not None

    def wanted(step: Step) -> Wanted:
        meta = _Builder(step, state, policy, store, keys, lambda _name: None).meta()
        return Wanted(step.key, _label(step), meta)

    chosen = [s for s in plan.todo if s.method not in LOCAL_ONLY and s.name not in state.skipped]
    policy.substituter.ahead([wanted(s) for s in chosen], reporter.report, policy.jobs)


def _deferred(plan: Plan, policy: Policy) -> set[str]:
    """The tool environments to make only on demand. A generate step's product is an entry
    of its own; the environment it ran in is a build input that nothing installed reads
    (`Plan.runtime_keys`), so it is made only if one of its steps is really built (Nix
    substitutes outputs, not build inputs): with a binary cache, which may hold every
    product, any missing one; without, those whose steps are all done already."""
    runtime = set(plan.runtime_keys())
    users: dict[str, list[Step]] = {}
    for step in plan.steps:
        if step.runs_in:
            users.setdefault(step.runs_in, []).append(step)
    steps = {s.name: s for s in plan.steps}
    return {
        name
        for name, using in users.items()
        if not steps[name].cached
        and steps[name].key not in runtime
        and (policy.substituter is not None or all(s.cached for s in using))
    }


def _provide(
    step: Step,
    *,
    keys: Mapping[str, str],
    state: Installed,
    policy: Policy,
    reporter: Reporter,
    store: Store,
    need: Callable[[str], None],
) -> Entry:
    """One step's store entry: reused (after checking it is unmodified), substituted from a
    cache, or built."""
    builder = _Builder(step, state, policy, store, keys, need)
    build: Build = builder.build
    if step.cached:  # reused entries are summed up by the caller, not listed
        pass
    elif policy.substituter is not None and step.method not in LOCAL_ONLY:
        build = policy.substituter.wrap(step.key, _label(step), build, reporter.report)
    else:
        reporter.report("build " + _label(step))
    entry = store.ensure(step.key, build, builder.meta())
    if step.cached:  # never silently reuse an edited entry (RELIABILITY A.4, docs/store.md)
        store.require_intact(entry)
    return entry


def artifacts(step: Step) -> list[Any]:
    """The verified downloads one `download` step needs, mirrors first (as planned)."""
    from cmpkg import fetch

    assert step.pin is not None
    return [
        fetch.Artifact(
            name=f"{step.pin.name} ({d.filename})",
            urls=d.urls,
            filename=d.filename,
            sha256=d.sha256,
            size=d.size,
            md5=d.md5,
        )
        for d in step.downloads
    ]


def _prefetch(plan: Plan, store: Store, policy: Policy, reporter: Reporter) -> None:
    """Download every missing artifact in parallel before building: a build then finds its
    files verified in the download cache. Failures are all reported together."""
    wanted = [a for s in plan.todo if s.method == "download" for a in artifacts(s)]
    if wanted:
        from cmpkg import fetch  # requests is slow to import: a no-op install never needs it

        _check_hub_access(plan, store, policy)
        reporter.report(f"fetch {len(wanted)} artifacts")
        progress = fetch.default_progress(json_output=reporter.json_output)
        fetch.fetch_many(
            wanted,
            store.downloads_dir,
            jobs=policy.jobs,
            offline=policy.offline,
            progress=progress,
        )


def _check_hub_access(plan: Plan, store: Store, policy: Policy) -> None:
    """Gated Hugging Face repositories fail here, before anything is fetched or built, when
    their files must come from the hub and the token is missing or refused."""
    from cmpkg import fetch
    from cmpkg.fetch import huggingface

    needed = [
        huggingface.Needed(step.name, d.hub, d.urls[-1])
        for step in plan.todo
        if step.method == "download"
        for d, a in zip(step.downloads, artifacts(step), strict=True)
        if d.hub is not None
        and all(huggingface.is_hub_url(u) for u in d.urls)  # no mirror copy to take instead
        and not (a.sha256 and fetch.destination(a, store.downloads_dir).is_file())
    ]
    if needed:
        session = fetch.new_session()
        try:
            huggingface.preflight(needed, offline=policy.offline, session=session)
        finally:
            session.close()


def _label(step: Step) -> str:
    if step.pin is not None:
        return step.pin.label
    return "python environment" + (f" for {step.name.split(':', 1)[1]}" if ":" in step.name else "")


def _export(step: Step, entry: Entry, state: Installed) -> None:
    if step.pin is None:
        exported = {
            "+PATH": str(entry.path / pyenv.VENV / "bin"),
            "VIRTUAL_ENV": str(entry.path / pyenv.VENV),
        }
    else:
        recipe = step.pin.recipe
        where = _entry_dir(step, entry)
        inherited = _inherited(step, state)
        values = envvars.substitutions(recipe, where, step.pin.version, step.pin.variant, inherited)
        exported = envvars.exports(recipe, values, where, step.pin.variant)
    state.exports[step.name] = exported  # what the steps that need this one see
    if step.pin is not None or step.name == PYENV:  # a tool environment is its step's alone
        state.variables = envvars.merge(state.variables, exported)


def _entry_dir(step: Step, entry: Entry) -> str:
    """Where a package's files are: its entry, or the user's own path for `user-path`."""
    if step.method == "user-path":
        return str(entry.build_result.get("path", ""))
    return str(entry.path)


def _inherited(step: Step, state: Installed) -> dict[str, str]:
    """The variables exported by a step's dependencies (and the Python environment)."""
    merged: dict[str, str] = {}
    for name in step.needs:
        merged = envvars.combine(merged, state.exports.get(name, {}))
    return merged


@dataclass
class _Builder:
    step: Step
    state: Installed
    policy: Policy
    store: Store
    keys: Mapping[str, str]  # every step's store key (the plan's)
    need: Callable[[str], None]  # makes a deferred step (a tool environment) now

    def meta(self) -> dict[str, Any]:
        if self.step.pin is None:
            env = self.step.env
            return {
                "package": self.step.name,
                "requirements": list(env.requirements if env else ()),
            }
        pin = self.step.pin
        return {
            "package": pin.name,
            "version": pin.version,
            "variant": dict(pin.variant),
            "kind": pin.recipe.kind,
            "method": self.step.method,
            "recipe": str(pin.recipe.path),
            "recipe-digest": pin.recipe.digest,
            "depends": {n: self.keys[n] for n in self.step.needs if n in self.keys},
        }

    def build(self, tmp: Path) -> Mapping[str, Any]:
        for name in self.step.needs:  # a tool environment left for a cache hit that missed
            if name in self.state.skipped:
                self.need(name)
        methods: dict[str, Callable[[Path], Mapping[str, Any]]] = {
            "venv": self._venv,
            "detect": self._detect,
            "download": self._download,
            "python": self._python,
            "generate": self._generate,
            "user-path": self._user_path,
            "meta": lambda _tmp: {},
        }
        result = methods[self.step.method](tmp)
        if self.step.pin is not None:
            _copy_files(self.step.pin.recipe, tmp)
        return result

    def _venv(self, tmp: Path) -> Mapping[str, Any]:
        env = self.step.env
        assert env is not None
        if not env.interpreter:
            raise CmpkgError("no-python", "no Python interpreter was found for the environment")
        pyenv.create(tmp, env.interpreter, system_site=env.system_site)
        done: dict[str, Any] = {"installed": []}
        if env.requirements:
            wheels = env.wheels or _resolve_wheels(env, self.store.home)
            done = pyenv.install(tmp, wheels, _wheel_source(env), self.store.home)
        pyenv.relocate(tmp, self.store.entry_path(self.step.key))
        return {"python": env.interpreter, **done}

    def _detect(self, tmp: Path) -> Mapping[str, Any]:
        tool = self.step.found
        assert tool is not None, f"{self.step.name} was planned without what was detected"
        return {"version": tool.version, "found": tool.source}

    def _python(self, tmp: Path) -> Mapping[str, Any]:
        # A name in the environment, not files: the environment is its own entry.
        return {}

    def _download(self, tmp: Path) -> Mapping[str, Any]:
        from cmpkg import archive, fetch

        assert self.step.pin is not None
        fetched = []
        for source, artifact in zip(self.step.downloads, artifacts(self.step), strict=True):
            got = fetch.fetch(artifact, self.store.downloads_dir, offline=self.policy.offline)
            if source.extract:
                archive.extract(got.path, tmp)
            else:
                where = f"{self.step.pin.label}: sources.filename"
                target = safe_join(tmp, source.target, where)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(got.path, target)
            fetched.append(
                {"file": source.filename, "url": got.url, "sha256": got.sha256, "size": got.size}
            )
        return {"sources": fetched}

    def _generate(self, tmp: Path) -> Mapping[str, Any]:
        pin = self.step.pin
        assert pin is not None and pin.recipe.provide is not None and pin.recipe.provide.script
        inherited = _inherited(self.step, self.state)
        values = envvars.substitutions(pin.recipe, str(tmp), pin.version, pin.variant, inherited)
        args = [
            envvars.substitute(a, values, str(pin.recipe.path)) for a in pin.recipe.provide.args
        ]
        python = self._python_for_steps()
        script = safe_join(
            pin.recipe.path.parent, pin.recipe.provide.script, f"{pin.label}: script"
        )
        with tempfile.TemporaryDirectory() as scratch:
            env = envvars.step_environment(inherited, Path(scratch))
            _run_step(pin.label, [python, str(script), *args], env, tmp, Path(scratch))
        return {"script": pin.recipe.provide.script, "args": args}

    def _python_for_steps(self) -> str:
        """The step's own tool environment's Python, else the bare interpreter."""
        if self.step.runs_in is None:
            return self.step.interpreter
        return str(pyenv.venv_python(self.state.entries[self.step.runs_in].path))

    def _user_path(self, tmp: Path) -> Mapping[str, Any]:
        pin = self.step.pin
        assert pin is not None and pin.recipe.provide is not None
        given = self.step.user_path
        if not given:
            raise UsageError(
                "path-required",
                f"{pin.name} is provided from a path you supply",
                hint=f"add --with {pin.name}.path=DIR "
                f"(it must contain {', '.join(pin.recipe.provide.must_contain)})",
            )
        path = Path(given).expanduser().resolve()
        missing = [m for m in pin.recipe.provide.must_contain if not (path / m).exists()]
        if missing:
            raise UsageError(
                "bad-user-path",
                f"{path} lacks {', '.join(missing)} (needed by {pin.name})",
                hint=f"point --with {pin.name}.path at the directory that holds them",
            )
        return {"path": str(path), "checked": _check_copy(pin.name, path, self.step.downloads)}


def _check_copy(package: str, path: Path, files: tuple[Download, ...]) -> list[dict[str, Any]]:
    """A user's copy of a download recipe's files (an existing checkpoint directory): every
    file present, with the recorded size and sha256 where the recipe has them."""
    from cmpkg.fetch.model import hash_stream

    checked, wrong = [], []
    for d in files:
        file = safe_join(path, d.target, f"{package}: --with {package}.path")
        if not file.is_file():
            wrong.append(f"{d.target}: missing")
            continue
        with file.open("rb") as fh:
            sha, _md5, size = hash_stream(fh, md5=False)
        if d.size is not None and size != d.size:
            wrong.append(f"{d.target}: {size} bytes, the recipe records {d.size}")
        elif d.sha256 is not None and sha != d.sha256:
            wrong.append(f"{d.target}: sha256 {sha}, the recipe records {d.sha256}")
        checked.append({"file": d.target, "sha256": sha, "size": size, "verified": bool(d.sha256)})
    if wrong:
        raise UsageError(
            "bad-user-path",
            f"{path} is not the copy of {package} its recipe describes",
            hint=f"point --with {package}.path at an unmodified copy, or drop --with to "
            "download it",
            details=wrong,
        )
    return checked


def _resolve_wheels(env: PythonEnv, home: Path) -> tuple[LockedWheel, ...]:
    """Without a lock, the exact wheels for this interpreter, resolved first (uv, memoised):
    the install is then as hash-checked as one from a lock, and its record as complete."""
    from cmpkg.wheels import host_platform, resolve_wheels

    version = env.python or ".".join(map(str, sys.version_info[:2]))
    platform = host_platform(env.interpreter, version)
    return resolve_wheels(env.requirements, (), platform, _wheel_source(env), home)


def _wheel_source(env: PythonEnv) -> WheelSource:
    return WheelSource(env.find_links, env.index_urls, env.no_index)


def _copy_files(recipe: Recipe, tmp: Path) -> None:
    """Files a recipe ships beside it (an app's harness) go into its entry."""
    for rel in recipe.files:
        where = f"{recipe.path}: files"
        source, target = safe_join(recipe.path.parent, rel, where), safe_join(tmp, rel, where)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _run_step(label: str, argv: list[str], env: dict[str, str], cwd: Path, scratch: Path) -> None:
    """Run a recipe step that may write only in its build dir and scratch dir (confine.py)."""
    from cmpkg import confine

    why_not = confine.available()
    if why_not is None:
        argv = confine.confined(argv, [cwd, scratch])
    else:
        warn_unconfined(why_not)
    run_or_raise(
        argv,
        "step-failed",
        f"the generate step of {label} failed",
        hint="the step's last output lines are above; it may write only inside its entry",
        env=env,
        cwd=cwd,
    )


@functools.lru_cache(maxsize=1)
def warn_unconfined(why: str) -> None:
    from cmpkg import console

    console.message("warning", f"recipe steps run unconfined here ({why})")
