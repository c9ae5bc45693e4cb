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
    env = _without_bytecode_writes(envs.run_environment(record, os.environ))
    env.setdefault("CMPKG_RESULTS_DIR", str(project.results_root(Path.cwd(), home())))
    store = Store(home())
    with contextlib.ExitStack() as held:
        for key in record.keys:  # shared locks: `cmpkg cache gc` leaves these entries alone
            held.enter_context(store.hold(key))
        preflight(store, record)  # under the locks: nothing can remove an entry after this
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


def preflight(store: Any, record: Any) -> None:
    """Every entry of the environment is present and as it was committed, before the app
    starts: otherwise `env-broken` names each missing or modified package and the fix.

    Costs one metadata read per entry and one `lstat` per file (the store's stat table)."""
    from cmpkg.errors import CmpkgError

    names = {info["key"]: name for name, info in record.packages.items() if "key" in info}
    problems, modified = [], []
    for key in record.keys:
        entry = store.get(key)
        label = f"{names.get(key, '?')} ({key[:12]})"
        if entry is None:
            problems.append(f"missing: {label} is not in the store")
            continue
        result = store.check(entry)
        paths = [*result.changed, *result.missing, *result.added]
        if paths:
            modified.append(key)
            more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
            problems.append(f"modified: {label} changed after install: {paths[0]}{more}")
    if problems:
        fix = _reinstall_command(record)
        if modified:
            fix = f"`cmpkg cache rm --force {modified[0][:12]}`, then {fix}"
        raise CmpkgError(
            "env-broken",
            f"environment {record.name} cannot run: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint=f"install it again: {fix}",
            details=problems,
        )


def _reinstall_command(record: Any) -> str:
    import shlex

    lock = (getattr(record, "provenance", None) or {}).get("lock")
    if lock:
        words = ["cmpkg", "install", "--frozen", "--lock", lock["path"]]
        words += ["--target", lock["target"]] if lock.get("target") else []
    else:
        words = ["cmpkg", "install", *record.requests]
    if record.name != (record.requests[:1] or [record.name])[0] or lock:
        words += ["--env", record.name]
    return "`" + shlex.join(words) + "`"


def _without_bytecode_writes(env: dict[str, str]) -> dict[str, str]:
    """Entries are immutable: Python must not cache bytecode inside them (it would as
    root, whom read-only bits do not stop, and the next install would refuse the entry)."""
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


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
    env = _without_bytecode_writes(envs.run_environment(record, os.environ))
    return subprocess.call([os.environ.get("SHELL", "/bin/sh")], env=env)
