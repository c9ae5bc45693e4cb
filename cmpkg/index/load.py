"""Reading one recipe file into a `Recipe`, collecting every problem in the file.

Owns the mapping from TOML keys to the model (docs/recipes.md is its specification). It
checks what one file can check alone; checks across recipes live in `cmpkg.index.checks`.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
from pathlib import Path
from typing import Any

from cmpkg.index.fields import Fields, Problems
from cmpkg.index.hub import hub_sources
from cmpkg.index.model import (
    DEFAULT_VERSION_REGEX,
    KINDS,
    METHODS,
    Dependency,
    Kind,
    Method,
    Pairs,
    Provide,
    Recipe,
    Source,
    VariantGroup,
    VariantValue,
)
from cmpkg.index.requirement import check_name, parse_dependency
from cmpkg.paths import path_problem


def _toml() -> Any:
    """tomllib, imported on first use: a recipe read from its memoised document needs none."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    # Imported by name so that type checking for 3.10 needs no tomli stubs.
    return importlib.import_module("tomli")  # pragma: no cover


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_GROUP_KEYS = {"default", "description"}


def read_toml(path: Path, problems: Problems) -> dict[str, Any] | None:
    """Parse a TOML file; a syntax error becomes one problem with its line and column."""
    tomllib = _toml()
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except tomllib.TOMLDecodeError as error:
        problems.add("", f"invalid TOML: {error}")
    except UnicodeDecodeError as error:
        problems.add("", f"invalid TOML: not UTF-8 text (byte {error.start})")
    except OSError as error:
        problems.add("", f"cannot read: {error.strerror}")
    return None


def load_recipe(path: Path, problems: Problems) -> Recipe | None:
    """The recipe in `path`, or None after recording its problems."""
    found = load_recipe_document(path, problems)
    return found[0] if found is not None else None


def load_recipe_document(path: Path, problems: Problems) -> tuple[Recipe, dict[str, Any]] | None:
    """The recipe in `path` and the TOML document it was read from, or None after recording
    its problems. The digest hashes the very bytes that were parsed (one read), so the
    document can be memoised under it (`cmpkg.index.documents`)."""
    try:
        content = path.read_bytes()
    except OSError as error:
        problems.add("", f"cannot read: {error.strerror}")
        return None
    raw = _parse_toml(content, problems)
    if raw is None:
        return None
    recipe = recipe_from_document(raw, path, problems, content=content)
    return (recipe, raw) if recipe is not None else None


def recipe_from_document(
    raw: dict[str, Any],
    path: Path,
    problems: Problems,
    *,
    content: bytes | None = None,
    digest: str | None = None,
) -> Recipe | None:
    """Check a recipe's TOML document (every problem recorded) and build its `Recipe`.

    `digest` is the known digest of the file and what it ships (a memoised document's);
    otherwise it is computed from `content`, the file's bytes."""
    before = len(problems.lines)
    recipe = _recipe(Fields(raw, "", problems), path, content, digest)
    return recipe if len(problems.lines) == before else None


def _parse_toml(content: bytes, problems: Problems) -> dict[str, Any] | None:
    tomllib = _toml()
    try:
        data: dict[str, Any] = tomllib.loads(content.decode("utf-8"))
        return data
    except tomllib.TOMLDecodeError as error:
        problems.add("", f"invalid TOML: {error}")
    except UnicodeDecodeError as error:
        problems.add("", f"invalid TOML: not UTF-8 text (byte {error.start})")
    return None


