"""What an installer's failure means when a distribution is simply not in cmpkg's sources.

pip says "No matching distribution found for X (from versions: none)" and uv "Because X was
not found in the provided package locations": both read like a resolution conflict, but the
cause is a wheel that no source cmpkg may use has. `missing_wheel` turns such a failure into
`wheel-not-found`, naming the wheel and every place that was looked in. Pure: text in,
error out.
"""

from __future__ import annotations

import re
from typing import Protocol

from cmpkg.errors import CmpkgError

# The installers' ways of saying "no source has it", with the requirement in the first group.
_MISSING = (
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Because (\S+) was not found in (?:the provided package locations|the cache)"),
)


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
