"""The lockfile round-trips: `parse(render(x)) == x` for any lock, and rendering is
byte-stable (equal locks render to equal bytes, however their tables were built)."""

from __future__ import annotations

from pathlib import Path

import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmpkg.index.fields import Problems
from cmpkg.lock import (
    Lock,
    LockedPackage,
    LockedSource,
    LockedTarget,
    LockedWheel,
    parse,
    render,
)

# Cheap strategies (sampled, not regex-generated): the suite runs on a loaded machine, and
# what matters is every field and every character class, not long values.
NAMES = st.sampled_from(["a", "rt", "numpy", "python", "x-y", "__cuda", "__arch=x86_64"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=6)
HEX = st.sampled_from([c * 64 for c in "0123456789abcdef"])
VERSIONS = st.sampled_from(["1", "1.0", "2.4.6", "3.11.7", "13.0"])
PAIRS = st.dictionaries(NAMES, NAMES, max_size=2).map(lambda d: tuple(sorted(d.items())))
NAME_TUPLES = st.lists(NAMES, max_size=3, unique=True).map(tuple)

SOURCES = st.builds(
    LockedSource, NAMES, st.lists(TEXT, max_size=2).map(tuple), HEX, st.integers(0, 2**40)
)
PACKAGES = st.builds(
    LockedPackage,
    NAMES,
    VERSIONS,
    PAIRS,
    NAMES,
    st.sampled_from(["detect", "python", "download", "generate", "meta"]),
    HEX,
    HEX,
    NAME_TUPLES,
    NAME_TUPLES,
    st.lists(SOURCES, max_size=2).map(tuple),
)
WHEELS = st.lists(
    st.builds(LockedWheel, NAMES, VERSIONS, TEXT, HEX), max_size=3, unique_by=lambda w: w.name
).map(lambda ws: tuple(sorted(ws, key=lambda w: w.name.lower())))


@st.composite
def targets(draw: st.DrawFn, name: str) -> LockedTarget:
    packages = draw(st.lists(PACKAGES, max_size=3, unique_by=lambda p: p.name))
    return LockedTarget(
        name=name,
        python=draw(VERSIONS),
        platform=draw(NAME_TUPLES),
        facts=draw(st.dictionaries(NAMES, st.tuples(VERSIONS, TEXT), max_size=2)),
        roots=draw(NAME_TUPLES),
        packages={p.name: p for p in sorted(packages, key=lambda p: p.name)},
        wheels=draw(WHEELS),
        environment_key=draw(st.one_of(st.none(), HEX)),
        tool_wheels=draw(st.dictionaries(NAMES, WHEELS.filter(bool), max_size=2)),
    )


@st.composite
def locks(draw: st.DrawFn) -> Lock:
    names = draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
    return Lock(
        manifest_hash=draw(HEX),
        index_revision=draw(HEX),
        index_sources=draw(NAME_TUPLES),
        recipes=draw(st.dictionaries(NAMES, HEX, max_size=3)),
        targets={n: draw(targets(n)) for n in sorted(names)},
        cmpkg_version=draw(VERSIONS),
    )


def _parse(text: str) -> Lock | None:
    return parse(tomllib.loads(text), Problems(Path("cmpkg.lock")))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(locks())
def test_parse_inverts_render(lock: Lock) -> None:
    assert _parse(render(lock)) == lock


@SETTINGS
@given(locks())
def test_rendering_is_byte_stable(lock: Lock) -> None:
    """The same lock built with its tables in another order renders to the same bytes."""
    shuffled = Lock(
        lock.manifest_hash,
        lock.index_revision,
        lock.index_sources,
        dict(reversed(lock.recipes.items())),
        {
            n: LockedTarget(
                t.name,
                t.python,
                t.platform,
                dict(reversed(t.facts.items())),
                t.roots,
                dict(reversed(t.packages.items())),
                tuple(reversed(t.wheels)),
                t.environment_key,
                dict(reversed(t.tool_wheels.items())),
            )
            for n, t in reversed(lock.targets.items())
        },
        lock.cmpkg_version,
    )
    assert render(shuffled) == render(lock)
    assert render(_parse(render(lock)) or lock) == render(lock)
