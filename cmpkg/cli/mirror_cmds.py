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
    create.add_argument(
        "--expires-days",
        type=_positive,
        metavar="N",
        help="the mirror expires N days from now (default: keep the previous expiry, or 365)",
    )
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
    from cmpkg import console
    from cmpkg.mirror.create import CreatePlan, create
    from cmpkg.pyenv import WheelSource
    from cmpkg.store.store import Store

    root = args.dir.resolve()
    lock, index_dirs = _lock_for(args, root)
    created = create(
        CreatePlan(
            root=root,
            lock=lock,
            targets=_selected(lock, args),
            index_dirs=index_dirs,
            wheels=WheelSource(tuple(args.find_links), (), args.no_index),
            downloads=Store(home()).downloads_dir,
            expires_days=args.expires_days,
        )
    )
    files = len(created.manifest.files)
    if args.json:
        console.print_json(
            {
                "mirror": str(root),
                "files": files,
                "new_artifacts": created.new_artifacts,
                "new_wheels": created.new_wheels,
                "changed": created.changed,
                "created": created.manifest.to_json()["created"],
                "expires": created.manifest.to_json().get("expires"),
                "notes": list(created.notes),
            }
        )
        return 0
    for note in created.notes:
        console.message("note", note)
    state = "updated" if created.changed else "unchanged"
    console.info(
        f"mirror {root} {state}: {files} files "
        f"({created.new_artifacts} artifacts and {created.new_wheels} wheels fetched)"
    )
    return 0


def _lock_for(args: argparse.Namespace, root: Path) -> tuple[Any, list[Path]]:
    """The lock to mirror and the index stack it was made from: one made now for REQs, the
    given file (with the index of the project it belongs to), or the current project's."""
    from cmpkg import project as project_file
    from cmpkg.index import active_index_dirs
    from cmpkg.lock import read_lock

    if args.requests:
        return _lock_requests(args, root)
    if args.lock is not None:
        path = args.lock.resolve()
        project = project_file.find(path.parent)
    else:
        project = project_file.find(Path.cwd())
        path = (project.parent if project else Path.cwd()) / project_file.LOCKFILE
    extra = project_file.load(project).index_dirs() if project else []
    return read_lock(path), list(active_index_dirs([*extra, *args.index]))


def _lock_requests(args: argparse.Namespace, root: Path) -> tuple[Any, list[Path]]:
    """Lock REQs now, unless the mirror's own lock was made for the same inputs and every
    recipe it uses is unchanged: then re-creating needs no solve and no network."""
    import hashlib
    import json
    from dataclasses import replace

    from cmpkg.errors import CmpkgError
    from cmpkg.index import active_index_dirs, load_index
    from cmpkg.lock import read_lock
    from cmpkg.lock.check import stale_reasons
    from cmpkg.lock.make import make_lock
    from cmpkg.mirror import LOCK
    from cmpkg.pyenv import WheelSource

    dirs = list(active_index_dirs(args.index))
    index = load_index(dirs)
    targets = args.target or ["cpu"]
    inputs = {"requests": args.requests, "targets": targets, "index": [str(d) for d in dirs],
              "find-links": args.find_links, "no-index": args.no_index}  # fmt: skip
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    if (root / LOCK).is_file():
        try:
            old = read_lock(root / LOCK)
        except CmpkgError:
            old = None
        if old is not None and not stale_reasons(old, digest, tuple(targets), index):
            return old, dirs
    wheels = WheelSource(tuple(args.find_links), (), args.no_index)
    lock = make_lock(index, args.requests, targets, wheels, backend=args.backend)
    return replace(lock, manifest_hash=digest), dirs


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


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of days")
    return int(text)


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
