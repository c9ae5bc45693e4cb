"""The recipe model: frozen values that the loader produces and every later stage reads.

A recipe is one (name, version) of a tool, library, model, dataset or app. Nothing here does
I/O or validation; `cmpkg.index.load` builds these values from TOML and reports every
problem at once. The TOML format is documented in docs/recipes.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import Version

Kind = Literal["tool", "library", "model", "dataset", "app"]
KINDS: tuple[Kind, ...] = ("tool", "library", "model", "dataset", "app")

Method = Literal["detect", "download", "python", "generate", "user-path"]
METHODS: tuple[Method, ...] = ("detect", "download", "python", "generate", "user-path")

#: Variant values (or a `when` condition, or variant pins of a dependency) as sorted pairs,
#: so that they hash and compare structurally.
Pairs = tuple[tuple[str, str], ...]

#: The first dotted number in a tool's version output, e.g. "cmake version 3.25.1".
DEFAULT_VERSION_REGEX = r"(\d+(?:\.\d+)+)"

_SEPARATORS = re.compile(r"[-_.]+")
_ANY = SpecifierSet()  # the shared "any version" default (never mutated)

# The values are NamedTuples, not dataclasses: every resolving command imports this module,
# and `dataclasses` (with `inspect`) plus a generated `exec` per class was a fifth of a
# resolve's CPU (docs/benchmarks.md). Field names clash with no tuple method.


def normalize_name(name: str) -> str:
    """PEP 503 normalisation; virtual fact names are spelled with underscores (`__cuda_arch`)."""
    if name.startswith("__"):
        return "__" + _SEPARATORS.sub("_", name[2:]).lower()
    return _SEPARATORS.sub("-", name).lower()


def is_virtual(name: str) -> bool:
    """Virtual packages are hardware/host facts supplied by the target, never installed."""
    return name.startswith("__")


class Dependency(NamedTuple):
    """A need of a recipe: a package by name, or a CM-style tag query (all tags must match).

    `when` switches the dependency on only for those variant values of the declaring recipe;
    `variants` pins variant values of the package it selects.
    """

    name: str | None
    tags: tuple[str, ...] = ()
    specifier: SpecifierSet = _ANY
    variants: Pairs = ()
    when: Pairs = ()

    def describe(self) -> str:
        """The requirement in the syntax it is written in (`cmpkg.index.requirement`)."""
        if self.name and is_virtual(self.name) and len(self.variants) == 1:
            key, value = self.variants[0]
            if key == "value":  # a named fact, `__arch == x86_64`
                return f"{self.name} == {value}"
        target = self.name if self.name is not None else "tags:" + ",".join(self.tags)
        if self.variants:
            target += "[" + ",".join(f"{k}={v}" for k, v in self.variants) + "]"
        return f"{target} {self.specifier}".rstrip()


class HubFile(NamedTuple):
    """Where a source lives on a Hugging Face-style hub: one file of a repository at a
    pinned revision. `gated` repositories need the user's token (cmpkg.fetch.huggingface)."""

    repo: str  # "meta-llama/Llama-3.1-8B-Instruct"
    revision: str  # a commit hash (anything else is marked unverified in the recipe)
    path: str  # the file's path in the repository, and in the store entry
    gated: bool = False


class Source(NamedTuple):
    """One downloadable file, with its mirrors in order of preference.

    `sha256` and `size` are required unless the publisher gives only `md5`; `verified` says
    how the hash was obtained (or "unverified"), and travels into `cmpkg show`. A file of a
    `huggingface` source has `hub` set, may lack a hash (marked unverified), and is placed at
    its repository path in the entry.
    """

    urls: tuple[str, ...]
    filename: str
    sha256: str | None
    size: int | None
    md5: str | None
    verified: str
    extract: bool
    when: Pairs = ()
    hub: HubFile | None = None

    @property
    def place(self) -> str:
        """The file's path inside the entry: its repository path for a hub file."""
        return self.hub.path if self.hub is not None else self.filename


class Provide(NamedTuple):
    """How a recipe is provided; which fields matter depends on `method`."""

    method: Method
    # detect
    executables: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    version_args: tuple[str, ...] = ("--version",)
    version_regex: str = DEFAULT_VERSION_REGEX
    version_range: SpecifierSet = _ANY
    # a detected Python module: environments that include it see the system site-packages
    system_site_packages: bool = False
    #: Files whose text holds the version (e.g. cuDNN's header), for things with no executable.
    version_files: tuple[str, ...] = ()
    # python
    requirements: tuple[str, ...] = ()
    index_url: str | None = None
    # generate
    script: str | None = None
    args: tuple[str, ...] = ()
    # user-path
    must_contain: tuple[str, ...] = ()


class VariantValue(NamedTuple):
    """One value of a variant group, with what choosing it adds."""

    value: str
    depends: tuple[Dependency, ...] = ()
    python: tuple[str, ...] = ()
    env: Pairs = ()
    index_url: str | None = None


class VariantGroup(NamedTuple):
    """A CM 'variation' group: exactly one value is chosen; `default` when nothing asks."""

    name: str
    values: tuple[VariantValue, ...]
    default: str
    description: str = ""

    def value(self, name: str) -> VariantValue:
        return next(v for v in self.values if v.value == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)


class Recipe(NamedTuple):
    """One recipe file: a package at one version (a detected tool has a range instead)."""

    name: str
    version: Version | None  # None for `detect` recipes: the version is what is found
    kind: Kind
    tags: tuple[str, ...]
    summary: str
    license: str
    homepage: str
    depends: tuple[Dependency, ...]
    variants: tuple[VariantGroup, ...]
    invalid: tuple[Pairs, ...]
    sources: tuple[Source, ...]
    provide: Provide | None
    env: Pairs
    paths: tuple[tuple[str, tuple[str, ...]], ...]
    files: tuple[str, ...]
    run: tuple[str, ...]
    path: Path
    digest: str  # sha256 of the recipe file and the files it ships

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version is not None else self.name

    def group(self, name: str) -> VariantGroup | None:
        return next((g for g in self.variants if g.name == name), None)

    def default_variant(self) -> Pairs:
        return tuple(sorted((g.name, g.default) for g in self.variants))


def all_dependencies(recipe: Recipe) -> Iterator[tuple[str, Dependency]]:
    """Every dependency of a recipe with its key path, variant-value ones included."""
    for i, dep in enumerate(recipe.depends):
        yield f"depends[{i}]", dep
    for group in recipe.variants:
        for value in group.values:
            for i, dep in enumerate(value.depends):
                yield f"variants.{group.name}.{value.value}.depends[{i}]", dep
