"""The user config file supplies index dirs and a mirror; a bad one is an input error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg import config
from cmpkg.errors import InputError
from cmpkg.index import active_index_dirs


def test_config_index_dirs_stack_after_env_and_before_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "config.toml"
    file.write_text('index = ["recipes"]\nmirror = "/srv/m"\noffline = true\n')
    monkeypatch.setenv("CMPKG_CONFIG", str(file))
    monkeypatch.setenv("CMPKG_INDEX", "/from/env")
    config.load.cache_clear()
    dirs = active_index_dirs([Path("/from/cli")])
    assert dirs[1:] == (Path("/from/env"), tmp_path / "recipes", Path("/from/cli"))
    assert config.load().mirror == "/srv/m" and config.load().offline


def test_bad_config_names_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "config.toml"
    file.write_text('offline = "yes"\ncolour = 1\n')
    monkeypatch.setenv("CMPKG_CONFIG", str(file))
    config.load.cache_clear()
    with pytest.raises(InputError) as info:
        config.load()
    assert info.value.details == (
        f"{file}: offline: expected true or false, got a string",
        f"{file}: colour: unknown key",
    )
