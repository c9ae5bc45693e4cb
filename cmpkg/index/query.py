"""Finding and describing packages of a loaded index: what `cmpkg search` and `cmpkg show` print.

Pure functions from an `Index` (and a query) to plain values: lists of `Match`, and JSON-ready
dicts. No I/O and no formatting for a terminal; the CLI does both.

Query syntax (CM's tag queries, plus names):

    resnet                     packages whose name contains `resnet`, or tagged `resnet`
    get,ml-model,resnet50      a comma means tags: every tag must be on one recipe
    tags:resnet50              tags explicitly (one tag)
    get,ml-model,-synthetic    a tag with a leading `-` must be absent (CM's exclusion)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cmpkg.index import Index
from cmpkg.index.model import (
    Dependency,
    Provide,
    Recipe,
    Source,
    VariantGroup,
    all_dependencies,
    is_virtual,
)


class Match(NamedTuple):
    """One package found by a search: its recipes newest first (at least one)."""

    name: str
    recipes: tuple[Recipe, ...]

    @property
    def newest(self) -> Recipe:
        return self.recipes[0]

    def versions(self) -> list[str]:
        return [version_text(r) for r in self.recipes]

    def tags(self) -> list[str]:
        """Tags of every version, in first-seen order (versions may differ)."""
        return list(dict.fromkeys(t for r in self.recipes for t in r.tags))


def version_text(recipe: Recipe) -> str:
    """`2.9.1`, or `detect >=3.10` for a detected tool (its version is what is found)."""
    if recipe.version is not None:
        return str(recipe.version)
    spec = str(recipe.provide.version_range) if recipe.provide else ""
    return f"detect {spec}".rstrip()


def parse_query(query: str) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """(name substring or None, wanted tags, excluded tags) of a search query."""
    text = query.strip().lower()
    explicit = text.startswith("tags:")
    if explicit:
        text = text[len("tags:") :]
    if not explicit and "," not in text and not text.startswith("-"):
        return text, (), ()
    parts = [p.strip() for p in text.split(",") if p.strip()]
    wanted = tuple(p for p in parts if not p.startswith("-"))
    excluded = tuple(p[1:] for p in parts if p.startswith("-") and len(p) > 1)
    return None, wanted, excluded


def search(index: Index, query: str) -> list[Match]:
    """Packages matching `query` (syntax in the module docstring), sorted by name."""
    name, wanted, excluded = parse_query(query)
    matches = []
    for package, recipes in index.recipes.items():
        if name is not None:
            hit = name in package or any(name in (t.lower() for t in r.tags) for r in recipes)
            found = recipes if hit else ()
        else:
            found = tuple(r for r in recipes if _has_tags(r, wanted, excluded))
        if found:
            matches.append(Match(package, found))
    return sorted(matches, key=lambda m: m.name)


def _has_tags(recipe: Recipe, wanted: tuple[str, ...], excluded: tuple[str, ...]) -> bool:
    tags = {t.lower() for t in recipe.tags}
    return set(wanted) <= tags and not tags & set(excluded)


def close_names(index: Index, name: str, limit: int = 3) -> list[str]:
    """Package names that look like `name` (typos, missing prefixes), best first."""
    names = list(index.recipes)
    import difflib  # here: only a miss asks for close names

    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    contains = [n for n in names if name and name in n and n not in close]
    return (close + sorted(contains))[:limit]


def match_json(match: Match) -> dict[str, Any]:
    """The `cmpkg search --json` row of one package."""
    return {
        "name": match.name,
        "kind": match.newest.kind,
        "versions": match.versions(),
        "tags": match.tags(),
        "summary": match.newest.summary,
    }


def describe(recipe: Recipe) -> dict[str, Any]:
    """Everything `cmpkg show` tells about one recipe, as JSON-ready values."""
    packages, hardware = split_dependencies(recipe)
    return {
        "name": recipe.name,
        "version": version_text(recipe),
        "kind": recipe.kind,
        "summary": recipe.summary,
        "license": recipe.license,
        "homepage": recipe.homepage,
        "tags": list(recipe.tags),
        "path": str(recipe.path),
        "provide": _provide(recipe.provide),
        "depends": packages,
        "hardware": hardware,
        "variants": [_group(g) for g in recipe.variants],
        "invalid": [dict(pairs) for pairs in recipe.invalid],
        "sources": [_source(s) for s in recipe.sources],
        "env": dict(recipe.env),
        "paths": {var: list(dirs) for var, dirs in recipe.paths},
        "files": list(recipe.files),
        "run": list(recipe.run),
    }


def split_dependencies(recipe: Recipe) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(package dependencies, hardware requirements), each with where it applies."""
    packages: list[dict[str, Any]] = []
    hardware: list[dict[str, Any]] = []
    for key, dep in all_dependencies(recipe):
        row = {"requirement": dep.describe(), "when": _when(key, dep)}
        (hardware if dep.name and is_virtual(dep.name) else packages).append(row)
    return packages, hardware


