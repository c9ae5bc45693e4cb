"""What an installer's failure means when a distribution is simply not in cmpkg's sources.

pip says "No matching distribution found for X (from versions: none)" and uv "Because X was
not found in the provided package locations": both read like a resolution conflict, but the
cause is a wheel that no source cmpkg may use has. `missing_wheel` turns such a failure into
`wheel-not-found`, naming the wheel and every place that was looked in. An index that
cannot be reached at all (DNS, connection refused: "Failed to fetch: URL") is said as
`index-unreachable`, naming the index, and, when a recipe variant asked for it, that the
default index may serve another build. Pure: text in, error out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from cmpkg.errors import CmpkgError

# The installers' ways of saying "no source has it", with the requirement in the first group.
_MISSING = (
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Because (\S+) was not found in (?:the provided package locations|the cache)"),
)


_UNREACHABLE = re.compile(r"Failed to fetch: [`']?(\S+?)[`']?$")


class Sources(Protocol):
    """Where the installer was allowed to look (`WheelSource`)."""

    @property
    def find_links(self) -> tuple[str, ...]: ...
    @property
    def index_urls(self) -> tuple[str, ...]: ...
    @property
    def no_index(self) -> bool: ...


def missing_wheel(error: CmpkgError, sources: Sources, python: str) -> CmpkgError:
    """`error` said as a missing wheel when the installer's output shows one; else `error`."""
    match = next((m for line in error.details for rx in _MISSING if (m := rx.search(line))), None)
    if match is None:
        return error
    wanted = match.group(1).rstrip(",.")
    places = [f"find-links {link}" for link in sources.find_links]
    places += [f"index {url}" for url in sources.index_urls]
    places += [] if sources.no_index else ["the default Python index"]
    looked = ", ".join(places) or "nowhere: no index (offline or --no-index) and no find-links"
    if sources.no_index:
        hint = (
            "without an index, wheels come only from a mirror (`cmpkg mirror create` on a "
            "connected machine, then `--mirror DIR`) or `--find-links DIR`"
        )
    else:
        hint = "check the version: none of these sources has a wheel of it for this Python"
    return CmpkgError(
        "wheel-not-found",
        f"no wheel for {wanted} (Python {python}) in the sources cmpkg may use",
        details=[f"looked in: {looked}"],
        hint=hint,
    )


def unreachable_index(error: CmpkgError, variant_indexes: Sequence[str]) -> CmpkgError:
    """`error` said as an index this machine cannot reach, when the installer's output shows
    one; else `error`. `variant_indexes` are the extra indexes (a variant's `index-url`)."""
    match = next((m for line in error.details if (m := _UNREACHABLE.search(line.strip()))), None)
    if match is None:
        return error
    url = match.group(1)
    index = next((i for i in variant_indexes if url.startswith(i.rstrip("/") + "/")), None)
    causes = [line.strip() for line in error.details if line.strip().startswith("cause:")]
    if index is None:
        return CmpkgError(
            "index-unreachable",
            f"the package index cannot be reached from here ({url})",
            details=causes,
            hint="check the network or proxy settings, or install from a mirror (`--mirror DIR`)",
        )
    return CmpkgError(
        "index-unreachable",
        f"the wheel index {index} cannot be reached from here",
        details=causes,
        hint="choose a variant whose wheels come from the default package index (the MLPerf "
        "apps' `framework=registry`, `torch[compute=registry]`), or bring the wheels with "
        "`--find-links DIR` or `--mirror DIR`",
    )
