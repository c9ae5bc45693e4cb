"""The adapter between recipes and the solver: index + facts + requests -> Problem -> Resolution.

Pure: `resolve(task: ResolveTask) -> Resolution` takes one frozen value (the `Index`, the
target's facts, the tools detected *before* resolving, parsed requests, preferences, the
backend) and returns a value; it runs no probe and no subprocess. `reachable_tools` says which
detect recipes a task can reach, so the probe detects those (and only those) first. It owns
the translation rules, documented in docs/resolve.md:

* every (version x variant combination) of a recipe is one candidate, minus `invalid` ones;
* candidate order (the solver's preference) is: the locked/installed pin first, then newest
  version, then the variant closest to the preferred values (defaults, or `device=cuda` for
  `--target cuda`), then declaration order of the values, for determinism;
* hardware needs are requirements on virtual packages supplied by the target's facts, each
  carrying its source as a note so explanations can name it;
* a tag query matching one package is a requirement on it; matching several, a requirement on a
  virtual `tags:...` name that each match provides (the choice is then the solver's, and
  `cmpkg why` shows it). In a user's request an ambiguous tag query is an error instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.index import Index
from cmpkg.index.model import Dependency, Pairs, Recipe, is_virtual
from cmpkg.index.query import check_request
from cmpkg.index.requirement import parse_dependency

_NO_PINS: Mapping[str, Any] = MappingProxyType({})  # a shared default: read-only


# The values below are NamedTuples, not dataclasses, where no field name clashes with a
# tuple method: every resolving command imports this module, and a dataclass costs about a
# millisecond to create on this VM (the tests/test_import_budget.py share).


class FactValue(NamedTuple):
    """A virtual package the target supplies: its version and where it came from."""

    version: str
    source: str


class Preference(NamedTuple):
    """Values to prefer: pins from a lock or the store, and variant values (`device=cuda`)."""

    pins: Mapping[str, tuple[str, Pairs]] = _NO_PINS
    values: Pairs = ()
    require_values: Pairs = ()  # pinned on every request whose package has the group


class ResolveTask(NamedTuple):
    """Everything one resolution depends on (as rattler's `SolverTask`). Not a dataclass (see
    above); the field `index` shadows `tuple.index` (never called on it)."""

    index: Index  # type: ignore[assignment]
    facts: Mapping[str, FactValue]  # the target's virtual packages
    tools: Mapping[str, FactValue]  # detected tools: version and path, probed before
    requests: tuple[Dependency, ...]
    preference: Preference = Preference()  # locked pins, values
    backend: str = "auto"
    timeout: float | None = None


class Pin(NamedTuple):
    """One chosen package: its recipe, version and variant, and the edges of the graph."""

    recipe: Recipe
    version: str
    variant: Pairs
    needs: tuple[str, ...]  # names of the pinned packages it depends on
    facts: tuple[str, ...]  # virtual packages it depends on (`__cuda`, `__arch=x86_64`)
    fact_requirements: tuple[str, ...] = ()  # the same as requirements: `__cuda >=12.0`

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def label(self) -> str:
        text = f"{self.name} {self.version}"
        return text + (
            " [" + ",".join(f"{k}={v}" for k, v in self.variant) + "]" if self.variant else ""
        )


class Resolution(NamedTuple):
    pins: Mapping[str, Pin]
    requests: tuple[Dependency, ...]
    roots: tuple[str, ...]  # the pinned names that satisfy the requests, in request order
    facts: Mapping[str, FactValue]
    problem: Mapping[str, Any]  # the exact solvers-problem/1 document that was solved
    backend: str

    def order(self) -> list[str]:
        """Pinned names with dependencies before dependents (a topological order).

        The index refuses cycles that hold for every variant; one that only the chosen
        variants close (through a `when` dependency) is refused here, with its path."""
        done: dict[str, None] = {}
        path: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in path:
                raise _cycle_error(self, [*path[path.index(name) :], name])
            path.append(name)
            for dep in self.pins[name].needs:
                visit(dep)
            path.pop()
            done[name] = None

        for name in sorted(self.pins):
            visit(name)
        return list(done)

    def why(self, name: str) -> list[list[str]]:
        """Every chain from a requested package down to `name`."""
        chains: list[list[str]] = []

        def walk(node: str, path: list[str]) -> None:
            if node == name:
                chains.append(path)
            for dep in self.pins[node].needs:
                if dep not in path:
                    walk(dep, [*path, dep])

        for root in self.roots:
            walk(root, [root])
        return chains


def _cycle_error(resolution: Resolution, cycle: list[str]) -> UsageError:
    """A cycle among the chosen pins, said like the index says plain cycles."""
    first = resolution.pins[cycle[0]]
    return UsageError(
        "dependency-cycle",
        f"{first.recipe.path}: depends: dependency cycle "
        + " -> ".join(resolution.pins[n].label for n in cycle),
        hint="a `when` dependency closes this cycle for the chosen variants: "
        "break it in the recipes, or ask for other variant values",
    )


# --- requests -------------------------------------------------------------------------


def parse_request(text: str, index: Index) -> Dependency:
    """A user's request: the requirement syntax, plus CM-style `_value` variant tags.

    `get,ml-model,resnet50,_onnx` is a tag query with the variant value `onnx`;
    `mlperf-resnet50 _pytorch,_cuda` names a package with two values. A tag query must
    select exactly one package.
    """
    words = [w.strip() for w in text.replace(" _", ",_").split(",")]
    if not all(_BARE.match(w) for w in words):
        words = [text]  # a range such as `numpy>=1,<2`, not a CM list
    values = tuple(w[1:] for w in words if w.startswith("_"))
    rest = ",".join(w for w in words if not w.startswith("_"))
    if len(words) > 1 and "," in rest:
        rest = "tags:" + rest  # CM style: a bare comma list is a tag query
    try:
        dep = parse_dependency(rest)
    except ValueError as error:
        raise UsageError("bad-request", str(error), hint=_REQUEST_HINT) from None
    name = dep.name or _one_match(dep.tags, index)
    if not index.get(name):
        raise UsageError(
            "unknown-package", f"no package named {name!r}", hint=_suggest(name, index)
        )
    variants = dict(dep.variants)
    for value in values:
        group = _group_of(value, index.get(name))
        variants[group] = value
    request = Dependency(name, (), dep.specifier, tuple(sorted(variants.items())))
    check_request(name, index.get(name), request)  # a bad variant is bad input, not unsat
    return request


_BARE = re.compile(r"^_?[A-Za-z0-9][A-Za-z0-9.\-]*$")
_REQUEST_HINT = (
    "requests look like `numpy`, `torch>=2.4`, `app[device=cuda]` or `get,ml-model,resnet50`"
)


def _one_match(tags: Sequence[str], index: Index) -> str:
    names = index.match_tags(tags)
    if len(names) == 1:
        return names[0]
    query = ",".join(tags)
    if not names:
        raise UsageError(
            "no-match", f"no package has all the tags {query}", hint="see `cmpkg search`"
        )
    raise UsageError(
        "ambiguous-request",
        f"the tag query {query} matches {len(names)} packages: {', '.join(names)}",
        hint="name one of them, or add a tag that tells them apart",
    )


def _group_of(value: str, recipes: Sequence[Recipe]) -> str:
    groups = sorted({g.name for r in recipes for g in r.variants if value in g.names})
    if len(groups) != 1:
        known = sorted({v for r in recipes for g in r.variants for v in g.names})
        problem = "is ambiguous" if groups else "is not a variant value"
        raise UsageError(
            "bad-variant",
            f"_{value} {problem} of {recipes[0].name}",
            hint=f"values: {', '.join('_' + v for v in known) or 'none'}",
        )
    return groups[0]


def _suggest(name: str, index: Index) -> str:
    from cmpkg.index.query import close_names

    close = close_names(index, name)
    return f"did you mean {', '.join(close)}?" if close else "see `cmpkg search`"


# --- the problem ------------------------------------------------------------------------


class _Builder:
    """The problem document being built (mutable: one per `build_problem`)."""

    def __init__(
        self,
        index: Index,
        facts: Mapping[str, FactValue],
        tools: Mapping[str, FactValue],
        preference: Preference,
    ) -> None:
        self.index = index
        self.facts = facts
        self.tools = tools
        self.preference = preference
        self.packages: dict[str, list[dict[str, Any]]] = {}
        self.provides: dict[str, set[str]] = {}  # name -> tag tokens
        self.notes: dict[str, str] = {}

    def requirement(self, dep: Dependency) -> list[Any]:
        """A recipe dependency as a solver REQ (see the module docstring for tag queries)."""
        if dep.tags:
            names = self.index.match_tags(dep.tags)
            if len(names) == 1:
                return _req(names[0], dep)
            token = "tags:" + ",".join(sorted(dep.tags))
            for name in names:
                self.provides.setdefault(name, set()).add(token)
            return _req(token, dep)
        assert dep.name is not None
        value = dict(dep.variants).get("value") if is_virtual(dep.name) else None
        if value is not None:
            return [f"{dep.name}={value}", ""]
        return _req(dep.name, dep)

    def add_closure(self, roots: Sequence[str]) -> None:
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in self.packages:
                continue
            self.packages[name] = []
            if is_virtual(name):
                self._add_fact(name)
                continue
            for cand in self._candidates(name):
                self.packages[name].append(cand)
                todo += [r[0] for r in cand.get("depends", []) if not r[0].startswith("tags:")]
            todo += [n for t in self._tokens(name) for n in self.index.match_tags(t[5:].split(","))]

    def _tokens(self, name: str) -> list[str]:
        return [
            r[0]
            for c in self.packages[name]
            for r in c.get("depends", [])
            if r[0].startswith("tags:")
        ]

    def _add_fact(self, name: str) -> None:
        base = name.split("=", 1)[0]
        fact = self.facts.get(name)
        if fact is not None:
            self.packages[name].append({"version": fact.version, "note": fact.source})
            return
        present = sorted(n.split("=", 1)[1] for n in self.facts if n.startswith(base + "="))
        if "=" in name and present:
            self.notes[name] = f"this target has {base} {', '.join(present)}"
        else:
            self.notes[name] = f"this target has no {base}"

    def _candidates(self, name: str) -> Iterator[dict[str, Any]]:
        recipes = self.index.get(name)
        if recipes and recipes[0].version is None:
            yield from self._detected(recipes[0])
            return
        ranked = []
        for age, recipe in enumerate(recipes):  # the index lists the newest version first
            for variant in _combinations(recipe):
                locked, distance, order = self._rank(recipe, variant)
                rank = (locked, age, distance, order)
                ranked.append((rank, self._candidate(recipe, str(recipe.version), variant)))
        yield from (c for _, c in sorted(ranked, key=lambda rc: rc[0]))

    def _detected(self, recipe: Recipe) -> Iterator[dict[str, Any]]:
        tool = self.tools.get(recipe.name)
        if tool is None:
            self.notes[recipe.name] = f"{recipe.name} was not found on this target"
            return
        if not recipe.provide or recipe.provide.version_range.contains(
            tool.version, prereleases=True
        ):
            cand = self._candidate(recipe, tool.version, ())
            yield {**cand, "note": tool.source}
        else:
            rng = recipe.provide.version_range
            self.notes[recipe.name] = (
                f"found {recipe.name} {tool.version} ({tool.source}), outside {rng}"
            )

    def _rank(self, recipe: Recipe, variant: Pairs) -> tuple[bool, int, tuple[int, ...]]:
        """(not the locked pin, distance from the preferred values, declaration order).

        The caller appends the version's age, so a locked or installed pin wins over newer
        versions, and among versions the newest wins over a closer variant of an older one.
        """
        locked = self.preference.pins.get(recipe.name)
        is_locked = locked is not None and locked == (str(recipe.version), variant)
        groups = {g.name: g for g in recipe.variants}
        wanted = dict(recipe.default_variant())
        wanted |= {g: v for g, v in self.preference.values if g in groups and v in groups[g].names}
        distance = sum(1 for g, v in variant if wanted.get(g) != v)
        order = tuple(groups[g].names.index(v) for g, v in variant)
        return (not is_locked, distance, order)

    def _candidate(self, recipe: Recipe, version: str, variant: Pairs) -> dict[str, Any]:
        chosen = dict(variant)
        deps = [d for d in recipe.depends if set(d.when) <= set(variant)]
        deps += [d for g in recipe.variants for d in g.value(chosen[g.name]).depends]
        cand: dict[str, Any] = {"version": version, "depends": [self.requirement(d) for d in deps]}
        if variant:
            cand["variant"] = chosen
        return cand

    def finish(self, requests: Sequence[list[Any]]) -> dict[str, Any]:
        for name, tokens in self.provides.items():
            for cand in self.packages.get(name, []):
                cand["provides"] = [[t, cand["version"]] for t in sorted(tokens)]
        problem: dict[str, Any] = {
            "format": "solvers-problem/1",
            "packages": self.packages,
            "requests": list(requests),
        }
        if self.notes:
            problem["notes"] = self.notes
        return problem


def _req(name: str, dep: Dependency) -> list[Any]:
    req: list[Any] = [name, str(dep.specifier)]
    if dep.variants:
        req.append(dict(dep.variants))
    return req


def _combinations(recipe: Recipe) -> Iterator[Pairs]:
    """Every combination of variant values, minus the recipe's declared invalid ones."""
    groups = sorted(recipe.variants, key=lambda g: g.name)
    for values in itertools.product(*(g.names for g in groups)):
        variant = tuple(zip((g.name for g in groups), values, strict=True))
        if not any(set(bad) <= set(variant) for bad in recipe.invalid):
            yield variant


