"""`cmpkg run | env | shell`: using an installed environment.

These read the environment record that install wrote; they load no index and probe
nothing. `cmpkg run` is on the path between a user and their app, so what it imports
before the app starts is kept to the record, the entries' stat sidecars and their locks
(tests/test_import_budget.py holds it): the store's build and gc machinery, the project
file's parser and the results database are imported only by the workflow that needs them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from cmpkg import envs
from cmpkg.envs import PATH_LIKE, EnvRecord
from cmpkg.errors import CmpkgError, UsageError


class RunInput(NamedTuple):
    """One `cmpkg run [--env ENV] NAME -- ARGS`: `args` without the `--`; `environ` is the
    caller's. NAME is an app or an environment (`envs.for_run` says which runs)."""

    home: Path
    name: str
    args: tuple[str, ...]
    environ: Mapping[str, str]
    cwd: Path
    env: str | None = None


class RunResult(NamedTuple):
    """The app's exit code, and why the run is missing from the results, if it is (a run
    is never failed for that: the caller warns)."""

    code: int
    not_recorded: str | None = None


def run(request: RunInput) -> RunResult:
    """Run the app inside its environment, its store entries held against `cmpkg cache gc`,
    then record the run (a record file the results database takes in on its next read,
    docs/results.md)."""
    import contextlib

    from cmpkg import project
    from cmpkg.store import holds, layout

    record = envs.for_run(request.home, request.name, request.env)
    if not record.run:
        raise UsageError(
            "not-an-app", f"{request.name} has no run command", hint="use `cmpkg shell`"
        )
    env = _without_bytecode_writes(envs.run_environment(record, request.environ))
    env.setdefault("CMPKG_RESULTS_DIR", str(project.results_root(request.cwd, request.home)))
    base = request.home / layout.LAYOUT
    with contextlib.ExitStack() as held:
        for key in record.runtime_keys():  # shared locks: `cmpkg cache gc` leaves them be
            held.enter_context(holds.hold(base, key))
        preflight(request.home, record)  # under the locks: nothing can remove an entry now
        started = time.time()
        code = call([*record.run, *request.args], env)
    variables = {**record.variables, "CMPKG_RESULTS_DIR": env["CMPKG_RESULTS_DIR"]}
    return RunResult(code, _record(request, record, variables, (started, time.time()), code))


def call(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Start `argv` with `env` and wait for it: its exit code (minus the signal that killed
    it). As `subprocess.call`, without importing it: `posix_spawn`, the program looked up
    on `env`'s PATH, SIGPIPE and SIGXFSZ back to their defaults (Python ignores them, and
    an ignored signal stays ignored across exec); cmpkg's own descriptors are not
    inherited (PEP 446). Ctrl-C reaches the app too (one process group); cmpkg then kills
    it, reaps it and stops, as `subprocess.call` does."""
    import signal

    program = _which(argv[0], env)
    if program is None:
        raise UsageError("bad-run-command", f"cannot start {argv[0]!r}")
    names = ("SIGPIPE", "SIGXFZ", "SIGXFSZ")
    reset = tuple(getattr(signal, n) for n in names if hasattr(signal, n))
    pid = os.posix_spawn(program, list(argv), dict(env), setsigdef=reset)
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    return os.waitstatus_to_exitcode(status)


def _which(program: str, env: Mapping[str, str]) -> str | None:
    """`program` as `execvpe` would find it on `env`'s PATH (a name with a slash as is)."""
    if os.sep in program:
        return program if os.access(program, os.X_OK) else None
    for directory in os.get_exec_path(dict(env)):
        candidate = os.path.join(directory, program)  # noqa: PTH118 - one str per PATH entry
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):  # noqa: PTH112
            return candidate
    return None


def _record(
    request: RunInput,
    record: EnvRecord,
    variables: dict[str, str],
    times: tuple[float, float],
    code: int,
) -> str | None:
    """Record the run; the reason it could not be recorded, or None."""
    from cmpkg.results.capture import record_run

    try:
        record_run(request.home, record.name, variables, list(request.args), times, code)
    except (CmpkgError, OSError) as error:
        return str(error)
    return None


def preflight(home: Path, record: EnvRecord) -> None:
    """Every entry the environment runs is present and as it was committed, before the app
    starts: otherwise `env-broken` names each missing or modified package and the fix.

    Costs one small read per entry (its stat sidecar) and one `stat` per file; only an
    entry whose sidecar finds a change has its manifest read, to name what changed. The
    tool environments generate steps ran in are build inputs, not run (`runtime_keys`)."""
    from cmpkg.store import fingerprint, layout

    entries = home / layout.LAYOUT / layout.ENTRIES
    broken = [k for k in record.runtime_keys() if not fingerprint.intact(str(entries / k))]
    if broken:
        _explain(home, record, broken)


def _explain(home: Path, record: EnvRecord, keys: list[str]) -> None:
    """`env-broken` for the entries whose sidecar found a change: what changed in each."""
    from cmpkg.store.store import Store

    store = Store(home)
    names = {info["key"]: name for name, info in record.packages.items() if "key" in info}
    problems, modified = [], []
    for key in keys:
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


def _reinstall_command(record: EnvRecord) -> str:
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


def shell(home: Path, name: str, environ: Mapping[str, str]) -> int:
    """`$SHELL` (or /bin/sh) inside the environment; its exit code."""
    env = _without_bytecode_writes(envs.run_environment(envs.load(home, name), environ))
    return call([environ.get("SHELL", "/bin/sh")], env)


def list_envs(home: Path) -> list[EnvRecord]:
    """Every named environment (not the run contexts install keeps beside them)."""
    return [envs.load(home, n) for n in list_names(home)]


def list_names(home: Path) -> list[str]:
    return [n for n in envs.list_names(home) if not n.endswith(".context")]


def remove_env(home: Path, name: str) -> None:
    """Remove the record and drop its store root: its entries become collectable by gc."""
    from cmpkg.store.store import Store

    envs.remove(home, name)
    Store(home).remove_root(f"env-{name}")


def env_variables(home: Path, name: str) -> dict[str, str]:
    return dict(envs.load(home, name).variables)


def export_line(shell: str, key: str, value: str) -> str:
    """One assignment; search paths are prepended to the shell's own value, as `cmpkg run`
    does, so `eval "$(cmpkg env NAME)"` gives the same environment as `cmpkg run`."""
    import shlex

    quoted = shlex.quote(value)
    if shell == "fish":
        return f"set -gx {key} {quoted}" + (f" ${key}" if key in PATH_LIKE else "")
    if key in PATH_LIKE:
        return f'export {key}={quoted}"${{{key}:+:${key}}}"'
    return f"export {key}={quoted}"
