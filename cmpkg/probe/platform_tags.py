"""Wheel platform tags for a declared target (a profile has no interpreter to ask).

The host's tags come from `packaging.tags.platform_tags()`; a profile declares one manylinux
tag (`manylinux_2_35_x86_64`) and gets every tag a wheel installer on such a machine accepts,
in packaging's order: newer glibc first, with the legacy aliases (manylinux2014 = 2_17,
manylinux2010 = 2_12, manylinux1 = 2_5) after their PEP 600 names.
"""

from __future__ import annotations

import re

_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_OLDEST = {"x86_64": 5, "i686": 5}  # packaging: 2_5 on x86, 2_17 everywhere else
_TAG = re.compile(r"manylinux_2_([0-9]+)_([a-z0-9_]+)")


def parse_manylinux_tag(tag: str) -> tuple[str, str]:
    """`manylinux_2_35_x86_64` -> ("2.35", "x86_64"); ValueError for anything else."""
    match = _TAG.fullmatch(tag)
    if not match:
        raise ValueError(f"not a PEP 600 tag like manylinux_2_35_x86_64: {tag!r}")
    return f"2.{match.group(1)}", match.group(2)


def manylinux_tags(glibc: str, arch: str) -> tuple[str, ...]:
    """Every manylinux tag a glibc `glibc` machine of `arch` installs, most preferred first."""
    major, _, minor = glibc.partition(".")
    if major != "2" or not minor.isdigit():
        raise ValueError(f"not a glibc 2.x version: {glibc!r}")
    tags: list[str] = []
    for glibc_minor in range(int(minor), _OLDEST.get(arch, 17) - 1, -1):
        tags.append(f"manylinux_2_{glibc_minor}_{arch}")
        if glibc_minor in _LEGACY and (glibc_minor == 17 or arch in _OLDEST):
            tags.append(f"{_LEGACY[glibc_minor]}_{arch}")
    return tuple(tags)
