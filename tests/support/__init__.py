"""Shared test helpers: a fault-injecting loopback HTTP server, archive builders, fixtures.

Import from another test directory's conftest.py:

    from tests.support.fixtures import http_server  # noqa: F401  (re-exported fixture)
"""
