"""Fixtures for index tests: recipe files written into temporary index directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.index.recipes import recipe_text

WriteRecipe = Callable[..., Path]


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "idx"


@pytest.fixture
def write_recipe(index_dir: Path) -> WriteRecipe:
    """write_recipe(relpath, text=None, root=None, **recipe_text kwargs) -> the file's path."""

    def write(relpath: str, text: str | None = None, root: Path | None = None, **kw: str) -> Path:
        path = (root or index_dir) / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text is not None else recipe_text(**kw))
        return path

    return write


@pytest.fixture(autouse=True)
def _no_user_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own CMPKG_INDEX must not leak into the tests."""
    monkeypatch.delenv("CMPKG_INDEX", raising=False)
