"""Which caches to try and which keys to trust: the command line, then the project's
`cmpkg.toml`, then the user config file (`cmpkg.config`), each adding to the list in order.

    [[cache]]
    url = "oci://registry.lab:5000/cmpkg"     # tried first
    [[cache]]
    url = "https://cache.lab/cmpkg"           # an OCI image layout served over HTTP (read-only)
    [trust]
    keys = ["lab:BASE64..."]                  # public keys whose signatures are accepted
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmpkg.cache import signing
from cmpkg.cache.url import CacheUrl, parse_url
from cmpkg.errors import InputError

_HINT = "fix the [[cache]] and [trust] tables; their keys are in docs/cache.md"


@dataclass(frozen=True)
class CacheSettings:
    urls: tuple[CacheUrl, ...]
    trusted: tuple[str, ...]  # public key lines (`NAME:BASE64`)


def load(given: tuple[str, ...], project: Path | None, home: Path) -> CacheSettings:
    from cmpkg import config

    urls, keys = list(given), []
    if project is not None:
        project_urls, project_keys = read_tables(project)
        urls += project_urls
        keys += project_keys
    settings = config.load()
    urls += settings.caches
    keys += settings.trusted_keys
    seen: dict[str, CacheUrl] = {}
    for text in urls:
        url = parse_url(text)
        seen.setdefault(url.text, url)
    trusted = [signing.check_public(k, "[trust] keys") for k in keys]
    return CacheSettings(
        tuple(seen.values()), tuple(dict.fromkeys(trusted + list(signing.own_public_keys(home))))
    )


def read_tables(path: Path) -> tuple[list[str], list[str]]:
    """The `[[cache]]` URLs and `[trust] keys` of a TOML file (cmpkg.toml)."""
    from cmpkg.index.fields import Fields, Problems
    from cmpkg.index.load import read_toml

    problems = Problems(path)
    raw = read_toml(path, problems)
    if raw is None:
        raise InputError(problems.lines, hint=_HINT)
    fields = Fields(raw, "", problems)
    from cmpkg.config import cache_tables

    urls, keys = cache_tables(fields)
    fields.finish(lambda _key: True)  # the rest of cmpkg.toml is cmpkg.project's
    if problems.lines:
        raise InputError(problems.lines, hint=_HINT)
    return urls, keys
