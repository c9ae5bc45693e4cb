"""A child process for store concurrency and crash tests (run with PYTHONPATH=repo root).

    python store_child.py ensure ROOT KEY slow N          build N files, a little sleep each
    python store_child.py ensure ROOT KEY hang            print "building", then sleep forever
    python store_child.py ensure ROOT KEY fetch URL SHA   fetch a tar.gz and extract it
    python store_child.py use ROOT KEY                    hold use(KEY), print "using", sleep
    python store_child.py deps ROOT SHARED OWN COUNTER    ensure SHARED then OWN (both counted)

Prints "entry <path>" on success, so the parent can compare what each process got.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from cmpkg.store import Store


def build_slow(count: int) -> Any:
    def build(tmp: Path) -> dict[str, Any]:
        for i in range(count):
            (tmp / f"f{i:03}").write_bytes(bytes([i % 256]) * 4096)
            time.sleep(0.002)
        return {"files": count}

    return build


def build_hang(tmp: Path) -> dict[str, Any]:
    (tmp / "half").write_text("half")
    print("building", flush=True)
    time.sleep(600)
    return {}


def build_fetch(store: Store, url: str, sha: str) -> Any:
    from cmpkg.archive import extract
    from cmpkg.fetch import Artifact, fetch

    def build(tmp: Path) -> dict[str, Any]:
        art = Artifact("payload", (url,), "payload.tar.gz", sha256=sha)
        got = fetch(art, store.downloads_dir, backoff=0.01, stall_timeout=2.0)
        extract(got.path, tmp / "src")
        return {"sha256": got.sha256}

    return build


def build_counted(counter: str, label: str) -> Any:
    def build(tmp: Path) -> dict[str, Any]:
        with Path(counter).open("a") as fh:
            fh.write(label + "\n")
        time.sleep(0.2)  # long enough for the others to queue on the lock
        (tmp / "x").write_text(label)
        return {}

    return build


def main(argv: list[str]) -> int:
    command, root, key = argv[0], Path(argv[1]), argv[2]
    store = Store(root)
    if command == "use":
        with store.use(key):
            print("using", flush=True)
            time.sleep(600)
        return 0
    if command == "deps":
        own, counter = argv[3], argv[4]
        store.ensure(key, build_counted(counter, "shared"))
        entry = store.ensure(own, build_counted(counter, "own-" + own[:8]))
        print(f"entry {entry.path}", flush=True)
        return 0
    mode = argv[3]
    if mode == "slow":
        build = build_slow(int(argv[4]))
    elif mode == "hang":
        build = build_hang
    else:
        build = build_fetch(store, argv[4], argv[5])
    entry = store.ensure(key, build, {"name": "child"})
    print(f"entry {entry.path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