def _recipe(f: Fields, path: Path, content: bytes | None, digest: str | None) -> Recipe:
    name = _name(f)
    kind = f.str("kind", required=True)
    if kind and kind not in KINDS:
        f.error("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    provide = _provide(f.sub("provide"), path)
    version = f.version("version", required=provide is None or provide.method != "detect")
    if version is not None and provide is not None and provide.method == "detect":
        f.error("version", "a detected tool has no fixed version; use provide.range")
    variants = _variants(f)
    files = _files(f, path)
    recipe = Recipe(
        name=name,
        version=version,
        kind=_kind(kind),
        tags=f.str_list("tags"),
        summary=f.str("summary", required=True),
        license=f.str("license", required=True),
        homepage=f.str("homepage", required=True),
        depends=_dependencies(f, "depends", variants),
        variants=variants,
        invalid=_invalid(f, variants),
        sources=_sources(f, variants),
        provide=provide,
        env=f.string_table("env"),
        paths=_paths(f),
        files=files,
        run=f.str_list("run"),
        path=path,
        digest=digest or _digest(path, content, (*files, *_shipped_script(provide))),
    )
    f.finish()
    _check_method_fields(f, recipe)
    return recipe


def _shipped_script(provide: Provide | None) -> tuple[str, ...]:
    return (provide.script,) if provide and provide.script else ()


def _name(f: Fields) -> str:
    text = f.str("name", required=True)
    try:
        name = check_name(text) if text else ""
    except ValueError as error:
        f.error("name", str(error))
        return text
    if name != text:
        # One spelling per package: names that normalise alike cannot both exist.
        f.error("name", f"{text!r} is not in normal form; write {name!r}")
    return name


def _kind(text: str) -> Kind:
    return text if text in KINDS else "tool"


def _dependencies(
    f: Fields, key: str, variants: tuple[VariantGroup, ...]
) -> tuple[Dependency, ...]:
    result = []
    for i, item in enumerate(f.list(key)):
        dep = _dependency(f, f"{key}[{i}]", item, variants)
        if dep is not None:
            result.append(dep)
    return tuple(result)


def _dependency(
    f: Fields, key: str, item: Any, groups: tuple[VariantGroup, ...]
) -> Dependency | None:
    """A dependency from its string form, or a table {name|tags, version, variants, when}."""
    if isinstance(item, str):
        return _parsed(f, key, item)
    if not isinstance(item, dict):
        f.error(key, "expected a requirement string or a table")
        return None
    sub = Fields(item, f.key(key), f.problems)
    name, tags = sub.optional_str("name"), sub.str_list("tags")
    if (name is None) == (not tags):
        sub.error("name", "give exactly one of `name` or `tags`")
        return None
    base = _parsed(sub, "name", name) if name is not None else Dependency(None, tags)
    when = _when(sub, groups)
    dep = Dependency(
        base.name if base else None,
        tags,
        sub.specifier("version"),
        sub.string_table("variants"),
        when,
    )
    sub.finish()
    return dep


def _parsed(f: Fields, key: str, text: str) -> Dependency | None:
    try:
        return parse_dependency(text)
    except ValueError as error:
        f.error(key, str(error))
        return None


def _when(f: Fields, groups: tuple[VariantGroup, ...]) -> Pairs:
    when = f.string_table("when")
    _check_pairs(f, "when", when, groups)
    return when


def _check_pairs(f: Fields, key: str, pairs: Pairs, groups: tuple[VariantGroup, ...]) -> None:
    """Every pair must name one of this recipe's variant groups and one of its values."""
    by_name = {g.name: g for g in groups}
    for group, value in pairs:
        if group not in by_name:
            f.error(f"{key}.{group}", "no such variant group in this recipe")
        elif value not in by_name[group].names:
            allowed = ", ".join(by_name[group].names)
            f.error(f"{key}.{group}", f"{value!r} is not one of {allowed}")


def _variants(f: Fields) -> tuple[VariantGroup, ...]:
    table = f.sub("variants")
    if table is None:
        return ()
    groups = [_group(table, name) for name in table.table]
    return tuple(g for g in groups if g is not None)


def _group(parent: Fields, name: str) -> VariantGroup | None:
    g = parent.sub(name)
    if g is None:
        return None
    values = [k for k, v in g.table.items() if isinstance(v, dict)]
    for value in values:
        if not _VALUE.match(value) or value in _GROUP_KEYS:
            g.error(value, f"invalid variant value name {value!r}")
    default = g.str("default", required=True)
    if default and default not in values:
        g.error("default", f"{default!r} is not one of the values ({', '.join(values) or 'none'})")
    group = VariantGroup(name, (), default, g.str("description"))
    parsed = tuple(_value(g, v, group) for v in values)
    g.finish(allowed_extra=lambda key: key in values)
    return VariantGroup(name, parsed, default, group.description)


def _value(g: Fields, value: str, group: VariantGroup) -> VariantValue:
    v = g.sub(value)
    assert v is not None  # only dict-valued keys are values
    result = VariantValue(
        value=value,
        depends=_dependencies(v, "depends", ()),
        python=v.str_list("python"),
        env=v.string_table("env"),
        index_url=v.optional_str("index-url"),
    )
    v.finish()
    return result


def _invalid(f: Fields, groups: tuple[VariantGroup, ...]) -> tuple[Pairs, ...]:
    result = []
    for i, item in enumerate(f.list("invalid")):
        key = f"invalid[{i}]"
        if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
            f.error(key, "expected a table of GROUP = VALUE")
            continue
        pairs = tuple(sorted(item.items()))
        _check_pairs(f, key, pairs, groups)
        result.append(pairs)
    return tuple(result)


def _sources(f: Fields, groups: tuple[VariantGroup, ...]) -> tuple[Source, ...]:
    result = []
    for i, item in enumerate(f.list("sources")):
        if not isinstance(item, dict):
            f.error(f"sources[{i}]", "expected a table")
            continue
        fields = Fields(item, f.key(f"sources[{i}]"), f.problems)
        if "huggingface" in item:  # one repository at a revision: a source per file
            result += hub_sources(fields, _when(fields, groups), _relative)
            continue
        result.append(_source(fields, groups))
    return tuple(result)


def _source(s: Fields, groups: tuple[VariantGroup, ...]) -> Source:
    urls = s.str_list("url", required=True)
    for j, url in enumerate(urls):
        if not url.startswith(("https://", "http://", "file://")):
            s.error(f"url[{j}]", f"expected an http(s) or file URL, got {url!r}")
    sha256, md5 = s.optional_str("sha256"), s.optional_str("md5")
    if sha256 is not None and not _SHA256.match(sha256):
        s.error("sha256", "expected 64 lowercase hex digits")
    if md5 is not None and not _MD5.match(md5):
        s.error("md5", "expected 32 lowercase hex digits")
    if sha256 is None and md5 is None:
        s.error("sha256", "missing: give sha256 (or md5 where the publisher gives only md5)")
    size = s.int("size", required=sha256 is not None)
    filename = s.str("filename") or (urls[0].rstrip("/").rsplit("/", 1)[-1] if urls else "")
    source = Source(
        urls=urls,
        filename=_file_name(s, "filename", filename),
        sha256=sha256,
        size=size,
        md5=md5,
        verified=s.str("verified", required=True),
        extract=s.bool("extract"),
        when=_when(s, groups),
    )
    s.finish()
    return source


def _provide(p: Fields | None, path: Path) -> Provide | None:
    if p is None:
        return None
    method = p.str("method", required=True)
    if method not in METHODS:
        p.error("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
        method = "python"
    provide = Provide(
        method=_method(method),
        executables=p.str_list("executables"),
        locations=p.str_list("locations"),
        version_args=p.str_list("version-args") or ("--version",),
        version_regex=p.str("version-regex") or DEFAULT_VERSION_REGEX,
        version_range=p.specifier("range"),
        system_site_packages=p.bool("system-site-packages"),
        version_files=p.str_list("version-files"),
        requirements=p.str_list("requirements"),
        index_url=p.optional_str("index-url"),
        script=_script(p, path),
        args=p.str_list("args"),
        must_contain=p.str_list("must-contain"),
    )
    _check_regex(p, provide.version_regex)
    p.finish()
    return provide


def _method(text: str) -> Method:
    return text  # type: ignore[return-value]


def _check_regex(p: Fields, pattern: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        p.error("version-regex", f"invalid regular expression: {error}")
        return
    if compiled.groups < 1:
        p.error("version-regex", "needs one capturing group for the version")


def _paths(f: Fields) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`[paths] PATH = ["bin"]`: entry-relative directories prepended to search paths."""
    table = f.sub("paths")
    if table is None:
        return ()
    result = []
    for var in sorted(table.table):
        dirs = table.str_list(var)
        result.append((var, tuple(_relative(table, var, d) for d in dirs)))
    return tuple(result)


def _script(p: Fields, path: Path) -> str | None:
    """A generate step's script: beside the recipe, and part of its content (and store key)."""
    script = p.optional_str("script")
    if script is not None:
        _beside(p, "script", script, path)
    return script


def _files(f: Fields, path: Path) -> tuple[str, ...]:
    """Files shipped beside the recipe and copied into its entry (e.g. an app's harness)."""
    files = f.str_list("files")
    for rel in files:
        _beside(f, "files", rel, path)
    return files


def _beside(f: Fields, key: str, rel: str, path: Path) -> bool:
    """Whether `rel` is a safe relative path that exists beside the recipe (else a problem).

    Unsafe paths are never looked at on disk: `../x` or `/etc` must not be read into the
    recipe's digest, let alone copied into an entry.
    """
    if _unsafe(rel) is not None:
        _relative(f, key, rel)
        return False
    if not (path.parent / rel).exists():
        f.error(key, f"{rel!r} does not exist beside the recipe")
        return False
    return True


def _relative(f: Fields, key: str, path: str) -> str:
    """Paths inside an entry: relative, without `..` (RELIABILITY.md B.13)."""
    problem = _unsafe(path)
    if problem is not None:
        f.error(key, f"{path!r} {problem}")
    return path


def _unsafe(path: str) -> str | None:
    """Why `path` cannot name a file inside an entry, or None: the rules of `cmpkg.paths`, the
    one checked join (RELIABILITY 37); `.` names the entry itself, `dir/` the directory."""
    if path == ".":
        return None
    problem = path_problem(path.removesuffix("/"))
    if problem is None:
        return None
    if "device name" in problem:
        # `nul.txt` opens the NUL device on Windows: such an entry could not be stored there.
        return "contains a reserved device name on Windows"
    if any(word in problem for word in ("'..'", "absolute", "backslash", "':'", "NUL")):
        return "must be a relative path inside the entry (no '..', not absolute)"
    return f"is not a portable relative path ({problem})"


def _file_name(f: Fields, key: str, name: str) -> str:
    """A downloaded file's name: one plain name (it lands in a download bucket as is)."""
    if _unsafe(name) is None and "/" in name:
        f.error(key, f"{name!r} must be a plain file name, without '/'")
        return name
    return _relative(f, key, name)


def _check_method_fields(f: Fields, r: Recipe) -> None:
    """Fields that only make sense together, checked once the whole recipe is read."""
    method = r.provide.method if r.provide else None
    needs = {
        "detect": (
            "executables",
            bool(r.provide and (r.provide.executables or r.provide.version_files)),
        ),
        "download": ("sources", bool(r.sources)),
        "python": ("requirements", bool(r.provide and r.provide.requirements) or _value_python(r)),
        "generate": ("script", bool(r.provide and r.provide.script)),
        "user-path": ("must-contain", bool(r.provide and r.provide.must_contain)),
    }
    if method in needs and not needs[method][1]:
        key = needs[method][0]
        f.error(key if key == "sources" else f"provide.{key}", f"required by method {method!r}")
    if r.run and r.kind != "app":
        f.error("run", "only apps have a run command")
    if r.kind == "app" and not r.run:
        f.error("run", "an app needs a run command")
    if method == "detect" and r.variants:
        f.error("variants", "a detected tool cannot have variants")


def _value_python(r: Recipe) -> bool:
    """Python requirements may come from variant values alone (e.g. onnxruntime vs -gpu)."""
    return any(v.python for g in r.variants for v in g.values)


def _digest(path: Path, content: bytes | None, files: tuple[str, ...]) -> str:
    """sha256 over the recipe file (`content`, its bytes) and every file it ships, so any edit
    changes store keys.

    Unsafe paths (already reported) are skipped: nothing outside the recipe's folder is read.
    """
    h = hashlib.sha256(path.read_bytes() if content is None else content)
    for rel in files:
        if _unsafe(rel) is not None:
            continue
        for file in _walk(path.parent / rel):
            h.update(file.relative_to(path.parent).as_posix().encode() + b"\0")
            h.update(file.read_bytes())
    return h.hexdigest()


def _walk(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    skip = {"__pycache__"}
    return sorted(p for p in path.rglob("*") if p.is_file() and not skip & set(p.parts))
