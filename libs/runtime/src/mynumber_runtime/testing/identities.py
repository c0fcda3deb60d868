"""Real identities in tests, as in production: mTLS certificates from a throwaway dev CA, and NATS users.

One of each per test session (a process): the CA in a scratch folder, the NATS passwords in another, both removed
when the session ends. Helpers are plain functions so that conftest helpers need no extra fixture argument:

    settings = grpc_server_settings("service:numbering")            # GrpcSettings on a free loopback port
    channel = grpc_channel("municipality:131016", settings.listen)   # a client channel as that identity
    nats = nats_settings("notice", nats_url)                         # NatsSettings as the notice user
    nc = await nats_connect("operator", nats_url)                    # a NATS connection as the operator
"""

from __future__ import annotations

import atexit
import shutil
from pathlib import Path
from typing import Any

import grpc
from nats.aio.client import Client as Nats

from mynumber_runtime.devca import Credentials, DevCA
from mynumber_runtime.embedded import free_port
from mynumber_runtime.grpc_server import client_channel
from mynumber_runtime.nats_identity import NatsSecrets, Permissions, connect_nats, inbox_prefix, platform_users
from mynumber_runtime.settings import GrpcSettings, NatsSettings, read_secret
from mynumber_runtime.testing.servers import scratch_dir

# The runtime's own mechanism tests (outbox, consumer, dead letters) use streams of no platform service.
RUNTIME_TEST_USER = "runtime-test"
_RUNTIME_TEST_SUBJECTS = ("runtimetest.>", "duptest.>", "retry.>", "outage.>", "mynumber.runtimetest.>",
                          "mynumber.deadletter.runtimetest.>",
                          # The dead-letter tests give each test a service name of its own.
                          "mynumber.deadletter.*.>")

_state: dict[str, Any] = {}


def _scratch(key: str, prefix: str) -> Path:
    if key not in _state:
        path = scratch_dir(prefix)
        path.chmod(0o700)
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _state[key] = path
    found: Path = _state[key]
    return found


def session_ca() -> DevCA:
    """The session's dev CA (made on first use in a throwaway folder)."""
    if "ca" not in _state:
        _state["ca"] = DevCA(_scratch("ca_dir", "mynumber-devca-"))
    ca: DevCA = _state["ca"]
    return ca


def session_nats_secrets() -> NatsSecrets:
    """The NATS users' password files shared by every NATS server the session starts."""
    if "nats" not in _state:
        _state["nats"] = NatsSecrets(_scratch("nats_dir", "mynumber-nats-secrets-"))
    secrets: NatsSecrets = _state["nats"]
    return secrets


def session_nats_users() -> dict[str, Permissions]:
    """The platform's users, plus the runtime mechanism tests' own user (no platform service's subjects)."""
    users = platform_users()
    users[RUNTIME_TEST_USER] = Permissions(
        (*_RUNTIME_TEST_SUBJECTS, "$JS.API.>", "$JS.ACK.>"), (f"{inbox_prefix(RUNTIME_TEST_USER)}.>",))
    return users


def credentials(identity: str, *, server: bool = False) -> Credentials:
    return session_ca().issue(identity, server=server)


def grpc_server_settings(identity: str, *, listen: str | None = None, **fields: Any) -> GrpcSettings:
    """Server settings for a service identity (e.g. `service:numbering`) on a free loopback port."""
    c = credentials(identity, server=True)
    return GrpcSettings(listen=listen or f"127.0.0.1:{free_port()}", tls_cert_file=c.cert_file,
                        tls_key_file=c.key_file, tls_client_ca_file=c.ca_file, **fields)


def grpc_channel(identity: str | None, target: str, *, options: list[tuple[str, Any]] | None = None
                 ) -> grpc.aio.Channel:
    """A client channel to `target` as `identity`; `None`: TLS that trusts the CA but presents no certificate (the
    server refuses the handshake)."""
    if identity is None:
        return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(read_secret(session_ca().ca_file)),
                                       options=options)
    c = credentials(identity)
    return client_channel(target, ca_file=c.ca_file, cert_file=c.cert_file, key_file=c.key_file, options=options)


def nats_settings(user: str, url: str, **fields: Any) -> NatsSettings:
    """How `user` (a service name, `operator`, or RUNTIME_TEST_USER) connects to a test NATS server at `url`."""
    return session_nats_secrets().settings(user, url, **fields)


async def nats_connect(user: str, url: str, **options: Any) -> Nats:
    """A NATS connection to a test server as `user`."""
    return await connect_nats(nats_settings(user, url), name=f"test-{user}", **options)
