"""Where the index that ships with cmpkg is: the repository's `index/` in a checkout (and
an editable install), or the `cmpkg_index` data package that a wheel installs."""

from __future__ import annotations

from pathlib import Path


def _shipped_index() -> Path:
    checkout = Path(__file__).resolve().parents[1] / "index"
    if checkout.is_dir():
        return checkout
    import importlib.util

    spec = importlib.util.find_spec("cmpkg_index")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else checkout


SHIPPED_INDEX = _shipped_index()
