"""The problem-file CLI: `python -m solvers solve FILE [--backend NAME] [--json] [--timeout S]`.

Exit codes: 0 satisfiable, 1 unsatisfiable, 2 bad input or usage, 3 timeout, 4 internal
error (an answer failed verification: a solver bug, reported with the file to replay). A batch file
(`solvers-batch/1`) prints one answer per case (one JSON object per line with --json) and
exits with the worst code of its cases. No traceback reaches the user for bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from solvers.backends import SolveTimeoutError
from solvers.catalog import Catalog
from solvers.model import BATCH_FORMAT, Case, ProblemError, load_batch, load_problem
from solvers.solve import Result, SolverBugError, backend_names, solve

EXIT_SAT, EXIT_UNSAT, EXIT_BAD_INPUT, EXIT_TIMEOUT, EXIT_INTERNAL = 0, 1, 2, 3, 4


class Args(NamedTuple):
    """The parsed command line."""

    command: str
    file: str
    backend: str = "auto"
    json: bool = False
    timeout: float | None = None


def parse_args(argv: Sequence[str]) -> Args:
    """The command line, read directly when it is plain (`solve FILE` and the options spelled
    out, in any order), else by argparse, which also owns --help, abbreviations and every
    usage error. argparse (with the shutil, bz2, lzma, gettext and locale it pulls in) was
    a fifth of this CLI's start-up on a trivial problem."""
    plain = _plain_args(argv)
    if plain is not None:
        return plain
    return Args(**vars(_parser().parse_args(argv)))


def _plain_args(argv: Sequence[str]) -> Args | None:
    if len(argv) < 2 or argv[0] != "solve":
        return None
    files: list[str] = []
    options: dict[str, Any] = {}
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--json":
            options["json"] = True
        elif arg in ("--backend", "--timeout"):
            value = next(rest, None)
            if value is None or (arg == "--backend" and value not in backend_names()):
                return None
            options[arg[2:]] = value if arg == "--backend" else _seconds(value)
            if options[arg[2:]] is None:
                return None
        elif arg.startswith("-"):
            return None
        else:
            files.append(arg)
    return Args("solve", files[0], **options) if len(files) == 1 else None


def _seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _parser() -> Any:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> Any:  # argparse exits 2 on usage errors; keep that
            self.print_usage(sys.stderr)
            self.exit(EXIT_BAD_INPUT, f"error: {message}\n")

    parser = _Parser(prog="python -m solvers", description="Solve a solvers-problem/1 file.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("solve", help="solve a problem or batch file")
    cmd.add_argument("file")  # a str, not a Path: pathlib is 10 ms of this CLI's start-up
    cmd.add_argument("--backend", default="auto", choices=backend_names())
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.add_argument("--timeout", type=float, default=None, metavar="S")
    return parser


def _read_cases(path: str) -> list[Case]:
    try:
        with open(path, encoding="utf-8") as f:  # noqa: PTH123 (see `file` above)
            raw = json.load(f)
    except OSError as exc:
        raise ProblemError([f"cannot read {path}: {exc.strerror}"]) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError([f"{path} is not valid JSON: {exc}"]) from exc
    if isinstance(raw, dict) and raw.get("format") == BATCH_FORMAT:
        return load_batch(raw, lazy=True)
    return [Case("", load_problem(raw, lazy=True))]


def result_to_json(result: Result) -> dict[str, Any]:
    """The --json object of one answer."""
    if not result.satisfiable:
        steps = result.explanation.to_json() if result.explanation else []
        return {"satisfiable": False, "explanation": str(result.explanation), "steps": steps}
    pins = {
        n: {"version": c.version, "variant": dict(c.variant)}
        for n, c in sorted(result.pins.items())
    }
    return {"satisfiable": True, "pins": pins}


def _print(case: Case, result: Result, as_json: bool, batch: bool) -> None:
    if as_json:
        obj = result_to_json(result)
        print(json.dumps({"id": case.id, **obj} if batch else obj, sort_keys=True))
        return
    if batch:
        print(f"== {case.id}")
    if not result.satisfiable:
        print("unsatisfiable:")
        print("\n".join(result.explanation.lines() if result.explanation else []))
    for name, cand in sorted(result.pins.items()):
        print(f"{name} {cand.version}" + "".join(f" {k}={v}" for k, v in cand.variant))


def _run(args: Args) -> int:
    cases = _read_cases(args.file)
    batch = len(cases) != 1 or bool(cases[0].id)
    worst, catalog = EXIT_SAT, None
    for case in cases:
        catalog = Catalog(case.problem) if catalog is None else catalog.rebind(case.problem)
        try:
            result = solve(case.problem, args.backend, args.timeout, catalog=catalog)
        except SolveTimeoutError:
            print(
                f"{case.id + ': ' if batch else ''}timed out after {args.timeout} s",
                file=sys.stderr,
            )
            worst = max(worst, EXIT_TIMEOUT)
            continue
        _print(case, result, args.json, batch)
        worst = max(worst, EXIT_SAT if result.satisfiable else EXIT_UNSAT)
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except ProblemError as exc:
        print("error: bad problem file:", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolverBugError as exc:
        print(f"internal error: {exc}", file=sys.stderr)
        print(f"hint: please report this with {args.file}; it replays the problem", file=sys.stderr)
        return EXIT_INTERNAL
