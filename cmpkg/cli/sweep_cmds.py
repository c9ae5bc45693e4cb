"""`cmpkg sweep plan | run | status | cancel`: the `[sweep]` matrix (docs/sweeps.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cmpkg.cli.common import (
    add_backend_option,
    add_index_option,
    add_json_option,
    add_wheel_options,
)


def register(subparsers: Any) -> None:
    sweep = subparsers.add_parser("sweep", help="plan and run the [sweep] matrix of cmpkg.toml")
    verbs = sweep.add_subparsers(dest="verb", metavar="VERB", parser_class=type(sweep))
    sweep.set_defaults(handler=lambda _args: _usage(sweep))

    plan = verbs.add_parser("plan", help="lock every build and list the cells (and invalid ones)")
    _add_plan_options(plan)
    plan.add_argument("--replan", action="store_true", help="solve again even if nothing changed")
    plan.set_defaults(handler=_plan)

    run = verbs.add_parser("run", help="run the cells that are missing, failed or cancelled")
    _add_plan_options(run)
    run.add_argument("--executor", choices=("local", "slurm"), default="local")
    run.add_argument("--jobs", type=int, metavar="N", help="local: cells at once (default: cores)")
    run.add_argument("--wait", action="store_true", help="slurm: return when every task ended")
    run.add_argument("--partition", help="slurm partition (default: [sweep.slurm] or Slurm's)")
    run.add_argument("--time", help="slurm time limit per cell, e.g. 00:30:00")
    run.add_argument("--cpus-per-cell", type=int, metavar="N")
    run.add_argument("--gpus-per-cell", type=int, metavar="N")
    run.set_defaults(handler=_run)

    status = verbs.add_parser("status", help="each cell's state (squeue and the cells' files)")
    _add_plan_options(status)
    status.set_defaults(handler=_status)

    cancel = verbs.add_parser("cancel", help="cancel pending or running cells (default: all)")
    cancel.add_argument("cells", nargs="*", metavar="CELL")
    _add_plan_options(cancel)
    cancel.set_defaults(handler=_cancel)

    cell = verbs.add_parser("cell", help=argparse.SUPPRESS)  # what each task runs
    cell.add_argument("--submission", type=Path, required=True)
    cell.add_argument("--task", type=int, required=True)
    cell.set_defaults(handler=_cell)


def _usage(parser: Any) -> int:
    parser.print_help()
    return 2


def _add_plan_options(parser: Any) -> None:
    add_index_option(parser)
    add_wheel_options(parser)
    add_backend_option(parser)
    add_json_option(parser)


def _inputs(args: argparse.Namespace) -> Any:
    from cmpkg.commands.sweep import SweepInputs
    from cmpkg.pyenv import WheelSource

    wheels = WheelSource(tuple(args.find_links), (), args.no_index)
    return SweepInputs(Path.cwd(), tuple(args.index), wheels, args.backend)


def _plan(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import sweep

    plan = sweep.plan(_inputs(args), replan=args.replan)
    if args.json:
        console.print_json(plan.to_json())
        return 0
    rows = [
        [str(c.index), c.id, c.lock_target or "-", c.lock or "-", _keys(c.store_keys)]
        for c in plan.valid
    ]
    if rows:
        print(console.table(rows, ["#", "cell", "lock target", "lock", "store keys"]))
    _report_invalid(plan)
    console.info(f"{len(plan.valid)} cells to run, {len(plan.invalid)} invalid")
    return 0


def _keys(keys: dict[str, str]) -> str:
    return " ".join(f"{name}={key[:12]}" for name, key in sorted(keys.items()))


def _report_invalid(plan: Any) -> None:
    from cmpkg import console

    for cell in plan.invalid:
        console.message("warning", f"cell {cell.id} cannot be built: {cell.invalid.message}")
        for line in cell.invalid.details:
            console.info(f"  {line}")


def _options(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from cmpkg.commands.sweep import load_spec

    options = load_spec(Path.cwd()).slurm
    given = {
        "partition": args.partition,
        "time": args.time,
        "cpus_per_cell": args.cpus_per_cell,
        "gpus_per_cell": args.gpus_per_cell,
    }
    return replace(options, **{k: v for k, v in given.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import sweep

    say = (lambda _t: None) if args.json else console.info
    outcome = sweep.run(
        _inputs(args), args.executor, _options(args), jobs=args.jobs, wait=args.wait, report=say
    )
    if not args.json:
        _report_invalid(outcome.plan)
    kept = ", ".join(f"{s.cell.id} ({s.state})" for s in outcome.kept if s.state != "invalid")
    if args.json:
        console.print_json(
            {
                "executor": outcome.executor,
                "job": outcome.job,
                "started": [c.id for c in outcome.selected],
                "kept": {s.cell.id: s.state for s in outcome.kept},
                "exit-codes": {str(k): v for k, v in (outcome.codes or {}).items()},
            }
        )
    elif not outcome.selected:
        console.info("nothing to run: every cell is done, running or invalid")
    elif kept:
        console.info(f"left alone: {kept}")
    return 1 if outcome.failed else 0


def _status(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import sweep

    statuses = sweep.status(sweep.plan(_inputs(args)))
    if args.json:
        console.print_json(
            [
                {
                    "index": s.cell.index,
                    "cell": s.cell.id,
                    "state": s.state,
                    "detail": s.detail,
                    "attempt": s.attempt,
                    "run-id": s.run_id,
                    "job": s.job,
                }
                for s in statuses
            ]
        )
        return 0
    rows = [
        [str(s.cell.index), s.cell.id, s.state, str(s.attempt or "-"), s.detail] for s in statuses
    ]
    print(console.table(rows, ["#", "cell", "state", "attempt", "detail"]))
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.state] = counts.get(s.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    console.info(f"{len(statuses)} cells: {summary}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import sweep

    cancelled = sweep.cancel(sweep.plan(_inputs(args)), args.cells)
    if args.json:
        console.print_json([s.cell.id for s in cancelled])
    else:
        console.info(
            f"cancelled {len(cancelled)} cells" + "".join(f"\n  {s.cell.id}" for s in cancelled)
        )
    return 0


def _cell(args: argparse.Namespace) -> int:
    from cmpkg.commands.sweep import run_cell

    return run_cell(args.submission, args.task)
