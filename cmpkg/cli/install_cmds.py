"""`cmpkg resolve | why | install | run | env | shell`: from a request to a running app."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from cmpkg.cli.common import add_resolve_options, add_wheel_options, context, home, mirror


def register(subparsers: Any) -> None:
    resolve = subparsers.add_parser("resolve", help="solve requests and print the chosen packages")
    resolve.add_argument("requests", nargs="+", metavar="REQ")
    add_resolve_options(resolve)
    resolve.add_argument("--dump-problem", metavar="FILE", help="write the solver problem file")
    resolve.set_defaults(handler=_resolve)

    why = subparsers.add_parser("why", help="show why a package is part of a resolution")
    why.add_argument("name")
    why.add_argument("requests", nargs="+", metavar="REQ")
    add_resolve_options(why)
    why.set_defaults(handler=_why)

    install = subparsers.add_parser("install", help="resolve and install into the store")
    install.add_argument(
        "requests", nargs="*", metavar="REQ", help="default: cmpkg.toml's requests"
    )
    install.add_argument(
        "--locked", action="store_true", help="install cmpkg.lock; fail if it is stale"
    )
    install.add_argument(
        "--frozen", action="store_true", help="install cmpkg.lock without checking it"
    )
    install.add_argument(
        "--lock", metavar="FILE", type=Path, help="the lockfile (default: the project's)"
    )
    add_resolve_options(install)
    install.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    install.add_argument(
        "--env", metavar="NAME", help="environment name (default: the first request)"
    )
    install.add_argument(
        "--with", dest="with_", action="append", default=[], metavar="NAME.path=DIR"
    )
    add_wheel_options(install)
    install.add_argument(
        "--offline",
        action="store_true",
        help="no network but loopback mirrors (env CMPKG_OFFLINE=1)",
    )
    install.set_defaults(handler=_install)


def _solve(args: argparse.Namespace, *, installing: bool = False) -> Any:
    from cmpkg.resolve import parse_request, resolve

    ctx = context(args)
    if installing:  # `--target cuda` on a machine without CUDA: say so before solving
        ctx.target.check_installable()
    requests = [parse_request(r, ctx.index) for r in args.requests]
    dump = getattr(args, "dump_problem", None)
    if dump:
        from cmpkg.resolve import build_problem

        _write_json(
            dump, build_problem(ctx.index, ctx.facts, ctx.tools, requests, ctx.preference())
        )
    if installing:  # installing what is installed must not pay for a solve (docs/benchmarks.md)
        from cmpkg.resolution_cache import cached_resolve

        resolution = cached_resolve(
            home(), ctx.index, ctx.facts, ctx.tools, requests, ctx.preference(), args.backend
        )
        return ctx, resolution
    return ctx, resolve(ctx.index, ctx.facts, ctx.tools, requests, ctx.preference(), args.backend)


def _write_json(path: str, value: Any) -> None:
    import json

    with Path(path).open("w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")


def _resolve(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.cli.render import resolution_json, resolution_tree

    ctx, resolution = _solve(args)
    if args.json:
        console.print_json(resolution_json(ctx, resolution))
    else:
        print(resolution_tree(ctx, resolution))
    return 0


def _why(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.errors import UsageError
    from cmpkg.index.model import normalize_name

    _ctx, resolution = _solve(args)
    name = normalize_name(args.name)
    if name not in resolution.pins:
        raise UsageError("not-in-resolution", f"{name} is not part of this resolution")
    chains = resolution.why(name)
    if args.json:
        console.print_json({"package": name, "chains": chains})
    else:
        for chain in chains:
            print(" -> ".join(resolution.pins[n].label for n in chain))
    return 0


def _install(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.cli.render import plan_lines
    from cmpkg.plan import make_plan
    from cmpkg.store.store import Store

    started = time.monotonic()
    if args.locked or args.frozen:
        ctx, resolution = _from_lock(args)
    else:
        _manifest_requests(args)
        ctx, resolution = _solve(args, installing=True)
    store = Store(home())
    plan = make_plan(resolution, lambda key: store.get(key) is not None)
    if ctx.locked_target is not None:
        from cmpkg.lock.check import check_keys

        check_keys(plan, ctx.locked_target)
    if args.dry_run:
        _print_plan(args, plan_lines(plan), plan)
        return 0
    name = args.env or resolution.roots[0]
    # Root the keys before building: a concurrent `cmpkg cache gc` must not collect an entry
    # between its completion and the environment record that references it.
    store.add_root(f"env-{name}", sorted(plan.keys().values()))
    installed = _execute(args, ctx, plan, store)
    _record(args, ctx, resolution, plan, installed, name, store)
    built = len(plan.todo)
    if args.json:
        console.print_json({"env": name, "built": built, "packages": plan.keys()})
    else:
        took = time.monotonic() - started
        verb = "installed" if built else "already installed"
        console.info(f"{verb} {name}: {len(plan.steps)} packages, {built} built, in {took:.2f}s")
        app = resolution.pins[resolution.roots[0]]
        if app.recipe.run:
            console.info(f"run it with `cmpkg run {name}`")
    return 0


def _manifest_requests(args: argparse.Namespace) -> None:
    """No requests on the command line: install the project's (cmpkg.toml)."""
    if args.requests:
        return
    from cmpkg.project import require

    manifest = require(Path.cwd())
    if not manifest.requests:
        from cmpkg.errors import UsageError

        raise UsageError(
            "nothing-requested", f"{manifest.path} has no requests", hint="`cmpkg add REQ`"
        )
    args.requests = list(manifest.requests)
    args.index = [*manifest.index_dirs(), *args.index]