def _when(key: str, dep: Dependency) -> dict[str, str]:
    """A dependency's condition: its own `when`, or the variant value that declares it."""
    when = dict(dep.when)
    if key.startswith("variants."):
        _, group, value, _ = key.split(".", 3)
        when[group] = value
    return when


def _group(group: VariantGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "default": group.default,
        "description": group.description,
        "values": [
            {
                "value": v.value,
                "python": list(v.python),
                "index_url": v.index_url,
                "env": dict(v.env),
                "depends": [d.describe() for d in v.depends],
            }
            for v in group.values
        ],
    }


def _source(source: Source) -> dict[str, Any]:
    return {
        "url": list(source.urls),
        "filename": source.filename,
        "sha256": source.sha256,
        "md5": source.md5,
        "size": source.size,
        "extract": source.extract,
        "verified": source.verified,
        "when": dict(source.when),
        "huggingface": None
        if source.hub is None
        else {
            "repo": source.hub.repo,
            "revision": source.hub.revision,
            "path": source.hub.path,
            "gated": source.hub.gated,
        },
    }


def _provide(provide: Provide | None) -> dict[str, Any] | None:
    """The fields of the provide method that matter for it (the rest are defaults)."""
    if provide is None:
        return None
    fields: dict[str, dict[str, Any]] = {
        "detect": {
            "executables": list(provide.executables),
            "locations": list(provide.locations),
            "version_files": list(provide.version_files),
            "version_args": list(provide.version_args),
            "version_regex": provide.version_regex,
            "range": str(provide.version_range),
        },
        "python": {"requirements": list(provide.requirements), "index_url": provide.index_url},
        "generate": {"script": provide.script, "args": list(provide.args)},
        "user-path": {"must_contain": list(provide.must_contain)},
        "download": {},
    }
    return {"method": provide.method, **fields[provide.method]}


def check_request(name: str, recipes: tuple[Recipe, ...] | list[Recipe], dep: Dependency) -> None:
    """Raise a UsageError if `dep` asks `name` for a variant group or value that no recipe of
    it has: a bad request (exit 2) with the valid choices, not an unsatisfiable one."""
    from cmpkg.errors import UsageError

    groups: dict[str, list[str]] = {}
    for recipe in recipes:
        for group in recipe.variants:
            known = groups.setdefault(group.name, [])
            known += [v for v in group.names if v not in known]
    for group_name, value in dep.variants:
        if group_name not in groups:
            raise UsageError(
                "unknown-variant-group",
                f"{name} has no variant group `{group_name}`; groups: "
                + (", ".join(sorted(groups)) or "none"),
                hint=_did_you_mean(
                    group_name, sorted(groups), f"`cmpkg show {name}` lists its variants"
                ),
                data={"package": name, "group": group_name, "groups": sorted(groups)},
            )
        values = sorted(groups[group_name])
        if value not in values:
            raise UsageError(
                "unknown-variant-value",
                f"variant group `{group_name}` of {name} has no value `{value}`; "
                f"values: {', '.join(values)}",
                hint=_did_you_mean(
                    value, values, f"for example `{name}[{group_name}={values[0]}]`"
                ),
                data={"package": name, "group": group_name, "value": value, "values": values},
            )


def _did_you_mean(word: str, choices: list[str], otherwise: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"did you mean `{close[0]}`?" if close else otherwise


def check_versions(name: str, recipes: tuple[Recipe, ...] | list[Recipe], dep: Dependency) -> None:
    """Raise a UsageError if no recipe of `name` has a version in `dep`'s range."""
    from cmpkg.errors import UsageError

    if not str(dep.specifier) or any(
        r.version is None or dep.specifier.contains(r.version, True) for r in recipes
    ):
        return
    have = [str(r.version) for r in recipes]
    raise UsageError(
        "no-such-version",
        f"{name} has no version {dep.specifier}; versions: {', '.join(have)}",
        hint=f"`cmpkg show {name}` lists its versions",
        data={"package": name, "versions": have},
    )
