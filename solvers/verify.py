"""The independent checker of answers, and the pruning of unneeded pins.

Written against `Candidate.satisfies` directly, not against the backends' id tables, so that
a bug in an encoding cannot hide itself: every answer any backend gives passes through here.
"""

from __future__ import annotations

from collections.abc import Mapping

from solvers.model import Candidate, Problem, Requirement


def _offers(pins: Mapping[str, Candidate]) -> dict[str, list[Candidate]]:
    """For each name, the pins that could meet a requirement on it (own name or provide)."""
    offers: dict[str, list[Candidate]] = {}
    for cand in pins.values():
        for name in dict.fromkeys([cand.name, *(n for n, _ in cand.provides)]):
            offers.setdefault(name, []).append(cand)
    return offers


def _meeting(req: Requirement, offers: dict[str, list[Candidate]]) -> list[Candidate]:
    return [c for c in offers.get(req.name, ()) if c.satisfies(req)]


def verify(problem: Problem, pins: Mapping[str, Candidate]) -> list[str]:
    """Every way `pins` fails to solve `problem`, as sentences; empty means valid.

    Cost: O(requirements of the pins + requests), times the few pins offering each name.
    """
    faults: list[str] = []
    for name, cand in pins.items():
        if cand.name != name or cand not in problem.packages.get(name, ()):
            faults.append(f"pin {name!r} -> {cand} is not a candidate of {name!r}")
    offers = _offers(pins)
    faults += [f"request {r} is not met" for r in problem.requests if not _meeting(r, offers)]
    for cand in pins.values():
        faults += [f"{cand} needs {r}, not met" for r in cand.depends if not _meeting(r, offers)]
        for req in cand.conflicts:
            faults += [
                f"{cand} conflicts with {req}, met by {other}"
                for other in _meeting(req, offers)
                if other is not cand
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
    Cost: O(requirements of the pins), times the few pins offering each name.
    """
    offers = _offers(pins)
    keep: set[str] = set()
    todo = list(problem.requests)
    while todo:
        meeting = _meeting(todo.pop(), offers)
        if meeting and meeting[0].name not in keep:
            keep.add(meeting[0].name)
            todo.extend(meeting[0].depends)
    return {name: pins[name] for name in pins if name in keep}
