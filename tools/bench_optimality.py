"""How often `auto` can return libsolv's answer without clingo (a script, not a test).

    python tools/bench_optimality.py

For every satisfiable case of the solver conformance suite (tests/solvers/conformance) and
scenario suite (tests/solvers/scenarios), and for the main job's problems (mlperf-resnet50
on the `cpu` and `h200-cuda13` profiles), it solves with libsolv (its first answer, as
`auto` does) and asks
`solvers.solve.certainly_optimal` whether that answer is provably optimal, counting
separately the simple rule ("every pin is its name's first candidate") and the full rule
(first or forced). Where neither holds, `auto` pays for clingo; the last column says whether
clingo then found a strictly better answer (libsolv's answer was really not optimal). The
"first choice" column counts the cases that `auto` answers before any solver, with the
first-choice answer (`solvers.solve.first_choice`: valid and proved, so no solver runs), and
"the pinned step" those of the rest that `auto` answers next, with clingo and the requested
names pinned to their floor (`solvers.solve.tier_one_floor`), before libsolv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solvers import load_problem, solve  # noqa: E402
from solvers.backends import Deadline  # noqa: E402
from solvers.backends.clingo_backend import ClingoBackend  # noqa: E402
from solvers.backends.libsolv_backend import LibsolvBackend  # noqa: E402
from solvers.catalog import Catalog  # noqa: E402
from solvers.solve import certainly_optimal, first_choice, tier_one_floor  # noqa: E402
from solvers.verify import needed  # noqa: E402


def cases() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for suite in ("conformance", "scenarios"):
        for path in sorted((ROOT / "tests/solvers" / suite).rglob("*.json")):
            found.append((suite, path.stem, json.loads(path.read_text())))
    return found + main_job()


def main_job() -> list[tuple[str, str, dict[str, Any]]]:
    """The shipped app's problems as cmpkg builds them (profile targets: no probing)."""
    from cmpkg.index import SHIPPED_INDEX, load_index
    from cmpkg.probe import resolve_target
    from cmpkg.resolve import FactValue, ResolveTask, build_problem, parse_request

    index = load_index([SHIPPED_INDEX])
    found = []
    for profile in ("cpu", "h200-cuda13"):
        target = resolve_target(profile)
        facts = {n: FactValue(f.version, f.source) for n, f in target.facts().items()}
        tools = {"python": FactValue(target.python, f"profile {profile}")}
        request = parse_request("mlperf-resnet50", index)
        doc = build_problem(ResolveTask(index, facts, tools, (request,)))
        found.append(("main job", f"mlperf-resnet50 --target {profile}", doc))
    return found


def verdict(raw: dict[str, Any]) -> tuple[bool, bool, bool, bool, bool] | None:
    """(first choice proved, pinned step answered, simple rule, full rule, clingo strictly
    better than libsolv's answer)."""
    problem = load_problem(raw)
    catalog = Catalog(problem)
    quick = first_choice(Catalog(problem), Deadline(None)) is not None
    pinned = not quick and _pinned_answers(problem)
    chosen = LibsolvBackend(refine=False).solve(catalog, Deadline(None))  # as auto does
    if chosen is None:
        return None
    pins = needed(problem, {catalog.candidates[c].name: catalog.candidates[c] for c in chosen})
    simple = all(c is problem.packages[n][0] for n, c in pins.items()) and certainly_optimal(
        catalog, pins
    )
    full = certainly_optimal(catalog, pins)
    better = False
    if not full:
        best = solve(problem, "clingo")
        better = _cost(problem, best.pins) < _cost(problem, pins)
    return quick, pinned, simple, full, better


def _pinned_answers(problem: Any) -> bool:
    """Whether auto's pinned step (clingo with the requested names at `tier_one_floor`)
    has an answer, so that neither libsolv nor the proof runs."""
    catalog = Catalog(problem)
    floor = tier_one_floor(catalog)
    if floor is None:
        return False
    return ClingoBackend(pinned=floor).solve(catalog, Deadline(None)) is not None


def _cost(problem: Any, pins: Any) -> tuple[int, int, int]:
    requested = {r.name for r in problem.requests}
    rank = {n: problem.packages[n].index(c) for n, c in pins.items()}
    tier1 = sum(r for n, r in rank.items() if n in requested)
    return tier1, sum(r for n, r in rank.items() if n not in requested), len(pins)


def main() -> int:
    rows: dict[str, list[int]] = {}
    for suite, _, raw in cases():
        result = verdict(raw)
        counts = rows.setdefault(suite, [0] * 7)
        if result is None:
            continue
        quick, pinned, simple, full, better = result
        for column, hit in enumerate((True, quick, pinned, simple, full, not full, better)):
            counts[column] += hit
    print(
        "| suite | satisfiable cases | first choice (no solver) | else the pinned step "
        "(clingo, no libsolv) | libsolv's answer proved by 'every pin first' | by 'first or "
        "forced' | not proved | of which clingo found better |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for suite, counts in rows.items():
        print(f"| {suite} | " + " | ".join(map(str, counts)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
