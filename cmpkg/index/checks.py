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
        if dep.tags and not index.match_tags(dep.tags):
            yield f"{recipe.path}: {key}: tag query {','.join(dep.tags)} matches no recipe"
        elif dep.name and not is_virtual(dep.name) and not index.get(dep.name):
            yield f"{recipe.path}: {key}: no recipe named {dep.name!r}"


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
