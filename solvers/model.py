"""The problem model of `solvers-problem/1` and `solvers-batch/1`: value types, load and dump.

Owns the JSON boundary between cmpkg and the solvers. It validates input and collects *every*
error with its JSON path (`packages.foo[2].depends[0]: invalid specifier '>>1'`). It must not
know about TOML, recipes, hardware probing or installing, and imports nothing from cmpkg.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

PROBLEM_FORMAT = "solvers-problem/1"
BATCH_FORMAT = "solvers-batch/1"

Variant = tuple[tuple[str, str], ...]  # sorted (group, value) pairs: hashable and canonical


class ProblemError(ValueError):
    """The input is not a valid problem; `errors` holds one 'json.path: message' per fault."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(self.errors))


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """Parse a PEP 440 version once per distinct text (O(1) amortised)."""
    return Version(text)


@lru_cache(maxsize=65536)
def parse_specifier(text: str) -> SpecifierSet:
    """Parse a PEP 440 specifier set once per distinct text (O(1) amortised)."""
    return SpecifierSet(text)


# The value types are NamedTuples, not dataclasses: the backends hash requirements and
# compare candidates millions of times (a tuple's hash and == run in C), and importing
# `dataclasses` (with `inspect`) was a sixth of `python -m solvers`'s start-up.


class Requirement(NamedTuple):
    """`[name, specifier, {group: value}]`: a candidate of `name` (or a provider of it)
    at a version in `specifier` whose variant has every listed value."""

    name: str
    specifier: str = ""
    variant: Variant = ()

    def __str__(self) -> str:
        text = f"{self.name} {self.specifier}".rstrip()
        if self.variant:
            text += " [" + ", ".join(f"{k}={v}" for k, v in self.variant) + "]"
        return text

    def allows(self, version: str, variant: Variant) -> bool:
        """True if a candidate (or provide) at `version` with `variant` meets the
        specifier and the variant values. Pre-releases count as ordinary versions."""
        if self.variant and not set(self.variant) <= set(variant):
            return False
        return parse_specifier(self.specifier).contains(parse_version(version), prereleases=True)


class Candidate(NamedTuple):
    """One installable choice: a package at a version with variant values."""

    name: str
    version: str
    variant: Variant = ()
    depends: tuple[Requirement, ...] = ()
    conflicts: tuple[Requirement, ...] = ()
    provides: tuple[tuple[str, str], ...] = ()
    note: str | None = None

    def __str__(self) -> str:
        text = f"{self.name} {self.version}"
        if self.variant:
            text += " [" + ", ".join(f"{k}={v}" for k, v in self.variant) + "]"
        return text

    def satisfies(self, req: Requirement) -> bool:
        """True if choosing this candidate meets `req`, by its own name or a provide."""
        if req.name == self.name and req.allows(self.version, self.variant):
            return True
        return any(n == req.name and req.allows(v, self.variant) for n, v in self.provides)


class Problem(NamedTuple):
    """A whole problem. `packages[name]` lists candidates MOST PREFERRED FIRST.

    `constraints` restrict a name only if a candidate *of that name* is chosen (providers of
    the name are not restricted). `notes` holds per-name text for explanations only.
    Not hashable (it holds mappings); compare with ==.
    """

    packages: Mapping[str, tuple[Candidate, ...]]
    requests: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    notes: Mapping[str, str] = {}  # never mutated (a shared default)

    def with_requests(
        self, requests: Sequence[Requirement], constraints: Sequence[Requirement] = ()
    ) -> Problem:
        """The same packages with other requests (batches share one package set)."""
        return Problem(self.packages, tuple(requests), tuple(constraints), self.notes)


class Case(NamedTuple):
    """One case of a batch: an id and the problem it poses."""

    id: str
    problem: Problem


