"""A lazily loaded problem builds only the packages its requests reach, and answers exactly as
the eagerly loaded one does. (The CLI loads lazily, so every conformance case also runs
through this path in test_conformance.py's test_cli_default_backend.)"""

from __future__ import annotations

import pytest

from solvers import ProblemError, Requirement, load_problem, solve, verify
from solvers.catalog import Catalog
from solvers.model import LazyPackages

from .conftest import SCENARIOS, read
from .test_pool_reuse import REQUESTS, index


@pytest.mark.parametrize("requests", REQUESTS, ids=str)
def test_only_reached_packages_are_built(requests: list[Requirement]) -> None:
    raw = index()
    lazy = load_problem(raw, lazy=True).with_requests(requests)
    packages = lazy.packages
    assert isinstance(packages, LazyPackages) and not packages.built()
    catalog = Catalog(lazy)
    result = solve(lazy, "auto", catalog=catalog)
    reached = set(catalog.names_of(catalog.reachable(lazy.requests)))
    assert result == solve(load_problem(raw).with_requests(requests), "auto")
    # What was built: the reached names, plus the owners of any provided name they ask for.
    assert reached <= packages.built() and len(packages.built()) < len(packages)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_lazy_and_eager_loading_agree_on_the_scenarios(path: object) -> None:
    raw = read(path)  # type: ignore[arg-type]
    for backend in ("auto", "libsolv"):
        eager = solve(load_problem(raw), backend)
        assert solve(load_problem(raw, lazy=True), backend) == eager


def test_a_reached_invalid_package_is_reported_with_its_path() -> None:
    raw = {
        "format": "solvers-problem/1",
        "packages": {
            "a": [{"version": "1", "depends": [["b", ""]]}],
            "b": [{"version": "1"}, {"version": "2", "depends": [["c", ">>1"]]}],
            "unreached": [{"version": "x.y"}],
        },
        "requests": [["a", ""]],
    }
    problem = load_problem(raw, lazy=True)  # the shape is fine: nothing is built yet
    with pytest.raises(ProblemError) as exc:
        solve(problem, "auto")
    assert exc.value.errors == ("packages.b[1].depends[0]: invalid specifier '>>1'",)


def test_the_shape_is_still_checked_when_loading() -> None:
    raw = {"format": "solvers-problem/1", "packages": {"a": {"version": "1"}}}
    with pytest.raises(ProblemError) as exc:
        load_problem(raw, lazy=True)
    assert exc.value.errors == ("packages.a: expected an array, got dict",)


def test_a_provider_is_found_without_building_the_index() -> None:
    raw = {
        "format": "solvers-problem/1",
        "packages": {
            "app": [{"version": "1", "depends": [["blas", ""]]}],
            "openblas": [{"version": "0.3", "provides": [["blas", "3"]]}],
            "other": [{"version": "1"}],
        },
        "requests": [["app", ""]],
    }
    problem = load_problem(raw, lazy=True)
    result = solve(problem, "auto")
    assert {n: c.version for n, c in result.pins.items()} == {"app": "1", "openblas": "0.3"}
    assert isinstance(problem.packages, LazyPackages)
    assert "other" not in problem.packages.built()


def test_every_id_of_an_eager_catalog_is_built() -> None:
    """Code that walks ids directly (a whole-index libsolv pool) sees real candidates."""
    from solvers.backends.libsolv_backend import Encoding

    problem = load_problem(index())
    catalog = Catalog(problem)
    enc = Encoding(catalog, range(len(catalog.candidates)))
    for requests in REQUESTS:
        chosen = enc.run(enc.request_jobs(requests))
        assert chosen is not None
        pins = {catalog.candidates[c].name: catalog.candidates[c] for c in chosen}
        assert verify(problem.with_requests(requests), pins) == []
