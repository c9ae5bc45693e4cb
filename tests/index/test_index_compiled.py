"""The compiled index cache: the same index as a full load, and never a stale one.

"Parsed or not" is observed from the outside: a recipe file replaced by garbage whose size
and mtime are put back is invisible to the stat scan, so a load that succeeds did not parse
it, and a load that still sees the old recipe did not re-read it. (That blind spot is the
documented trade-off of a stat-keyed cache, as in git and make: content edits that keep
size and mtime to the nanosecond are not seen; `cmpkg index check` always parses.)
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from cmpkg.errors import InputError
from cmpkg.index import SHIPPED_INDEX, load_index
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text

OLD = time.time() - 60  # older than the cache's racy window: trusted by stat alone


def age(root: Path) -> None:
    """Move every file and directory under `root` a minute into the past."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, (OLD, OLD))


def disguise(path: Path, text: str) -> None:
    """Replace the file's bytes but keep its size and mtime (invisible to a stat scan)."""
    st = path.stat()
    path.write_text(text.ljust(st.st_size)[: st.st_size])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def labels(index_dirs: list[Path], cache: Path | None) -> list[str]:
    return [r.label for r in load_index(index_dirs, cache).all()]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_compiled_load_equals_full_load_of_the_shipped_index(cache: Path) -> None:
    full = load_index([SHIPPED_INDEX])
    for _ in range(2):  # the build, then the hit
        compiled = load_index([SHIPPED_INDEX], cache)
        assert compiled.revision == full.revision
        assert list(compiled.recipes) == list(full.recipes)
        assert list(compiled.all()) == list(full.all())
        assert compiled.match_tags(["ml-model", "resnet50"]) == full.match_tags(
            ["ml-model", "resnet50"]
        )
        assert [r.name for r in compiled.detected()] == [r.name for r in full.detected()]
        assert compiled.digests() == full.digests()


def test_a_hit_parses_nothing(write_recipe: WriteRecipe, index_dir: Path, cache: Path) -> None:
    write_recipe("foo.toml")
    bar = write_recipe("bar.toml", name="bar")
    age(index_dir)
    before = load_index([index_dir], cache)
    disguise(bar, "not toml at all [[[")
    after = load_index([index_dir], cache)  # would fail if bar.toml were parsed
    assert after.revision == before.revision
    assert [r.label for r in after.get("foo")] == ["foo 1.0"]


def test_a_changed_file_is_parsed_again_and_only_it(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    foo = write_recipe("foo.toml")
    bar = write_recipe("bar.toml", name="bar")
    age(index_dir)
    first = load_index([index_dir], cache)
    disguise(bar, "not toml at all [[[")
    foo.write_text(recipe_text(version="2.0"))
    second = load_index([index_dir], cache)  # bar.toml's record is reused, unparsed
    assert [r.label for r in second.get("foo")] == ["foo 2.0"]
    assert second.revision != first.revision
    bar.write_text(recipe_text(name="bar", version="3.0"))  # now its stat moves too
    assert labels([index_dir], cache) == ["bar 3.0", "foo 2.0"]


def test_added_and_removed_files(write_recipe: WriteRecipe, index_dir: Path, cache: Path) -> None:
    write_recipe("a/foo.toml")
    age(index_dir)
    assert labels([index_dir], cache) == ["foo 1.0"]
    added = write_recipe("a/deep/bar.toml", name="bar")
    assert labels([index_dir], cache) == ["bar 1.0", "foo 1.0"]
    age(index_dir)
    added.unlink()
    assert labels([index_dir], cache) == ["foo 1.0"]


def test_an_edit_within_one_timestamp_tick_is_seen(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    """Same size, same mtime, just written: the racy window makes the cache check content."""
    foo = write_recipe("foo.toml", version="1.0")
    assert labels([index_dir], cache) == ["foo 1.0"]
    disguise(foo, recipe_text(version="2.0"))
    assert labels([index_dir], cache) == ["foo 2.0"]


def test_a_shipped_file_is_part_of_its_recipe(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("app/recipe.toml", extra='files = ["harness"]')
    (index_dir / "app/harness").mkdir()
    (index_dir / "app/harness/main.py").write_text("print(1)\n")
    age(index_dir)
    first = load_index([index_dir], cache).revision
    (index_dir / "app/harness/main.py").write_text("print(2)\n")
    second = load_index([index_dir], cache).revision
    (index_dir / "app/harness/extra.py").write_text("\n")
    third = load_index([index_dir], cache).revision
    assert len({first, second, third}) == 3
    assert third == load_index([index_dir]).revision


def test_problems_are_reported_from_the_cache_and_cured_by_a_fix(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("foo.toml", extra='depends = ["missing"]')
    age(index_dir)
    for _ in range(2):
        with pytest.raises(InputError) as caught:
            load_index([index_dir], cache)
        assert caught.value.details == (
            f"{index_dir}/foo.toml: depends[0]: no recipe named 'missing'",
        )
    write_recipe("missing.toml", name="missing")  # the cure is in another file
    assert labels([index_dir], cache) == ["foo 1.0", "missing 1.0"]


def test_a_damaged_cache_is_ignored_and_rebuilt(
    write_recipe: WriteRecipe, index_dir: Path, cache: Path
) -> None:
    write_recipe("foo.toml")
    age(index_dir)
    expected = load_index([index_dir], cache).revision
    for damage in (b"", b"\x00garbage", b"\xe3" * 40):
        for file in [f for f in cache.rglob("*") if f.is_file()]:  # recipes' documents too
            file.write_bytes(damage)
        assert load_index([index_dir], cache).revision == expected
        assert labels([index_dir], cache) == ["foo 1.0"]


def test_a_table_from_another_writer_is_not_trusted(
    write_recipe: WriteRecipe, index_dir: Path, tmp_path: Path, cache: Path
) -> None:
    """`.scan` and `.table` of two different builds never combine into one index."""
    write_recipe("foo.toml")
    age(index_dir)
    load_index([index_dir], cache)
    (table,) = cache.glob("*.table")
    kept = table.read_bytes()
    write_recipe("foo.toml", version="2.0")
    load_index([index_dir], cache)  # a second build: new .scan, new .table
    age(index_dir)
    load_index([index_dir], cache)
    table.write_bytes(kept)  # the first build's table returns
    assert labels([index_dir], cache) == ["foo 2.0"]


def test_concurrent_builds_agree(write_recipe: WriteRecipe, index_dir: Path, cache: Path) -> None:
    for i in range(20):
        write_recipe(f"p{i}.toml", name=f"p{i}")
    age(index_dir)
    start = threading.Barrier(4)
    revisions: list[str] = []

    def build() -> None:
        start.wait()
        revisions.append(load_index([index_dir], cache).revision)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(revisions) == 4 and len(set(revisions)) == 1
    assert load_index([index_dir], cache).revision == revisions[0]
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_layers_stack_the_same_way(write_recipe: WriteRecipe, tmp_path: Path, cache: Path) -> None:
    low, high = tmp_path / "low", tmp_path / "high"
    write_recipe("foo.toml", root=low, extra='tags = ["low"]')
    write_recipe("foo.toml", root=high)
    write_recipe("bar.toml", root=high, name="bar")
    age(tmp_path)
    for _ in range(2):
        index = load_index([low, high], cache)
        assert index.get("foo")[0].path == high / "foo.toml"
        assert labels([low, high], cache) == labels([low, high], None)
