"""`cmpkg install`: requests (or a lock) to a named environment of complete store entries.

The workflow: gather the inputs (project file, lock, index, target, tools), resolve or
restore the lock's resolution, plan, root the plan's keys, execute the plan, and record
the named environment that `cmpkg run` reads. Every front end calls `install()`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import atomic, config, envs, envvars
from cmpkg.commands import noop as fast_path
from cmpkg.config import home
from cmpkg.context import Context, Sources, gather, open_mirror
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.install import Installed, Policy, Reporter
from cmpkg.lock import Lock, LockedWheel, read_lock
from cmpkg.plan import PYENV, Plan, PlanSources, closure, make_plan, tool_env_name
from cmpkg.project import LOCKFILE, Project
from cmpkg.resolve import Resolution
from cmpkg.store import layout
from cmpkg.store.store import Store

if TYPE_CHECKING:
    from cmpkg.index.model import Recipe

Report = Callable[[str], None]


@dataclass(frozen=True)
class InstallInput:
    requests: tuple[str, ...] = ()  # empty: the project's (cmpkg.toml)
    sources: Sources = field(default_factory=Sources)
    target: str = "host"
    backend: str = "auto"
    lock_mode: str | None = None  # "locked" (fail if stale) | "frozen" (no check) | None
    lock_path: Path | None = None  # default: the project's, else the mirror's
    env_name: str | None = None  # default: the first request
    user_paths: Mapping[str, str] = field(default_factory=dict)  # --with NAME.path=DIR
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    dry_run: bool = False
    start: Path = field(default_factory=Path.cwd)  # where the project is looked for
    caches: tuple[str, ...] = ()  # --cache URL, before cmpkg.toml's and the config's
    no_build: bool = False  # every entry must come from the store or a cache
    noop: Any = None  # `cmpkg.commands.noop.Pending`: record them when done, for the fast path


@dataclass(frozen=True)
class InstallResult:
    env: str
    plan: Plan
    seconds: float
    runnable: bool  # the environment's app has a run command
    dry_run: bool
    target: str  # the target installed for: a lock's target, or the probed/named one
    choice: str | None = None  # from a lock: which target was chosen, and why
    substituted: int = 0  # entries taken from a binary cache instead of built
    apps: tuple[str, ...] = ()  # the requested apps `cmpkg run APP` finds in the environment
    skipped: frozenset[str] = (
        frozenset()
    )  # tool environments no build needed (their products were substituted)

    @property
    def built(self) -> int:
        """Entries built: two steps with one key (a tool environment equal to the main one)
        are one build; entries substituted from a cache, and the records of what was found
        on this machine (detected tools, user paths), are not builds."""
        from cmpkg.install import LOCAL_ONLY

        if self.dry_run:
            return 0
        made = {
            s.key
            for s in self.plan.todo
            if s.method not in LOCAL_ONLY and s.name not in self.skipped
        }
        return len(made) - self.substituted


def install(
    given: InstallInput, report: Report = lambda _t: None, *, json_output: bool = False
) -> InstallResult:
    started = time.monotonic()
    noop = given.noop and fast_path.with_config(given.noop, config.config_path())
    if given.lock_mode is not None:
        ctx, resolution = _from_lock(given)
    else:
        from cmpkg.commands.resolve import ResolveInput, solve

        given = _project_requests(given)
        ctx = gather(given.sources, given.target, given.requests)
        as_resolve = ResolveInput(given.requests, given.sources, given.target, given.backend)
        resolution = solve(ctx, as_resolve, installing=True).resolution
    store = Store(home())
    store.sweep_writes()  # what killed writers left (their writers' locks are free)
    offline = given.offline or envvars.get("CMPKG_OFFLINE") == "1" or config.load().offline
    sources = plan_sources(given, ctx, resolution, offline)
    plan = make_plan(resolution, lambda key: store.get(key) is not None, sources)
    if ctx.locked_target is not None:
        from cmpkg.lock.check import check_keys

        check_keys(plan, ctx.locked_target)
    name = given.env_name or resolution.roots[0]
    runnable = bool(resolution.pins[resolution.roots[0]].recipe.run)
    if not given.dry_run:
        # Root the keys before building: a concurrent `cmpkg cache gc` must not collect an
        # entry between its completion and the environment record that references it.
        root_file = store.add_root(f"env-{name}", sorted(plan.keys().values()))
        substituter = _substituter(given, store, offline) if plan.todo else None
        policy = Policy(offline=offline, substituter=substituter)
        installed = _execute(plan, store, policy, Reporter(report, json_output))
        requests = given.requests or resolution.roots
        written = _record(ctx, resolution, plan, installed, name, requests)
    took = time.monotonic() - started
    target = ctx.locked_target.name if ctx.locked_target else ctx.target.name
    substituted = len(substituter.substituted) if not given.dry_run and substituter else 0
    apps = tuple(sorted(r for r in resolution.roots if resolution.pins[r].recipe.run))
    skipped = frozenset(installed.skipped) if not given.dry_run else frozenset()
    done = InstallResult(
        name, plan, took, runnable, given.dry_run, target, ctx.choice, substituted, apps, skipped
    )
    if noop is not None and not given.dry_run and ctx.mirror is None:
        _remember(noop, done, ctx, sources.interpreter, store, [*written, root_file])
    return done


def _substituter(given: InstallInput, store: Store, offline: bool) -> Any:
    """The binary caches to ask before building (docs/cache.md), or None when there are
    none: `cmpkg.cache` (and oras) are imported only then."""
    from cmpkg import project as project_file

    found = project_file.find(given.start)
    if not (given.caches or given.no_build or config.load().caches or found):
        return None
    from cmpkg.cache import settings

    chosen = settings.load(given.caches, found, store.home)
    if not chosen.urls and not given.no_build:
        return None
    from cmpkg.cache.substitute import Substituter

    return Substituter(
        chosen.urls, chosen.trusted, store, offline=offline, allow_build=not given.no_build
    )


def _project_requests(given: InstallInput) -> InstallInput:
    """No requests given: install the project's (cmpkg.toml), with its index dirs."""
    if given.requests:
        return given
    from cmpkg.project import require

    project = require(given.start)
    if not project.requests:
        raise UsageError(
            "nothing-requested", f"{project.path} has no requests", hint="`cmpkg add REQ`"
        )
    sources = given.sources._replace(index_dirs=(*project.index_dirs(), *given.sources.index_dirs))
    return replace(given, requests=tuple(project.requests), sources=sources)


