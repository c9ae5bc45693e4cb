"""Makes `tests.probe.helpers` importable and provides the `fake_smi` fixture."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture
def fake_smi(tmp_path: Path) -> Callable[..., str]:
    """Write a fake `nvidia-smi` answering the CSV query and the plain banner; returns its path."""

    def make(csv: str, banner: str = "", exit_code: int = 0) -> str:
        (tmp_path / "query.csv").write_text(csv)
        (tmp_path / "banner.txt").write_text(banner)
        script = tmp_path / "nvidia-smi"
        script.write_text(
            "#!/bin/sh\n"
            f'case "$1" in --query-gpu=*) cat "{tmp_path}/query.csv";; '
            f'*) cat "{tmp_path}/banner.txt";; esac\n'
            f"exit {exit_code}\n"
        )
        script.chmod(0o755)
        return str(script)

    return make
