"""Reusable pytest fixtures: `http_server` (a FaultServer) and `no_remote_sockets`."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.httpserver import FaultServer


@pytest.fixture
def http_server() -> Iterator[FaultServer]:
    """A loopback server: `serve(path, bytes)`, `fail(path, Fault(...))`, `hits(path)`."""
    server = FaultServer()
    try:
        yield server
    finally:
        server.close()


class SocketLog:
    """Every address a socket tried to connect to during the test."""

    def __init__(self) -> None:
        self.addresses: list[Any] = []

    def remote(self) -> list[Any]:
        return [a for a in self.addresses if not _is_loopback(a)]


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple):
        host = address[0]
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"
    return True  # AF_UNIX


@pytest.fixture
def socket_log(monkeypatch: pytest.MonkeyPatch) -> SocketLog:
    """Record (and refuse) every non-loopback connect(); loopback ones go through."""
    log = SocketLog()
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        log.addresses.append(address)
        if not _is_loopback(address):
            raise OSError("test: non-loopback socket refused")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return log