def _from_lock(given: InstallInput) -> tuple[Context, Resolution]:
    """(context, resolution) from the lockfile, for --locked and --frozen."""
    from cmpkg import context as ctx_mod
    from cmpkg import project as project_file
    from cmpkg.lock.choose import choose_target
    from cmpkg.lock.restore import resolution_from_lock

    if given.requests:
        raise UsageError(
            "bad-usage",
            "--locked and --frozen install the lock's requests; give no requests with them",
            hint="drop the requests, or drop --locked/--frozen to solve them afresh",
        )
    found = project_file.find(given.start)
    opened = open_mirror(given.sources)
    path = given.lock_path or _default_lock(found, opened, given.start)
    lock = read_lock(path)
    project = project_file.load(found) if found else None
    index_dirs = (*(project.index_dirs() if project else ()), *given.sources.index_dirs)
    ctx = ctx_mod.load(index_dirs, "host", home(), opened)
    if given.lock_mode == "locked":
        _check_fresh(lock, path, project, ctx)
    python = ctx.tools.get("python")
    choice = choose_target(lock, ctx.target, given.target, python.version if python else None)
    resolution = resolution_from_lock(ctx.index, choice.target)
    detected = [n for n, p in choice.target.packages.items() if p.method == "detect"]
    tools = ctx_mod.tools_for(ctx.target, ctx.index, home(), detected)
    origin = {
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "target": choice.target.name,
        "manifest-hash": lock.manifest_hash,
        "index-revision": lock.index_revision,
    }
    ctx = ctx.replace(tools=tools, locked_target=choice.target, choice=choice.reason, lock=origin)
    return ctx, resolution


def _check_fresh(lock: Lock, path: Path, project: Project | None, ctx: Context) -> None:
    from cmpkg.lock.check import stale_reasons

    if project is None:
        raise CmpkgError(
            "no-manifest", "--locked needs cmpkg.toml", hint="use --frozen to skip the check"
        )
    reasons = stale_reasons(lock, project.content_hash(), project.targets, ctx.index)
    if reasons:
        raise CmpkgError(
            "stale-lock", f"{path} is out of date", details=reasons, hint="run `cmpkg lock`"
        )


def _default_lock(project: Path | None, opened: Any, start: Path) -> Path:
    """The project's lock; without a project, the lock a mirror was made for."""
    if project is not None:
        return project.parent / LOCKFILE
    if opened is not None:
        return Path(opened.lock_path())
    return start / LOCKFILE


