"""`cmpkg init | add | remove | lock`: the project manifest and its lockfile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cmpkg.cli.common import (
    add_backend_option,
    add_index_option,
    add_json_option,
    add_wheel_options,
)


def register(subparsers: Any) -> None:
    init = subparsers.add_parser("init", help="create cmpkg.toml in the current directory")
    init.add_argument("--name", help="project name (default: the directory's)")
    init.add_argument(
        "--target", action="append", default=[], metavar="T", help="a supported target (repeatable)"
    )
    init.set_defaults(handler=_init)

    add = subparsers.add_parser("add", help="add requests to cmpkg.toml")
    add.add_argument("requests", nargs="+", metavar="REQ")
    add_json_option(add)
    add.set_defaults(handler=_add)

    remove = subparsers.add_parser("remove", help="remove requests for a package from cmpkg.toml")
    remove.add_argument("names", nargs="+", metavar="NAME")
    add_json_option(remove)
    remove.set_defaults(handler=_remove)

    lock = subparsers.add_parser("lock", help="write cmpkg.lock for every target of cmpkg.toml")
    lock.add_argument(
        "--check", action="store_true", help="only say whether the lock is up to date"
    )
    lock.add_argument("--upgrade", action="store_true", help="ignore the previous lock's pins")
    lock.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    lock.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="re-lock only this target of cmpkg.toml (repeatable); the others stay as locked",
    )
    add_wheel_options(lock)
    add_backend_option(lock)
    add_index_option(lock)
    add_json_option(lock)
    lock.set_defaults(handler=_lock)


def _init(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.project import init

    project = init(Path.cwd(), args.name, args.target)
    console.info(
        f"created {project.path} (targets: {', '.join(project.targets)}); "
        "add requests with `cmpkg add REQ`"
    )
    return 0


def _add(args: argparse.Namespace) -> int:
    from cmpkg.commands.project import add

    _render_change(args, add(Path.cwd(), args.requests))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from cmpkg.commands.project import remove

    _render_change(args, remove(Path.cwd(), args.names))
    return 0


def _render_change(args: argparse.Namespace, change: Any) -> None:
    """What `add`/`remove` changed in cmpkg.toml: a line each, or one JSON document."""
    from cmpkg import console

    if args.json:
        replaced = [{"old": old, "new": new} for old, new in change.replaced]
        fields = {"added": list(change.added), "replaced": replaced}
        fields["removed"] = list(change.removed)
        console.print_json({"manifest": str(change.project.path)} | fields)
        return
    file = change.project.path.name
    olds = {new: [o for o, n in change.replaced if n == new] for new in change.added}
    for new in change.added:
        was = ", ".join(olds[new])
        console.info(f"replaced {was} with {new} in {file}" if was else f"added {new} to {file}")
    for old in change.removed:
        console.info(f"removed {old} from {file}")


def _lock(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.lock import lock, stale

    if args.check:
        return _show_check(args, stale(_lock_input(args)))
    done = lock(_lock_input(args))
    if args.json:
        console.print_json({"lock": str(done.path), "changed": done.changed})
    else:
        console.info(f"{'wrote' if done.changed else 'unchanged:'} {done.path}")
    return 0


def _lock_input(args: argparse.Namespace) -> Any:
    from cmpkg.commands.lock import LockInput

    return LockInput(
        index_dirs=tuple(args.index),
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        backend=args.backend,
        upgrade_all=args.upgrade,
        upgrade=tuple(args.upgrade_package),
        only=tuple(args.target),
    )


def _show_check(args: argparse.Namespace, reasons: list[str]) -> int:
    from cmpkg import console
    from cmpkg.errors import CmpkgError

    if args.json:
        console.print_json({"fresh": not reasons, "reasons": reasons})
        return 1 if reasons else 0
    if reasons:
        raise CmpkgError(
            "stale-lock",
            "cmpkg.lock is out of date",
            details=reasons,
            hint="run `cmpkg lock` to bring it up to date, and commit it",
        )
    console.info("cmpkg.lock is up to date")
    return 0
