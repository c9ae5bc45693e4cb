"""`cmpkg index check`, `cmpkg search`, `cmpkg show`: reading the recipe index.

Only argparse is imported at load time; the index, its queries and the console are imported
inside the handlers. Every command reads the active stack (`load_active_index`): the shipped
index, then `CMPKG_INDEX`, then `--index` directories, later ones taking precedence.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from cmpkg.index import Index
    from cmpkg.index.model import Recipe
    from cmpkg.index.query import Match


def register(subparsers: Any) -> None:
    index = subparsers.add_parser("index", help="work with recipe indexes")
    sub = index.add_subparsers(dest="index_command", metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="validate recipes (default: the active index stack)",
        description="Validate recipes: every problem is listed as `file: key: message` (exit 2).",
    )
    check.add_argument(
        "paths",
        nargs="*",
        help="index directories or recipe files, stacked on the active index",
    )
    _add_index_option(check)
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.set_defaults(handler=_check)

    search = subparsers.add_parser(
        "search",
        help="find packages by name or CM-style tags",
        description="QUERY is a name substring, or comma-separated tags (get,ml-model,resnet50); "
        "a tag starting with '-' excludes.",
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--json", action="store_true", help="print one JSON document")
    _add_index_option(search)
    search.set_defaults(handler=_search)

    show = subparsers.add_parser(
        "show",
        help="show a package: versions, variants, dependencies, hardware, sources",
        description="NAME may carry a version range: `cmpkg show 'torch==2.8.0'`.",
    )
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    _add_index_option(show)
    show.set_defaults(handler=_show)


def _add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="PATH",
        help="an extra index directory, stacked last (repeatable)",
    )


def _paths(texts: list[str]) -> list[Path]:
    from pathlib import Path

    return [Path(t) for t in texts]


def _check(args: argparse.Namespace) -> int:
    from cmpkg.index import load_active_index

    index = load_active_index(_paths([*args.index, *args.paths]))
    count = sum(1 for _ in index.all())
    if args.json:  # problems are an `error` document (exit 2), as for every command
        from cmpkg import console

        console.print_json({"ok": True, "recipes": count, "packages": len(index.recipes)})
        return 0
    from cmpkg.console import plural

    print(f"{plural(count, 'recipe')} in {plural(len(index.recipes), 'package')}: ok")
    return 0


def _search(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.index import load_active_index
    from cmpkg.index.query import match_json, search

    matches = search(load_active_index(_paths(args.index)), args.query)
    if args.json:
        console.print_json([match_json(m) for m in matches])
        return 0
    if not matches:
        console.info(f"no package matches {args.query!r}")
        console.message("hint", "search by name (`resnet`) or by tags (`get,ml-model,resnet50`)")
        return 0
    print(console.table([_search_row(m) for m in matches], _SEARCH_HEADER))
    return 0


_SEARCH_HEADER = ["name", "version", "kind", "tags", "summary"]


def _search_row(match: Match) -> list[str]:
    versions = match.versions()
    shown = versions[0] + (f" (+{len(versions) - 1})" if len(versions) > 1 else "")
    return [match.name, shown, match.newest.kind, ",".join(match.tags()), match.newest.summary]


def _show(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.index import load_active_index
    from cmpkg.index.query import describe

    index = load_active_index(_paths(args.index))
    recipes = _find(index, args.name)
    if args.json:
        console.print_json({"name": recipes[0].name, "versions": [describe(r) for r in recipes]})
        return 0
    print(_render(describe(recipes[0]), others=[describe(r)["version"] for r in recipes[1:]]))
    return 0


def _find(index: Index, text: str) -> tuple[Recipe, ...]:
    """The recipes NAME (with an optional range) selects, newest first, or a CmpkgError."""
    from cmpkg.errors import UsageError
    from cmpkg.index.query import close_names
    from cmpkg.index.requirement import parse_dependency

    try:
        dep = parse_dependency(text)
    except ValueError as error:
        raise UsageError("bad-package-name", str(error)) from None
    if dep.name is None:
        raise UsageError(
            "bad-package-name", "`show` takes a name", hint=f"try `cmpkg search {text}`"
        )
    recipes = index.get(dep.name)
    if not recipes:
        close = close_names(index, dep.name)
        hint = f"did you mean {', '.join(close)}?" if close else "`cmpkg search` lists packages"
        raise UsageError("unknown-package", f"no package named {dep.name!r}", hint=hint)
    chosen = tuple(
        r for r in recipes if r.version is None or dep.specifier.contains(r.version, True)
    )
    if not chosen:
        have = ", ".join(str(r.version) for r in recipes)
        raise UsageError(
            "no-such-version", f"no {dep.name} {dep.specifier}", hint=f"versions: {have}"
        )
    return chosen


def _render(info: dict[str, Any], others: list[str]) -> str:
    """`cmpkg show` for people: the newest selected version in full, the others listed."""
    lines = [
        f"{info['name']} {info['version']}  ({info['kind']})",
        f"  {info['summary']}",
        f"  homepage: {info['homepage']}",
        f"  license:  {info['license']}",
        f"  tags:     {', '.join(info['tags'])}",
        f"  recipe:   {info['path']}",
    ]
    if others:
        lines.append(f"  other versions: {', '.join(others)}")
    lines += _render_provide(info["provide"])
    lines += _render_deps("depends", info["depends"])
    lines += _render_deps("hardware", info["hardware"])
    lines += _render_variants(info["variants"], info["invalid"])
    lines += _render_sources(info["sources"])
    lines += _render_mapping("env", info["env"])
    paths = {var: ":".join(dirs) for var, dirs in info["paths"].items()}
    lines += _render_mapping("paths", paths)
    if info["files"]:
        lines.append(f"  files: {', '.join(info['files'])}")
    if info["run"]:
        lines.append(f"  run: {' '.join(info['run'])}")
    return "\n".join(lines)


def _render_provide(provide: dict[str, Any] | None) -> list[str]:
    if provide is None:
        return []
    details = [f"{k}={v}" for k, v in provide.items() if k != "method" and v not in ([], None, "")]
    return [f"  provide: {provide['method']}" + (f"  ({'; '.join(details)})" if details else "")]


def _render_deps(title: str, deps: list[dict[str, Any]]) -> list[str]:
    if not deps:
        return []
    lines = [f"  {title}:"]
    for dep in deps:
        when = ",".join(f"{k}={v}" for k, v in dep["when"].items())
        lines.append(f"    {dep['requirement']}" + (f"  when {when}" if when else ""))
    return lines


def _render_variants(groups: list[dict[str, Any]], invalid: list[dict[str, str]]) -> list[str]:
    lines = ["  variants:"] if groups else []
    for group in groups:
        values = ", ".join(v["value"] for v in group["values"])
        lines.append(f"    {group['name']} = {values}  (default {group['default']})")
        lines += [
            f"      {v['value']}: {_value_text(v)}" for v in group["values"] if _value_text(v)
        ]
    for pairs in invalid:
        lines.append("    invalid: " + ",".join(f"{k}={v}" for k, v in pairs.items()))
    return lines


def _value_text(value: dict[str, Any]) -> str:
    parts = [f"python {' '.join(value['python'])}"] if value["python"] else []
    parts += [f"index {value['index_url']}"] if value["index_url"] else []
    parts += [f"{k}={v}" for k, v in value["env"].items()]
    return "; ".join(parts)


def _render_sources(sources: list[dict[str, Any]]) -> list[str]:
    lines = ["  sources:"] if sources else []
    for source in sources:
        when = ",".join(f"{k}={v}" for k, v in source["when"].items())
        digest = _digest_text(source)
        lines.append(f"    {_file_text(source)}  {digest}" + (f"  when {when}" if when else ""))
        lines += [f"      url: {url}" for url in source["url"]]
        lines.append(f"      verified: {source['verified']}")
    return lines


def _render_mapping(title: str, mapping: dict[str, str]) -> list[str]:
    return [f"  {title}:"] + [f"    {k}={v}" for k, v in mapping.items()] if mapping else []


def _digest_text(source: dict[str, Any]) -> str:
    if source["sha256"]:
        return f"sha256 {source['sha256']}"
    return f"md5 {source['md5']}" if source["md5"] else "no hash (unverified)"


def _file_text(source: dict[str, Any]) -> str:
    hub = source.get("huggingface")
    if not hub:
        return str(source["filename"])
    gated = ", gated" if hub["gated"] else ""
    return f"{hub['path']} (huggingface {hub['repo']} @ {hub['revision']}{gated})"
