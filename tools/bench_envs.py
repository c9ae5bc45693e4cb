"""Python environments at uv speed: cmpkg against uv doing the same work (issue 14, item 4).

Rows, each measured interleaved (cmpkg, uv, cmpkg, uv, ...) so that load on the shared
machine hits both alike; min and median of wall time and of CPU time (user + system of the
child processes):

* an unchanged `cmpkg lock` of the README job for 2 targets (`cpu`, `h200-cuda13`)
  vs `uv pip compile` of every requirement set that lock resolves (each target's
  environment and its generate steps' tool environments), for the same platforms [<= 1 s]
* `cmpkg lock --upgrade` (the wheel memo bypassed, uv's cache warm) vs the same uv calls
                                                                              [<= 2x uv]
* rebuilding the Python environment from a warm cache: the environment's store entry is
  removed and `cmpkg install mlperf-resnet50 --target cpu` run again, vs `uv venv` plus
  `uv pip install --require-hashes` of the same wheels from the same uv cache  [<= 1.5x uv]

The first run installs the README job into a fresh CMPKG_HOME (the real registry, through
uv); later runs reuse `--home`. Usage:

    python tools/bench_envs.py [--repeat 7] [--home /tmp/cmpkg-bench]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CMPKG = [sys.executable, "-m", "cmpkg"]
TARGETS = ("cpu", "h200-cuda13")
Run = Callable[[], None]


def measured(run: Run) -> tuple[float, float]:
    """(wall, cpu) seconds of `run`; cpu is what its child processes used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def interleaved(a: Run, b: Run, repeat: int) -> tuple[list[tuple[float, float]], ...]:
    a(), b()  # warm the page cache and both caches
    runs_a, runs_b = [], []
    for _ in range(repeat):
        runs_a.append(measured(a))
        runs_b.append(measured(b))
    return runs_a, runs_b