def build_problem(task: ResolveTask) -> dict[str, Any]:
    """The solvers-problem/1 document for a task (pure)."""
    builder = _Builder(task.index, task.facts, task.tools, task.preference)
    reqs = [
        _pin_required(builder.requirement(r), task.index, task.preference) for r in task.requests
    ]
    builder.add_closure([r[0] for r in reqs])
    return builder.finish(reqs)


def reachable_tools(index: Index, requests: Sequence[Dependency]) -> tuple[str, ...]:
    """The detect recipes the problem of `requests` can reach, through every version and
    variant value: what the probe must look for before resolving (and nothing more, so a
    CPU app never makes the probe import torch)."""
    seen: set[str] = set()
    found: set[str] = set()
    todo = [n for r in requests for n in _names(r, index)]
    while todo:
        name = todo.pop()
        if name in seen or is_virtual(name):
            continue
        seen.add(name)
        for recipe in index.get(name):
            if recipe.provide is not None and recipe.provide.method == "detect":
                found.add(name)
            deps = [*recipe.depends]
            deps += [d for g in recipe.variants for v in g.names for d in g.value(v).depends]
            todo += [n for d in deps for n in _names(d, index)]
    return tuple(sorted(found))


def _names(dep: Dependency, index: Index) -> list[str]:
    return [dep.name] if dep.name else list(index.match_tags(dep.tags))


