"""Typed reading of raw TOML tables that collects every problem instead of stopping at one.

`Fields` wraps one table and its key path; each getter records a problem and returns a safe
default when the value is missing or mistyped, so a loader reads a whole file and reports
`file: key.path: message` for all of it. Used for recipes, target profiles, manifests and
lockfiles alike.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

T = TypeVar("T")


class Problems:
    """The problems found in one file, each rendered as `file: key.path: message`."""

    def __init__(self, file: Path | str) -> None:
        self.file = str(file)
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        where = f"{self.file}: {path}: " if path else f"{self.file}: "
        self.lines.append(where + message)


class Fields:
    """One TOML table under `path`; getters record problems and return defaults."""

    def __init__(
        self, table: dict[builtins.str, Any], path: builtins.str, problems: Problems
    ) -> None:
        self.table = table
        self.path = path
        self.problems = problems
        self._seen: set[str] = set()

    def key(self, name: builtins.str) -> builtins.str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: builtins.str, message: builtins.str) -> None:
        self.problems.add(self.key(name), message)

    def _get(
        self,
        name: builtins.str,
        kind: type[T],
        default: T,
        required: builtins.bool,
        what: builtins.str,
    ) -> T:
        self._seen.add(name)
        if name not in self.table:
            if required:
                self.error(name, "missing required key")
            return default
        value = self.table[name]
        # bool is an int subclass; TOML keeps them apart, so do we.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error(name, f"expected {what}, got {_toml_type(value)}")
            return default
        return value

    def str(
        self, name: builtins.str, default: builtins.str = "", *, required: builtins.bool = False
    ) -> builtins.str:
        return self._get(name, str, default, required, "a string")

    def int(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.int | None:
        return self._get(name, int, None, required, "an integer")

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        return self._get(name, bool, default, False, "true or false")

    def optional_str(self, name: builtins.str) -> builtins.str | None:
        return self._get(name, str, None, False, "a string")

    def str_list(
        self, name: builtins.str, *, required: builtins.bool = False
    ) -> tuple[builtins.str, ...]:
        """A list of strings; a single string is accepted as a one-element list."""
        self._seen.add(name)
        value = self.table.get(name)
        if isinstance(value, str):
            return (value,)
        items = self._get(name, list, [], required, "a list of strings")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.error(f"{name}[{i}]", f"expected a string, got {_toml_type(item)}")
                return ()
        return tuple(items)

    def list(self, name: builtins.str) -> builtins.list[Any]:
        return self._get(name, list, [], False, "a list")

    def sub(self, name: builtins.str, *, required: builtins.bool = False) -> Fields | None:
        table = self._get(name, dict, None, required, "a table")
        return None if table is None else Fields(table, self.key(name), self.problems)

    def string_table(self, name: builtins.str) -> tuple[tuple[builtins.str, builtins.str], ...]:
        """A table of string values, as sorted pairs."""
        sub = self.sub(name)
        if sub is None:
            return ()
        pairs = [(k, sub.str(k)) for k in sub.table]
        return tuple(sorted(pairs))

    def version(self, name: builtins.str, *, required: builtins.bool = False) -> Version | None:
        text = self.optional_str(name)
        if text is None:
            if required:
                self.error(name, "missing required key")
            return None
        return parse_or_report(Version, text, lambda m: self.error(name, m), "version")

    def specifier(self, name: builtins.str) -> SpecifierSet:
        text = self.str(name)
        spec = parse_or_report(SpecifierSet, text, lambda m: self.error(name, m), "specifier")
        return spec if spec is not None else SpecifierSet()

    def finish(
        self, allowed_extra: Callable[[builtins.str], builtins.bool] = lambda _: False
    ) -> None:
        """Report every key that no getter asked for (unknown keys are errors, not ignored)."""
        for name in self.table:
            if name not in self._seen and not allowed_extra(name):
                self.error(name, "unknown key")


def parse_or_report(
    kind: Callable[[str], T], text: str, report: Callable[[str], None], what: str
) -> T | None:
    """`kind(text)`, or None after reporting an `invalid <what>` problem."""
    try:
        return kind(text)
    except (InvalidVersion, InvalidSpecifier):
        report(f"invalid {what} {text!r} (PEP 440)")
        return None


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
