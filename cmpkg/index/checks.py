"""Checks across the recipes of a loaded index: what no single file can know.

Tag queries that match nothing, dependencies on packages no recipe provides, and cycles
among unconditional dependencies. Returns problem lines; raising is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterator

from cmpkg.index import Index
from cmpkg.index.model import Dependency, Recipe, is_virtual


def check_index(index: Index) -> list[str]:
    problems = [p for r in index.all() for p in _check_targets(index, r)]
    return problems + _check_cycles(index)


def all_dependencies(recipe: Recipe) -> Iterator[tuple[str, Dependency]]:
    """Every dependency of a recipe with its key path, variant-value ones included."""
    for i, dep in enumerate(recipe.depends):
        yield f"depends[{i}]", dep
    for group in recipe.variants:
        for value in group.values:
            for i, dep in enumerate(value.depends):
                yield f"variants.{group.name}.{value.value}.depends[{i}]", dep


def _check_targets(index: Index, recipe: Recipe) -> Iterator[str]:
    for key, dep in all_dependencies(recipe):
        if dep.name and is_virtual(dep.name):
            continue
        names = index.match_tags(dep.tags) if dep.tags else [dep.name or ""]
        if dep.tags and not names:
            yield f"{recipe.path}: {key}: tag query {','.join(dep.tags)} matches no recipe"
        elif dep.name and not index.get(dep.name):
            yield f"{recipe.path}: {key}: no recipe named {dep.name!r}"
        else:
            problem = _unsatisfiable(index, names, dep)
            if problem:
                yield f"{recipe.path}: {key}: {problem}"


def _unsatisfiable(index: Index, names: list[str], dep: Dependency) -> str | None:
    """Why no recipe could ever satisfy `dep` (a version range or a variant pin), or None.

    A typo in a pin (`compute=cu1288`) would otherwise surface only as an unsatisfiable
    solve on the one machine whose variant choice reaches it.
    """
    candidates = [r for n in names for r in index.get(n) if _in_range(r, dep)]
    if not candidates:
        have = ", ".join(str(r.version) for n in names for r in index.get(n))
        return f"no version of {dep.describe()} exists (have: {have})"
    for group, value in dep.variants:
        if not any(_has_value(r, group, value) for r in candidates):
            return f"{dep.describe()}: no candidate has variant {group}={value}"
    return None


def _in_range(recipe: Recipe, dep: Dependency) -> bool:
    """Detected tools have no fixed version: their range is checked when they are found."""
    return recipe.version is None or dep.specifier.contains(recipe.version, prereleases=True)


def _has_value(recipe: Recipe, group: str, value: str) -> bool:
    found = recipe.group(group)
    return found is not None and value in found.names


def _check_cycles(index: Index) -> list[str]:
    """Cycles among dependencies that hold for every variant (no `when`), by name."""
    edges = {
        name: sorted({d.name for r in rs for d in r.depends if d.name and not d.when})
        for name, rs in index.recipes.items()
    }
    problems: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in edges.get(name, []):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                recipe = index.recipes[name][0]
                problems.append(f"{recipe.path}: depends: dependency cycle {' -> '.join(cycle)}")
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = 2

    for name in edges:
        if name not in state:
            visit(name, [name])
    return problems
