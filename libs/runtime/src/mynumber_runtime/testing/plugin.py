"""pytest plugin (loaded by the root config): real PostgreSQL and NATS servers for integration tests, and real
identities (mTLS certificates from a throwaway dev CA, NATS users): see `mynumber_runtime.testing.identities`.

Session fixtures start each server once, lazily (unit tests never pay for them); `new_database` gives every test
module that wants isolation its own empty database on the shared server.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from mynumber_runtime.devca import DevCA
from mynumber_runtime.testing.identities import session_ca
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


@pytest.fixture(scope="session")
def dev_ca() -> DevCA:
    """The session's throwaway dev CA: `dev_ca.issue("municipality:131016")` gives a client's files. The one-line
    helpers (`grpc_server_settings`, `grpc_channel`) in `mynumber_runtime.testing.identities` use the same CA."""
    return session_ca()