def call(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
    return done.stdout


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # timings are of the real thing
    return {**env, "CMPKG_HOME": str(home), "NO_COLOR": "1"}


def setup(home: Path, project: Path) -> None:
    env = environment(home)
    project.mkdir(parents=True, exist_ok=True)
    (project / "cmpkg.toml").write_text(
        "[project]\nname = 'bench'\nrequests = ['mlperf-resnet50']\n"
        f"targets = {json.dumps(list(TARGETS))}\n"
    )
    call([*CMPKG, "lock"], env, project)
    call([*CMPKG, "install", "mlperf-resnet50", "--target", "cpu"], env)


def python_env(home: Path) -> tuple[str, Path, list[dict[str, str]]]:
    """The installed environment's store key, venv path and installed wheels."""
    record = json.loads((home / "envs" / "mlperf-resnet50.json").read_text())
    entry = record["packages"]["python-env"]
    path = Path(entry["path"])
    meta = json.loads((path / "cmpkg-entry.json").read_text())
    return entry["key"], path, meta["build"]["installed"]


def uv_compile_runs(home: Path, project: Path) -> Run:
    """uv resolving every requirement set `cmpkg lock` resolves (each target's environment
    and its generate steps' tool environments), with the flags cmpkg gives it."""
    from cmpkg import installer
    from cmpkg.lock import read_lock
    from cmpkg.wheels import WheelPlatform, platform_args

    lock = read_lock(project / "cmpkg.lock")
    host_python = json.loads((python_env(home)[1] / "cmpkg-entry.json").read_text())["build"]
    calls = []
    for name in TARGETS:
        target, system = lock.targets[name], lock.targets[name].system
        platform = WheelPlatform(
            system["os"],
            system["arch"],
            system["libc"],
            system["libc-version"],
            target.python,
            system["abi"],
            target.platform,
            host_python["python"] if name == "cpu" else None,  # a host target's interpreter
        )
        argv = installer.uv_command("pip", "compile", "-", "--format", "pylock.toml", "-q")
        argv += ["--only-binary", ":all:", "--cache-dir", str(home / installer.UV_CACHE)]
        for requirements in _requirement_sets(project, name):
            calls.append(([*argv, *platform_args(platform)], requirements))
    env = installer.isolated_environment()

    def run() -> None:
        for argv, reqs in calls:
            subprocess.run(argv, input=reqs, text=True, env=env, capture_output=True, check=True)

    return run


def _requirement_sets(project: Path, target: str) -> list[str]:
    """The requirement sets cmpkg resolves for `target` (from the lock's recipes)."""
    from cmpkg.index import load_active_index
    from cmpkg.lock import read_lock
    from cmpkg.lock.make import environments
    from cmpkg.lock.restore import resolution_from_lock

    lock = read_lock(project / "cmpkg.lock")
    resolution = resolution_from_lock(load_active_index([]), lock.targets[target])
    found = environments(resolution).values()
    return [
        "".join(r + "\n" for r in requirements) for requirements, _urls in found if requirements
    ]


def rebuild_runs(home: Path) -> tuple[Run, Run]:
    from cmpkg import installer, pyenv
    from cmpkg.store.store import Store

    env = environment(home)
    call([*CMPKG, "install", "mlperf-resnet50", "--target", "cpu"], env)  # current keys
    _key, venv_root, installed = python_env(home)
    python = json.loads((venv_root / "cmpkg-entry.json").read_text())["build"]["python"]
    pins = "".join(f"{w['name']}=={w['version']} --hash=sha256:{w['sha256']}\n" for w in installed)
    scratch = Path(tempfile.mkdtemp(prefix="bench-uv-"))
    atexit.register(shutil.rmtree, scratch, True)  # uv's venv: not left in /tmp

    def cmpkg_rebuild() -> None:
        Store(home).remove(python_env(home)[0], force=True)  # the environment roots it
        call([*CMPKG, "install", "mlperf-resnet50", "--target", "cpu"], env)

    def uv_rebuild() -> None:
        venv = scratch / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        uv_env = installer.isolated_environment()
        subprocess.run(
            installer.uv_command("venv", str(venv), "--python", python, "--quiet"),
            env=uv_env,
            check=True,
        )
        argv = installer.uv_command("pip", "install", "--python", str(venv / "bin" / "python"))
        argv += ["--quiet", "--require-hashes", "--no-deps", "--only-binary", ":all:"]
        mode = pyenv.link_mode(home / installer.UV_CACHE, venv)[0]
        argv += ["--link-mode", mode, "--compile-bytecode"]  # as cmpkg does
        argv += ["--cache-dir", str(home / installer.UV_CACHE), "-r", "-"]
        subprocess.run(argv, input=pins, text=True, env=uv_env, check=True)

    return cmpkg_rebuild, uv_rebuild


def table(rows: list[tuple[str, list[tuple[float, float]], list[tuple[float, float]]]]) -> str:
    lines = [
        "| measurement | wall median | wall min | CPU median | CPU min | ratio (median wall) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, ours, theirs in rows:
        for who, runs in (("cmpkg", ours), ("uv", theirs)):
            wall, cpu = [w for w, _ in runs], [c for _, c in runs]
            ratio = statistics.median(wall) / statistics.median([w for w, _ in theirs])
            shown = f"{ratio:.2f}x" if who == "cmpkg" else ""
            lines.append(
                f"| {label}: {who} | {statistics.median(wall):.2f} s | {min(wall):.2f} s "
                f"| {statistics.median(cpu):.2f} s | {min(cpu):.2f} s "
                f"| {shown} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "cmpkg-bench")
    args = parser.parse_args()
    home, project = args.home / "home", args.home / "project"
    if not (home / "envs" / "mlperf-resnet50.json").exists():
        started = time.perf_counter()
        setup(home, project)
        print(f"setup (fresh lock + install): {time.perf_counter() - started:.1f} s")
    env = environment(home)
    call([*CMPKG, "lock"], env, project)  # the index may have changed since the setup
    uv_compile = uv_compile_runs(home, project)
    lock_unchanged, uv_a = interleaved(
        lambda: call([*CMPKG, "lock"], env, project), uv_compile, args.repeat
    )
    lock_upgrade, uv_b = interleaved(
        lambda: call([*CMPKG, "lock", "--upgrade"], env, project), uv_compile, args.repeat
    )
    ours, theirs = rebuild_runs(home)
    rebuilt, uv_c = interleaved(ours, theirs, args.repeat)
    print(f"{args.repeat} interleaved runs each, {time.strftime('%Y-%m-%d')}\n")
    print(
        table(
            [
                (
                    "unchanged `cmpkg lock` (2 targets) vs `uv pip compile` of the same sets",
                    lock_unchanged,
                    uv_a,
                ),
                (
                    "`cmpkg lock --upgrade` (2 targets) vs `uv pip compile` of the same sets",
                    lock_upgrade,
                    uv_b,
                ),
                (
                    "rebuild the environment from a warm cache vs `uv venv` + `uv pip install`",
                    rebuilt,
                    uv_c,
                ),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
