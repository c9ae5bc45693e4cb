"""Temp files of atomic writes: a killed writer's are swept (by gc and install), a live
writer's never (RELIABILITY C.17, C.18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cmpkg import atomic
from cmpkg.store import Store

ROOT = Path(__file__).resolve().parents[2]
# A writer that stops between creating its locked temp file and renaming it.
WRITER = """import sys, pathlib
from cmpkg import atomic
fd, tmp = atomic._create_locked(pathlib.Path(sys.argv[1]))
print(tmp, flush=True)
sys.stdin.read()
"""


def _writer(target: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_live_writers_temp_file_is_kept_and_a_killed_ones_swept(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    store.add_root("env-app", [])
    target = store.base / "roots" / "env-other.json"
    proc, tmp = _writer(target)
    try:
        assert tmp.exists() and atomic.is_temp(tmp.name, of=[target.name])
        assert tmp not in store.gc().swept  # its writer lives: kept
        assert tmp.exists()
    finally:
        proc.kill()
        proc.wait()
    assert tmp in store.gc().swept  # the kernel dropped the dead writer's lock
    assert not tmp.exists()
    assert sorted(p.name for p in (store.base / "roots").iterdir()) == ["env-app.json"]


def test_sweep_takes_old_spellings_and_leaves_other_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    envs = store.home / "envs"
    envs.mkdir(parents=True)
    (envs / "app.json").write_text("{}")
    (envs / ".app.context.json.0a1b2c3d.tmp").write_text("{half")
    (envs / ".app.json.tmp4242").write_text("{half")  # the former atomic.write_text
    (envs / "notes.abcdefgh.tmp").write_text("not ours outside roots/")
    roots = store.base / "roots"
    roots.mkdir(parents=True)
    (roots / "env-app.json.k2j4_x9q.tmp").write_text("{half")  # the former mkstemp name
    swept = {p.name for p in store.sweep_writes()}
    assert swept == {
        ".app.context.json.0a1b2c3d.tmp",
        ".app.json.tmp4242",
        "env-app.json.k2j4_x9q.tmp",
    }
    assert sorted(p.name for p in envs.iterdir()) == ["app.json", "notes.abcdefgh.tmp"]


def test_a_finished_write_leaves_only_its_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic.write_text(target, json.dumps({"a": 1}), durable=True)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert atomic.sweep(tmp_path) == []
