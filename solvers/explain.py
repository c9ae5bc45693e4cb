"""The one place where "unsatisfiable" becomes a sentence.

Method: a small unsatisfiable core, then a derivation chain. The core is found by deletion
(chunked, like ddmin) over the requests and the depends edges of the reachable candidates,
with libsolv as the oracle on a pool whose edges can be switched off (see
`Encoding(switchable=True)`); conflicts and constraints are always kept. Whatever subset is
current is always unsatisfiable, so running out of time yields a larger, still true, core.
The core is then rendered PubGrub-style: each edge group as "X 1.0 needs Y >=2", a missing
or out-of-range requirement with what the index (or the target, for `__` facts) has, and
"so A and B cannot both be installed; the request needs both" when requests clash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from solvers.backends import Deadline, SolveTimeoutError
from solvers.backends.libsolv_backend import Encoding
from solvers.backends.worker import bounded
from solvers.catalog import Catalog
from solvers.explanation import Explanation, Step
from solvers.model import Candidate, Requirement, Variant

_Item = tuple[str, Any]  # ("req", index) or ("edge", (cid, j))
MAX_LISTED = 5  # versions listed in "(available: ...)" before eliding
MAX_VARIANTS = 3  # variants of one version listed before they are summarised
# How long past its deadline the core search may take to hand over the core it has (its
# own checks stop it between solves; a solve still running then is killed).
CORE_GRACE = 0.5


def explain(catalog: Catalog, deadline: Deadline, limit: Deadline | None = None) -> Explanation:
    """The derivation naming the clashing constraints of an unsatisfiable problem.

    Cost: O(core x log(edges)) libsolv calls on the reachable candidates, bounded by
    `deadline` (on expiry the current, larger core is rendered; SolveTimeoutError if it
    expires before the candidates are even encoded). `limit` is the caller's hard bound
    (the `timeout` of `solve`): past it (plus `CORE_GRACE`) the search is killed even
    inside a libsolv solve, raising SolveTimeoutError; without it nothing is forked.
    """
    problem = catalog.problem
    for req in problem.requests:
        if not catalog.matches(req):
            asked = Step("request", f"the request needs {req}", 0, req.name, str(req))
            return Explanation((asked, _why_none(catalog, req, 1)))
    core = _core(catalog, deadline, limit or Deadline(None))
    requests = [problem.requests[i] for kind, i in core if kind == "req"]
    edges = [e for kind, e in core if kind == "edge"]
    return Explanation(tuple(_render(catalog, requests, edges)))


def _core(catalog: Catalog, deadline: Deadline, limit: Deadline) -> list[_Item]:
    """Encoding happens here (Python, deadline-checked); the search, many libsolv solves,
    ends itself with the core it has when `deadline` passes, and under a `limit` runs in a
    child killed `CORE_GRACE` seconds past it if a solve still holds it (`worker.bounded`)."""
    problem = catalog.problem
    reached = catalog.reachable(problem.requests, deadline.check)
    enc = Encoding(catalog, reached, switchable=True, deadline=deadline)
    core: list[_Item] = bounded(lambda: _search(enc, deadline), limit, CORE_GRACE)
    return core


def _search(enc: Encoding, deadline: Deadline) -> list[_Item]:
    problem = enc.catalog.problem
    constraints = enc.constraint_jobs(problem.constraints)

    def unsat(items: Sequence[_Item]) -> bool:
        reqs = [problem.requests[i] for kind, i in items if kind == "req"]
        locks = enc.lock_relax_jobs(e for kind, e in items if kind == "edge")
        return enc.run(enc.request_jobs(reqs) + constraints + locks) is None

    items: list[_Item] = [("req", i) for i in range(len(problem.requests))]
    everything = [*items, *(("edge", e) for e in sorted(enc.relax_id))]
    # libsolv's own problem rules usually name a small unsatisfiable set of edges already;
    # minimising inside it costs a few solves instead of O(core x log(all edges)).
    blamed = enc.problem_edges(
        enc.request_jobs(problem.requests) + constraints + enc.lock_relax_jobs(enc.relax_id)
    )
    seed = [*items, *(("edge", e) for e in sorted(blamed))]
    return _minimise(seed if unsat(seed) else everything, unsat, deadline)


def _minimise(
    items: list[_Item], unsat: Callable[[Sequence[_Item]], bool], deadline: Deadline
) -> list[_Item]:
    """Chunked deletion: drop any chunk whose removal keeps `unsat`, halving chunk sizes.
    Ends 1-minimal (no single item can go) unless the deadline stops it earlier."""
    core = items
    chunk = max(1, len(core) // 2)
    try:
        while True:
            i = 0
            while i < len(core):
                deadline.check()
                trial = core[:i] + core[i + chunk :]
                if unsat(trial):
                    core = trial
                else:
                    i += chunk
            if chunk == 1:
                return core
            chunk = max(1, chunk // 2)
    except SolveTimeoutError:
        return core


def _render(
    catalog: Catalog, requests: list[Requirement], edges: list[tuple[int, int]]
) -> list[Step]:
    groups: dict[tuple[str, Requirement], list[int]] = {}
    for cid, j in edges:
        cand = catalog.candidates[cid]
        groups.setdefault((cand.name, cand.depends[j]), []).append(cid)
    if len(requests) == 1:
        prefix = _request_prefix(catalog, requests[0])
        steps = list(prefix)
        _chain(catalog, requests[0], groups, set(), steps, len(prefix))
        steps += _conflict_lines(catalog, requests, groups)
        return steps + _none_left(catalog, requests[0])
    steps = []
    done: set[tuple[str, Requirement]] = set()
    for req in requests:
        _chain(catalog, req, groups, done, steps, 0)
    steps += _conflict_lines(catalog, requests, groups)
    if not steps and len({r.name for r in requests}) == 1:
        wanted = " and ".join(str(r) for r in requests)
        name = requests[0].name
        return [
            Step("request", f"the request needs {wanted}", 0, name, wanted),
            Step("conclusion", f"only one version of {name} can be installed", 1, name),
        ]
    labels = [_label(catalog, r) for r in requests]
    if len(labels) == 2:
        clash = f"so {labels[0]} and {labels[1]} cannot both be installed"
        asked = "the request needs both"
    else:
        clash = f"so {', '.join(labels[:-1])} and {labels[-1]} cannot all be installed"
        asked = "the request needs all of them"
    return [*steps, Step("conclusion", clash), Step("conclusion", asked)]


def _chain(
    catalog: Catalog,
    req: Requirement,
    groups: dict[tuple[str, Requirement], list[int]],
    done: set[tuple[str, Requirement]],
    steps: list[Step],
    depth: int,
) -> None:
    """Depth-first from `req`: each edge group of a candidate meeting it, then its target,
    one level deeper (the deeper step says why the one above cannot be met)."""
    matching = set(catalog.matches(req))
    for key, cids in groups.items():
        if key in done or not matching.intersection(cids):
            continue
        done.add(key)
        text = f"{_group_label(catalog, cids)} {_verb(catalog, cids)} {key[1]}"
        steps.append(Step("needs", text, depth, key[0], str(key[1])))
        if catalog.matches(key[1]):
            _chain(catalog, key[1], groups, done, steps, depth + 1)
        else:
            steps.append(_why_none(catalog, key[1], depth + 1))


def _conflict_lines(
    catalog: Catalog, requests: list[Requirement], groups: dict[tuple[str, Requirement], list[int]]
) -> list[Step]:
    """Conflicts and constraints touching candidates the core involves (neither is
    minimised, so these are the ones that can matter)."""
    involved: set[int] = set()
    for req in [*requests, *(key[1] for key in groups)]:
        involved.update(catalog.matches(req))
    steps = []
    for cid in sorted(involved):
        cand = catalog.candidates[cid]
        for req in cand.conflicts:
            if involved.intersection(catalog.matches(req)) - {cid}:
                text = f"{cand} conflicts with {req}"
                steps.append(Step("conflict", text, 0, cand.name, str(req)))
    for req in catalog.problem.constraints:
        if involved.intersection(catalog.ids(req.name)) - set(catalog.own_matches(req)):
            text = f"the constraints allow only {req}"
            steps.append(Step("constraint", text, 0, req.name, str(req)))
    return steps


def _none_left(catalog: Catalog, req: Requirement) -> list[Step]:
    """When several candidates each failed for their own reasons, say that none is left."""
    if len(catalog.matches(req)) < 2:
        return []
    return [Step("conclusion", f"so no version of {req.name} can be installed", 0, req.name)]


def _request_prefix(catalog: Catalog, req: Requirement) -> list[Step]:
    """Say what was requested only when the request itself narrows the name's candidates."""
    if len(catalog.matches(req)) < len(catalog.ids(req.name)):
        return [Step("request", f"the request needs {req}", 0, req.name, str(req))]
    return []


