"""Text and JSON views of resolutions and plans, shared by resolve, install and lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmpkg.console import plural

if TYPE_CHECKING:  # `cmpkg resolve` renders a tree and never plans: not imported for it
    from cmpkg.plan import Plan


def resolution_json(ctx: Any, resolution: Any) -> dict[str, Any]:
    from cmpkg.resolution import resolution_json as as_json

    return as_json(ctx.target.name, resolution)


def resolution_tree(ctx: Any, resolution: Any) -> str:
    """The chosen packages as a tree from the requests, each line saying what it is."""
    lines: list[str] = [f"target {ctx.target.name} (solved by {resolution.backend})"]
    seen: set[str] = set()

    def walk(name: str, prefix: str, last: bool, depth: int) -> None:
        pin = resolution.pins[name]
        branch = "" if depth == 0 else ("└── " if last else "├── ")
        facts = ", ".join(_fact(f, resolution) for f in pin.facts)
        more = " (see above)" if name in seen and pin.needs else ""
        lines.append(f"{prefix}{branch}{pin.label}{'  needs ' + facts if facts else ''}{more}")
        if name in seen:
            return
        seen.add(name)
        child_prefix = prefix + ("" if depth == 0 else ("    " if last else "│   "))
        for i, dep in enumerate(pin.needs):
            walk(dep, child_prefix, i == len(pin.needs) - 1, depth + 1)

    for root in resolution.roots:
        walk(root, "", True, 0)
    return "\n".join(lines)


def _fact(name: str, resolution: Any) -> str:
    fact = resolution.facts.get(name)
    if fact is None:
        return name
    return name if "=" in name else f"{name} {fact.version} ({fact.source})"


def plan_lines(plan: Plan) -> list[str]:
    lines = []
    for step in plan.steps:
        state = "cached" if step.cached else "todo  "
        what = step.pin.label if step.pin else _env_label(step)
        lines.append(f"{state} {step.method:<9} {what}  {step.key[:12]}")
    todo = len(plan.todo)
    lines.append(
        f"{plural(len(plan.steps), 'package')}: {len(plan.steps) - todo} cached, {todo} to do"
    )
    return lines


def _env_label(step: Any) -> str:
    """`python environment (5 requirements)`, or a step's own: `... for imagenet-synthetic`."""
    count = len(step.env.requirements) if step.env else 0
    owner = f" for {step.name.split(':', 1)[1]}" if ":" in step.name else ""
    return f"python environment{owner} ({plural(count, 'requirement')})"
