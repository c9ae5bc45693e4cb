"""`cmpkg target show` and `cmpkg target list`: the hardware facts cmpkg resolves for."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    target = subparsers.add_parser("target", help="show hardware facts and target profiles")
    sub = target.add_subparsers(dest="target_command", metavar="COMMAND")
    show = sub.add_parser("show", help="every fact of a target, with its value and source")
    show.add_argument(
        "--target",
        default="host",
        help="host (default), cpu, cuda, a profile name or file, with optional :key=value tweaks",
    )
    show.add_argument("--json", action="store_true", help="one JSON document on stdout")
    show.set_defaults(handler=_show)
    listing = sub.add_parser("list", help="the built-in targets and shipped profiles")
    listing.add_argument("--json", action="store_true", help="one JSON document on stdout")
    listing.set_defaults(handler=_list)


def _show(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.probe import resolve_target

    target = resolve_target(args.target)
    if args.json:
        console.print_json(target.to_json())
        return 0
    print(_show_text(target))
    return 0


def _show_text(target: Any) -> str:
    from cmpkg import console

    older = {f"__microarch={m}" for m in target.microarch_lineage[1:]}
    rows = [
        [name, fact.version, fact.source, "probed" if fact.probed else "declared"]
        for name, fact in sorted(target.facts().items())
        if name not in older
    ]
    lines = [f"target {target.name}: {target.description}".rstrip(": "), ""]
    lines.append(console.table(rows, ["fact", "version", "source", "kind"]))
    lines += ["", f"python {target.python}, platform {', '.join(target.wheel_tags()[:3])}"]
    if older:
        lines.append(
            f"{target.microarch} also runs code for: {', '.join(target.microarch_lineage[1:])}"
        )
    if target.requires_cuda and target.cuda is None:
        lines.append("requires CUDA, and none was found: resolve and lock work, install fails")
    elif target.requires_cuda:
        lines.append("requires CUDA: only CUDA variants are eligible")
    lines += [f"gpu {g.name} (sm {g.compute_capability}, {g.memory_mib} MiB)" for g in target.gpus]
    lines += [_source_line(s) for s in target.sources]
    return "\n".join(lines)


def _source_line(status: Any) -> str:
    detail = f": {status.detail}" if status.detail else ""
    return f"source {status.name}: {status.status}{detail}"


def _list(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.probe import list_targets

    targets = list_targets()
    if args.json:
        console.print_json([{"name": n, "description": d} for n, d in targets])
        return 0
    print(console.table([[n, d] for n, d in targets], ["target", "description"]))
    return 0
