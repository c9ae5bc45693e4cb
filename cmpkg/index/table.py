"""The compact table of an index: per recipe, only what finding and checking packages needs.

Two plain-tuple shapes, chosen so that `marshal` stores and loads them with no per-row
Python code (the compiled cache, `cmpkg.index.compiled`, reads thousands at every start):

* a `Row` (what lookups need): version text or None, kind, tags, provide method or None,
  digest, recipe path;
* a `Summary` (what the cross-recipe checks need): name, version text, path, the variant
  groups with their values, and every dependency as (key path, name, tags, range text,
  variant pins, when, unconditional).

Both are built from a parsed `Recipe` by pure functions; nothing here does I/O. The full
`Recipe` is parsed again from its file only for the packages a command reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the no-op install reads the index's scan without the recipe model
    from cmpkg.index.model import Recipe

Row = tuple[str | None, str, tuple[str, ...], str | None, str, str]
Summary = tuple[Any, ...]

# Positions in a Row (plain tuples: see the module docstring).
VERSION: Final = 0
KIND: Final = 1
TAGS: Final = 2
METHOD: Final = 3
DIGEST: Final = 4
PATH: Final = 5


def row(recipe: Recipe) -> Row:
    version = None if recipe.version is None else str(recipe.version)
    method = recipe.provide.method if recipe.provide is not None else None
    return (version, recipe.kind, recipe.tags, method, recipe.digest, str(recipe.path))


def summary(recipe: Recipe) -> Summary:
    """The recipe's groups and dependencies as plain values (see `cmpkg.index.checks`)."""
    version = None if recipe.version is None else str(recipe.version)
    groups = tuple((g.name, g.names) for g in recipe.variants)
    deps = [
        (f"depends[{i}]", d.name, d.tags, str(d.specifier), d.variants, d.when, True)
        for i, d in enumerate(recipe.depends)
    ]
    for group in recipe.variants:
        for value in group.values:
            deps += [
                (
                    f"variants.{group.name}.{value.value}.depends[{i}]",
                    d.name,
                    d.tags,
                    str(d.specifier),
                    d.variants,
                    d.when,
                    False,
                )
                for i, d in enumerate(value.depends)
            ]
    return (recipe.name, version, str(recipe.path), groups, tuple(deps))


class TagIndex:
    """CM's tag query over a table: names with one recipe carrying every tag.

    Built in O(rows x tags) on first use; a query costs O(recipes with its rarest tag).
    """

    def __init__(self, table: dict[str, tuple[Row, ...]]) -> None:
        self._table = table
        self._by_tag: dict[str, set[tuple[str, int]]] = {}
        for name, rows in table.items():
            for i, r in enumerate(rows):
                for tag in r[TAGS]:
                    self._by_tag.setdefault(tag, set()).add((name, i))

    def match(self, tags: Sequence[str]) -> list[str]:
        if not tags:
            return sorted(n for n, rows in self._table.items() if rows)
        sets = sorted((self._by_tag.get(t, set()) for t in set(tags)), key=len)
        hits = set.intersection(*sets)
        return sorted({name for name, _ in hits})
