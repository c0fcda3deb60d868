"""pytest plugin (loaded by the root config): real PostgreSQL and NATS servers for integration tests.

Session fixtures start each server once, lazily (unit tests never pay for them); `new_database` gives every test
module that wants isolation its own empty database on the shared server.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from mynumber_runtime.testing.servers import create_database, nats_server, postgres_server

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
def new_database(postgres_url: str) -> Callable[[], str]:
    """Factory: the URL of a fresh, empty database on the session's server."""

    def make() -> str:
        return create_database(postgres_url, f"t{os.getpid()}_{next(_counter)}")

    return make
