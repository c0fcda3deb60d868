"""The one composition of the gateway: `build(settings)` wires the database (idempotency keys), the channels to
the services (mTLS as `service:gateway`), the REST app and its HTTPS server; `__main__` and the tests both run
what it returns, so tests wire it as production does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import grpc
from fastapi import FastAPI
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.crypto import derive_key
from mynumber_runtime.db import Units, create_async_engine
from mynumber_runtime.grpc_server import PlatformServer, client_channel
from mynumber_runtime.host import host
from mynumber_runtime.settings import read_hex_secret

from gateway.api import create_app
from gateway.bulk import BulkJobs
from gateway.https import HttpsServer
from gateway.idempotency import Idempotency
from gateway.issuance_client import IssuanceClient
from gateway.notice_client import NoticeClient
from gateway.numbering_client import NumberingClient
from gateway.purposes import load as load_purposes
from gateway.ratelimit import RateLimiter
from gateway.repository import GatewayStore
from gateway.settings import GatewaySettings

log = logging.getLogger("gateway")


@dataclass
class App:
    settings: GatewaySettings
    units: Units[GatewayStore]
    numbering_channel: grpc.aio.Channel
    issuance_channel: grpc.aio.Channel
    notice_channel: grpc.aio.Channel
    api: FastAPI
    https: HttpsServer
    # grpc.health.v1 only (no service binding): probes and readiness, fed by the real checks.
    health: PlatformServer
    bulk: BulkJobs
    idempotency: Idempotency

    async def run(self, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
        port = await self.https.start()  # bound before anyone is told the gateway is ready
        try:
            # Running bulk jobs are stopped (marked INTERRUPTED) before the channel and the pool close.
            await host("gateway", self.health, loops=[self.idempotency.purge_forever],
                       cleanup=[self.bulk.stop, self.numbering_channel.close, self.issuance_channel.close,
                                self.notice_channel.close, self.units.engine.dispose],
                       ready=ready, stop=stop, log=log, metrics=self.settings.metrics, https_port=port)
        finally:
            await self.https.stop()


async def build(settings: GatewaySettings, *, clock: Clock | None = None) -> App:
    master = read_hex_secret(settings.keys_file)
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    units = Units(engine, GatewayStore)
    ca, cert, key = settings.client_files()
    channel = client_channel(settings.numbering.target, ca_file=ca, cert_file=cert, key_file=key)
    issuance_channel = client_channel(settings.issuance.target, ca_file=ca, cert_file=cert, key_file=key)
    notice_channel = client_channel(settings.notice.target, ca_file=ca, cert_file=cert, key_file=key)
    clock = clock or SystemClock()
    numbering = NumberingClient(channel, settings.numbering.deadline_s)
    bulk = BulkJobs(units=units, numbering=numbering, master=master, clock=clock,
                    deadline_s=settings.numbering.bulk_deadline_s)
    idempotency = Idempotency(units=units, master=master, clock=clock, ttl_s=settings.idempotency_ttl_s)
    api = create_app(numbering=numbering, issuance=IssuanceClient(issuance_channel, settings.issuance.deadline_s),
                     notice=NoticeClient(notice_channel, settings.notice.deadline_s),
                     bulk=bulk, idempotency=idempotency, purposes=load_purposes(settings.purposes_file),
                     person_key=derive_key(master, "gateway/audit-person"),
                     max_body_bytes=settings.https.max_body_bytes,
                     max_bulk_body_bytes=settings.https.max_bulk_body_bytes,
                     rate_limiter=RateLimiter(settings.rate_limit))
    health = PlatformServer(settings.grpc, [], checks={"database": units.ping})
    return App(settings, units, channel, issuance_channel, notice_channel, api, HttpsServer(api, settings.https),
               health, bulk, idempotency)
