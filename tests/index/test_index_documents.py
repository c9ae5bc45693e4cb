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


def test_prune_keeps_what_a_stack_can_ask_for_and_drops_the_rest(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path, tmp_path: Path
) -> None:
    """A recipe's old document, and a stack whose directory is gone, are dropped; the live
    stack and its current document stay and still answer."""
    write_recipe("foo.toml", extra='tags = ["one"]')
    gone = tmp_path / "gone"
    write_recipe("bar.toml", root=gone, name="bar")
    age(index_dir)
    age(gone)
    _memoised(index_dir, cache, "foo")
    _memoised(gone, cache, "bar")
    old_documents = set((cache / documents.DIRECTORY).iterdir())
    write_recipe("foo.toml", extra='tags = ["three"]')  # another size
    age(index_dir)
    _memoised(index_dir, cache, "foo")  # a second document for foo
    (current,) = set((cache / documents.DIRECTORY).iterdir()) - old_documents
    for path in gone.rglob("*.toml"):
        path.unlink()
    gone.rmdir()
    stacks = {p.stem for p in cache.glob("*.scan")}
    assert len(stacks) == 2

    dropped = [path for path, _ in documents.prune(cache, dry_run=True)]
    assert all(path.exists() for path in dropped)  # a dry run removes nothing
    assert [path for path, _ in documents.prune(cache)] == dropped
    assert sorted(p.name for p in (cache / documents.DIRECTORY).iterdir()) == [current.name]
    (live,) = {p.stem for p in cache.glob("*.scan")}
    assert sorted(p.name for p in cache.iterdir() if p.is_file()) == [
        f"{live}.detail",
        f"{live}.scan",
        f"{live}.table",
    ]
    assert {p.name for p in dropped} == {p.name for p in old_documents} | {
        f"{stem}{suffix}" for stem in stacks - {live} for suffix in (".scan", ".table", ".detail")
    }
    assert load_index([index_dir], cache).get("foo")[0].tags == ("three",)
    assert documents.read(cache, current.name) is not None


def test_prune_drops_a_stack_another_cmpkg_version_wrote(cache: Path) -> None:
    cache.mkdir()
    foreign = cache / "0123456789abcdef0123456789abcdef.scan"
    foreign.write_bytes(marshal.dumps((1, "0.0.0-other", "token")))
    size = foreign.stat().st_size
    assert documents.prune(cache) == [(foreign, size)]
    assert not foreign.exists()
