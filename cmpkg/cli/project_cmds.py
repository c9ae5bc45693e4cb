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
    add.set_defaults(handler=_add)

    remove = subparsers.add_parser("remove", help="remove requests for a package from cmpkg.toml")
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(handler=_remove)

    lock = subparsers.add_parser("lock", help="write cmpkg.lock for every target of cmpkg.toml")
    lock.add_argument(
        "--check", action="store_true", help="only say whether the lock is up to date"
    )
    lock.add_argument("--upgrade", action="store_true", help="ignore the previous lock's pins")
    lock.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    add_wheel_options(lock)
    add_backend_option(lock)
    add_index_option(lock)
    add_json_option(lock)
    lock.set_defaults(handler=_lock)


def _init(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.errors import UsageError
    from cmpkg.project import MANIFEST, Project, save

    path = Path.cwd() / MANIFEST
    if path.exists():
        raise UsageError("manifest-exists", f"{path} already exists")
    targets = tuple(args.target) or ("cpu",)
    save(Project(path, args.name or Path.cwd().name, (), targets, ()))
    console.info(
        f"created {path} (targets: {', '.join(targets)}); add requests with `cmpkg add REQ`"
    )
    return 0


def _add(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cmpkg.index import load_active_index
    from cmpkg.project import require, save
    from cmpkg.resolve import parse_request

    manifest = require(Path.cwd())
    index = load_active_index(manifest.index_dirs())
    names = {parse_request(r, index).name for r in args.requests}  # validates every request
    kept = tuple(r for r in manifest.requests if parse_request(r, index).name not in names)
    save(replace(manifest, requests=(*kept, *args.requests)))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cmpkg.errors import UsageError
    from cmpkg.index import load_active_index
    from cmpkg.index.model import normalize_name
    from cmpkg.project import require, save
    from cmpkg.resolve import parse_request

    manifest = require(Path.cwd())
    index = load_active_index(manifest.index_dirs())
    names = {normalize_name(n) for n in args.names}
    kept = tuple(r for r in manifest.requests if parse_request(r, index).name not in names)
    if len(kept) == len(manifest.requests):
        raise UsageError("not-requested", f"cmpkg.toml does not request {', '.join(sorted(names))}")
    save(replace(manifest, requests=kept))
    return 0


def _lock(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.lock.check import check
    from cmpkg.lock.make import write_lock

    if args.check:
        reasons = check(Path.cwd(), args.index)
        if args.json:
            console.print_json({"fresh": not reasons, "reasons": reasons})
        for reason in [] if args.json else reasons:
            console.message("error", reason)
        if not reasons and not args.json:
            console.info("cmpkg.lock is up to date")
        return 1 if reasons else 0
    from cmpkg.pyenv import WheelSource

    path, changed = write_lock(
        Path.cwd(),
        args.index,
        WheelSource(tuple(args.find_links), (), args.no_index),
        backend=args.backend,
        upgrade_all=args.upgrade,
        upgrade=args.upgrade_package,
    )
    if args.json:
        console.print_json({"lock": str(path), "changed": changed})
    else:
        console.info(f"{'wrote' if changed else 'unchanged:'} {path}")
    return 0
