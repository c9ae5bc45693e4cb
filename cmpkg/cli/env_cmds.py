"""`cmpkg run | env | shell`: using an installed envs.

These read the environment record that install wrote; they load no index and probe
nothing, so `cmpkg run` adds tens of milliseconds, not seconds, to an app's start.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from cmpkg.cli.common import home


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run an installed app inside its environment")
    run.add_argument("name")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the app (after --)")
    run.set_defaults(handler=_run)

    env = subparsers.add_parser("env", help="list, show, export or remove named environments")
    env.add_argument("words", nargs="*", metavar="list | rm NAME | NAME")
    env.add_argument("--export", choices=("sh", "fish", "json"), default="sh")
    env.add_argument("--json", action="store_true", help="print one JSON document")
    env.set_defaults(handler=_env)

    shell = subparsers.add_parser("shell", help="start $SHELL inside an environment")
    shell.add_argument("name")
    shell.set_defaults(handler=_shell)


def _run(args: argparse.Namespace) -> int:
    import contextlib
    import subprocess

    from cmpkg import envs, project
    from cmpkg.errors import UsageError
    from cmpkg.store.store import Store

    record = envs.load(home(), args.name)
    extra = args.args[1:] if args.args[:1] == ["--"] else args.args
    if not record.run:
        raise UsageError("not-an-app", f"{args.name} has no run command", hint="use `cmpkg shell`")
    env = envs.run_environment(record, os.environ)
    env.setdefault("CMPKG_RESULTS_DIR", str(project.results_root(Path.cwd(), home())))
    store = Store(home())
    with contextlib.ExitStack() as held:
        for key in record.keys:  # shared locks: `cmpkg cache gc` leaves these entries alone
            held.enter_context(store.hold(key))
        started = time.time()
        try:
            code = subprocess.call([*record.run, *extra], env=env)
        except FileNotFoundError:
            raise UsageError("bad-run-command", f"cannot start {record.run[0]!r}") from None
    where = {"CMPKG_RESULTS_DIR": env["CMPKG_RESULTS_DIR"]}
    _record_run(record, {**record.variables, **where}, extra, (started, time.time()), code)
    return code


def _record_run(
    record: Any, variables: dict[str, str], extra: list[str], times: tuple[float, float], code: int
) -> None:
    """Every run goes into the results database (docs/results.md); never fails the run."""
    from cmpkg import console
    from cmpkg.errors import CmpkgError
    from cmpkg.results.capture import record_run

    try:
        record_run(home(), record.name, variables, extra, times, code)
    except (CmpkgError, OSError) as error:
        console.message("warning", f"the run was not recorded in the results database: {error}")


def _env(args: argparse.Namespace) -> int:
    from cmpkg import console, envs
    from cmpkg.errors import UsageError

    words = args.words
    if not words or words == ["list"]:
        names = [n for n in envs.list_names(home()) if not n.endswith(".context")]
        if args.json:
            console.print_json([_env_json(envs.load(home(), n)) for n in names])
        else:
            print("\n".join(names))
        return 0
    if words[0] == "rm" and len(words) == 2:
        from cmpkg.store.store import Store

        envs.remove(home(), words[1])
        Store(home()).remove_root(f"env-{words[1]}")  # its entries become collectable by gc
        if args.json:
            console.print_json({"removed": words[1]})
        return 0
    if len(words) != 1:
        raise UsageError(
            "bad-usage",
            "expected `cmpkg env list`, `cmpkg env rm NAME` or `cmpkg env NAME`",
            hint="`cmpkg env list` names the environments",
        )
    record = envs.load(home(), words[0])
    if args.export == "json" or args.json:
        console.print_json(record.variables)
        return 0
    for key, value in sorted(record.variables.items()):
        print(_export_line(args.export, key, value))
    return 0


def _env_json(record: Any) -> dict[str, Any]:
    """One row of `cmpkg env list --json` (schema in docs/cli.md)."""
    return {
        "name": record.name,
        "target": record.target,
        "requests": list(record.requests),
        "packages": sorted(record.packages),
        "app": bool(record.run),
    }


def _export_line(shell: str, key: str, value: str) -> str:
    """One assignment; search paths are prepended to the shell's own value, as `cmpkg run`
    does, so `eval "$(cmpkg env NAME)"` gives the same environment as `cmpkg run`."""
    import shlex

    from cmpkg.envs import PATH_LIKE

    quoted = shlex.quote(value)
    if shell == "fish":
        return f"set -gx {key} {quoted}" + (f" ${key}" if key in PATH_LIKE else "")
    if key in PATH_LIKE:
        return f'export {key}={quoted}"${{{key}:+:${key}}}"'
    return f"export {key}={quoted}"


def _shell(args: argparse.Namespace) -> int:
    import subprocess

    from cmpkg import envs

    record = envs.load(home(), args.name)
    env = envs.run_environment(record, os.environ)
    return subprocess.call([os.environ.get("SHELL", "/bin/sh")], env=env)