def _label(catalog: Catalog, req: Requirement) -> str:
    matches = catalog.matches(req)
    if len(matches) == 1:
        return str(catalog.candidates[matches[0]])
    if len(matches) < len(catalog.ids(req.name)):
        return str(req)
    return req.name


def _group_label(catalog: Catalog, cids: list[int]) -> str:
    name = catalog.candidates[cids[0]].name
    if len(cids) > 1 and set(cids) == set(catalog.ids(name)):
        return f"{name} (every version)"
    by_version: dict[str, list[Candidate]] = {}
    for cid in cids:
        cand = catalog.candidates[cid]
        by_version.setdefault(cand.version, []).append(cand)
    siblings = [catalog.candidates[c] for c in catalog.ids(name)]
    return f"{name} " + ", ".join(_variants_text(v, cs, siblings) for v, cs in by_version.items())


def _variants_text(version: str, cands: list[Candidate], siblings: list[Candidate]) -> str:
    """One version's candidates, short: a variant app has dozens of value combinations, so
    more than MAX_VARIANTS of them are summarised by the values they share."""
    if len(cands) <= MAX_VARIANTS:
        return ", ".join(_version_text(c) for c in cands)
    common = tuple(p for p in cands[0].variant if all(p in c.variant for c in cands[1:]))
    alike = [s for s in siblings if s.version == version and set(common) <= set(s.variant)]
    count = "every variant" if len(alike) == len(cands) else f"{len(cands)} variants"
    return version + _variant_text(common, " [{}]") + f" ({count})"


