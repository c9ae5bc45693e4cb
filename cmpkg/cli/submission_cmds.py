"""`cmpkg submission init | run | generate | check | reproduce` (docs/submission.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cmpkg.cli.common import add_index_option, add_json_option, add_wheel_options

PROFILES = ("smoke", "full")


def register(subparsers: Any) -> None:
    sub = subparsers.add_parser("submission", help="MLPerf submissions: run, generate, check")
    verbs = sub.add_subparsers(dest="verb", metavar="VERB", parser_class=type(sub))
    sub.set_defaults(handler=lambda _args: _usage(sub))

    init = verbs.add_parser("init", help="append a commented [submission] template to cmpkg.toml")
    init.add_argument("--submitter", default="", help="your organisation (else a placeholder)")
    init.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="NAME=APP",
        help="a benchmark and the app that runs it (default: the index's apps)",
    )
    init.set_defaults(handler=_init)

    run = verbs.add_parser("run", help="run what is missing: accuracy, performance, compliance")
    _add_cell_options(run)
    run.add_argument("--profile", choices=PROFILES, default="full", help="full (default) or smoke")
    add_wheel_options(run)
    run.set_defaults(handler=_run)

    gen = verbs.add_parser("generate", help="write the official submission tree into DIR")
    gen.add_argument("directory", type=Path, metavar="DIR")
    gen.add_argument("--profile", choices=PROFILES, default="full")
    gen.set_defaults(handler=_generate)

    check = verbs.add_parser("check", help="check a submission tree against the round's rules")
    check.add_argument("directory", type=Path, metavar="DIR")
    check.add_argument("--round", default="v6.0", help="the rules to check against (v6.0)")
    check.add_argument(
        "--official", action="store_true", help="also run MLCommons' checker (installed)"
    )
    check.add_argument(
        "--checker-env",
        default="mlperf-inference-source",
        metavar="ENV",
        help="the environment holding the official checker (default: mlperf-inference-source)",
    )
    add_json_option(check)
    check.set_defaults(handler=_check)

    rep = verbs.add_parser("reproduce", help="install a tree's lock and rerun one cell")
    rep.add_argument("directory", type=Path, metavar="DIR")
    _add_cell_options(rep, required=True)
    add_index_option(rep)
    rep.set_defaults(handler=_reproduce)


def _usage(parser: Any) -> int:
    parser.print_help()
    return 2


def _add_cell_options(parser: Any, *, required: bool = False) -> None:
    parser.add_argument("--benchmark", required=required, help="one benchmark only")
    parser.add_argument("--scenario", required=required, help="one scenario only")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _init(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import submission

    picks = []
    for item in args.benchmark:
        name, _, app = item.partition("=")
        if not app:
            console.message("error", f"--benchmark {item!r}: expected NAME=APP")
            return 2
        picks.append((name, app))
    done = submission.init(Path.cwd(), picks, args.submitter)
    print(f"wrote [submission] for {', '.join(done.benchmarks)} into {done.path}")
    if done.added_requests:
        print(f"added to [project] requests: {', '.join(done.added_requests)} (run `cmpkg lock`)")
    print(f"{done.placeholders} placeholder(s) to fill (marked PLACEHOLDER)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from cmpkg.cli.common import home
    from cmpkg.commands import submission

    extra = [a for d in args.find_links for a in ("--find-links", d)]
    extra += ["--no-index"] if args.no_index else []
    given = submission.RunInput(
        Path.cwd(), home(), args.profile, args.benchmark, args.scenario, tuple(extra)
    )
    result = submission.run(given, _say)
    for failed in result.failed:
        _say(
            f"failed: {failed.part.label} (exit {failed.code}); log: "
            f"{failed.part.directory(result.runs) / 'run.log'}"
        )
    print(result.runs)
    return 1 if result.failed else 0


def _generate(args: argparse.Namespace) -> int:
    from cmpkg.commands import submission

    done = submission.generate(Path.cwd(), args.directory, args.profile)
    label = " (SMOKE RUN: not a valid submission-length run)" if args.profile == "smoke" else ""
    print(f"wrote {done.files} files to {done.path}{label}; cmpkg.lock sha256 {done.lock_sha256}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.cli.common import home
    from cmpkg.commands import submission

    official = (home(), args.checker_env) if args.official else None
    result = submission.check(args.directory, args.round, official)
    verdict = result.official
    if args.json:
        console.print_json(
            {
                "failures": [f.__dict__ | {"run_length": f.run_length} for f in result.failures],
                "official": None
                if verdict is None
                else {
                    "exit_code": verdict.code,
                    "errors": list(verdict.errors),
                    "summary": verdict.summary,
                },
            }
        )
    else:
        for failure in result.failures:
            print(("warning: " if failure.warning else "") + failure.render())
        errors = result.errors
        short = sum(1 for f in errors if f.run_length)
        print(
            f"{len(errors)} error(s), {short} of them run length or validity (smoke runs); "
            f"{len(result.failures) - len(errors)} warning(s)"
        )
        if verdict is not None:
            for line in verdict.errors:
                print(f"official: {line}")
            print(f"official checker: exit {verdict.code}; {verdict.summary or 'no summary line'}")
    failed = bool(result.errors) or (verdict is not None and verdict.code != 0)
    return 1 if failed else 0


def _reproduce(args: argparse.Namespace) -> int:
    from cmpkg.cli.common import home
    from cmpkg.commands import submission

    done = submission.reproduce(
        args.directory, args.benchmark, args.scenario, home(), tuple(args.index)
    )
    verdict = "matches" if done.matches else "DIFFERS"
    print(
        f"{done.benchmark} {done.scenario} {done.metric}: submitted {done.submitted}, "
        f"reproduced {done.reproduced}: {verdict}"
    )
    print(done.run_dir)
    return 0 if done.matches else 1
