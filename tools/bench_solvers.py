"""Benchmark the solvers backends on synthetic 10,000-name indexes (a script, not a test).

    .venv/bin/python tools/bench_solvers.py [--names 10000] [--requests 5]
    .venv/bin/python tools/bench_solvers.py --interleaved [--requests 15] [--warmup 3]

`--interleaved` is issue #14's measurement, one run: `python -m solvers solve` start-up
against `python -c pass` (interleaved rounds), then per profile each request solved by raw
libsolv on a prebuilt whole-index pool (the anchor; its loading is reading that pool's
`.solv` file), by `libsolv` and by `auto` in turn, each backend with its own lazily loaded
problem, so ratios come from the same minutes of a shared machine.

Profiles (both deterministic, ~4.5 versions per name, so ~45,000 candidates):
- realistic: a name depends on 0-4 *earlier* names drawn Zipf-like, so most edges go to a few
  popular packages (as on PyPI), mostly with lower bounds and some upper bounds;
- dense: every version depends on 4-8 uniformly drawn earlier names, a fifth of them with an
  upper bound too, so the reachable part is nearly the whole index and backtracking is common.
Each (profile, backend) runs in its own process so peak RSS is that backend's alone. Reported:
load (JSON value -> Problem -> Catalog), median solve time over the requests, peak RSS, and
the median solution size. "libsolv-core" is libsolv's own solve on an already built pool,
the speed anchor.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TIMEOUT = 10.0  # per request: bounds resolvelib, which can backtrack for minutes
BACKENDS = ("auto", "libsolv", "clingo", "resolvelib", "libsolv-core")


def _versions(rng: random.Random) -> list[str]:
    count = max(1, min(12, int(rng.expovariate(1 / 4.5)) + 1))
    return [f"{count - i}.{rng.randint(0, 9)}" for i in range(count)]  # newest first


def _spec(rng: random.Random, versions: list[str], dense: bool) -> str:
    pick = rng.choice(versions)
    roll = rng.random()
    if dense:  # many edges, some two-sided: backtracking without making everything unsat
        oldest = versions[-1]
        return f">={oldest}" if roll < 0.8 else f">={oldest},<={pick}"
    return f">={pick}" if roll < 0.7 else (f"<={pick}" if roll < 0.85 else "")


def _target(rng: random.Random, i: int, dense: bool) -> int:
    if dense:
        return rng.randrange(i)
    return int(i * rng.random() ** 2)  # skewed: most edges go to the popular (low) names


def generate(names: int, profile: str, seed: int = 7) -> dict[str, Any]:
    """A solvers-problem/1 value with `names` names and no requests."""
    rng = random.Random(seed)
    dense = profile == "dense"
    versions = [_versions(rng) for _ in range(names)]
    packages: dict[str, list[dict[str, Any]]] = {}
    for i in range(names):
        cands = []
        for version in versions[i]:
            count = rng.randint(4, 8) if dense else rng.randint(1, 5)
            targets = {_target(rng, i, dense) for _ in range(count)} if i else set()
            deps = [[f"p{t}", _spec(rng, versions[t], dense)] for t in sorted(targets)]
            cands.append({"version": version, "depends": deps})
        packages[f"p{i}"] = cands
    return {"format": "solvers-problem/1", "packages": packages, "requests": []}


def _requests(names: int, count: int) -> list[str]:
    rng = random.Random(11)
    return [f"p{rng.randrange(names // 2, names)}" for _ in range(count)]


def worker(profile: str, backend: str, names: int, count: int) -> dict[str, Any]:
    from solvers import load_problem
    from solvers.catalog import Catalog

    raw = generate(names, profile)
    start = time.perf_counter()
    catalog = Catalog(load_problem(raw))
    load = time.perf_counter() - start
    requests = _requests(names, count + 2)
    start = time.perf_counter()
    for name in requests[:2]:  # cold solve, then the one that builds libsolv's whole pool
        _one(catalog, backend, name)
    warmup = time.perf_counter() - start
    runs = [_one(catalog, backend, name) for name in requests[2:]]
    times = [t for t, _, _ in runs]
    return {
        "profile": profile,
        "backend": backend,
        "candidates": len(catalog.candidates),
        "load_s": load,
        "warmup_s": warmup,
        "solve_median_s": statistics.median(times),
        "solve_max_s": max(times),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_median": statistics.median(size for _, size, _ in runs),
        "outcome": ",".join(sorted({o for _, _, o in runs})),
    }


def _one(catalog: Any, backend: str, name: str) -> tuple[float, int, str]:
    """(seconds, solution size, "sat"/"unsat"/"timeout") of one request."""
    from solvers import SolveTimeoutError, solve
    from solvers.model import Requirement

    case = catalog.problem.with_requests([Requirement(name)])
    if backend == "libsolv-core":
        return _core(catalog.rebind(case))
    start = time.perf_counter()
    try:
        result = solve(case, backend, timeout=TIMEOUT, catalog=catalog)
    except SolveTimeoutError:
        return time.perf_counter() - start, 0, "timeout"
    elapsed = time.perf_counter() - start
    return elapsed, len(result.pins), "sat" if result.satisfiable else "unsat"


def _core(catalog: Any) -> tuple[float, int, str]:
    """libsolv's own solve time on a pool built beforehand (the anchor)."""
    from solvers.backends.libsolv_backend import Encoding

    enc = Encoding(catalog, catalog.reachable(catalog.problem.requests))
    jobs = enc.request_jobs(catalog.problem.requests)
    start = time.perf_counter()
    chosen = enc.run(jobs)
    elapsed = time.perf_counter() - start
    return elapsed, len(chosen or ()), "sat" if chosen is not None else "unsat"


