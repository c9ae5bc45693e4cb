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
)


def register(subparsers: Any) -> None:
    mirror = subparsers.add_parser("mirror", help="create, verify and serve offline mirrors")
    sub = mirror.add_subparsers(dest="mirror_command", metavar="COMMAND")

    create = sub.add_parser("create", help="write everything a lock needs into DIR")
    create.add_argument("dir", type=Path, metavar="DIR")
    create.add_argument(
        "requests", nargs="*", default=[], metavar="REQ", help="lock these instead of a lockfile"
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
    create.add_argument(
        "--sign", action="store_true", help="sign mirror.json (a key from `cmpkg key generate`)"
    )
    create.add_argument(
        "--key", metavar="NAME|FILE", help="the signing key (default: the only one)"
    )
    add_wheel_options(create)
    add_backend_option(create)
    add_index_option(create)
    add_json_option(create)
    create.set_defaults(handler=_create)

    verify = sub.add_parser("verify", help="re-hash every file of a mirror against its manifest")
    verify.add_argument("dir", type=Path, metavar="DIR")
    add_json_option(verify)
    verify.set_defaults(handler=_verify)

    serve = sub.add_parser("serve", help="serve a mirror over HTTP (loopback by default)")
    serve.add_argument("dir", type=Path, metavar="DIR")
    serve.add_argument("--port", type=int, default=8765, metavar="P", help="default 8765")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDR", help="address to listen on")
    serve.set_defaults(handler=_serve)


def _create(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.mirror import create_mirror

    created = create_mirror(_create_input(args))
    if args.json:
        console.print_json(_created_json(args.dir.resolve(), created))
        return 0
    for note in created.notes:
        console.message("note", note)
    state = "updated" if created.changed else "unchanged"
    files = console.plural(len(created.manifest.files), "file")
    console.info(
        f"mirror {args.dir.resolve()} {state}: {files} "
        f"({console.plural(created.new_artifacts, 'artifact')} and "
        f"{console.plural(created.new_wheels, 'wheel')} fetched)"
    )
    return 0


def _create_input(args: argparse.Namespace) -> Any:
    from cmpkg.commands.mirror import MirrorCreateInput

    return MirrorCreateInput(
        root=args.dir,
        requests=tuple(args.requests),
        lock_path=args.lock,
        targets=tuple(args.target),
        all_targets=args.all_targets,
        index_dirs=tuple(args.index),
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        backend=args.backend,
        expires_days=args.expires_days,
        sign=args.sign,
        key=args.key,
    )


def _created_json(root: Path, created: Any) -> dict[str, Any]:
    manifest = created.manifest.to_json()
    return {
        "mirror": str(root),
        "files": len(created.manifest.files),
        "new_artifacts": created.new_artifacts,
        "new_wheels": created.new_wheels,
        "changed": created.changed,
        "created": manifest["created"],
        "expires": manifest.get("expires"),
        "notes": list(created.notes),
    }


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
        if problems:
            console.message("hint", mirror.BROKEN_HINT)
        else:
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
