"""Each validation rule of the recipe loader and the cross-recipe checks, one problem each."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg.errors import InputError
from cmpkg.index import load_index
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text


def problems(*dirs: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_index(list(dirs))
    return list(caught.value.details)


def one_problem(index_dir: Path) -> str:
    found = problems(index_dir)
    assert len(found) == 1, found
    return found[0]


def test_valid_recipe_loads(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("foo.toml")
    index = load_index([index_dir])
    assert [r.label for r in index.all()] == ["foo 1.0"]


def test_unknown_key(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", extra='colour = "red"')
    assert one_problem(index_dir) == f"{path}: colour: unknown key"


def test_unknown_key_in_nested_table(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", text=recipe_text() + 'mirror = "x"\n')
    assert one_problem(index_dir) == f"{path}: provide.mirror: unknown key"


def test_bad_version(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", version="one.two")
    assert one_problem(index_dir) == f"{path}: version: invalid version 'one.two' (PEP 440)"


def test_bad_specifier(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("bar.toml", name="bar")
    path = write_recipe("foo.toml", extra='depends = ["bar >=>1"]')
    assert one_problem(index_dir) == f"{path}: depends[0]: invalid version range '>=>1' (PEP 440)"


def test_default_not_among_values(write_recipe: WriteRecipe, index_dir: Path) -> None:
    extra = '[variants.device]\ndefault = "tpu"\n[variants.device.cpu]\n[variants.device.cuda]\n'
    path = write_recipe("foo.toml", text=recipe_text() + extra)
    line = one_problem(index_dir)
    assert line == f"{path}: variants.device.default: 'tpu' is not one of the values (cpu, cuda)"


def test_duplicate_name_and_version(write_recipe: WriteRecipe, index_dir: Path) -> None:
    first = write_recipe("a/foo.toml")
    second = write_recipe("b/foo.toml")
    assert one_problem(index_dir) == f"{second}: name: foo 1.0 is also defined in {first}"


def test_non_normal_name(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", name="Foo_Bar")
    assert (
        one_problem(index_dir) == f"{path}: name: 'Foo_Bar' is not in normal form; write 'foo-bar'"
    )


def test_tag_query_matching_nothing(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", extra='depends = ["tags:get,no-such-tag"]')
    line = one_problem(index_dir)
    assert line == f"{path}: depends[0]: tag query get,no-such-tag matches no recipe"


def test_dependency_on_missing_package(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", extra='depends = ["nothing-here"]')
    assert one_problem(index_dir) == f"{path}: depends[0]: no recipe named 'nothing-here'"


def test_range_no_version_satisfies(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("bar.toml", name="bar", version="1.0")
    path = write_recipe("foo.toml", extra='depends = ["bar >=2"]')
    line = one_problem(index_dir)
    assert line == f"{path}: depends[0]: no version of bar >=2 exists (have: 1.0)"


def test_variant_pin_no_candidate_has(write_recipe: WriteRecipe, index_dir: Path) -> None:
    bar = '[variants.device]\ndefault = "cpu"\n[variants.device.cpu]\n'
    write_recipe("bar.toml", text=recipe_text(name="bar") + bar)
    path = write_recipe("foo.toml", extra='depends = ["bar[device=cuda]"]')
    line = one_problem(index_dir)
    assert line == f"{path}: depends[0]: bar[device=cuda]: no candidate has variant device=cuda"


def test_unconditional_cycle_reports_its_path(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("a.toml", name="a", extra='depends = ["b"]')
    write_recipe("b.toml", name="b", extra='depends = ["c"]')
    write_recipe("c.toml", name="c", extra='depends = ["a"]')
    line = one_problem(index_dir)
    assert line.endswith("depends: dependency cycle a -> b -> c -> a")


def test_conditional_cycle_is_allowed(write_recipe: WriteRecipe, index_dir: Path) -> None:
    variants = '[variants.mode]\ndefault = "x"\n[variants.mode.x]\n[variants.mode.y]\n'
    dep = 'depends = [{ name = "b", when = { mode = "y" } }]'
    write_recipe("a.toml", text=recipe_text(name="a", extra=dep) + variants)
    write_recipe("b.toml", name="b", extra='depends = ["a"]')
    assert len(list(load_index([index_dir]).all())) == 2


@pytest.mark.parametrize(
    ("extra", "key", "bad"),
    [
        ('files = ["../outside"]', "files", "../outside"),
        ('files = ["/etc/passwd"]', "files", "/etc/passwd"),
        ('files = ["C:/x"]', "files", "C:/x"),
        ('[paths]\nPATH = ["../bin"]', "paths.PATH", "../bin"),
        ('[paths]\nPYTHONPATH = ["/usr/lib"]', "paths.PYTHONPATH", "/usr/lib"),
    ],
)
def test_paths_must_stay_inside_the_entry(
    write_recipe: WriteRecipe, index_dir: Path, extra: str, key: str, bad: str
) -> None:
    path = write_recipe("foo.toml", extra=extra)
    lines = problems(index_dir)
    expected = (
        f"{path}: {key}: {bad!r} must be a relative path inside the entry (no '..', not absolute)"
    )
    assert expected in lines


def test_source_filename_must_stay_inside(write_recipe: WriteRecipe, index_dir: Path) -> None:
    text = """\
