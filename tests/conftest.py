"""Hermetic defaults for every test: no user config or home, no inherited overrides or mirrors."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from hypothesis import settings

# A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
# across exec: Python then never raises KeyboardInterrupt, and the Ctrl-C tests (in process
# and in the cmpkg children they start) would wait forever. The suite's own process takes
# Python's handler back; children get the default disposition, as from a terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Tests are deterministic: property tests replay the same examples on every run (and in CI).
# Explore new ones with `pytest --hypothesis-profile=explore`.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CMPKG_"):
            monkeypatch.delenv(name)
    base = Path(tmp_path_factory.getbasetemp())
    monkeypatch.setenv("CMPKG_CONFIG", str(base / "no-user-config.toml"))
    # A test that names no home of its own must not write into the user's (the default,
    # ~/.cache/cmpkg): it gets one home for the run, warm across tests as the user's is.
    monkeypatch.setenv("CMPKG_HOME", str(base / "default-home"))
    from cmpkg import config

    config.load.cache_clear()