def _from_lock(args: argparse.Namespace) -> Any:
    """(context, resolution) from the lockfile, for --locked and --frozen."""
    from dataclasses import replace

    from cmpkg import context as ctx_mod
    from cmpkg import project as project_file
    from cmpkg.errors import CmpkgError, UsageError
    from cmpkg.lock import read_lock
    from cmpkg.lock.check import stale_reasons
    from cmpkg.lock.choose import choose_target
    from cmpkg.lock.restore import resolution_from_lock

    if args.requests:
        raise UsageError(
            "bad-usage",
            "--locked and --frozen install the lock's requests; give no requests with them",
        )
    project = project_file.find(Path.cwd())
    opened = mirror(args)
    path = args.lock or _default_lock(project, opened)
    lock = read_lock(path)
    loaded = project_file.load(project) if project else None
    if loaded:
        args.index = [*loaded.index_dirs(), *args.index]
    forced = None if args.target in ("host", "cpu", "cuda") else args.target
    ctx = ctx_mod.load(args.index, "host", home(), opened)
    if args.locked:
        if loaded is None:
            raise CmpkgError(
                "no-manifest", "--locked needs cmpkg.toml", hint="use --frozen to skip the check"
            )
        reasons = stale_reasons(lock, loaded.content_hash(), loaded.targets, ctx.index)
        if reasons:
            raise CmpkgError(
                "stale-lock", f"{path} is out of date", details=reasons, hint="run `cmpkg lock`"
            )
    locked = choose_target(lock, ctx.target, forced)
    _check_python(ctx, locked)
    resolution = resolution_from_lock(ctx.index, locked)
    args.requests = list(resolution.roots)
    return replace(ctx, locked_target=locked), resolution


def _default_lock(project: Path | None, opened: Any) -> Path:
    """The project's lock; without a project, the lock a mirror was made for."""
    from cmpkg.project import LOCKFILE

    if project is not None:
        return project.parent / LOCKFILE
    if opened is not None:
        return Path(opened.lock_path())
    return Path.cwd() / LOCKFILE


def _check_python(ctx: Any, locked: Any) -> None:
    from cmpkg.errors import CmpkgError

    want = locked.packages.get("python")
    have = ctx.tools.get("python")
    if want is None:
        return
    if have is None or have.version.split(".")[:2] != want.version.split(".")[:2]:
        found = f"Python {have.version} ({have.source})" if have else "no Python"
        raise CmpkgError(
            "python-mismatch",
            f"the lock's environment is for Python {want.version}; this machine has {found}",
            hint="install that Python, or lock for this machine's target",
        )


def _print_plan(args: argparse.Namespace, lines: list[str], plan: Any) -> None:
    from cmpkg import console

    if args.json:
        console.print_json(
            {
                "steps": [
                    {"name": s.name, "key": s.key, "method": s.method, "cached": s.cached}
                    for s in plan.steps
                ]
            }
        )
    else:
        print("\n".join(lines))


def _execute(args: argparse.Namespace, ctx: Any, plan: Any, store: Any) -> Any:
    from cmpkg import config, console, envvars, install, pyenv
    from cmpkg.lock import wheel_requirements

    # From a lock, pip installs exactly its files, hashes required.
    pinned = tuple(wheel_requirements(ctx.locked_target)) if ctx.locked_target else ()
    if ctx.python is None and plan.requirements:
        from cmpkg.errors import CmpkgError

        raise CmpkgError("no-python", "no Python interpreter was found for the environment")
    offline = args.offline or envvars.get("CMPKG_OFFLINE") == "1" or config.load().offline
    links = (*(ctx.mirror.wheel_links() if ctx.mirror else ()), *args.find_links)
    options = install.Options(
        python=ctx.python or sys.executable,
        wheels=pyenv.WheelSource(links, (), args.no_index or offline, bool(pinned)),
        pinned=pinned,
        user_paths=_user_paths(args.with_),
        offline=offline,
        mirror_urls=ctx.mirror.artifact_urls if ctx.mirror else (lambda _name: ()),
        report=(lambda _t: None) if args.json else (lambda text: console.info(text)),
        json_output=args.json,
    )
    return install.execute(plan, store, ctx.tools, options)


def _user_paths(items: list[str]) -> dict[str, str]:
    from cmpkg.errors import UsageError
    from cmpkg.index.model import normalize_name

    paths = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, attr = key.rpartition(".")
        if not sep or not dot or attr != "path":
            raise UsageError("bad-option", f"--with {item}: expected NAME.path=DIR")
        paths[normalize_name(name)] = value
    return paths


def _record(
    args: argparse.Namespace,
    ctx: Any,
    resolution: Any,
    plan: Any,
    installed: Any,
    name: str,
    store: Any,
) -> None:
    from cmpkg import envs, envvars
    from cmpkg.cli.render import resolution_json

    env_home = home()
    context_file = envs.envs_dir(env_home) / f"{name}.context.json"
    context_file.parent.mkdir(parents=True, exist_ok=True)
    _write_json(
        str(context_file),
        {"resolution": resolution_json(ctx, resolution), "store-keys": plan.keys()},
    )
    root = resolution.pins[resolution.roots[0]]
    values = {"entry": str(installed.entries[root.name].path)}
    from cmpkg.envvars import substitute

    exported = {"CMPKG_RUN_CONTEXT": str(context_file), "CMPKG_ENV": name}
    assert set(exported) == set(envvars.EXPORTED)
    variables = {**installed.variables, **exported}
    record = envs.EnvRecord(
        name=name,
        requests=list(args.requests),
        target=ctx.target.name,
        packages={
            s.name: {"key": s.key, "path": str(installed.entries[s.name].path)} for s in plan.steps
        },
        variables=variables,
        run=[substitute(a, values, str(root.recipe.path)) for a in root.recipe.run],
        keys=sorted(plan.keys().values()),
    )
    envs.save(env_home, record)
