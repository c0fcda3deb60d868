"""A numbering service on a fresh database, real NATS, in this process; clients call it over loopback gRPC."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_runtime.db import create_async_engine, migrate
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, nats_connect, nats_settings
from numbering.__main__ import MIGRATIONS
from numbering.app import App, build
from numbering.settings import NumberingSettings

MUNICIPALITY = "131016"  # 千代田区
OTHER_MUNICIPALITY = "271004"  # 大阪市


@dataclass
class Running:
    target: str
    settings: NumberingSettings
    database_url: str
    nats_url: str
    events_key: bytes
    app: App
    channels: dict[str | None, grpc.aio.Channel] = field(default_factory=dict)

    def channel(self, caller: str | None = f"municipality:{MUNICIPALITY}") -> grpc.aio.Channel:
        # Kept: a grpc.aio channel closes itself when garbage-collected, under a stub still in use.
        if caller not in self.channels:
            self.channels[caller] = grpc_channel(caller, self.target)
        return self.channels[caller]

    def stub(self, caller: str | None = f"municipality:{MUNICIPALITY}") -> pb_grpc.NumberingServiceStub:
        return pb_grpc.NumberingServiceStub(self.channel(caller))


def make_settings(tmp: Path, database_url: str, nats_url: str, region: int = 1) -> NumberingSettings:
    keys, events_key = tmp / "numbering.key", tmp / "events.key"
    if not keys.exists():
        keys.write_text(os.urandom(32).hex())
        events_key.write_text(os.urandom(32).hex())
    return NumberingSettings(
        database=DatabaseSettings(url=database_url), nats=nats_settings("numbering", nats_url),
        grpc=grpc_server_settings("service:numbering"),
        region_digit=region, keys_file=keys, events_key_file=events_key)


@pytest.fixture(scope="module")
def database_url(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, MIGRATIONS)
    return url


@pytest.fixture(scope="module")
async def numbering(tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str
                    ) -> AsyncIterator[Running]:
    tmp = tmp_path_factory.mktemp("numbering")
    settings = make_settings(tmp, database_url, nats_url)
    app = await build(settings)  # the production composition
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(app.run(ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 30)
    running = Running(settings.grpc.listen, settings, database_url, nats_url,
                      bytes.fromhex(settings.events_key_file.read_text()), app)
    yield running
    for ch in running.channels.values():
        await ch.close()
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[object]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[object]:
    nc = await nats_connect("operator", nats_url)
    yield nc.jetstream()
    await nc.close()
