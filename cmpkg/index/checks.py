"""Checks across the recipes of a loaded index: what no single file can know.

Tag queries that match nothing, dependencies on packages no recipe provides, and cycles
among unconditional dependencies. They read only the compact table's summaries
(`cmpkg.index.table`), so the compiled cache can re-run them without parsing any recipe.
Returns problem lines; raising is the caller's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cmpkg.index.model import Dependency, all_dependencies, is_virtual
from cmpkg.index.table import Summary

#: name -> summaries newest first, and the tag query of the same index.
Summaries = Mapping[str, Sequence[Summary]]
MatchTags = Callable[[Sequence[str]], list[str]]

__all__ = ["all_dependencies", "check_summaries"]  # all_dependencies: its old home


def check_summaries(by_name: Summaries, match_tags: MatchTags) -> list[str]:
    """Every cross-recipe problem, in name order (then newest first, then key order)."""
    versions: dict[str, Version] = {}
    problems = [
        problem
        for name in sorted(by_name)
        for summary in by_name[name]
        for problem in _check_targets(by_name, match_tags, summary, versions)
    ]
    return problems + _check_cycles(by_name)


def _check_targets(
    by_name: Summaries, match_tags: MatchTags, summary: Summary, versions: dict[str, Version]
) -> Iterator[str]:
    path = summary[2]
    for key, name, tags, spec, variants, when, _ in summary[4]:
        if name and is_virtual(name):
            continue
        names = match_tags(tags) if tags else [name or ""]
        if tags and not names:
            yield f"{path}: {key}: tag query {','.join(tags)} matches no recipe"
        elif name and not by_name.get(name):
            yield f"{path}: {key}: no recipe named {name!r}"
        else:
            dep = Dependency(name, tags, SpecifierSet(spec), variants, when)
            problem = _unsatisfiable(by_name, names, dep, versions)
            if problem:
                yield f"{path}: {key}: {problem}"


def _unsatisfiable(
    by_name: Summaries, names: list[str], dep: Dependency, versions: dict[str, Version]
) -> str | None:
    """Why no recipe could ever satisfy `dep` (a version range or a variant pin), or None.

    A typo in a pin (`compute=cu1288`) would otherwise surface only as an unsatisfiable
    solve on the one machine whose variant choice reaches it.
    """
    candidates = [s for n in names for s in by_name.get(n, ()) if _in_range(s, dep, versions)]
    if not candidates:
        have = ", ".join(str(s[1]) for n in names for s in by_name.get(n, ()))
        return f"no version of {dep.describe()} exists (have: {have})"
    for group, value in dep.variants:
        if not any(_has_value(s, group, value) for s in candidates):
            return f"{dep.describe()}: no candidate has variant {group}={value}"
    return None


def _in_range(summary: Summary, dep: Dependency, versions: dict[str, Version]) -> bool:
    """Detected tools have no fixed version: their range is checked when they are found."""
    text = summary[1]
    if text is None:
        return True
    version = versions.get(text)
    if version is None:
        version = versions[text] = Version(text)
    return dep.specifier.contains(version, prereleases=True)


def _has_value(summary: Summary, group: str, value: str) -> bool:
    return any(name == group and value in values for name, values in summary[3])


def _check_cycles(by_name: Summaries) -> list[str]:
    """Cycles among dependencies that hold for every variant (no `when`), by name."""
    edges = {
        name: sorted({d[1] for s in ss for d in s[4] if d[6] and d[1] and not d[5]})
        for name, ss in by_name.items()
    }
    problems: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in edges.get(name, []):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                problems.append(
                    f"{by_name[name][0][2]}: depends: dependency cycle {' -> '.join(cycle)}"
                )
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = 2

    for name in edges:
        if name not in state:
            visit(name, [name])
    return problems
