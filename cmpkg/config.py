"""The user config file: defaults that would otherwise be repeated on every command.

    # $CMPKG_CONFIG, else <user config dir>/cmpkg/config.toml
    index = ["~/my-recipes"]        # stacked after the shipped index and CMPKG_INDEX
    mirror = "/srv/cmpkg-mirror"    # like --mirror (the command line and CMPKG_MIRROR win)
    offline = false                 # like --offline
    [[cache]]                       # binary caches tried before building (docs/cache.md)
    url = "oci://registry.lab:5000/cmpkg"
    [trust]
    keys = ["lab:BASE64..."]        # public keys whose signed entries and mirrors are accepted

Read once per command, only by the commands that need it; a bad file is reported as
`file: key: message` with exit 2, never ignored.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg import envvars
from cmpkg.errors import InputError

_HINT = "fix the config file (or point CMPKG_CONFIG elsewhere); its keys are in docs/cli.md"


class Config(NamedTuple):
    """Not a dataclass: the no-op install imports this module, and `dataclasses` costs it
    `inspect` and `ast`. The field `index` shadows `tuple.index` (never called on it)."""

    index: tuple[Path, ...] = ()  # type: ignore[assignment]
    mirror: str | None = None
    offline: bool = False
    caches: tuple[str, ...] = ()  # [[cache]] url, in order
    trusted_keys: tuple[str, ...] = ()  # [trust] keys


def home() -> Path:
    """cmpkg's home (store, caches, environments): `$CMPKG_HOME`, else the per-user cache dir
    (e.g. ~/.cache/cmpkg). The one definition: every module asks here."""
    explicit = envvars.get("CMPKG_HOME")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("cmpkg", appauthor=False))


def config_path() -> Path:
    explicit = envvars.get("CMPKG_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("cmpkg", appauthor=False)) / "config.toml"


@functools.lru_cache(maxsize=1)
def load() -> Config:
    from cmpkg.index.fields import Fields, Problems
    from cmpkg.index.load import read_toml

    path = config_path()
    if not path.is_file():
        return Config()
    problems = Problems(path)
    raw = read_toml(path, problems)
    if raw is None:
        raise InputError(problems.lines, hint=_HINT)
    fields = Fields(raw, "", problems)
    caches, keys = cache_tables(fields)
    config = Config(
        index=tuple(path.parent / Path(p).expanduser() for p in fields.str_list("index")),
        mirror=fields.optional_str("mirror"),
        offline=fields.bool("offline"),
        caches=tuple(caches),
        trusted_keys=tuple(keys),
    )
    fields.finish()
    if problems.lines:
        raise InputError(problems.lines, hint=_HINT)
    return config


def cache_tables(fields: Any) -> tuple[list[str], list[str]]:
    """`[[cache]] url` and `[trust] keys` of a file's top-level `Fields` (the config file's
    and cmpkg.toml's, read alike); problems go to the fields' report."""
    from cmpkg.index.fields import Fields

    urls: list[str] = []
    for i, item in enumerate(fields.list("cache")):
        if not isinstance(item, dict):
            fields.error(f"cache[{i}]", "expected a table with `url`")
            continue
        table = Fields(item, fields.key(f"cache[{i}]"), fields.problems)
        urls.append(table.str("url", required=True))
        table.finish()
    trust = fields.sub("trust")
    keys = list(trust.str_list("keys")) if trust is not None else []
    if trust is not None:
        trust.finish()
    return urls, keys