# --- one interleaved run: auto and libsolv against raw libsolv, request by request ---------


def _solv_load_seconds(enc: Any, directory: str) -> float:
    """Seconds to load the whole-index pool from a `.solv` file (how dnf/zypper start)."""
    import solv

    path = f"{directory}/index.solv"
    out = solv.xfopen(path, "w")
    enc.repo.write(out)
    out.close()
    start = time.perf_counter()
    pool = solv.Pool()
    pool.setarch("x86_64")
    source = solv.xfopen(path)
    pool.add_repo("index").add_solv(source)
    source.close()
    pool.createwhatprovides()
    return time.perf_counter() - start


def _cpu() -> float:
    """This process's CPU time plus its reaped children's: a bounded libsolv solve runs in
    a forked child (solvers.backends.worker), whose time must count too."""
    import os

    times = os.times()
    return time.process_time() + times.children_user + times.children_system


def _timed(call: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), _cpu()
    value = call()
    return time.perf_counter() - wall, _cpu() - cpu, value


def interleaved(profile: str, names: int, count: int, warmup: int) -> dict[str, Any]:
    """Each request solved by raw libsolv, `libsolv` and `auto` in turn (rotating which goes
    first), each backend with its own lazily loaded problem and catalog, so each pays its
    own loading, building and pool growth. Raw libsolv ("core") solves on one whole-index
    pool built beforehand: its loading is that pool's `.solv` file read back."""
    import tempfile

    from solvers import SolveTimeoutError, load_problem, solve
    from solvers.backends.libsolv_backend import Encoding
    from solvers.catalog import Catalog
    from solvers.model import Requirement

    raw = generate(names, profile)
    full = Catalog(load_problem(raw))
    enc = Encoding(full, range(len(full.candidates)))
    with tempfile.TemporaryDirectory() as tmp:
        load = {"core": _solv_load_seconds(enc, tmp)}
    catalogs = {}
    for backend in ("libsolv", "auto"):
        wall, _, catalog = _timed(lambda: Catalog(load_problem(raw, lazy=True)))
        load[backend], catalogs[backend] = wall, catalog

    def core(case: Any) -> tuple[str, int]:
        chosen = enc.run(enc.request_jobs(case.requests))
        return ("sat" if chosen is not None else "unsat"), len(chosen or ())

    def backend_call(backend: str, requests: list[Any]) -> Any:
        catalog = catalogs[backend]
        case = catalog.problem.with_requests(requests)  # the same packages: the catalog is kept

        def call() -> tuple[str, int]:
            try:
                result = solve(case, backend, timeout=TIMEOUT, catalog=catalog)
            except SolveTimeoutError:
                return "timeout", 0
            if not result.satisfiable:
                return "unsat", 0
            return result.backend + (" optimal" if result.optimal else ""), len(result.pins)

        return call

    rows: dict[str, list[tuple[float, float, str, int]]] = {b: [] for b in load}
    for i, name in enumerate(_requests(names, warmup + count)):
        requests = [Requirement(name)]
        case = full.problem.with_requests(requests)
        order = ["core", "libsolv", "auto"]
        order = order[i % 3 :] + order[: i % 3]
        for backend in order:
            call = (
                (lambda c=case: core(c)) if backend == "core" else backend_call(backend, requests)
            )
            wall, cpu, (outcome, size) = _timed(call)
            rows[backend].append((wall, cpu, outcome, size))
    return {"profile": profile, "load": load, "rows": rows, "warmup": warmup}