def _pin_required(req: list[Any], index: Index, preference: Preference) -> list[Any]:
    """`--target cuda` pins `device=cuda` on requested packages that have a device group."""
    extra = {
        g: v
        for g, v in preference.require_values
        if any(r.group(g) for r in index.get(req[0])) and not (len(req) > 2 and g in req[2])
    }
    if not extra:
        return req
    return [req[0], req[1], {**(req[2] if len(req) > 2 else {}), **extra}]


# --- solving --------------------------------------------------------------------------------


def resolve(task: ResolveTask) -> Resolution:
    """Solve the task; raise `CmpkgError('unsatisfiable')` with the explanation if none."""
    import solvers

    document = build_problem(task)
    problem = solvers.load_problem(document)
    result = solvers.solve(problem, backend=task.backend, timeout=task.timeout)
    if not result.satisfiable:
        asked = ", ".join(r.describe() for r in task.requests)
        raise CmpkgError(
            "unsatisfiable",
            f"cannot install {asked}",
            details=result.explanation.lines() if result.explanation else ("no explanation",),
            data={"explanation": result.explanation.to_json() if result.explanation else []},
            hint="`cmpkg resolve ... --dump-problem FILE` writes the problem for a bug report",
        )
    pins = _pins(task.index, result.pins)
    roots = tuple(dict.fromkeys(_provider(r, result.pins) for r in problem.requests))
    return Resolution(pins, task.requests, roots, dict(task.facts), document, result.backend)