name = "data"
version = "1"
kind = "dataset"
summary = "s"
license = "MIT"
homepage = "https://example.org"
[provide]
method = "download"
[[sources]]
url = "https://example.org/data.bin"
filename = "../../data.bin"
md5 = "0123456789abcdef0123456789abcdef"
verified = "test"
"""
    path = write_recipe("data.toml", text=text)
    line = one_problem(index_dir)
    assert line == (
        f"{path}: sources[0].filename: '../../data.bin' must be a relative path "
        "inside the entry (no '..', not absolute)"
    )


@pytest.mark.parametrize("name", ["con", "nul", "com1", "lpt9", "aux"])
def test_windows_device_names_are_not_package_names(
    write_recipe: WriteRecipe, index_dir: Path, name: str
) -> None:
    path = write_recipe("x.toml", name=name)
    line = one_problem(index_dir)
    assert line == f"{path}: name: package name {name!r} is a reserved device name on Windows"


def test_windows_device_names_are_not_file_names(
    write_recipe: WriteRecipe, index_dir: Path
) -> None:
    (index_dir / "app").mkdir(parents=True)
    (index_dir / "app" / "NUL.txt").write_text("")
    path = write_recipe("app/foo.toml", extra='files = ["NUL.txt"]')
    line = one_problem(index_dir)
    assert line == f"{path}: files: 'NUL.txt' contains a reserved device name on Windows"


def test_bad_toml_reports_its_line(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", text='name = "foo"\nversion = "1.0\nkind = "tool"\n')
    line = one_problem(index_dir)
    assert line.startswith(f"{path}: invalid TOML: ")
    assert "line 2" in line


def test_every_problem_of_a_file_is_reported(write_recipe: WriteRecipe, index_dir: Path) -> None:
    text = recipe_text(version="x.y", extra='colour = "red"\nkind2 = 1')
    write_recipe("foo.toml", text=text)
    assert len(problems(index_dir)) == 3


def test_missing_index_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert problems(missing) == [f"{missing}: index directory does not exist"]


def test_files_must_exist(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("foo.toml", extra='files = ["harness"]')
    assert one_problem(index_dir) == f"{path}: files: 'harness' does not exist beside the recipe"


def test_download_needs_a_hash(write_recipe: WriteRecipe, index_dir: Path) -> None:
    text = """\
name = "data"
version = "1"
kind = "dataset"
summary = "s"
license = "MIT"
homepage = "https://example.org"
[provide]
method = "download"
[[sources]]
url = "https://example.org/data.bin"
verified = "unverified: test"
"""
    path = write_recipe("data.toml", text=text)
    line = one_problem(index_dir)
    assert line.startswith(f"{path}: sources[0].sha256: missing")


def test_detect_by_version_file_needs_no_executable(
    write_recipe: WriteRecipe, index_dir: Path
) -> None:
    text = """\
name = "lib"
kind = "tool"
summary = "s"
license = "MIT"
homepage = "https://example.org"
[provide]
method = "detect"
version-files = ["/usr/include/lib_version.h"]
version-regex = 'LIB_MAJOR\\s+(\\d+)'
range = ">=1"
"""
    write_recipe("lib.toml", text=text)
    (recipe,) = load_index([index_dir]).get("lib")
    assert recipe.provide is not None
    assert recipe.provide.version_files == ("/usr/include/lib_version.h",)


def test_detect_needs_executables_or_version_files(
    write_recipe: WriteRecipe, index_dir: Path
) -> None:
    text = 'name = "t"\nkind = "tool"\nsummary = "s"\nlicense = "MIT"\nhomepage = "h"\n'
    path = write_recipe("t.toml", text=text + '[provide]\nmethod = "detect"\n')
    assert one_problem(index_dir) == f"{path}: provide.executables: required by method 'detect'"


def _generate_recipe(script: str) -> str:
    return (
        'name = "gen"\nversion = "1"\nkind = "model"\nsummary = "s"\nlicense = "MIT"\n'
        f'homepage = "h"\n[provide]\nmethod = "generate"\nscript = "{script}"\n'
    )


@pytest.mark.parametrize("script", ["../generate.py", "/etc/hostname"])
def test_generate_script_must_stay_inside(
    write_recipe: WriteRecipe, index_dir: Path, script: str
) -> None:
    path = write_recipe("m/gen.toml", text=_generate_recipe(script))
    line = one_problem(index_dir)
    assert line == (
        f"{path}: provide.script: {script!r} must be a relative path inside the entry "
        "(no '..', not absolute)"
    )


def test_generate_script_must_exist(write_recipe: WriteRecipe, index_dir: Path) -> None:
    path = write_recipe("m/gen.toml", text=_generate_recipe("generate.py"))
    line = one_problem(index_dir)
    assert line == f"{path}: provide.script: 'generate.py' does not exist beside the recipe"


def test_generate_script_is_part_of_the_digest(write_recipe: WriteRecipe, index_dir: Path) -> None:
    write_recipe("m/gen.toml", text=_generate_recipe("generate.py"))
    script = index_dir / "m" / "generate.py"
    script.write_text("print(1)\n")
    before = load_index([index_dir]).get("gen")[0].digest
    script.write_text("print(2)\n")
    assert load_index([index_dir]).get("gen")[0].digest != before
