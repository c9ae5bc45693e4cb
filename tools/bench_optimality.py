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
"first choice" column counts the cases that `auto` answers before libsolv, with the
first-choice answer (`solvers.solve.first_choice`: valid and proved, so no solver runs).
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
from solvers.backends.libsolv_backend import LibsolvBackend  # noqa: E402
from solvers.catalog import Catalog  # noqa: E402
from solvers.solve import certainly_optimal, first_choice  # noqa: E402
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


def verdict(raw: dict[str, Any]) -> tuple[bool, bool, bool, bool] | None:
    """(first choice proved, simple rule, full rule, clingo strictly better)."""
    problem = load_problem(raw)
    catalog = Catalog(problem)
    quick = first_choice(Catalog(problem), Deadline(None)) is not None
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
    return quick, simple, full, better


def _cost(problem: Any, pins: Any) -> tuple[int, int, int]:
    requested = {r.name for r in problem.requests}
    rank = {n: problem.packages[n].index(c) for n, c in pins.items()}
    tier1 = sum(r for n, r in rank.items() if n in requested)
    return tier1, sum(r for n, r in rank.items() if n not in requested), len(pins)


def main() -> int:
    rows: dict[str, list[int]] = {}
    for suite, _, raw in cases():
        result = verdict(raw)
        counts = rows.setdefault(suite, [0, 0, 0, 0, 0, 0])
        if result is None:
            continue
        quick, simple, full, better = result
        counts[0] += 1
        counts[1] += quick
        counts[2] += simple
        counts[3] += full
        counts[4] += not full
        counts[5] += better
    print(
        "| suite | satisfiable cases | first choice (no solver) | libsolv's answer proved by "
        "'every pin first' | by 'first or forced' | clingo needed | of which clingo found better |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for suite, (sat, quick, simple, full, rest, better) in rows.items():
        print(f"| {suite} | {sat} | {quick} | {simple} | {full} | {rest} | {better} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
