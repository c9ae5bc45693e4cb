"""Install from a warm binary cache vs building (issue 18, item 7): `mlperf-resnet50 --target
cpu` into a fresh CMPKG_HOME, from the real CNCF distribution registry on loopback, against
the same install built from scratch in another fresh home. Measured interleaved (cache,
build, cache, build, ...) so load on the shared machine hits both alike.

Set-up (not timed): a warm home builds the app (uv resolves and downloads its wheels, the
first time from the Python registry), makes a signing key and pushes the environment's
entries to a registry started by `tests/support/registry.py`. Each build run gets a copy of
the warm home's uv cache and downloads first, so building pays no network: that favours
building, so the ratio is a lower bound. Each cache run's home trusts the key; the run
asserts `0 built`. At the end, one cache home at yet another path runs the smoke benchmark.

    python tools/bench_cache.py [--repeat 3] [--work /tmp/cmpkg-bench-cache] [--frozen]
    python tools/bench_cache.py --profile [--work DIR]   # cProfile one pull of the venv

`--frozen` times what a lab's node does: a project locks the app (`cmpkg lock`, not timed),
the warm home pushes the lock's closure (`cache push --lock`), and both sides install the
lock `--frozen`, so neither resolves wheels against the Python registry.

`--profile` replaces the timed runs: after the push, a fresh home pulls the environment's
largest entry (the Python environment) under cProfile; the top functions by cumulative and
by own time are printed and the profile is kept as DIR/pull.prof.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CMPKG = [sys.executable, "-m", "cmpkg"]
APP = ["mlperf-resnet50", "--target", "cpu"]


def environment(home: Path, config: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "CMPKG_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # timings are of the real thing
    env |= {"CMPKG_HOME": str(home), "NO_COLOR": "1"}
    env["CMPKG_CONFIG"] = str(config or home.parent / "no-config.toml")
    return env


def call(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr[-3000:]}")
    return done.stdout


def timed(
    argv: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    out = call(argv, env, cwd)
    return time.perf_counter() - started, json.loads(out)


def load() -> float:
    """The 1-minute load average: every timed run records it before and after (the table
    in docs/benchmarks.md names the load of each run)."""
    return round(os.getloadavg()[0], 1)


def profile_pull(warm: Path, url: str, config: Path, work: Path) -> None:
    """One `cmpkg cache pull` of the warm home's largest entry into a fresh home, profiled."""
    record = json.loads((warm / "envs" / f"{APP[0]}.json").read_text())
    paths = [Path(p["path"]) for p in record["packages"].values() if p.get("path")]
    largest = max(paths, key=lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()))
    home, out = work / "profile" / "home", work / "pull.prof"
    started = time.perf_counter()
    call(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "cmpkg", "cache", "pull",
         largest.name, "--from", url],
        environment(home, config),
    )  # fmt: skip
    print(f"pull of {largest.name[:12]}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    import pstats

    for order in ("cumulative", "tottime"):
        pstats.Stats(str(out)).sort_stats(order).print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cmpkg-bench-cache"))
    parser.add_argument("--profile", action="store_true", help="profile one pull instead")
    parser.add_argument("--frozen", action="store_true", help="both sides install a lock")
    args = parser.parse_args()
    from tests.support import registry

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    warm = args.work / "warm" / "home"
    project = None
    install, push = [*CMPKG, "install", *APP], ["--env", APP[0]]
    if args.frozen:
        project = args.work / "project"
        project.mkdir()
        (project / "cmpkg.toml").write_text(
            f"[project]\nname = 'bench'\nrequests = ['{APP[0]}']\ntargets = ['{APP[2]}']\n"
        )
        call([*CMPKG, "lock"], environment(warm), project)
        install, push = [*CMPKG, "install", "--frozen"], ["--lock"]
    call(install, environment(warm), project)
    public = json.loads(call([*CMPKG, "key", "generate", "--json"], environment(warm)))["public"]
    config = args.work / "trust.toml"
    config.write_text(f"[trust]\nkeys = [{json.dumps(public)}]\n")
    with registry.running(args.work / "registry") as running:
        url = running.url("bench")
        pushed = json.loads(
            call(
                [*CMPKG, "cache", "push", *push, "--to", url, "--json"], environment(warm), project
            )
        )
        print(f"pushed {len(pushed['pushed'])} entries to {url}", file=sys.stderr)
        if args.profile:
            profile_pull(warm, url, config, args.work)
            return
        cached, built, loads = [], [], []
        for run in range(args.repeat):
            home = args.work / f"cache-{run}" / "somewhere" / "home"
            before = load()
            seconds, done = timed(
                [*install, "--cache", url, "--json"], environment(home, config), project
            )
            assert done["built"] == 0, done
            cached.append(seconds)
            home = args.work / f"build-{run}" / "home"
            home.mkdir(parents=True)
            for name in ("uv-v1", "store-v1/downloads"):
                if (warm / name).exists():
                    shutil.copytree(warm / name, home / name, symlinks=True)
            seconds, done = timed([*install, "--json"], environment(home), project)
            built.append(seconds)
            loads.append((before, load()))
            print(
                f"run {run}: cache {cached[-1]:.1f} s, build {seconds:.1f} s "
                f"({done['built']} built), load {loads[-1][0]} -> {loads[-1][1]}",
                file=sys.stderr,
            )
        smoke_home = args.work / "smoke" / "a" / "much" / "longer" / "path" / "home"
        _, done = timed(
            [*install, "--cache", url, "--json"], environment(smoke_home, config), project
        )
        smoke = subprocess.run(
            [*CMPKG, "run", APP[0]],
            env=environment(smoke_home, config),
            capture_output=True,
            text=True,
            check=False,
            cwd=project,
        )
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "frozen": args.frozen,
        "entries_pushed": len(pushed["pushed"]),
        "substituted": done["substituted"],
        "cache_s": {"median": statistics.median(cached), "min": min(cached), "runs": cached},
        "build_s": {"median": statistics.median(built), "min": min(built), "runs": built},
        "ratio_median": statistics.median(built) / statistics.median(cached),
        "load_before_after": loads,
        "smoke_exit": smoke.returncode,
        "smoke_tail": smoke.stdout.strip().splitlines()[-3:]
        + smoke.stderr.strip().splitlines()[-3:],
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
