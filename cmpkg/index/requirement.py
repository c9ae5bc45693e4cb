"""The one textual syntax for naming packages, used by recipes and on the command line.

    numpy                          any version
    torch >=2.4,<3                 a PEP 440 range (the space is optional)
    mlperf-resnet50[device=cuda]   variant pins
    tags:get,ml-model,resnet50     a CM-style tag query: every tag must match
    __cuda >=12.1                  a hardware fact (a virtual package)
    __arch ==x86_64                a named fact: pins its `value` (not a version)

The parser is pure and raises `ValueError` with a message fit for `file: key: message`.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from cmpkg.index.model import Dependency, Pairs, is_virtual, normalize_name

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_SYNTAX = re.compile(
    rf"^\s*(?:tags:(?P<tags>[A-Za-z0-9_.,\-]+)|(?P<name>{_NAME}))"
    r"\s*(?:\[(?P<variants>[^\]]*)\])?"
    r"\s*(?P<spec>[<>=!~].*)?$"
)
_NAMED_FACT = re.compile(r"^\s*==\s*([A-Za-z][A-Za-z0-9_\-]*)\s*$")
#: Windows device names: a package named like this could not be stored on every OS.
RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
)


def check_name(name: str) -> str:
    """The normalised name, or ValueError for names that cannot be a store path."""
    if not re.fullmatch(_NAME, name):
        raise ValueError(f"invalid package name {name!r}")
    if name.lower().split(".")[0] in RESERVED_NAMES:
        raise ValueError(f"package name {name!r} is a reserved device name on Windows")
    return normalize_name(name)


def parse_pairs(text: str) -> Pairs:
    """`a=1,b=2` as sorted pairs; duplicates and empty parts are errors."""
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected GROUP=VALUE, got {part!r}")
        if key.strip() in pairs:
            raise ValueError(f"variant group {key.strip()!r} given twice")
        pairs[key.strip()] = value.strip()
    return tuple(sorted(pairs.items()))


def parse_dependency(text: str) -> Dependency:
    """Parse the syntax in the module docstring into a `Dependency`."""
    match = _SYNTAX.match(text)
    if not match:
        raise ValueError(f"cannot parse requirement {text!r}")
    variants = parse_pairs(match["variants"] or "")
    spec_text = (match["spec"] or "").strip()
    if match["tags"]:
        tags = tuple(t for t in match["tags"].split(",") if t)
        return Dependency(None, tags, _specifier(spec_text), variants)
    name = check_name(match["name"])
    named = _NAMED_FACT.match(spec_text) if is_virtual(name) else None
    if named and not _is_version(named[1]):
        return Dependency(name, (), SpecifierSet(), (*variants, ("value", named[1])))
    return Dependency(name, (), _specifier(spec_text), variants)


def _specifier(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"invalid version range {text!r} (PEP 440)") from None


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