def plan_sources(
    given: InstallInput, ctx: Context, resolution: Resolution, offline: bool
) -> PlanSources:
    """Everything the plan needs besides the resolution, gathered here at the edge."""
    _check_user_paths(given.user_paths, resolution)
    mirror = ctx.mirror
    filenames = {s.filename for p in resolution.pins.values() for s in p.recipe.sources}
    wheels: dict[str, tuple[LockedWheel, ...]] = {}
    platform: tuple[str, ...] = ()
    if ctx.locked_target is not None:  # from a lock: exactly its files
        locked = ctx.locked_target
        wheels = {PYENV: locked.wheels}
        wheels |= {tool_env_name(n): w for n, w in locked.tool_wheels.items()}
        platform = tuple(locked.platform)
    return PlanSources(
        interpreter=_interpreter(given, ctx, resolution),
        tools=dict(ctx.tools),
        user_paths=given.user_paths,
        mirror_urls={f: mirror.artifact_urls(f) for f in sorted(filenames)} if mirror else {},
        wheels=wheels,
        platform=platform,
        find_links=(*(mirror.wheel_links() if mirror else ()), *given.find_links),
        no_index=given.no_index or offline,
    )


_TAKES_A_PATH = ("download", "user-path")


def _check_user_paths(user_paths: Mapping[str, str], resolution: Resolution) -> None:
    """Every `--with NAME.path=DIR` names a package of the resolution whose files a path can
    give (a download or user-path recipe): a misspelt NAME is an error, never ignored while
    the files are downloaded or the step asks for the path again."""
    for name in sorted(user_paths):
        pin = resolution.pins.get(name)
        if pin is not None and _takes_a_path(pin.recipe):
            continue
        takes = sorted(n for n, p in resolution.pins.items() if _takes_a_path(p.recipe))
        why = "is not part of this resolution" if pin is None else "takes no path"
        raise UsageError(
            "unused-with",
            f"--with {name}.path={user_paths[name]}: {name} {why}",
            hint="--with names a download or user-path package of the resolution"
            + (f": {', '.join(takes)}" if takes else " (this one has none)"),
        )


def _takes_a_path(recipe: Recipe) -> bool:
    return recipe.provide is not None and recipe.provide.method in _TAKES_A_PATH


def _interpreter(given: InstallInput, ctx: Context, resolution: Resolution) -> str:
    """The Python that the environment is built with: the host's detected one, or for a
    profile target this machine's interpreter of the profile's version. None found is an
    error when an environment is really built (a dry run only plans it)."""
    python = ctx.python or _profile_python(ctx)
    if python is not None:
        return python
    needs = any(
        p.recipe.provide and p.recipe.provide.method == "python" for p in resolution.pins.values()
    )
    if needs and not given.dry_run:
        raise _no_python(ctx)
    return sys.executable


def _profile_python(ctx: Context) -> str | None:
    """This machine's interpreter of the target's Python version (`python3.12` for a 3.12
    profile), checked by running it; None when there is none."""
    from cmpkg.probe.tools import DetectCache, find_interpreter

    recipe = next(iter(ctx.index.get("python")), None)
    if recipe is None or recipe.provide is None or not ctx.target.python:
        return None
    cache = DetectCache(home() / "detect-v2.json")
    found = find_interpreter(recipe, ctx.target.python, cache)
    return found.path if found else None


def _no_python(ctx: Context) -> CmpkgError:
    """No interpreter for the environment: which Python, where cmpkg looked, how to get one."""
    want = str(ctx.target.python)
    recipe = next(iter(ctx.index.get("python")), None)
    provide = recipe.provide if recipe is not None else None
    names = ", ".join([f"python{want}", *(provide.executables if provide else ())])
    places = ", ".join(["PATH", *(provide.locations if provide else ())])
    return CmpkgError(
        "no-python",
        f"target {ctx.target.name} builds its environment with Python {want}, "
        "and this machine has none",
        details=[f"looked for {names} in {places}"],
        hint=f"install Python {want} (your distribution, pyenv or `uv python install {want}`), "
        "or install for this machine itself with `--target host`",
    )


def _execute(plan: Plan, store: Store, policy: Policy, reporter: Reporter) -> Installed:
    from cmpkg.install import execute

    return execute(plan, store, policy, reporter)


