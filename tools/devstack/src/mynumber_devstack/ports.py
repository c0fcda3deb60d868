"""Every port `make run` listens on, from one offset, and the check that each is free before anything starts.

`MYNUMBER_PORT_OFFSET` moves all of them (PostgreSQL, NATS, every gRPC and metrics port; the HTTP ports follow
`MYNUMBER_HTTP_PORT_OFFSET`, which defaults to the same offset): a second platform with its own offset shares
nothing with the first. Without that, a second platform attached to the first one's PostgreSQL and died decrypting
rows written under the other platform's keys (`InvalidUnwrap`).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable
from dataclasses import dataclass

# Where PostgreSQL and NATS listen with no offset (away from the system servers' 5432 and 4222).
PG_BASE_PORT = 55432
NATS_BASE_PORT = 54222


@dataclass(frozen=True)
class Port:
    number: int
    purpose: str  # what listens there, for the message that says it is taken ("PostgreSQL", "numbering gRPC")


class PortInUse(Exception):
    """A port the platform needs is taken by another process. Said in one line; the launcher exits 2."""

    def __init__(self, port: Port) -> None:
        self.port = port
        super().__init__(f"port {port.number} ({port.purpose}) is already in use by another process: stop it, or "
                         f"run with another MYNUMBER_PORT_OFFSET")


class PortInvalid(Exception):
    def __init__(self, port: Port) -> None:
        self.port = port
        super().__init__(f"port {port.number} ({port.purpose}) is outside 1-65535: choose a smaller "
                         f"MYNUMBER_PORT_OFFSET")


def in_use(port: int) -> bool:
    """Whether something listens on (or holds) 127.0.0.1:port.

    SO_REUSEADDR as every server here sets it, and no SO_REUSEPORT: connections of a stopped server that linger in
    TIME_WAIT do not count (its successor binds fine), but any live listener does, even one that set SO_REUSEPORT
    itself or listens on all addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def ensure_free(ports: Iterable[Port]) -> None:
    for port in ports:
        if not 0 < port.number < 65536:
            raise PortInvalid(port)
        if in_use(port.number):
            raise PortInUse(port)
