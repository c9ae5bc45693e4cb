"""The recipe index: stacked directories of recipe files, loaded and validated as one value.

`load_index(dirs)` reads every `*.toml` recipe under each directory (skipping `targets/`,
which holds target profiles), checks each file and then the whole stack, and returns an
`Index` or raises `InputError` listing every problem. Precedence: directories are stacked in
order (the shipped `index/` first, then the `CMPKG_INDEX` ones, then the config file's
`index` ones, then `--index` ones: the command line wins); a recipe in a later directory
replaces the recipe with the same name and version from an earlier one. `load_active_index`
builds that stack.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from cmpkg.errors import InputError
from cmpkg.index.fields import Problems
from cmpkg.index.load import load_recipe
from cmpkg.index.model import Dependency, Recipe
from cmpkg.shipped import SHIPPED_INDEX

#: Directories inside an index that hold other data than recipes.
NOT_RECIPES = {"targets"}


@dataclass(frozen=True)
class Index:
    """All recipes of a stack of index directories, by name, newest version first."""

    recipes: dict[str, tuple[Recipe, ...]]
    dirs: tuple[Path, ...]
    revision: str  # sha256 over every recipe's digest: changes whenever any recipe does

    def all(self) -> Iterator[Recipe]:
        for name in sorted(self.recipes):
            yield from self.recipes[name]

    def get(self, name: str) -> tuple[Recipe, ...]:
        return self.recipes.get(name, ())

    def match_tags(self, tags: Sequence[str]) -> list[str]:
        """Names of packages whose recipes carry every tag (CM's tag query)."""
        wanted = set(tags)
        return sorted(n for n, rs in self.recipes.items() if any(wanted <= set(r.tags) for r in rs))


def recipe_files(directory: Path) -> list[Path]:
    files = directory.rglob("*.toml") if directory.is_dir() else [directory]
    return sorted(p for p in files if not NOT_RECIPES & set(p.relative_to(directory).parts[:-1]))


def load_index(dirs: Sequence[Path]) -> Index:
    """Load and validate a stack of index directories; raise InputError with every problem."""
    from cmpkg.index.checks import check_index

    problems: list[str] = []
    layers = [_load_layer(d, problems) for d in dirs]
    merged: dict[tuple[str, Version | None], Recipe] = {}
    for layer in layers:
        merged.update(layer)
    by_name: dict[str, list[Recipe]] = {}
    for recipe in merged.values():
        by_name.setdefault(recipe.name, []).append(recipe)
    recipes = {
        n: tuple(sorted(rs, key=_newest_first, reverse=True)) for n, rs in sorted(by_name.items())
    }
    index = Index(recipes, tuple(dirs), _revision(merged.values()))
    problems += check_index(index)
    if problems:
        raise InputError(problems, hint="fix the recipes above; `cmpkg index check` re-checks them")
    return index


def active_index_dirs(extra_dirs: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The stack in precedence order: shipped, then `CMPKG_INDEX` dirs, then the config
    file's `index`, then `extra_dirs` (the command line's `--index`)."""
    from cmpkg import config, envvars

    from_env = [Path(p) for p in (envvars.get("CMPKG_INDEX") or "").split(os.pathsep) if p]
    return (SHIPPED_INDEX, *from_env, *config.load().index, *extra_dirs)


def load_active_index(extra_dirs: Sequence[Path] = ()) -> Index:
    """The index every command uses: `active_index_dirs(extra_dirs)` loaded and validated.

    `extra_dirs` are the `--index` directories of the command line (highest precedence).
    Raises `InputError` listing every problem in any layer.
    """
    return load_index(active_index_dirs(extra_dirs))


def _load_layer(directory: Path, problems: list[str]) -> dict[tuple[str, Version | None], Recipe]:
    """One directory's recipes; the same name and version twice in one layer is an error."""
    if not directory.exists():
        problems.append(f"{directory}: index directory does not exist")
        return {}
    layer: dict[tuple[str, Version | None], Recipe] = {}
    for path in recipe_files(directory):
        file_problems = Problems(path)
        recipe = load_recipe(path, file_problems)
        problems += file_problems.lines
        if recipe is None:
            continue
        key = (recipe.name, recipe.version)
        if key in layer:
            problems.append(f"{path}: name: {recipe.label} is also defined in {layer[key].path}")
        layer[key] = recipe
    return layer


def _newest_first(recipe: Recipe) -> tuple[int, Version]:
    return (0, Version("0")) if recipe.version is None else (1, recipe.version)


def _revision(recipes: Iterable[Recipe]) -> str:
    h = hashlib.sha256()
    for digest in sorted(r.digest for r in recipes):
        h.update(digest.encode())
    return h.hexdigest()


__all__ = [
    "SHIPPED_INDEX",
    "Dependency",
    "Index",
    "Recipe",
    "active_index_dirs",
    "load_active_index",
    "load_index",
]
