"""A locked target back into a `Resolution`, without solving (`install --locked/--frozen`).

Every recipe must still be the one that was locked (same digest): a changed recipe makes the
lock stale rather than silently installing something else.
"""

from __future__ import annotations

from cmpkg.errors import CmpkgError
from cmpkg.index import Index
from cmpkg.lock.model import LockedTarget
from cmpkg.resolve import FactValue, Pin, Resolution, find_recipe


def resolution_from_lock(index: Index, target: LockedTarget) -> Resolution:
    """The locked packages as a `Resolution`, with the recipes they were locked from."""
    pins = {}
    for name, locked in target.packages.items():
        recipe = find_recipe(index, name, locked.version)
        if recipe is None or recipe.digest != locked.recipe:
            what = "is missing from" if recipe is None else "differs in"
            raise CmpkgError(
                "stale-lock",
                f"the recipe of {name} {locked.version} {what} the index "
                "since the lock was written",
                hint="run `cmpkg lock` to re-lock",
            )
        needed = tuple(r.split(" ", 1)[0] for r in locked.requires)
        pins[name] = Pin(
            recipe, locked.version, locked.variant, locked.needs, needed, locked.requires
        )
    facts = {k: FactValue(v, s) for k, (v, s) in target.facts.items()}
    return Resolution(pins, (), target.roots, facts, {}, "lock")
