"""Index stacking: later directories replace same name+version recipes of earlier ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cmpkg.errors import InputError
from cmpkg.index import SHIPPED_INDEX, active_index_dirs, load_active_index, load_index
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text


def summary(text: str) -> str:
    return recipe_text().replace('summary = "a test package"', f'summary = "{text}"')


def test_later_layer_replaces_same_version(write_recipe: WriteRecipe, tmp_path: Path) -> None:
    low, high = tmp_path / "low", tmp_path / "high"
    write_recipe("foo.toml", text=summary("low"), root=low)
    write_recipe("foo.toml", text=summary("high"), root=high)
    (recipe,) = load_index([low, high]).get("foo")
    assert recipe.summary == "high"
    (recipe,) = load_index([high, low]).get("foo")
    assert recipe.summary == "low"


def test_layers_add_versions(write_recipe: WriteRecipe, tmp_path: Path) -> None:
    low, high = tmp_path / "low", tmp_path / "high"
    write_recipe("foo.toml", version="1.0", root=low)
    write_recipe("foo.toml", version="2.0", root=high)
    write_recipe("foo-0.toml", version="0.9", root=high)
    versions = [str(r.version) for r in load_index([low, high]).get("foo")]
    assert versions == ["2.0", "1.0", "0.9"]


def test_same_version_twice_in_one_layer_is_an_error(
    write_recipe: WriteRecipe, tmp_path: Path
) -> None:
    write_recipe("a/foo.toml", root=tmp_path / "one")
    write_recipe("b/foo.toml", root=tmp_path / "one")
    with pytest.raises(InputError):
        load_index([tmp_path / "one"])


def test_overlay_may_depend_on_lower_layer(write_recipe: WriteRecipe, tmp_path: Path) -> None:
    write_recipe("base.toml", name="base", root=tmp_path / "low")
    write_recipe("top.toml", name="top", extra='depends = ["base >=1"]', root=tmp_path / "high")
    assert sorted(load_index([tmp_path / "low", tmp_path / "high"]).recipes) == ["base", "top"]


def test_targets_directory_is_not_recipes(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("foo.toml")
    write_recipe("targets/cuda.toml", text="[facts]\ncuda = '12.8'\n")
    assert list(load_index([index_dir]).recipes) == ["foo"]


def test_revision_changes_with_any_recipe(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml")
    before = load_index([index_dir]).revision
    path.write_text(summary("changed"))
    assert load_index([index_dir]).revision != before


def test_active_dirs_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_a, env_b, cli = tmp_path / "a", tmp_path / "b", tmp_path / "cli"
    monkeypatch.setenv("CMPKG_INDEX", os.pathsep.join([str(env_a), "", str(env_b)]))
    assert active_index_dirs([cli]) == (SHIPPED_INDEX, env_a, env_b, cli)


def test_active_dirs_without_env() -> None:
    assert active_index_dirs() == (SHIPPED_INDEX,)


def test_command_line_beats_environment_beats_shipped(
    monkeypatch: pytest.MonkeyPatch, write_recipe: WriteRecipe, tmp_path: Path
) -> None:
    numpy = (SHIPPED_INDEX / "libraries" / "numpy" / "2.2.6.toml").read_text()
    env_dir, cli_dir = tmp_path / "env", tmp_path / "cli"
    write_recipe("numpy.toml", text=numpy.replace("NumPy:", "ENV NumPy:"), root=env_dir)
    monkeypatch.setenv("CMPKG_INDEX", str(env_dir))
    picked = {str(r.version): r for r in load_active_index().get("numpy")}
    assert picked["2.2.6"].summary.startswith("ENV ")
    write_recipe("numpy.toml", text=numpy.replace("NumPy:", "CLI NumPy:"), root=cli_dir)
    picked = {str(r.version): r for r in load_active_index([cli_dir]).get("numpy")}
    assert picked["2.2.6"].summary.startswith("CLI ")
    assert len(picked) == len(load_index([SHIPPED_INDEX]).get("numpy"))


def test_config_file_sits_between_environment_and_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cmpkg import config

    env_dir, cfg_dir, cli_dir = tmp_path / "env", tmp_path / "cfg", tmp_path / "cli"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"index = [{str(cfg_dir)!r}]\n")
    monkeypatch.setenv("CMPKG_CONFIG", str(cfg))
    monkeypatch.setenv("CMPKG_INDEX", str(env_dir))
    config.load.cache_clear()
    try:
        assert active_index_dirs([cli_dir]) == (SHIPPED_INDEX, env_dir, cfg_dir, cli_dir)
    finally:
        config.load.cache_clear()
