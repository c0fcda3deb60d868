"""A numbering service and a gateway in front of it, each on a fresh database, with real NATS, in this process,
wired by their production `build`; clients call the gateway over HTTPS with dev CA client certificates."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from gateway.__main__ import MIGRATIONS as GATEWAY_MIGRATIONS
from gateway.app import App, build
from gateway.settings import GatewaySettings, HttpsSettings, Limit, RateLimitSettings, UpstreamSettings
from mynumber_runtime.db import migrate
from mynumber_runtime.embedded import free_port
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.testing.identities import credentials, grpc_server_settings, nats_settings, session_ca
from numbering.__main__ import MIGRATIONS as NUMBERING_MIGRATIONS
from numbering.app import build as build_numbering
from numbering.settings import NumberingSettings

MUNICIPALITY = "131016"  # 千代田区
OTHER_MUNICIPALITY = "271004"  # 大阪市


def client_context(identity: str | None) -> ssl.SSLContext:
    """TLS that trusts the dev CA and presents `identity`'s certificate (None: no certificate)."""
    ctx = ssl.create_default_context(cafile=str(session_ca().ca_file))
    if identity is not None:
        c = credentials(identity)
        ctx.load_cert_chain(c.cert_file, c.key_file)
    return ctx


@dataclass
class Gateway:
    base_url: str
    app: App
    clients: dict[str | None, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, identity: str | None = f"municipality:{MUNICIPALITY}") -> httpx.AsyncClient:
        if identity not in self.clients:
            self.clients[identity] = httpx.AsyncClient(base_url=self.base_url, verify=client_context(identity),
                                                       timeout=30)
        return self.clients[identity]


async def serve_app(app: object) -> tuple[asyncio.Event, asyncio.Task[None]]:
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(app.run(ready=ready, stop=stop))  # type: ignore[attr-defined]
    done, _ = await asyncio.wait([task, asyncio.create_task(ready.wait())], timeout=30,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    return stop, task


@pytest.fixture(scope="module")
async def numbering_target(tmp_path_factory: pytest.TempPathFactory, new_database: Callable[[], str],
                           nats_url: str) -> AsyncIterator[str]:
    tmp = tmp_path_factory.mktemp("numbering")
    url = new_database()
    migrate(url, NUMBERING_MIGRATIONS)
    (tmp / "numbering.key").write_text(os.urandom(32).hex())
    (tmp / "events.key").write_text(os.urandom(32).hex())
    settings = NumberingSettings(database=DatabaseSettings(url=url), nats=nats_settings("numbering", nats_url),
                                 grpc=grpc_server_settings("service:numbering"),
                                 keys_file=tmp / "numbering.key", events_key_file=tmp / "events.key")
    stop, task = await serve_app(await build_numbering(settings))
    yield settings.grpc.listen
    stop.set()
    await asyncio.wait_for(task, 30)


def gateway_settings(tmp: Path, database_url: str, numbering_target: str, **https: object) -> GatewaySettings:
    keys = tmp / "gateway.key"
    if not keys.exists():
        keys.write_text(os.urandom(32).hex())
    return GatewaySettings(
        database=DatabaseSettings(url=database_url), keys_file=keys, grpc=grpc_server_settings("service:gateway"),
        https=HttpsSettings(listen_port=free_port(), **https),  # type: ignore[arg-type]
        numbering=UpstreamSettings(target=numbering_target))


@pytest.fixture(scope="module")
def gateway_database(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, GATEWAY_MIGRATIONS)
    return url


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory, gateway_database: str, numbering_target: str
                  ) -> AsyncIterator[Gateway]:
    settings = gateway_settings(tmp_path_factory.mktemp("gateway"), gateway_database, numbering_target,
                                max_body_bytes=4096)
    # The limit stays on (every call passes the middleware) but above what these tests and schemathesis send;
    # test_rate_limit.py runs a gateway of its own with a small one.
    settings.rate_limit = RateLimitSettings(kinds={"municipality": Limit(rate_per_s=100_000, burst=100_000)})
    app = await build(settings)
    stop, task = await serve_app(app)
    running = Gateway(f"https://127.0.0.1:{app.https.port}", app)
    yield running
    for client in running.clients.values():
        await client.aclose()
    stop.set()
    await asyncio.wait_for(task, 30)
