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

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg.errors import InputError
from cmpkg.index.compiled import Built, Table
from cmpkg.index.table import DIGEST, METHOD, PATH, VERSION, Row, TagIndex, row
from cmpkg.shipped import SHIPPED_INDEX

if TYPE_CHECKING:  # loaded on first use: the no-op install imports `compiled` through here
    from cmpkg.index.model import Dependency, Recipe

#: Directories inside an index that hold other data than recipes.
NOT_RECIPES = {"targets"}

_HINT = "fix the recipes above; `cmpkg index check` re-checks them"
_MISSING_HINT = "check the directory given with --index, CMPKG_INDEX or the config file's `index`"


class Index:
    """All recipes of a stack of index directories, by name, newest version first.

    `recipes` maps each name to its recipes. Loaded with a compiled cache, a name's recipes
    are parsed from their files on first look-up (the compact table answers names, tags,
    digests and detected tools without parsing), so a command pays for the packages it
    reaches, not for the size of the index. A plain class rather than a frozen dataclass
    because of that memo; nothing in it changes once loaded.
    """

    __slots__ = ("_table", "_tags", "dirs", "recipes", "revision")

    def __init__(
        self,
        recipes: Mapping[str, tuple[Recipe, ...]],
        dirs: tuple[Path, ...],
        revision: str,  # sha256 over every recipe's digest: changes whenever any recipe does
        table: Callable[[], Mapping[str, tuple[Row, ...]]] | None = None,
    ) -> None:
        self.recipes = recipes
        self.dirs = dirs
        self.revision = revision
        self._table = table or (lambda: {n: tuple(map(row, rs)) for n, rs in recipes.items()})
        self._tags: TagIndex | None = None

    def all(self) -> Iterator[Recipe]:
        """Every recipe, parsed (the whole index: for `index check`, not for resolving)."""
        for name in sorted(self.recipes):
            yield from self.recipes[name]

    def get(self, name: str) -> tuple[Recipe, ...]:
        return self.recipes.get(name, ())

    def match_tags(self, tags: Sequence[str]) -> list[str]:
        """Names of packages whose recipes carry every tag (CM's tag query)."""
        if self._tags is None:
            self._tags = TagIndex(dict(self._table()))
        return self._tags.match(list(tags))

    def detected(self) -> list[Recipe]:
        """The recipes provided by detection (`method = "detect"`), parsed only they."""
        table = self._table()
        names = [n for n, rows in table.items() if any(r[METHOD] == "detect" for r in rows)]
        return [r for n in names for r in self.get(n) if r.provide and r.provide.method == "detect"]

    def digests(self) -> dict[tuple[str, str | None], str]:
        """(name, version text or None) -> the recipe's digest, for every recipe, unparsed."""
        return {(n, r[VERSION]): r[DIGEST] for n, rows in self._table().items() for r in rows}


class _LazyRecipes(Mapping[str, "tuple[Recipe, ...]"]):
    """A name's recipes, parsed from their files on first look-up (see `Index`)."""

    def __init__(
        self,
        table: Callable[[], Mapping[str, tuple[Row, ...]]],
        seed: Mapping[str, Recipe],
        cache: Path,
    ) -> None:
        self._table = table
        self._seed = seed  # recipes a rebuild has just parsed, by path: not parsed twice
        self._cache = cache  # where recipes' documents are memoised (`index.documents`)
        self._parsed: dict[str, tuple[Recipe, ...]] = {}

    def __getitem__(self, name: str) -> tuple[Recipe, ...]:
        found = self._parsed.get(name)
        if found is None:
            found = self._parsed[name] = tuple(map(self._recipe, self._table()[name]))
        return found

    def _recipe(self, entry: Row) -> Recipe:
        """The row's recipe: from its memoised document when there is one (the document of
        exactly the bytes the row was compiled from: its digest names it), else parsed."""
        from cmpkg.index import documents
        from cmpkg.index.fields import Problems
        from cmpkg.index.load import load_recipe_document, recipe_from_document

        seeded = self._seed.get(entry[PATH])
        if seeded is not None:
            return seeded
        problems = Problems(entry[PATH])
        document = documents.read(self._cache, entry[DIGEST])
        if document is not None:
            recipe = recipe_from_document(
                document, Path(entry[PATH]), problems, digest=entry[DIGEST]
            )
        else:
            found = load_recipe_document(Path(entry[PATH]), problems)
            recipe = found[0] if found is not None else None
            if found is not None and recipe is not None and recipe.digest == entry[DIGEST]:
                documents.write(self._cache, entry[DIGEST], found[1])
        if recipe is None:
            raise InputError(problems.lines, hint=_HINT)
        if recipe.digest != entry[DIGEST]:
            raise InputError(
                [f"{entry[PATH]}: changed while cmpkg was reading the index"],
                hint="run the command again",
            )
        return recipe

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def recipe_files(directory: Path) -> list[Path]:
    files = directory.rglob("*.toml") if directory.is_dir() else [directory]
    return sorted(p for p in files if not NOT_RECIPES & set(p.relative_to(directory).parts[:-1]))


