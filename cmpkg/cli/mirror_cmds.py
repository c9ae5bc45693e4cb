"""`cmpkg mirror create | verify | serve`: carrying a lock's world to an air-gapped machine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cmpkg.cli.common import (
    add_backend_option,
    add_index_option,
    add_json_option,
    add_wheel_options,
    home,
)


def register(subparsers: Any) -> None:
    mirror = subparsers.add_parser("mirror", help="create, verify and serve offline mirrors")
    sub = mirror.add_subparsers(dest="mirror_command", metavar="COMMAND")

    create = sub.add_parser("create", help="write everything a lock needs into DIR")
    create.add_argument("dir", type=Path)
    create.add_argument(
        "requests", nargs="*", metavar="REQ", help="lock these instead of a lockfile"
    )
    create.add_argument(
        "--lock", type=Path, metavar="FILE", help="the lockfile (default: the project's)"
    )
    create.add_argument(
        "--target", action="append", default=[], metavar="T", help="targets to include"
    )
    create.add_argument("--all-targets", action="store_true", help="every target of the lock")
    add_wheel_options(create)
    add_backend_option(create)
    add_index_option(create)
    add_json_option(create)
    create.set_defaults(handler=_create)

    verify = sub.add_parser("verify", help="re-hash every file of a mirror against its manifest")
    verify.add_argument("dir", type=Path)
    add_json_option(verify)
    verify.set_defaults(handler=_verify)

    serve = sub.add_parser("serve", help="serve a mirror over HTTP (loopback by default)")
    serve.add_argument("dir", type=Path)
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    serve.set_defaults(handler=_serve)


def _create(args: argparse.Namespace) -> int:
    from cmpkg import console, mirror
    from cmpkg.atomic import write_text
    from cmpkg.index import active_index_dirs
    from cmpkg.lock import render
    from cmpkg.pyenv import WheelSource
    from cmpkg.store.store import Store

    lock, index_dirs = _lock_for(args)
    targets = _selected(lock, args)
    root = args.dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    previous = mirror.read_manifest(root)
    wheels = WheelSource(tuple(args.find_links), (), args.no_index)
    sources = {
        s.filename: s for t in targets.values() for p in t.packages.values() for s in p.sources
    }
    artifacts = mirror.add_artifacts(
        root, sources.values(), Store(home()).downloads_dir, offline=False
    )
    fetched = sum(mirror.add_wheels(root, t, wheels) for t in targets.values())
    mirror.snapshot_index(index_dirs or active_index_dirs(args.index), root)
    from dataclasses import replace

    write_text(root / mirror.LOCK, render(replace(lock, targets=targets)))
    manifest = mirror.write_manifest(root, previous)
    if args.json:
        console.print_json(
            {
                "mirror": str(root),
                "files": len(manifest.files),
                "new_artifacts": artifacts,
                "new_wheels": fetched,
            }
        )
    else:
        console.info(
            f"mirror {root}: {len(manifest.files)} files "
            f"({artifacts} artifacts and {fetched} wheels fetched)"
        )
    return 0


def _lock_for(args: argparse.Namespace) -> tuple[Any, list[Path]]:
    """The lock to mirror: one made now for REQs, the given file, or the project's."""
    from cmpkg import project as project_file
    from cmpkg.index import active_index_dirs, load_active_index
    from cmpkg.lock import read_lock
    from cmpkg.lock.make import make_lock
    from cmpkg.pyenv import WheelSource

    if args.requests:
        index = load_active_index(args.index)
        wheels = WheelSource(tuple(args.find_links), (), args.no_index)
        targets = args.target or ["cpu"]
        lock = make_lock(index, args.requests, targets, wheels, backend=args.backend)
        return lock, list(active_index_dirs(args.index))
    project = project_file.find(Path.cwd())
    path = args.lock or ((project.parent if project else Path.cwd()) / project_file.LOCKFILE)
    extra = project_file.load(project).index_dirs() if project else []
    return read_lock(path), list(active_index_dirs([*extra, *args.index]))


def _selected(lock: Any, args: argparse.Namespace) -> dict[str, Any]:
    from cmpkg.errors import UsageError

    if args.all_targets or args.requests or not args.target:
        return dict(lock.targets)
    unknown = sorted(set(args.target) - set(lock.targets))
    if unknown:
        raise UsageError(
            "unknown-lock-target",
            f"the lock has no target {', '.join(unknown)}",
            hint=f"it has: {', '.join(lock.targets)}",
        )
    return {t: lock.targets[t] for t in args.target}


def _verify(args: argparse.Namespace) -> int:
    from cmpkg import console, mirror
    from cmpkg.errors import UsageError

    if mirror.read_manifest(args.dir) is None:
        raise UsageError(
            "bad-mirror",
            f"{args.dir} is not a cmpkg mirror (no {mirror.MANIFEST})",
            hint="make one with `cmpkg mirror create DIR`",
        )
    problems = mirror.verify(args.dir)
    if args.json:
        console.print_json({"ok": not problems, "problems": problems})
    else:
        for line in problems:
            console.message("error", line)
        if not problems:
            console.info(f"{args.dir}: every file matches the manifest")
    return 1 if problems else 0


def _serve(args: argparse.Namespace) -> int:
    import functools
    import http.server

    from cmpkg import console, mirror

    if mirror.read_manifest(args.dir) is None:
        from cmpkg.errors import UsageError

        raise UsageError("bad-mirror", f"{args.dir} is not a cmpkg mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(args.dir))
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        console.info(
            f"serving {args.dir} at http://{args.bind}:{server.server_address[1]}/ (Ctrl-C to stop)"
        )
        server.serve_forever()
    return 0