def _record(
    ctx: Context,
    resolution: Resolution,
    plan: Plan,
    installed: Installed,
    name: str,
    requests: tuple[str, ...],
) -> tuple[Path, Path]:
    """The named environment's record (and its run context) that `cmpkg run` reads: the
    paths of both."""
    from cmpkg.resolution import resolution_json

    env_home = home()
    context_file = envs.record_path(env_home, name, ".context.json")
    context_file.parent.mkdir(parents=True, exist_ok=True)
    target = ctx.locked_target.name if ctx.locked_target else ctx.target.name
    document = {
        "resolution": resolution_json(target, resolution),
        "store-keys": plan.keys(),
        "index-revision": ctx.index.revision,
        **({"lock": dict(ctx.lock)} if ctx.lock else {}),
    }
    atomic.write_text(context_file, json.dumps(document, indent=1, sort_keys=True) + "\n")
    exported = {"CMPKG_RUN_CONTEXT": str(context_file), "CMPKG_ENV": name}
    assert set(exported) <= set(envvars.EXPORTED)  # cmpkg run adds CMPKG_RESULTS_DIR
    apps = _apps(resolution, plan, installed, exported)
    first = apps.get(resolution.roots[0], {"run": []})
    record = envs.EnvRecord(
        name=name,
        requests=list(requests),
        target=target,
        packages={
            s.name: {"key": s.key, "path": str(installed.entries[s.name].path)}
            for s in plan.steps
            if s.name in installed.entries  # not a tool environment no build needed
        },
        variables={**installed.variables, **exported},
        run=first["run"],
        keys=sorted(plan.keys().values()),
        runtime=plan.runtime_keys(),
        context={k: v for k, v in document.items() if k in ("index-revision", "lock")},
        apps=apps,
    )
    return envs.save(env_home, record), context_file


def _apps(
    resolution: Resolution, plan: Plan, installed: Installed, exported: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Each requested app's run command and variables. The variables are the exports of the
    app's own dependency closure (in plan order, as an environment of that app alone would
    have them), so two apps sharing the environment never see each other's settings
    (both export CMPKG_MLPERF_BACKEND); the Python environment is the shared one."""
    apps: dict[str, dict[str, Any]] = {}
    for name in resolution.roots:
        recipe = resolution.pins[name].recipe
        if not recipe.run:
            continue
        needed = closure(resolution, name)
        variables: dict[str, str] = {}
        for step in plan.steps:  # dependencies first
            if step.name == PYENV or (step.pin is not None and step.name in needed):
                variables = envvars.merge(variables, installed.exports.get(step.name, {}))
        values = {"entry": str(installed.entries[name].path)}
        run = [envvars.substitute(a, values, str(recipe.path)) for a in recipe.run]
        apps[name] = {"run": run, "variables": {**variables, **exported}}
    return apps


def _remember(
    noop: Any, done: InstallResult, ctx: Context, python: str, store: Store, files: list[Path]
) -> None:
    """Record what this install depended on, so that running it again answers from the
    record while all of it holds (`cmpkg.commands.noop`, docs/design.md)."""
    from cmpkg.index import compiled
    from cmpkg.resolve import reachable_tools

    names = set(ctx.tools) | set(reachable_tools(ctx.index, ctx.requests))
    if ctx.locked_target is not None:
        names |= {n for n, p in ctx.locked_target.packages.items() if p.method == "detect"}
    recipes = [r for n in sorted(names) for r in ctx.index.get(n)[:1]]
    searched = [
        p for r in recipes if r.provide for p in (*r.provide.locations, *r.provide.version_files)
    ]
    found = [str(t.source) for t in ctx.tools.values()] + [python]
    keys = done.plan.keys()
    # The installed environment's promise: only what it runs is checked; a tool environment
    # is checked by the full path before any build uses it (docs/design.md).
    entries = [str(store.entry_path(k)) for k in done.plan.runtime_keys()]
    index_base = home() / compiled.CACHE_DIR / compiled.cache_key(ctx.index.dirs)
    shown = fast_path.Answer(
        done.env, done.target, keys, len(done.plan.steps), done.runnable, done.choice, done.apps
    )
    fast_path.save(
        home(),
        noop,
        index=(str(index_base), ctx.index.revision),
        tools=fast_path.tool_paths(found, searched, home() / "detect-v2.json"),
        files=[str(f) for f in files],
        entries=entries,
        used=[str(store.base / layout.USED / k) for k in keys.values()],
        shown=shown,
    )