def load_index(dirs: Sequence[Path], cache: Path | None = None) -> Index:
    """Load and validate a stack of index directories; raise InputError with every problem.

    With `cache` (a directory, `$CMPKG_HOME/index-v1`), the compiled cache answers when no
    file of the stack changed, and recipes are parsed only when looked up
    (`cmpkg.index.compiled`); without, every recipe is parsed and validated now.
    """
    built = _compile(dirs, cache)
    if built.compiled.problems:
        raise InputError(list(built.compiled.problems), hint=_hint(built.compiled.problems))
    table = built.compiled.table
    if cache is None:
        recipes = {n: tuple(built.parsed[r[PATH]] for r in rows) for n, rows in table().items()}
        return Index(recipes, tuple(dirs), built.compiled.revision, table)
    lazy = _LazyRecipes(table, built.parsed, cache)
    return Index(lazy, tuple(dirs), built.compiled.revision, table)


def _compile(dirs: Sequence[Path], cache: Path | None) -> Built:
    """A cache hit needs only `compiled` (no TOML, no version parsing imported)."""
    from cmpkg.index import compiled

    if cache is not None:
        base = cache / compiled.cache_key(dirs)

        def rebuilt_table() -> Table:
            from cmpkg.index.stack import rebuild

            return rebuild(dirs, base).compiled.table()

        hit = compiled.lookup(base, rebuilt_table)
        if hit is not None:
            return Built(hit, {})
    from cmpkg.index.stack import rebuild

    return rebuild(dirs, None if cache is None else cache / compiled.cache_key(dirs))


def active_index_dirs(extra_dirs: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The stack in precedence order: shipped, then `CMPKG_INDEX` dirs, then the config
    file's `index`, then `extra_dirs` (the command line's `--index`)."""
    from cmpkg import config, envvars

    from_env = [Path(p) for p in (envvars.get("CMPKG_INDEX") or "").split(os.pathsep) if p]
    return (SHIPPED_INDEX, *from_env, *config.load().index, *extra_dirs)


def load_active_index(extra_dirs: Sequence[Path] = (), cache: Path | None = None) -> Index:
    """The index every command uses: `active_index_dirs(extra_dirs)` loaded and validated.

    `extra_dirs` are the `--index` directories of the command line (highest precedence).
    Raises `InputError` listing every problem in any layer. `cache`: see `load_index`.
    """
    return load_index(active_index_dirs(extra_dirs), cache)


def __getattr__(name: str) -> Any:
    if name in ("Dependency", "Recipe"):
        from cmpkg.index import model

        return getattr(model, name)
    raise AttributeError(f"module 'cmpkg.index' has no attribute {name!r}")


__all__ = [
    "SHIPPED_INDEX",
    "Dependency",
    "Index",
    "Recipe",
    "active_index_dirs",
    "load_active_index",
    "load_index",
]


def _hint(problems: Sequence[str]) -> str:
    """A stack whose problem is a directory that is not there has no recipe to fix."""
    from cmpkg.index.stack import MISSING_DIRECTORY

    missing = all(p.endswith(f": {MISSING_DIRECTORY}") for p in problems)
    return _MISSING_HINT if missing else _HINT
