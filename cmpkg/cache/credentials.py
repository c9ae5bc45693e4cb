"""Registry credentials, from where every OCI tool keeps them: `CMPKG_CACHE_TOKEN` (a bearer
token), else the Docker config file's `auths` (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`, as `docker login` and `oras login` write it).

They live in memory only: never written to a lock, a log, an entry or a message (a
`Credentials` prints as its kind alone).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cmpkg import envvars


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str = field(default="", repr=False)  # bearer token
    basic: str = field(default="", repr=False)  # base64 of "user:password"

    @property
    def kind(self) -> str:
        return "token" if self.token else "basic" if self.basic else "none"

    def __str__(self) -> str:
        return f"<credentials: {self.kind}>"


def docker_config_path() -> Path:
    explicit = os.environ.get("DOCKER_CONFIG")
    return (Path(explicit) if explicit else Path.home() / ".docker") / "config.json"


def for_host(host: str) -> Credentials:
    """The credentials for registry `host` (HOST[:PORT]), or none."""
    token = envvars.get("CMPKG_CACHE_TOKEN")
    if token:
        return Credentials(token=token)
    return Credentials(basic=_docker_auth(docker_config_path(), host))


def _docker_auth(path: Path, host: str) -> str:
    """`auths[host].auth` (or `username`/`password`) of a Docker config file; "" if none.
    A missing or unreadable file is no credentials, not an error: anonymous pulls work."""
    try:
        auths = json.loads(path.read_text("utf-8")).get("auths", {})
    except (OSError, ValueError, AttributeError):
        return ""
    entry = next(
        (auths[k] for k in (host, f"https://{host}", f"http://{host}") if k in auths), None
    )
    if not isinstance(entry, dict):
        return ""
    if isinstance(entry.get("auth"), str) and _is_basic(entry["auth"]):
        return str(entry["auth"])
    user, password = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(password, str):
        return base64.b64encode(f"{user}:{password}".encode()).decode()
    return ""


def _is_basic(value: str) -> bool:
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
