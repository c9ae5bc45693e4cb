"""The microarchitecture memo: keyed by exactly what archspec reads, and used when it holds."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.probe import microarch
from cmpkg.probe.microarch import first_block, key, read_cached
from cmpkg.probe.system import read_microarch
from tests.probe.helpers import capture

CPUINFO = capture("h200-cuda13", "cpuinfo.txt")
STAMP = "0.2.7 123 456"


def _with_line(text: str, prefix: str, value: str) -> str:
    return "\n".join(
        f"{prefix}\t: {value}" if line.startswith(prefix) else line for line in text.splitlines()
    )


def test_key_moves_with_every_input_archspec_reads() -> None:
    base = key(CPUINFO, "x86_64", STAMP)
    assert key(_with_line(CPUINFO, "flags", "fpu sse sse2"), "x86_64", STAMP) != base
    assert key(_with_line(CPUINFO, "vendor_id", "AuthenticAMD"), "x86_64", STAMP) != base
    assert key(_with_line(CPUINFO, "model name", "Other CPU"), "x86_64", STAMP) != base
    assert key(CPUINFO, "aarch64", STAMP) != base
    assert key(CPUINFO, "x86_64", "0.2.8 123 456") != base  # another archspec
    assert key(CPUINFO, "x86_64", "0.2.7 123 789") != base  # its target table edited


def test_key_ignores_the_clock_and_the_other_processors() -> None:
    base = key(CPUINFO, "x86_64", STAMP)
    assert key(_with_line(CPUINFO, "cpu MHz", "1234.567"), "x86_64", STAMP) == base
    blocks = CPUINFO.split("\n\n")
    if len(blocks) > 1:  # archspec reads the first processor only
        assert key(blocks[0] + "\n\nprocessor\t: 99\nflags\t: x\n", "x86_64", STAMP) == key(
            blocks[0], "x86_64", STAMP
        )
    assert "cpu MHz" not in first_block(CPUINFO)


@pytest.mark.skipif(platform.system() != "Linux", reason="memoised on Linux only")
def test_a_hit_answers_and_a_changed_input_asks_archspec_again(tmp_path: Path) -> None:
    calls: list[int] = []

    def detect() -> tuple[str | None, tuple[str, ...]]:
        calls.append(1)
        return "zen3", ("zen3", "zen2", "x86_64")

    assert read_cached(tmp_path, detect) == ("zen3", ("zen3", "zen2", "x86_64"))
    assert read_cached(tmp_path, detect) == ("zen3", ("zen3", "zen2", "x86_64"))
    assert len(calls) == 1  # the second answer came from the memo
    # The entry of another CPU (any other key) is never taken for this one's.
    memo = tmp_path / microarch.FILE
    stored = json.loads(memo.read_text())
    memo.write_text(json.dumps({"0" * 64: next(iter(stored.values()))}))
    assert read_cached(tmp_path, detect)[0] == "zen3"
    assert len(calls) == 2
    memo.write_text("{not json")  # damaged: a miss, then rewritten
    assert read_cached(tmp_path, detect)[0] == "zen3"
    assert len(calls) == 3 and json.loads(memo.read_text())


@pytest.mark.skipif(platform.system() != "Linux", reason="memoised on Linux only")
def test_pointing_archspec_at_other_tables_is_never_memoised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHSPEC_CPU_DIR", str(tmp_path))
    assert read_cached(tmp_path, lambda: ("zen3", ("zen3",))) == ("zen3", ("zen3",))
    assert not (tmp_path / microarch.FILE).exists()


@pytest.mark.skipif(platform.system() != "Linux", reason="memoised on Linux only")
def test_a_warm_probe_imports_neither_archspec_nor_packaging_tags(tmp_path: Path) -> None:
    """What `cmpkg resolve` pays for the CPU: a memo read, and no wheel tags it does not use."""
    code = (
        "import sys; from cmpkg.probe.host import probe_host; "
        "t = probe_host(ignore_gpus=True); print(t.microarch, t.microarch_lineage); "
        "print(sorted(m for m in ('archspec.cpu', 'packaging.tags') if m in sys.modules))"
    )
    env = {**os.environ, "CMPKG_HOME": str(tmp_path)}
    env.pop("ARCHSPEC_CPU_DIR", None)
    env.pop("ARCHSPEC_EXTENSION_CPU_DIR", None)
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert cold.returncode == 0 and warm.returncode == 0, cold.stderr + warm.stderr
    assert cold.stdout.splitlines()[0] == warm.stdout.splitlines()[0]  # the same answer
    assert cold.stdout.splitlines()[1] == "['archspec.cpu']"  # the miss asked archspec
    assert warm.stdout.splitlines()[1] == "[]"
    assert warm.stdout.splitlines()[0].split()[0] == str(read_microarch()[0])
