"""The search query syntax and the JSON shapes of `cmpkg search` / `cmpkg show`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg.index import load_index
from cmpkg.index.query import close_names, describe, parse_query, search, version_text
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("resnet", ("resnet", (), ())),
        ("ResNet", ("resnet", (), ())),
        ("get,ml-model", (None, ("get", "ml-model"), ())),
        ("tags:resnet50", (None, ("resnet50",), ())),
        ("get, ml-model ,-synthetic", (None, ("get", "ml-model"), ("synthetic",))),
        ("-synthetic", (None, (), ("synthetic",))),
    ],
)
def test_parse_query(query: str, expected: tuple[object, ...]) -> None:
    assert parse_query(query) == expected


def tagged(name: str, tags: str) -> str:
    return recipe_text(name=name, extra=f"tags = [{tags}]")


def test_search_by_tags_and_name(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("a.toml", text=tagged("model-a", '"get", "ml-model"'))
    write_recipe("b.toml", text=tagged("model-b", '"get", "ml-model", "synthetic"'))
    write_recipe("c.toml", text=tagged("tool-c", '"get", "model-b"'))
    index = load_index([index_dir])
    assert [m.name for m in search(index, "get,ml-model")] == ["model-a", "model-b"]
    assert [m.name for m in search(index, "get,-synthetic")] == ["model-a", "tool-c"]
    # A bare word matches names and tags alike.
    assert [m.name for m in search(index, "model-b")] == ["model-b", "tool-c"]


def test_tags_match_on_one_recipe_only(write_recipe: WriteRecipe, index_dir: Path) -> None:
    """Tags of different versions do not add up (CM matches one recipe at a time)."""
    write_recipe("a1.toml", text=tagged("a", '"x"'))
    write_recipe("a2.toml", text=tagged("a", '"y"').replace('"1.0"', '"2.0"'))
    index = load_index([index_dir])
    assert search(index, "x,y") == []
    (match,) = search(index, "tags:y")
    assert match.versions() == ["2.0"]


def test_close_names(write_recipe: WriteRecipe, index_dir: Path) -> None:
    for name in ("resnet50-onnx", "resnet50-pytorch", "numpy"):
        write_recipe(f"{name}.toml", name=name)
    index = load_index([index_dir])
    assert close_names(index, "resnet50-onx")[0] == "resnet50-onnx"
    assert close_names(index, "resnet50") == ["resnet50-onnx", "resnet50-pytorch"]
    assert close_names(index, "zzz") == []


def test_describe_splits_hardware(write_recipe: WriteRecipe, index_dir: Path) -> None:
    extra = 'depends = ["__arch == x86_64", "bar"]'
    variants = (
        '[variants.device]\ndefault = "cpu"\n[variants.device.cpu]\n'
        '[variants.device.cuda]\ndepends = ["__cuda >=12.0"]\n'
    )
    write_recipe("bar.toml", name="bar")
    write_recipe("foo.toml", text=recipe_text(extra=extra) + variants)
    (recipe,) = load_index([index_dir]).get("foo")
    info = describe(recipe)
    assert info["depends"] == [{"requirement": "bar", "when": {}}]
    assert info["hardware"] == [
        {"requirement": "__arch == x86_64", "when": {}},
        {"requirement": "__cuda >=12.0", "when": {"device": "cuda"}},
    ]
    assert info["variants"][0]["default"] == "cpu"
    assert version_text(recipe) == "1.0"


@pytest.mark.parametrize(
    "text",
    [
        "numpy",
        "torch[compute=cu128] >=2.7",
        "tags:get,ml-model",
        "__cuda >=12.1",
        "__arch == x86_64",
    ],
)
def test_describe_round_trips(text: str) -> None:
    from cmpkg.index.requirement import parse_dependency

    dep = parse_dependency(text)
    assert dep.describe() == text
    assert parse_dependency(dep.describe()) == dep
