"""`cmpkg resolve | why | install`: arguments to `cmpkg.commands` inputs, results rendered."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg.cli.common import add_resolve_options, add_wheel_options, sources

if TYPE_CHECKING:  # annotations only: `direct_noop` runs before any parser is built
    import argparse
    from collections.abc import Callable


def register(subparsers: Any) -> None:
    resolve = subparsers.add_parser("resolve", help="solve requests and print the chosen packages")
    resolve.add_argument("requests", nargs="+", metavar="REQ")
    add_resolve_options(resolve)
    resolve.add_argument("--dump-problem", metavar="FILE", help="write the solver problem file")
    resolve.set_defaults(handler=_resolve)

    why = subparsers.add_parser("why", help="show why a package is part of a resolution")
    why.add_argument("name", metavar="NAME")
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
        help="no network but loopback mirrors and caches (env CMPKG_OFFLINE=1)",
    )
    install.add_argument(
        "--cache",
        action="append",
        default=[],
        metavar="URL",
        help="a binary cache to take entries from before building: oci://HOST/REPO, "
        "https://... or a directory (repeatable; then cmpkg.toml's and the config's [[cache]])",
    )
    install.add_argument(
        "--no-build",
        action="store_true",
        help="build nothing: every entry must come from the store or a cache",
    )
    install.set_defaults(handler=_install)


def _resolve_input(args: argparse.Namespace) -> Any:
    from cmpkg.commands.resolve import ResolveInput

    dump = getattr(args, "dump_problem", None)
    return ResolveInput(
        tuple(args.requests),
        sources(args),
        args.target,
        args.backend,
        Path(dump) if dump else None,
    )


def _resolve(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.cli.render import resolution_json, resolution_tree
    from cmpkg.commands.resolve import resolve_requests

    resolved = resolve_requests(_resolve_input(args))
    if args.json:
        console.print_json(resolution_json(resolved.context, resolved.resolution))
    else:
        print(resolution_tree(resolved.context, resolved.resolution))
    return 0


def _why(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.resolve import why

    found = why(_resolve_input(args), args.name)
    if args.json:
        console.print_json({"package": found.package, "chains": [list(c) for c in found.chains]})
    else:
        for line in found.labels:
            print(line)
    return 0


def _install(args: argparse.Namespace) -> int:
    started = time.monotonic()
    noop = _noop_inputs(args)
    if noop is not None and _answer_noop(noop, as_json=args.json, started=started):
        return 0  # first thing: a no-op must not import what the full path needs
    from cmpkg import console
    from cmpkg.commands.install import install

    report = (lambda _t: None) if args.json else console.info
    _show_install(args, install(_install_input(args, noop), report, json_output=args.json))
    return 0


def direct_noop(argv: list[str]) -> Callable[[], None] | None:
    """`cmpkg install [REQ...] [OPTIONS]` answered from its no-op record before any parser
    is built (building argparse's install parser costs more than the rest of the no-op's
    checks but the stat of the entries: docs/benchmarks.md, issue #14): what prints the
    recorded answer, when the record still holds; None when this is not a command line it
    reads (`_plain_install`) or the record does not answer, and the parser decides.

    Sound by construction: the record is named by the exact words (`noop.pending`), so it
    can only have been written by a full install of this very command line; what is read
    here is only what `pending` needs besides the words, spelled as argparse takes it."""
    started = time.monotonic()
    shape = _plain_install(argv[1:]) if argv[:1] == ["install"] else None
    if shape is None:
        return None
    target, as_json = shape
    from cmpkg.commands.noop import answer, pending

    noop = pending(
        argv,
        target=target,
        lock_mode=None,
        lock_path=None,
        mirror=None,
        start=str(Path.cwd()),
        environ=os.environ,
    )
    found = None if noop is None else answer(noop)
    if found is None:
        return None
    return lambda: _show_noop(as_json, found, time.monotonic() - started)


#: The install options `direct_noop` reads past, by what follows them: a value, or nothing.
#: Each changes what the full path does but not what `noop.pending` needs besides the words
#: (a test compares their arity with the parser's). The lock, mirror and dry-run options,
#: `--help` and any abbreviation are not here: their command lines go through the parser.
WITH_VALUE = frozenset(
    {"--target", "--index", "--find-links", "--env", "--backend", "--with", "--cache"}
)
FLAGS = frozenset({"--json", "--no-index", "--offline", "--no-build"})


def _plain_install(words: list[str]) -> tuple[str, bool] | None:
    """(target, --json) of install's `words` (after `install`) when they hold only requests
    and the options above, as argparse's intermixed parse reads them (the last `--target`
    wins); None for anything else, which only the parser reads right."""
    target, as_json = "host", False  # --target's default
    rest = iter(words)
    for word in rest:
        flag, eq, value = word.partition("=")
        if word in FLAGS:
            as_json = as_json or word == "--json"
        elif flag in WITH_VALUE:
            value = value if eq else next(rest, "-")
            if value.startswith("-"):
                return None  # argparse refuses a missing value or one like an option
            target = value if flag == "--target" else target
        elif word.startswith("-"):
            return None
    return target, as_json


def _noop_inputs(args: argparse.Namespace) -> Any:
    """The inputs the no-op fast path compares (`cmpkg.commands.noop`); None for a dry run,
    a command it does not answer, or a namespace that did not come from a command line."""
    words = getattr(args, "command_line", None)
    if args.dry_run or words is None:
        return None
    from cmpkg.commands.noop import pending

    return pending(
        words,
        target=args.target,
        lock_mode="locked" if args.locked else "frozen" if args.frozen else None,
        lock_path=str(Path(args.lock).absolute()) if args.lock else None,
        mirror=args.mirror,
        start=str(Path.cwd()),
        environ=os.environ,
    )


def _answer_noop(noop: Any, *, as_json: bool, started: float) -> bool:
    """Print the recorded answer if the record still holds (`cmpkg.commands.noop.answer`)."""
    from cmpkg.commands.noop import answer

    found = answer(noop)
    if found is None:
        return False
    _show_noop(as_json, found, time.monotonic() - started)
    return True


def _show_noop(as_json: bool, found: Any, seconds: float) -> None:
    """What `_show_install` prints for an install that built nothing, from the record."""
    from cmpkg import console

    if as_json:
        shown = {"env": found.env, "built": 0, "substituted": 0, "target": found.target}
        console.print_json({**shown, "packages": found.keys})
        return
    if found.choice:
        console.info(found.choice)
    steps = console.plural(found.packages, "package")
    console.info(f"already installed {found.env}: {steps}, 0 built, in {seconds:.2f}s")
    if found.runnable:
        console.info(_run_hint(found.env, tuple(found.apps)))


def _install_input(args: argparse.Namespace, noop: Any = None) -> Any:
    from cmpkg.commands.install import InstallInput

    return InstallInput(
        noop=noop,
        requests=tuple(args.requests),
        sources=sources(args),
        target=args.target,
        backend=args.backend,
        lock_mode="locked" if args.locked else "frozen" if args.frozen else None,
        lock_path=args.lock,
        env_name=args.env,
        user_paths=_user_paths(args.with_),
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        offline=args.offline,
        dry_run=args.dry_run,
        caches=tuple(args.cache),
        no_build=args.no_build,
    )


def _show_install(args: argparse.Namespace, done: Any) -> None:
    from cmpkg import console
    from cmpkg.cli.render import plan_lines

    if done.choice and not args.json:
        console.info(done.choice)
    if done.dry_run:
        _print_plan(args, plan_lines(done.plan), done.plan)
    elif args.json:
        keys = done.plan.keys()
        console.print_json(
            {
                "env": done.env,
                "built": done.built,
                "substituted": done.substituted,
                "target": done.target,
                "packages": keys,
            }
        )
    else:
        verb = "installed" if done.built or done.substituted else "already installed"
        steps = console.plural(len(done.plan.steps), "package")
        from_cache = f", {done.substituted} substituted" if done.substituted else ""
        console.info(
            f"{verb} {done.env}: {steps}, {done.built} built{from_cache}, in {done.seconds:.2f}s"
        )
        if done.runnable:
            console.info(_run_hint(done.env, done.apps))


def _run_hint(env: str, apps: tuple[str, ...]) -> str:
    """How to run what was installed: the environment, or each of its apps."""
    if len(apps) > 1:
        return "run its apps with " + ", ".join(f"`cmpkg run {app}`" for app in apps)
    return f"run it with `cmpkg run {env}`"


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


def _user_paths(items: list[str]) -> dict[str, str]:
    """`--with NAME.path=DIR` options as {normalised name: DIR}."""
    from cmpkg.errors import UsageError
    from cmpkg.index.model import normalize_name

    paths = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, attr = key.rpartition(".")
        if not sep or not dot or attr != "path":
            raise UsageError(
                "bad-option",
                f"--with {item}: expected NAME.path=DIR",
                hint="for example `--with imagenet-val.path=/data/imagenet/val`",
            )
        paths[normalize_name(name)] = value
    return paths
