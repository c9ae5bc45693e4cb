"""The independent checker of answers, and the pruning of unneeded pins.

Written against `Candidate.satisfies` directly, not against the backends' id tables, so that
a bug in an encoding cannot hide itself: every answer any backend gives passes through here.
"""

from __future__ import annotations

from collections.abc import Mapping

from solvers.model import Candidate, Problem, Requirement


def _met(req: Requirement, pins: Mapping[str, Candidate]) -> bool:
    return any(c.satisfies(req) for c in pins.values())


def verify(problem: Problem, pins: Mapping[str, Candidate]) -> list[str]:
    """Every way `pins` fails to solve `problem`, as sentences; empty means valid.

    Cost: O(pins x (requirements of the pins + requests)).
    """
    faults: list[str] = []
    for name, cand in pins.items():
        if cand.name != name or cand not in problem.packages.get(name, ()):
            faults.append(f"pin {name!r} -> {cand} is not a candidate of {name!r}")
    faults += [f"request {r} is not met" for r in problem.requests if not _met(r, pins)]
    for cand in pins.values():
        faults += [f"{cand} needs {r}, not met" for r in cand.depends if not _met(r, pins)]
        for req in cand.conflicts:
            faults += [
                f"{cand} conflicts with {req}, met by {other}"
                for other in pins.values()
                if other is not cand and other.satisfies(req)
            ]
    for req in problem.constraints:
        pin = pins.get(req.name)
        if pin is not None and not req.allows(pin.version, pin.variant):
            faults.append(f"constraint {req} is violated by {pin}")
    return faults


def needed(problem: Problem, pins: Mapping[str, Candidate]) -> dict[str, Candidate]:
    """The pins reachable from the requests through chosen candidates' depends.

    Dropping an unreachable pin keeps a valid answer valid (it only removes depends,
    conflicts and constrained names), so this is how "no unneeded packages" is enforced.
    Cost: O(pins x requirements).
    """
    keep: dict[str, Candidate] = {}
    todo = list(problem.requests)
    while todo:
        req = todo.pop()
        for name, cand in pins.items():
            if cand.satisfies(req):
                if name not in keep:
                    keep[name] = cand
                    todo.extend(cand.depends)
                break
    return {name: pins[name] for name in pins if name in keep}
