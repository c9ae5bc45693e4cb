"""`cmpkg cache dir|list|info|verify|gc|rm|push|pull`: looking after the store, and sharing
it through a binary cache (docs/cache.md).

Keys may be given by any unique prefix. Data goes to stdout (`--json`: one document with
sorted keys); messages to stderr. The store is imported inside the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmpkg.store import Entry, Store


def register(subparsers: Any) -> None:
    cache = subparsers.add_parser("cache", help="inspect, verify and clean the store")
    sub = cache.add_subparsers(dest="cache_command", metavar="COMMAND")
    sub.add_parser("dir", help="print the store directory").set_defaults(handler=_dir)
    listing = sub.add_parser("list", help="list complete entries")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)
    info = sub.add_parser("info", help="show one entry")
    info.add_argument("key", metavar="KEY", help="store key or unique prefix")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_info)
    verify = sub.add_parser("verify", help="check entries against their file manifests")
    verify.add_argument(
        "key", nargs="?", metavar="KEY", help="store key or unique prefix (default: all)"
    )
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(handler=_verify)
    gc = sub.add_parser("gc", help="remove unreferenced entries and dead leftovers")
    gc.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    gc.add_argument("--json", action="store_true", help="print JSON")
    gc.set_defaults(handler=_gc)
    rm = sub.add_parser("rm", help="remove one entry (refused while an environment uses it)")
    rm.add_argument("key", metavar="KEY", help="store key or unique prefix")
    rm.add_argument(
        "--force", action="store_true", help="remove it anyway; its environments become broken"
    )
    rm.set_defaults(handler=_rm)
    _register_sharing(sub)
    cache.set_defaults(handler=lambda args: _usage(cache))


def _selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("keys", nargs="*", metavar="KEY", help="store keys (or unique prefixes)")
    parser.add_argument("--env", metavar="NAME", help="every entry of an installed environment")
    parser.add_argument(
        "--lock", metavar="FILE", nargs="?", const="cmpkg.lock", help="every entry of a lock"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _register_sharing(sub: Any) -> None:
    push = sub.add_parser("push", help="push entries to a binary cache, signed")
    _selection_options(push)
    push.add_argument(
        "--to", required=True, metavar="URL", help="oci://HOST[:PORT]/REPO or a directory"
    )
    push.add_argument("--key", metavar="NAME|FILE", help="the signing key (default: the only one)")
    push.add_argument("--jobs", type=int, default=4, metavar="N", help="parallel uploads")
    push.set_defaults(handler=_push)
    pull = sub.add_parser("pull", help="pull entries from binary caches into the store")
    _selection_options(pull)
    pull.add_argument(
        "--from",
        dest="sources",
        action="append",
        default=[],
        metavar="URL",
        help="a cache (repeatable; then cmpkg.toml's and the config's [[cache]])",
    )
    pull.add_argument("--offline", action="store_true", help="only loopback and directory caches")
    pull.add_argument("--jobs", type=int, default=4, metavar="N", help="parallel downloads")
    pull.set_defaults(handler=_pull)


def _selection(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from cmpkg.commands.cache import Selection

    return Selection(tuple(args.keys), args.env, Path(args.lock) if args.lock else None)


def _push(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.cache import push

    report = (lambda _t: None) if args.json else console.info
    done = push(_selection(args), args.to, args.key, args.jobs, report)
    if args.json:
        skipped = [{"key": k, "why": why} for k, why in done.skipped]
        console.print_json(
            {
                "url": done.url,
                "pushed": list(done.pushed),
                "present": list(done.present),
                "skipped": skipped,
            }
        )
        return 0
    for key, why in done.skipped:
        console.info(f"skipped {key[:12]}: {why}")
    console.info(f"pushed {len(done.pushed)}, already there {len(done.present)}, to {done.url}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cmpkg import console
    from cmpkg.commands.cache import pull

    done = pull(_selection(args), tuple(args.sources), Path.cwd(), args.offline, args.jobs)
    if args.json:
        console.print_json(
            {
                "pulled": list(done.pulled),
                "present": list(done.present),
                "missing": list(done.missing),
            }
        )
    else:
        for key in done.missing:
            console.message("warning", f"{key[:12]} is in no cache")
        counts = f"{len(done.pulled)}, already here {len(done.present)}"
        console.info(f"pulled {counts}, missing {len(done.missing)}")
    return 1 if done.missing else 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _store() -> Store:
    from cmpkg.store import Store

    return Store()


def _summary(store: Store, entry: Entry, used_by: Mapping[str, list[str]]) -> dict[str, Any]:
    """What `cache list` and `cache info` say about one entry (docs/cli.md has the schema)."""
    meta = entry.meta
    return {
        "key": entry.key,
        "name": str(meta.get("package") or meta.get("name") or ""),
        "version": str(meta.get("version") or ""),
        "variant": dict(meta.get("variant") or {}),
        "kind": str(meta.get("kind") or ""),
        "size": entry.size,
        "created": entry.created,
        "last_used": store.last_used(entry),
        "used_by": used_by.get(entry.key, []),
        "path": str(entry.path),
    }


def _users(store: Store) -> dict[str, list[str]]:
    """Entry key -> the environments (or other roots) that use it, sorted."""
    from cmpkg.store.roots import env_of

    users: dict[str, list[str]] = {}
    for name, root in sorted(store.root_records().items()):
        for key in root.keys:
            users.setdefault(key, []).append(env_of(name) or name)
    return users


def _variant(variant: Mapping[str, str]) -> str:
    return ",".join(f"{g}={v}" for g, v in sorted(variant.items()))


def _dir(args: argparse.Namespace) -> int:
    print(_store().base)
    return 0


def _list(args: argparse.Namespace) -> int:
    from cmpkg import console

    store = _store()
    users = _users(store)
    entries = [_summary(store, e, users) for e in store.list()]
    if args.json:
        console.print_json({"entries": entries})
        return 0
    rows = [
        [
            e["key"][:12],
            e["name"] or "?",
            e["version"] or "-",
            _variant(e["variant"]) or "-",
            _human(e["size"]),
            e["last_used"][:16].replace("T", " "),
            ", ".join(e["used_by"]) or "-",
        ]
        for e in entries
    ]
    headers = ["KEY", "NAME", "VERSION", "VARIANT", "SIZE", "LAST USED", "USED BY"]
    print(console.table(rows, headers))
    return 0


def _info(args: argparse.Namespace) -> int:
    from cmpkg import console

    store = _store()
    entry = store.info(store.resolve(args.key))
    summary = _summary(store, entry, _users(store))
    if args.json:
        console.print_json({**summary, "metadata": dict(entry.metadata)})
        return 0
    summary["variant"] = _variant(summary["variant"])
    summary["used_by"] = ", ".join(summary["used_by"]) or "no environment"
    for name, value in summary.items():
        print(f"{name + ':':10} {value}")
    for name, value in sorted(entry.meta.items()):
        print(f"  {name}: {value}")
    print(f"files:    {len(entry.files)}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from cmpkg import console

    store = _store()
    keys = [store.resolve(args.key)] if args.key else [e.key for e in store.list()]
    results = [store.verify(k) for k in keys]
    if args.json:
        console.print_json({"results": [_verify_json(r) for r in results]})
    for result in results:
        if args.json:
            break
        print(f"{result.key[:12]}  {'ok' if result.ok else 'MODIFIED'}")
        for kind, paths in (("changed", result.changed), ("missing", result.missing)):
            for path in paths:
                print(f"  {kind}: {path}")
        for path in result.added:
            print(f"  added: {path}")
    bad = [r for r in results if not r.ok]
    if bad:
        console.message(
            "error", f"{len(bad)} of {len(results)} entries were modified [entry-modified]"
        )
        console.message("hint", "remove them with `cmpkg cache rm KEY` and reinstall")
        return 1
    return 0


def _verify_json(result: Any) -> dict[str, Any]:
    return {
        "key": result.key,
        "ok": result.ok,
        "changed": list(result.changed),
        "missing": list(result.missing),
        "added": list(result.added),
    }


def _gc(args: argparse.Namespace) -> int:
    from cmpkg import config, console
    from cmpkg.index import compiled, documents

    result = _store().gc(dry_run=args.dry_run)
    unused = documents.prune(config.home() / compiled.CACHE_DIR, dry_run=args.dry_run)
    swept = [*result.swept, *(path for path, _ in unused)]
    freed = result.freed_bytes + sum(size for _, size in unused)
    if args.json:
        console.print_json(
            {
                "removed": list(result.removed),
                "in_use": list(result.in_use),
                "swept": [str(p) for p in swept],
                "freed_bytes": freed,
                "dry_run": result.dry_run,
            }
        )
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for key in result.removed:
        print(f"{verb} {key[:12]}")
    for key in result.in_use:
        console.message("warning", f"kept {key[:12]}: in use by a running process")
    console.info(
        f"{verb} {len(result.removed)} entries and {len(swept)} leftovers, {_human(freed)}"
    )
    return 0


def _rm(args: argparse.Namespace) -> int:
    from cmpkg import console

    store = _store()
    key = store.resolve(args.key)
    broken = store.remove(key, force=args.force)
    console.info(f"removed {key[:12]}")
    for root in broken:
        console.message("warning", f"{root.label} is now broken: `cmpkg install` it again")
    return 0


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
