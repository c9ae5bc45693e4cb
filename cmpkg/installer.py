"""The installer programs cmpkg drives, run isolated from the user's own configuration.

uv does every Python-environment job (venv creation, per-target wheel resolution,
hash-checked installation); pip is used only where uv has no command (`pip download`, for
`cmpkg mirror create`). Both are given only cmpkg's declared sources (RELIABILITY G.35):

- uv runs with `--no-config` (no `uv.toml`, no `pyproject.toml` `[tool.uv]`), pip with
  `--isolated` and `PIP_CONFIG_FILE=/dev/null` (no `pip.conf`);
- the child environment is an allow-list (`PASSED`): every `UV_*` and `PIP_*` variable, a
  `VIRTUAL_ENV` or `CONDA_PREFIX` that would change interpreter discovery, and `PYTHONPATH`
  are dropped; what reaches the network stack (proxies, CA bundles) and `HOME` are kept,
  because they decide whether a connection can be made, never which files are chosen.
  uv reads `SSL_CERT_FILE`; pip under `--isolated` reads no variable at all, so it is
  handed the same CA bundle as `--cert` (`pip_trust_args`).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from cmpkg.errors import CmpkgError

#: Variables a child installer may see: connection settings, locale and the basics of a
#: process. Everything else, in particular `UV_*` and `PIP_*`, is withheld.
PASSED = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "SYSTEMROOT",  # Windows cannot start a process without it
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    }
)


def isolated_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment an installer child gets: only the `PASSED` variables of `environ`."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k in PASSED}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip's only switch that also skips /etc/pip.conf
    env["NO_COLOR"] = "1"  # captured output is shown in error details: no escape codes
    return env


#: Where a user names the CA bundle that lets them through their TLS proxy, in the order
#: pip itself would honour them (its own setting, requests', then OpenSSL's, which uv reads).
CA_BUNDLE_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def pip_trust_args(environ: Mapping[str, str] | None = None) -> list[str]:
    """`--cert FILE` (and `--client-cert`) for a pip run with `--isolated`, which ignores
    `PIP_CERT` and pip.conf's `cert`: without it pip trusts only its own certifi bundle and
    fails behind a TLS-intercepting proxy where uv, given `SSL_CERT_FILE`, succeeds. Trust
    settings decide whether a connection can be made, never which files are chosen."""
    source = os.environ if environ is None else environ
    args: list[str] = []
    bundle = next((source[v] for v in CA_BUNDLE_VARIABLES if source.get(v)), None)
    if bundle:
        args += ["--cert", bundle]
    if source.get("PIP_CLIENT_CERT"):
        args += ["--client-cert", source["PIP_CLIENT_CERT"]]
    return args


@functools.lru_cache(maxsize=1)
def uv_binary() -> str:
    """The uv executable shipped by the `uv` package cmpkg depends on.

    `uv.find_uv_bin()` fails on interpreters whose sysconfig has no `EXE` (some pyenv
    builds); the scripts directory of this interpreter is then where pip put it.
    """
    from uv import find_uv_bin

    try:
        return str(find_uv_bin())
    except (TypeError, FileNotFoundError):
        name = "uv.exe" if sys.platform == "win32" else "uv"
        beside = Path(sysconfig.get_path("scripts")) / name
        found = str(beside) if beside.is_file() else shutil.which(name)
        if found is None:
            raise CmpkgError(
                "no-uv",
                "the uv binary of the `uv` package was not found",
                hint="reinstall cmpkg (`pip install --force-reinstall cmpkg`)",
            ) from None
        return found


def uv_command(*args: str) -> list[str]:
    """`uv ARGS` with the isolation flags every cmpkg call needs."""
    command, *rest = args
    if command == "pip":
        sub, *rest = rest
        return [uv_binary(), "pip", sub, *_UV_FLAGS, *rest]
    return [uv_binary(), command, *_UV_FLAGS, *rest]


# --no-config: no uv.toml / pyproject; --no-python-downloads: never fetch an interpreter;
# --no-progress and --color never: output is captured, not drawn.
_UV_FLAGS = ("--no-config", "--no-python-downloads", "--no-progress", "--color", "never")

#: uv's own cache under `$CMPKG_HOME` (never the user's): wheels are downloaded and unpacked
#: once, and every environment links its files from there.
UV_CACHE = "uv-v1"
