"""Requests to a Hugging Face hub: the endpoint, the user's token, and the up-front check of
gated repositories.

Owns the hub client's own variables, read here and nowhere else: `HF_ENDPOINT` (where
requests for `https://huggingface.co/...` URLs really go; tests point it at loopback),
`HF_TOKEN`, else the token file (`HF_TOKEN_PATH`, else `$HF_HOME/token`, `HF_HOME` defaulting
to `$XDG_CACHE_HOME/huggingface`, i.e. `~/.cache/huggingface`), as huggingface_hub reads them.

Must not: let the token out of the one request header it belongs in. It is never part of a
URL, an error, a warning, a returned value or anything recorded (locks, entries, mirrors,
results record the canonical URL only). A redirect to another host (the hub sends large LFS
files to a CDN) drops it: requests strips `Authorization` when the host or port changes, and
the probe follows no redirect at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from cmpkg.errors import CmpkgError
from cmpkg.index.hub import HUB, hub_url
from cmpkg.index.model import HubFile

_PROBE_TIMEOUT = 15.0
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def endpoint(environ: Mapping[str, str] | None = None) -> str:
    """The hub requests go to: `HF_ENDPOINT`, else the public hub."""
    env = os.environ if environ is None else environ
    return (env.get("HF_ENDPOINT") or HUB).rstrip("/")


def token_file(environ: Mapping[str, str] | None = None) -> Path:
    """Where the hub's client (`hf auth login`) keeps the token."""
    env = os.environ if environ is None else environ
    if env.get("HF_TOKEN_PATH"):
        return Path(env["HF_TOKEN_PATH"]).expanduser()
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = Path(env["HF_HOME"]).expanduser() if env.get("HF_HOME") else cache / "huggingface"
    return home / "token"


def token(environ: Mapping[str, str] | None = None) -> str | None:
    """The user's token from `HF_TOKEN`, else the token file; None when there is none."""
    env = os.environ if environ is None else environ
    given = env.get("HF_TOKEN", "").strip()
    if given:
        return _checked(given, "HF_TOKEN")
    path = token_file(env)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return _checked(text, str(path)) if text else None


def _checked(found: str, where: str) -> str:
    """A token that can travel in a header: one that could not would end up quoted in the
    HTTP library's error message, so it is refused here, unquoted."""
    if not _TOKEN.match(found):
        raise CmpkgError(
            "bad-hf-token",
            f"the Hugging Face token in {where} has spaces or control characters",
            hint="copy the token again from the hub's settings page (one line, no spaces)",
        )
    return found


def is_hub_url(url: str) -> bool:
    return url.startswith(HUB + "/")


def request_for(url: str, environ: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The URL to request and the headers to add for a recorded URL: a hub URL goes to
    `endpoint()` with the token as a bearer header; any other URL is left alone."""
    if not is_hub_url(url):
        return url, {}
    found = token(environ)
    headers = {"Authorization": f"Bearer {found}"} if found else {}
    return endpoint(environ) + url[len(HUB) :], headers


@dataclass(frozen=True)
class Needed:
    """A hub file an install is about to download (no verified copy, no other source)."""

    package: str
    hub: HubFile
    url: str


def preflight(needed: Sequence[Needed], *, offline: bool, session: requests.Session) -> None:
    """Fail before anything is built when a needed gated repository cannot be read.

    Per repository: a gated one without a token fails at once (no socket opened); then,
    unless offline, a HEAD of its first file (no redirect followed) must not answer 401 or
    403 (gated, token refused or licence not accepted) nor 404. Other answers, or no answer,
    are left to the download, which retries and reports them in full.
    """
    for first in _first_per_repo(needed):
        found = token()
        if first.hub.gated and found is None:
            raise _gated(first, refused=None)
        if not offline:
            _probe(first, found, session)


def _first_per_repo(needed: Sequence[Needed]) -> list[Needed]:
    firsts: dict[tuple[str, str], Needed] = {}
    for item in needed:
        firsts.setdefault((item.hub.repo, item.hub.revision), item)
    return list(firsts.values())


def _probe(item: Needed, found: str | None, session: requests.Session) -> None:
    url, headers = request_for(item.url)
    try:
        response = session.head(url, headers=headers, allow_redirects=False, timeout=_PROBE_TIMEOUT)
    except requests.RequestException:
        return  # the download reports the network in full, with its retries
    status = response.status_code
    response.close()
    if status in (401, 403):
        raise _gated(item, refused=status if found else None)
    if status == 404:
        raise CmpkgError(
            "hub-not-found",
            f"{item.package}: {item.hub.path} is not in the Hugging Face repository "
            f"{item.hub.repo} at revision {item.hub.revision} (HTTP 404)",
            hint="the recipe's repository, revision or file list is wrong; report it to the "
            "recipe's maintainer",
        )


def _gated(item: Needed, refused: int | None) -> CmpkgError:
    """The guidance for a gated repository; it names the token's source, never the token."""
    repo = item.hub.repo
    page = hub_url(repo, item.hub.revision, "").split("/resolve/", 1)[0]
    if refused is None:
        message = (
            f"{item.package}: the Hugging Face repository {repo} is gated and no token "
            "was found (HF_TOKEN is unset and there is no token file)"
        )
    else:
        message = (
            f"{item.package}: the Hugging Face repository {repo} is gated and refused "
            f"the token (HTTP {refused})"
        )
    return CmpkgError(
        "gated-repository",
        message,
        hint=f"log in at {page}, accept the licence on that page, create a read token "
        f"under {HUB}/settings/tokens and `export HF_TOKEN=...` (or save it in "
        f"{token_file()}), then rerun",
    )
