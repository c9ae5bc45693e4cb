"""Recipes' memoised TOML documents: the same recipes, every check kept, never a stale one.

As in test_index_compiled, "read from the memo or parsed" is observed from the outside: a
recipe file replaced by garbage of the same size and mtime is invisible to the stat scan,
so a load that still returns the recipe took it from its memoised document.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

from cmpkg.errors import InputError
from cmpkg.index import SHIPPED_INDEX, documents, load_index
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text
from tests.index.test_index_compiled import OLD, age, disguise


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _memoised(index_dir: Path, cache: Path, name: str) -> None:
    """Build the compiled index, then look `name` up once: that parse memoises it."""
    load_index([index_dir], cache)  # the rebuild (its parsed recipes are not memoised)
    assert load_index([index_dir], cache).get(name)


def test_recipes_from_documents_equal_parsed_ones(cache: Path) -> None:
    full = load_index([SHIPPED_INDEX])
    names = sorted(full.recipes)
    load_index([SHIPPED_INDEX], cache)
    parsed = load_index([SHIPPED_INDEX], cache)  # parsed now, and memoised
    assert [parsed.get(n) for n in names] == [full.get(n) for n in names]
    assert len(list((cache / documents.DIRECTORY).iterdir())) == len(list(full.all()))
    memoised = load_index([SHIPPED_INDEX], cache)  # every recipe from its document
    assert [memoised.get(n) for n in names] == [full.get(n) for n in names]


def test_a_lookup_reads_the_document_not_the_file(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    foo = write_recipe("foo.toml")
    age(index_dir)
    _memoised(index_dir, cache, "foo")
    disguise(foo, "not toml at all [[[")  # unseen by the scan: the row still holds
    assert [r.label for r in load_index([index_dir], cache).get("foo")] == ["foo 1.0"]


def test_an_edited_recipe_is_never_answered_by_its_old_document(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("foo.toml", extra='tags = ["one"]')
    age(index_dir)
    _memoised(index_dir, cache, "foo")
    foo = write_recipe("foo.toml", extra='tags = ["two"]')  # the same size: only content differs
    os.utime(foo, (OLD - 60, OLD - 60))  # an older mtime than before, still out of the racy window
    load_index([index_dir], cache)  # the scan moved (mtime): rebuilt
    assert load_index([index_dir], cache).get("foo")[0].tags == ("two",)


def test_a_damaged_document_is_parsed_again(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("foo.toml")
    age(index_dir)
    _memoised(index_dir, cache, "foo")
    (memo,) = (cache / documents.DIRECTORY).iterdir()
    memo.write_bytes(b"\x00garbage")
    assert [r.label for r in load_index([index_dir], cache).get("foo")] == ["foo 1.0"]
    assert documents.read(cache, memo.name) is not None  # rewritten whole


def test_a_document_is_checked_like_a_parsed_file(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    """Only the parse is memoised: a document that breaks a rule is refused with its problem."""
    write_recipe("foo.toml")
    age(index_dir)
    _memoised(index_dir, cache, "foo")
    (memo,) = (cache / documents.DIRECTORY).iterdir()
    document = documents.read(cache, memo.name)
    assert document is not None
    documents.write(cache, memo.name, {**document, "kind": "gadget"})
    with pytest.raises(InputError) as caught:
        load_index([index_dir], cache).get("foo")
    assert caught.value.details == (
        f"{index_dir}/foo.toml: kind: must be one of tool, library, model, dataset, app, "
        "got 'gadget'",
    )


def test_a_document_marshal_cannot_hold_is_not_memoised(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("foo.toml", text=recipe_text())
    age(index_dir)
    _memoised(index_dir, cache, "foo")
    (memo,) = (cache / documents.DIRECTORY).iterdir()
    documents.write(cache, "d" * 64, {"when": __import__("datetime").date(2026, 1, 1)})
    assert not documents.path_of(cache, "d" * 64).exists()
    assert marshal.loads(memo.read_bytes())  # the real one is intact