def _verb(catalog: Catalog, cids: list[int]) -> str:
    name = catalog.candidates[cids[0]].name
    every = len(cids) > 1 and set(cids) == set(catalog.ids(name))
    return "needs" if len(cids) == 1 or every else "need"


def _version_text(cand: Candidate) -> str:
    return cand.version + _variant_text(cand.variant, " [{}]")


def _variant_text(variant: Variant, template: str = "{}") -> str:
    return template.format(", ".join(f"{k}={v}" for k, v in variant)) if variant else ""


def _why_none(catalog: Catalog, req: Requirement, depth: int) -> Step:
    """Why nothing meets `req`: what the index (or, for `__` facts, the target) has."""
    cands = [catalog.candidates[c] for c in catalog.ids(req.name)]
    note = catalog.problem.notes.get(req.name)
    wanted = str(req)
    if req.name.startswith("__"):
        if not cands:
            text = note or f"this target has no {req.name}"
            return Step("fact", text, depth, req.name, wanted, value="", source=note)
        facts = [f"{c.name} {c.version}" + _paren(c.note or note) for c in cands]
        value = ", ".join(c.version for c in cands)
        sources = ", ".join(dict.fromkeys(c.note or note or "" for c in cands)) or None
        text = "this target has " + ", ".join(facts)
        return Step("fact", text, depth, req.name, wanted, value=value, source=sources)
    if not cands and not catalog.providers(req.name):
        return Step("missing", note or f"there is no package {req.name}", depth, req.name, wanted)
    in_range = [
        c
        for c in cands
        if req.specifier == "" or Requirement(req.name, req.specifier).allows(c.version, ())
    ]
    if req.variant and in_range:
        offered = sorted({_variant_text(c.variant) or "no variant" for c in in_range})
        text = f"{req.name} is not offered with {_variant_text(req.variant)}"
        text += f" (offered: {'; '.join(offered)})"
        return Step("missing", text, depth, req.name, wanted)
    text = f"{req.name} has no version {req.specifier} (available: {_listing(cands)})"
    return Step("missing", text, depth, req.name, wanted)


def _paren(text: str | None) -> str:
    return f" ({text})" if text else ""


def _listing(cands: list[Candidate]) -> str:
    versions = list(dict.fromkeys(c.version for c in cands))
    if not versions:
        return "none"
    more = f", and {len(versions) - MAX_LISTED} more" if len(versions) > MAX_LISTED else ""
    return ", ".join(versions[:MAX_LISTED]) + more
