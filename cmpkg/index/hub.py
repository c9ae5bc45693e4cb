"""Reading a `huggingface` source: one repository at a pinned revision, expanded into one
`Source` per file (docs/recipes.md, "Hugging Face sources").

Owns the recipe keys of such a source, the canonical URL of a hub file and the plain file
name it has in the download cache and in mirrors. The endpoint a download really goes to
(`HF_ENDPOINT`) and the user's token are the fetcher's business (`cmpkg.fetch.huggingface`):
neither is ever part of a recipe, a URL that is recorded, or a lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cmpkg.index.fields import Fields
from cmpkg.index.model import HubFile, Pairs, Source

#: The hub's public endpoint: the URLs recipes, locks and mirrors record. `HF_ENDPOINT`
#: redirects the requests at fetch time without changing any recorded URL.
HUB = "https://huggingface.co"

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Characters a file path may have to stand in a URL as it is (the middle of the pipeline
#: stays free of URL libraries; hub file names are this plain in practice).
_URL_SAFE = re.compile(r"^[A-Za-z0-9._\-+=,@/]+$")
_KINDS = ("model", "dataset")


def hub_url(repo: str, revision: str, path: str, kind: str = "model") -> str:
    """`https://huggingface.co/<repo>/resolve/<revision>/<path>` (datasets under
    `/datasets/`), the hub's resolve URL shape."""
    prefix = f"{HUB}/datasets" if kind == "dataset" else HUB
    return f"{prefix}/{repo}/resolve/{revision}/{path}"


def cache_name(repo: str, revision: str, path: str) -> str:
    """A plain name that is unique per repository, revision and path (`config.json` is in
    every repository), for the download cache and a mirror's `artifacts/`."""
    flat = path.replace("/", "--")
    return f"{repo.replace('/', '--')}--{revision[:12]}--{flat}"


def is_unverified(text: str) -> bool:
    return "unverified" in text.lower()


def hub_sources(
    s: Fields, when: Pairs, relative: Callable[[Fields, str, str], str]
) -> list[Source]:
    """The files of one `[[sources]]` table that has `huggingface = "owner/name"`."""
    repo = s.str("huggingface", required=True)
    if repo and not _REPO.match(repo):
        s.error("huggingface", f"expected a repository id 'owner/name', got {repo!r}")
    kind = s.str("repo-type") or "model"
    if kind not in _KINDS:
        s.error("repo-type", f"must be one of {', '.join(_KINDS)}, got {kind!r}")
    revision = s.str("revision", required=True)
    if revision and (not _URL_SAFE.match(revision) or "/" in revision):
        s.error("revision", f"{revision!r}: only letters, digits and ._-+=,@ are supported")
    verified = s.str("verified", required=True)
    if revision and not _COMMIT.match(revision) and not is_unverified(verified):
        s.error("revision", "expected a commit hash (40 hex digits); a branch or tag is "
                "not a pin: mark the source `verified = \"unverified: ...\"` if no commit "
                "could be obtained")  # fmt: skip
    gated = s.bool("gated")
    files = [_file(s, i, item, relative) for i, item in enumerate(s.list("files"))]
    if not files:
        s.error("files", "list every file of the repository to fetch")
    if any(f and f[1] is None for f in files) and not is_unverified(verified):
        s.error("verified", "a file without sha256 is unchecked: say `unverified: why`")
    s.finish()
    return [
        Source(
            urls=(hub_url(repo, revision, path, kind),),
            filename=cache_name(repo, revision, path),
            sha256=sha256,
            size=size,
            md5=None,
            verified=verified,
            extract=False,
            when=when,
            hub=HubFile(repo, revision, path, gated),
        )
        for path, sha256, size in (f for f in files if f is not None)
    ]


def _file(
    s: Fields, i: int, item: object, relative: Callable[[Fields, str, str], str]
) -> tuple[str, str | None, int | None] | None:
    key = f"files[{i}]"
    if not isinstance(item, dict):
        s.error(key, "expected a table { path = ..., sha256 = ..., size = ... }")
        return None
    f = Fields(item, s.key(key), s.problems)
    path = relative(f, "path", f.str("path", required=True))
    if path and not _URL_SAFE.match(path):
        f.error("path", f"{path!r}: only letters, digits and ._-+=,@/ are supported")
    sha256 = f.optional_str("sha256")
    if sha256 is not None and not _SHA256.match(sha256):
        f.error("sha256", "expected 64 lowercase hex digits")
    size = f.int("size")
    f.finish()
    return path, sha256, size
