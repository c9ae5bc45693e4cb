"""Malformed recipes of every shape give problem lines, never an exception of another kind."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from cmpkg.errors import InputError
from cmpkg.index import SHIPPED_INDEX, load_index, recipe_files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WRONG: list[Any] = [7, True, "text", ["a", 1], {"x": {"y": 1}}, []]


def mutations(table: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Key paths of every value in a table, nested tables and tables in arrays included."""
    for key, value in table.items():
        yield (*path, key)
        if isinstance(value, dict):
            yield from mutations(value, (*path, key))
        elif isinstance(value, list) and value:
            yield (*path, key, "0")
            if isinstance(value[0], dict):
                yield from mutations(value[0], (*path, key, "0"))


def replaced(table: Any, path: tuple[str, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(table, list):
        copy = list(table)
        copy[int(head)] = replaced(copy[int(head)], rest, value)
        return copy
    return {**table, head: replaced(table[head], rest, value)}


def load_or_problems(directory: Path) -> None:
    try:
        load_index([directory])
    except InputError as error:
        assert error.details
        assert all(line.startswith(str(directory)) for line in error.details)


#: One recipe of each shape (every kind and provide method, variants, sources, tables).
SHAPES = [
    "tools/cmake.toml",
    "tools/cudnn.toml",
    "libraries/numpy/2.2.6.toml",
    "libraries/onnxruntime-gpu/1.23.2.toml",
    "libraries/torchvision/0.24.1.toml",
    "models/resnet50-onnx/recipe.toml",
    "models/resnet50-synthetic/recipe.toml",
    "datasets/imagenet-val/recipe.toml",
    "datasets/imagenet-preprocessed/recipe.toml",
    "apps/mlperf-resnet50/recipe.toml",
]


def test_shapes_exist() -> None:
    assert {str(p.relative_to(SHIPPED_INDEX)) for p in recipe_files(SHIPPED_INDEX)} >= set(SHAPES)


@pytest.mark.parametrize("name", SHAPES)
def test_wrong_types_everywhere(name: str, tmp_path: Path) -> None:
    source = SHIPPED_INDEX / name
    raw = tomllib.loads(source.read_text())
    target = tmp_path / "idx" / "r.toml"
    target.parent.mkdir()
    for key_path in mutations(raw):
        for value in WRONG:
            target.write_text(tomli_w.dumps(replaced(raw, key_path, value)))
            load_or_problems(target.parent)


@pytest.mark.parametrize(
    "data", [b"\xff\xfe\x00n", b"name = 'a'\x00", b"", b"[[[", b"a = 1\na = 2"]
)
def test_unreadable_bytes(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "r.toml").write_bytes(data)
    with pytest.raises(InputError) as caught:
        load_index([tmp_path])
    assert len(caught.value.details) >= 1