def find_recipe(index: Index, name: str, version: str) -> Recipe | None:
    """The recipe a pin of `name` at `version` comes from (a detect recipe has no version of
    its own: it answers for any). The one lookup rule, for solving and for locks."""
    return next(
        (r for r in index.get(name) if r.version is None or str(r.version) == version), None
    )


def _pins(index: Index, chosen: Mapping[str, Any]) -> dict[str, Pin]:
    pins = {}
    for name, cand in chosen.items():
        if is_virtual(name) or name.startswith("tags:"):
            continue
        recipe = find_recipe(index, name, cand.version)
        assert recipe is not None, f"the solver chose {name} {cand.version}, not in the index"
        needs = sorted({_provider(req, chosen) for req in cand.depends})
        real = tuple(n for n in needs if not is_virtual(n))
        virtual = tuple(n for n in needs if is_virtual(n))
        reqs = tuple(sorted({str(r) for r in cand.depends if is_virtual(r.name)}))
        pins[name] = Pin(recipe, cand.version, tuple(cand.variant), real, virtual, reqs)
    return pins


def _provider(req: Any, chosen: Mapping[str, Any]) -> str:
    """The chosen package that satisfies a requirement (itself, or a provider of a token)."""
    if req.name in chosen:
        return str(req.name)
    return next(n for n, c in chosen.items() if c.satisfies(req))