class _Reader:
    """Collects every validation error with its JSON path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.fail(path, f"expected an object, got {type(value).__name__}")
        return {}

    def array(self, value: Any, path: str) -> list[Any]:
        if isinstance(value, list):
            return value
        self.fail(path, f"expected an array, got {type(value).__name__}")
        return []

    def string(self, value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return value
        self.fail(path, f"expected a string, got {type(value).__name__}")
        return None

    def version(self, value: Any, path: str) -> str | None:
        text = self.string(value, path)
        if text is None:
            return None
        try:
            parse_version(text)
        except InvalidVersion:
            self.fail(path, f"invalid version {text!r}")
            return None
        return text

    def variant(self, value: Any, path: str) -> Variant:
        pairs = [(k, self.string(v, f"{path}.{k}")) for k, v in self.obj(value, path).items()]
        return tuple(sorted((k, v) for k, v in pairs if v is not None))

    def requirement(self, value: Any, path: str) -> Requirement | None:
        items = self.array(value, path)
        if not 2 <= len(items) <= 3:
            if isinstance(value, list):
                self.fail(path, "expected [name, specifier] or [name, specifier, {variant}]")
            return None
        name = self.string(items[0], f"{path}[0]")
        spec = self.string(items[1], f"{path}[1]")
        variant = self.variant(items[2], f"{path}[2]") if len(items) == 3 else ()
        if spec is not None:
            try:
                parse_specifier(spec)
            except InvalidSpecifier:
                self.fail(path, f"invalid specifier {spec!r}")
                return None
        if name is None or spec is None:
            return None
        return Requirement(name, spec.strip(), variant)

    def requirements(self, value: Any, path: str) -> tuple[Requirement, ...]:
        reqs = [self.requirement(v, f"{path}[{i}]") for i, v in enumerate(self.array(value, path))]
        return tuple(r for r in reqs if r is not None)

    def provides(self, value: Any, path: str) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for i, item in enumerate(self.array(value, path)):
            pair = self.array(item, f"{path}[{i}]")
            if len(pair) != 2:
                if isinstance(item, list):
                    self.fail(f"{path}[{i}]", "expected [name, version]")
                continue
            name = self.string(pair[0], f"{path}[{i}][0]")
            version = self.version(pair[1], f"{path}[{i}][1]")
            if name is not None and version is not None:
                out.append((name, version))
        return tuple(out)

    def candidate(self, name: str, value: Any, path: str) -> Candidate | None:
        raw = self.obj(value, path)
        if "version" not in raw:
            if isinstance(value, dict):
                self.fail(path, "missing 'version'")
            return None
        version = self.version(raw["version"], f"{path}.version")
        note = raw.get("note")
        if note is not None:
            note = self.string(note, f"{path}.note")
        cand = Candidate(
            name=name,
            version=version or "0",
            variant=self.variant(raw.get("variant", {}), f"{path}.variant"),
            depends=self.requirements(raw.get("depends", []), f"{path}.depends"),
            conflicts=self.requirements(raw.get("conflicts", []), f"{path}.conflicts"),
            provides=self.provides(raw.get("provides", []), f"{path}.provides"),
            note=note,
        )
        return cand if version is not None else None

    def package(self, name: str, cands: list[Any], path: str) -> tuple[Candidate, ...]:
        found = [self.candidate(name, c, f"{path}[{i}]") for i, c in enumerate(cands)]
        return tuple(c for c in found if c is not None)

    def packages(self, value: Any, path: str) -> dict[str, tuple[Candidate, ...]]:
        return {
            name: self.package(name, self.array(cands, f"{path}.{name}"), f"{path}.{name}")
            for name, cands in self.obj(value, path).items()
        }

    def lazy_packages(self, value: Any, path: str) -> LazyPackages:
        """Only the shape is checked now (an object of arrays); candidates later."""
        raw = {n: self.array(c, f"{path}.{n}") for n, c in self.obj(value, path).items()}
        return LazyPackages(raw, path)

    def notes(self, value: Any, path: str) -> dict[str, str]:
        pairs = {k: self.string(v, f"{path}.{k}") for k, v in self.obj(value, path).items()}
        return {k: v for k, v in pairs.items() if v is not None}

    def check_format(self, raw: dict[str, Any], expected: str) -> None:
        if raw.get("format") != expected:
            self.fail("format", f"expected {expected!r}, got {raw.get('format')!r}")

    def raise_if_failed(self) -> None:
        if self.errors:
            raise ProblemError(self.errors)


class LazyPackages(Mapping[str, tuple[Candidate, ...]]):
    """`Problem.packages` read on demand: a name's candidates are validated and built the
    first time it is looked up, so a solve materialises only what its requests reach (a
    10,000-name index costs about a second to build whole). A name whose candidates are
    invalid raises ProblemError, with their JSON paths, when it is first looked up.

    Cost: O(names + candidates) at creation (list lengths and the names that `provides`
    mention, for `Catalog`); O(that name's candidates) at a first lookup, O(1) after.
    """

    def __init__(self, raw: dict[str, list[Any]], path: str = "packages") -> None:
        self._raw = raw
        self._path = path
        self._built: dict[str, tuple[Candidate, ...]] = {}
        self.sizes = {name: len(cands) for name, cands in raw.items()}
        self.providers = _provider_names(raw)

    def __getitem__(self, name: str) -> tuple[Candidate, ...]:
        built = self._built.get(name)
        if built is None:
            reader = _Reader()
            built = reader.package(name, self._raw[name], f"{self._path}.{name}")
            reader.raise_if_failed()
            self._built[name] = built
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def built(self) -> frozenset[str]:
        """The names built so far (what laziness saved is the rest)."""
        return frozenset(self._built)


def _provider_names(raw: dict[str, list[Any]]) -> dict[str, list[str]]:
    """For each provided name, the package names (in index order) with a candidate that
    seems to provide it. Malformed entries are skipped here: building the package reports
    them."""
    found: dict[str, dict[str, None]] = {}
    for name, cands in raw.items():
        for cand in cands:
            provides = cand.get("provides") if isinstance(cand, dict) else None
            for pair in provides if isinstance(provides, list) else ():
                if isinstance(pair, list) and pair and isinstance(pair[0], str):
                    found.setdefault(pair[0], {})[name] = None
    return {pname: list(names) for pname, names in found.items()}


def package_sizes(packages: Mapping[str, Sequence[Candidate]]) -> dict[str, int]:
    """Each name's number of candidates, without building a lazy package."""
    if isinstance(packages, LazyPackages):
        return packages.sizes
    return {name: len(cands) for name, cands in packages.items()}


def provider_names(packages: Mapping[str, Sequence[Candidate]]) -> dict[str, list[str]]:
    """Provided name -> names of the packages providing it, in index order, without building
    a lazy package."""
    if isinstance(packages, LazyPackages):
        return packages.providers
    found: dict[str, dict[str, None]] = {}
    for name, cands in packages.items():
        for cand in cands:
            for pname, _ in cand.provides:
                found.setdefault(pname, {})[name] = None
    return {pname: list(names) for pname, names in found.items()}


def load_problem(obj: Any, *, lazy: bool = False) -> Problem:
    """Validate a parsed `solvers-problem/1` JSON value into a Problem.

    Unknown keys are ignored. Raises ProblemError listing every fault with its JSON path.
    Cost: O(size of input); each distinct version/specifier text is parsed once. With
    `lazy`, packages are a `LazyPackages`: only their shape is checked here, and each
    package is validated and built when a solve first reaches it (faults then raise
    ProblemError from `solve`); the cost here drops to a scan of the list lengths.
    """
    reader = _Reader()
    raw = reader.obj(obj, "")
    reader.check_format(raw, PROBLEM_FORMAT)
    read_packages = reader.lazy_packages if lazy else reader.packages
    problem = Problem(
        packages=read_packages(raw.get("packages", {}), "packages"),
        requests=reader.requirements(raw.get("requests", []), "requests"),
        constraints=reader.requirements(raw.get("constraints", []), "constraints"),
        notes=reader.notes(raw.get("notes", {}), "notes"),
    )
    reader.raise_if_failed()
    return problem


def load_batch(obj: Any, *, lazy: bool = False) -> list[Case]:
    """Validate a parsed `solvers-batch/1` value into cases sharing one package set
    (`lazy` as for `load_problem`)."""
    reader = _Reader()
    raw = reader.obj(obj, "")
    reader.check_format(raw, BATCH_FORMAT)
    read_packages = reader.lazy_packages if lazy else reader.packages
    base = Problem(
        packages=read_packages(raw.get("packages", {}), "packages"),
        notes=reader.notes(raw.get("notes", {}), "notes"),
    )
    cases: list[Case] = []
    for i, item in enumerate(reader.array(raw.get("cases", []), "cases")):
        case = reader.obj(item, f"cases[{i}]")
        ident = reader.string(case.get("id", str(i)), f"cases[{i}].id") or str(i)
        reqs = reader.requirements(case.get("requests", []), f"cases[{i}].requests")
        cons = reader.requirements(case.get("constraints", []), f"cases[{i}].constraints")
        cases.append(Case(ident, base.with_requests(reqs, cons)))
    reader.raise_if_failed()
    return cases


def requirement_to_json(req: Requirement) -> list[Any]:
    """The REQ array of `req`; the variant object only when it has values."""
    out: list[Any] = [req.name, req.specifier]
    if req.variant:
        out.append(dict(req.variant))
    return out


def candidate_to_json(cand: Candidate) -> dict[str, Any]:
    """The candidate object of `cand`, omitting empty optional keys."""
    out: dict[str, Any] = {"version": cand.version}
    if cand.variant:
        out["variant"] = dict(cand.variant)
    if cand.depends:
        out["depends"] = [requirement_to_json(r) for r in cand.depends]
    if cand.conflicts:
        out["conflicts"] = [requirement_to_json(r) for r in cand.conflicts]
    if cand.provides:
        out["provides"] = [[n, v] for n, v in cand.provides]
    if cand.note is not None:
        out["note"] = cand.note
    return dict(sorted(out.items()))


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON value of `problem`, every object's keys in sorted order (so any `json.dumps`
    of it is canonical: equal problems dump to equal bytes); `load_problem` inverts it.
    Candidate and requirement lists keep their order: it carries preference and meaning."""
    out: dict[str, Any] = {
        "format": PROBLEM_FORMAT,
        "packages": {
            name: [candidate_to_json(c) for c in problem.packages[name]]
            for name in sorted(problem.packages)
        },
        "requests": [requirement_to_json(r) for r in problem.requests],
    }
    if problem.constraints:
        out["constraints"] = [requirement_to_json(r) for r in problem.constraints]
    if problem.notes:
        out["notes"] = dict(sorted(problem.notes.items()))
    return dict(sorted(out.items()))
