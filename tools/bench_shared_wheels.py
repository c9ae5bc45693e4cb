"""Disk and time of Python environments that hold the same big wheel (docs/benchmarks.md,
"Environments sharing a wheel").

Builds N store entries the way `cmpkg install` builds a Python environment (`pyenv.create`,
one hash-checked `uv pip install` of the exact wheel, then the store's commit), each under
its own key, in a scratch CMPKG_HOME, and prints after each: its wall time and the disk used
(`du -sk`, which counts a hard-linked file once) by the store, by uv's cache and by the home
in all. Then the first environment's check (its stamps moved when the others linked the
same files: one verified re-stamp) and the check after that one.

    python tools/bench_shared_wheels.py WHEEL [--envs 2] [--mode hardlink|copy] --home DIR

WHEEL is a local file (e.g. a torch wheel from a wheelhouse); it is installed with
`--no-deps`, so its dependencies are not needed. `--mode copy` measures cmpkg's former
`--link-mode copy`. DIR is emptied first and should be deleted afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmpkg import pyenv
from cmpkg.store import Store, entry_key, fingerprint
from cmpkg.wheels import LockedWheel, WheelSource


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def locked(wheel: Path) -> LockedWheel:
    name, version = wheel.name.split("-")[:2]
    return LockedWheel(name, version, wheel.as_uri(), sha256(wheel))


def disk(home: Path) -> str:
    """KiB of the store, of uv's cache, and of the home (each `du` counts an inode once)."""
    sizes = []
    for path in (home / "store-v1", home / "uv-v1", home):
        done = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=False)
        sizes.append(int(done.stdout.split()[0]) if done.returncode == 0 else 0)
    return "store {:,} MiB, uv cache {:,} MiB, home {:,} MiB".format(*(s // 1024 for s in sizes))


def build(store: Store, wheel: LockedWheel, source: WheelSource, python: str, key: str) -> Any:
    def venv(tmp: Path) -> dict[str, Any]:
        pyenv.create(tmp, python)
        done = pyenv.install(tmp, [wheel], source, store.home)
        pyenv.relocate(tmp, store.entry_path(key))
        return done

    return store.ensure(key, venv, {"package": "python-env"})


def timed(label: str, run: Any) -> Any:
    started = time.perf_counter()
    result = run()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--envs", type=int, default=2)
    parser.add_argument("--mode", choices=("hardlink", "copy"), default="hardlink")
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    if args.mode == "copy":  # cmpkg's former behaviour, for the comparison
        pyenv.link_mode = lambda cache, build: ("copy", "asked for by the benchmark")  # type: ignore[assignment]
    shutil.rmtree(args.home, ignore_errors=True)
    store = Store(args.home)
    wheel = locked(args.wheel)
    source = WheelSource((str(args.wheel.parent),), (), no_index=True)
    print(f"{args.wheel.name}, --link-mode {args.mode}, {args.envs} environments")
    entries = []
    for number in range(1, args.envs + 1):
        key = entry_key({"bench-shared-wheels": number})
        entries.append(
            timed(
                f"environment {number}",
                lambda k=key: build(store, wheel, source, sys.executable, k),
            )
        )
        print(f"  after environment {number}: {disk(args.home)}", flush=True)
    first = entries[0]
    print(f"first environment intact by its sidecar: {fingerprint.intact(str(first.path))}")
    result = timed(
        "first environment's check (re-hash of moved files, re-stamp)", lambda: store.check(first)
    )
    again = store.get(first.key)
    assert result.ok and again is not None
    timed("its next check", lambda: store.check(again))
    print(f"first environment intact by its sidecar: {fingerprint.intact(str(first.path))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