def _ratio_table(run: dict[str, Any]) -> str:
    warmup, load, rows = run["warmup"], run["load"], run["rows"]
    core = rows["core"][warmup:]
    c_wall = [w for w, _, _, _ in core]
    c_cpu = [c for _, c, _, _ in core]
    lines = [
        f"{run['profile']}: {len(core)} timed requests after {warmup} warm-up ones",
        "",
        "| backend | load s | warm-up s | wall median ms | wall min ms | CPU median ms "
        "| wall ratio (median / min) | CPU ratio (median / min) | wall max ms "
        "| with loading, per request | answers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    c_all = (load["core"] + sum(w for w, _, _, _ in rows["core"])) / len(rows["core"])
    for backend, runs in rows.items():
        timed = runs[warmup:]
        wall = [w for w, _, _, _ in timed]
        cpu = [c for _, c, _, _ in timed]
        per = (load[backend] + sum(w for w, _, _, _ in runs)) / len(runs)
        counts = {o: sum(1 for _, _, x, _ in timed if x == o) for o in {x for *_, x, _ in timed}}
        answers = ", ".join(f"{o}: {n}" for o, n in sorted(counts.items()))
        cells = [
            f"{load[backend]:.2f}",
            f"{sum(w for w, _, _, _ in runs[:warmup]):.2f}",
            f"{1000 * statistics.median(wall):.1f}",
            f"{1000 * min(wall):.1f}",
            f"{1000 * statistics.median(cpu):.1f}",
            f"{statistics.median(wall) / statistics.median(c_wall):.1f}x / "
            f"{min(wall) / min(c_wall):.1f}x",
            f"{statistics.median(cpu) / statistics.median(c_cpu):.1f}x / "
            f"{min(cpu) / max(min(c_cpu), 1e-6):.1f}x",
            f"{1000 * max(wall):.0f}",
            f"{per:.3f} s = {per / c_all:.1f}x",
            answers,
        ]
        lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def startup(repeat: int) -> str:
    """`python -m solvers solve` on a one-package problem against `python -c pass`, using
    tools/bench_startup.py's interleaved rounds (CPU from wait4; byte-code writing on)."""
    import os
    import tempfile

    from bench_startup import interleaved as rounds
    from bench_startup import table, trivial_problem

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            (
                "python -m solvers solve (1 package)",
                [sys.executable, "-m", "solvers", "solve", str(trivial_problem(Path(tmp)))],
            ),
        ]
        return table("Start-up", rounds(rows, repeat, env), repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--worker", nargs=2, metavar=("PROFILE", "BACKEND"))
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="one run: raw libsolv, libsolv and auto in turn on each request (ratios)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed first requests")
    parser.add_argument("--startup-repeat", type=int, default=21)
    parser.add_argument("--profiles", default="realistic,dense")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.names, args.requests)))
        return
    if args.interleaved:
        print(startup(args.startup_repeat), end="\n\n", flush=True)
        for profile in args.profiles.split(","):
            run = interleaved(profile, args.names, args.requests, args.warmup)
            print(_ratio_table(run), end="\n\n", flush=True)
        return
    print(
        "| profile | backend | candidates | load s | warm-up s | solve median s | solve max s"
        " | peak RSS MiB | size | outcome |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for profile in args.profiles.split(","):
        for backend in args.backends.split(","):
            cmd = [sys.executable, __file__, "--worker", profile, backend]
            cmd += ["--names", str(args.names), "--requests", str(args.requests)]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if out.returncode:
                print(f"| {profile} | {backend} | failed: {out.stderr.strip().splitlines()[-1:]} |")
                continue
            r = json.loads(out.stdout)
            print(
                f"| {profile} | {backend} | {r['candidates']} | {r['load_s']:.2f} | "
                f"{r['warmup_s']:.2f} | "
                f"{r['solve_median_s']:.3f} | {r['solve_max_s']:.3f} | {r['peak_rss_mib']:.0f} | "
                f"{r['size_median']} | {r['outcome']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
