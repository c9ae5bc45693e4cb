"""`cmpkg resolve` and `cmpkg why`: requests to a `Resolution`, with nothing installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from cmpkg import atomic
from cmpkg.config import home
from cmpkg.context import Context, Sources, gather
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.index.model import normalize_name
from cmpkg.resolve import Resolution, build_problem, resolve


class ResolveInput(NamedTuple):  # NamedTuples: see cmpkg.resolve's FactValue
    requests: tuple[str, ...]
    sources: Sources = Sources()
    target: str = "host"  # host, cpu, cuda, a profile name or file
    backend: str = "auto"
    dump_problem: Path | None = None  # also write the solver problem file here


class Resolved(NamedTuple):
    context: Context
    resolution: Resolution


class Why(NamedTuple):
    package: str
    chains: tuple[tuple[str, ...], ...]  # package names, from a request down to `package`
    labels: tuple[str, ...]  # each chain as `a 1.0 -> b 2.0 [device=cpu]`


def resolve_requests(given: ResolveInput) -> Resolved:
    """Probe (index, target, the tools the requests can reach), then solve: two steps."""
    ctx = gather(given.sources, given.target, given.requests)
    try:
        return solve(ctx, given)
    except CmpkgError as error:
        raise _with_probe_sources(error, ctx) from None


def _with_probe_sources(error: CmpkgError, ctx: Context) -> CmpkgError:
    """`--target cuda` on a machine where the probe found no CUDA: an unsatisfiable answer
    also says what each GPU source reported, as `install` does before solving."""
    target = ctx.target
    if error.code != "unsatisfiable" or not target.requires_cuda or target.cuda is not None:
        return error
    probed = [f"  {s.name}: {s.status}: {s.detail}".rstrip(": ") for s in target.sources]
    details = [*error.details, "where this machine was probed for __cuda:", *probed]
    return CmpkgError(error.code, error.message, hint=error.hint, details=details, data=error.data)


def solve(ctx: Context, given: ResolveInput, *, installing: bool = False) -> Resolved:
    """The resolution of the gathered task; an install answers from the memo when it can."""
    if installing:  # `--target cuda` on a machine without CUDA: say so before solving
        ctx.target.check_installable()
    task = ctx.task(given.backend)
    if given.dump_problem is not None:
        problem = json.dumps(build_problem(task), indent=1, sort_keys=True)
        atomic.write_text(given.dump_problem, problem + "\n")
    if installing:  # installing what is installed must not pay for a solve (docs/benchmarks.md)
        from cmpkg.resolution_cache import cached_resolve

        return Resolved(ctx, cached_resolve(home(), task))
    return Resolved(ctx, resolve(task))


def why(given: ResolveInput, package: str) -> Why:
    """Every chain from a request down to `package`; an error if it is not part of it."""
    resolution = resolve_requests(given).resolution
    name = normalize_name(package)
    if name not in resolution.pins:
        raise UsageError(
            "not-in-resolution",
            f"{name} is not part of this resolution",
            hint=f"it holds: {', '.join(sorted(resolution.pins))}",
        )
    chains = tuple(tuple(chain) for chain in resolution.why(name))
    labels = tuple(" -> ".join(resolution.pins[n].label for n in chain) for chain in chains)
    return Why(name, chains, labels)
