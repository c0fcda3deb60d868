"""numbering and issuance services and a gateway in front of them, each on a fresh database, with real NATS, in this
process, wired by their production `build`; clients call the gateway over HTTPS with dev CA client certificates.
The 交付申請書 issuance learns are published as notice publishes them (form.issued, sealed, as the notice user)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from gateway.__main__ import MIGRATIONS as GATEWAY_MIGRATIONS
from gateway.app import App, build
from gateway.settings import GatewaySettings, HttpsSettings, Limit, RateLimitSettings, UpstreamSettings
from issuance.__main__ import MIGRATIONS as ISSUANCE_MIGRATIONS
from issuance.app import build as build_issuance
from issuance.settings import IssuanceSettings
from mynumber.notice.v1 import events_pb2 as notice_ev
from mynumber_codes import individual_number_check_digit
from mynumber_events.notice import FORM_ISSUED, form_issued
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.db import migrate
from mynumber_runtime.embedded import free_port
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.streams import ensure_stream
from mynumber_runtime.testing.identities import (
    credentials,
    grpc_server_settings,
    nats_connect,
    nats_settings,
    session_ca,
)
from notice.__main__ import MIGRATIONS as NOTICE_MIGRATIONS
from notice.app import build as build_notice
from notice.settings import NoticeSettings
from numbering.__main__ import MIGRATIONS as NUMBERING_MIGRATIONS
from numbering.app import build as build_numbering
from numbering.settings import NumberingSettings

MUNICIPALITY = "131016"  # 千代田区
OTHER_MUNICIPALITY = "271004"  # 大阪市
UNION = "138001"  # a 広域連合 of which 千代田区 is a member (the ordinance file below)
ORDINANCES = f"""
[[jorei]]
code = "j{MUNICIPALITY}-kosodate"
name = "子育て支援手当の支給"
ordinance = "千代田区子育て支援手当条例"
category = "social_security"
municipality = "{MUNICIPALITY}"
effective_from = 2016-01-01

[[union]]
code = "{UNION}"
name = "東京都後期高齢者医療広域連合"
members = ["{MUNICIPALITY}"]
purposes = ["b1-kouki"]
"""


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
def events_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform event key, one for the services of a module: notice opens numbering's number.assigned with it,
    issuance notice's form.issued."""
    path = tmp_path_factory.mktemp("events") / "events.key"
    path.write_text(os.urandom(32).hex())
    return path


@pytest.fixture(scope="module")
def numbering_database(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, NUMBERING_MIGRATIONS)
    return url


@pytest.fixture(scope="module")
async def numbering_target(tmp_path_factory: pytest.TempPathFactory, numbering_database: str,
                           nats_url: str, events_key: Path) -> AsyncIterator[str]:
    tmp = tmp_path_factory.mktemp("numbering")
    url = numbering_database
    (tmp / "numbering.key").write_text(os.urandom(32).hex())
    settings = NumberingSettings(database=DatabaseSettings(url=url), nats=nats_settings("numbering", nats_url),
                                 grpc=grpc_server_settings("service:numbering"),
                                 keys_file=tmp / "numbering.key", events_key_file=events_key)
    stop, task = await serve_app(await build_numbering(settings))
    yield settings.grpc.listen
    stop.set()
    await asyncio.wait_for(task, 30)


@dataclass
class Forms:
    """What notice publishes when it makes a 交付申請書, and a wait until issuance has stored it."""

    nats_url: str
    sealer: SubjectSealer
    issuance: object

    async def issue(self, *, municipality: str = MUNICIPALITY, name: str, address: str, birth_date: str,
                    sex: int = 1) -> str:
        form_id = f"{secrets.randbelow(10**23):023d}"
        base = f"{secrets.randbelow(10**11):011d}"
        form = notice_ev.IssuedForm(application_id=form_id, individual_number=base + individual_number_check_digit(
            base), name=name, address=address, birth_date=birth_date, sex=sex)
        nc = await nats_connect("notice", self.nats_url)  # only notice may publish it
        try:
            await nc.jetstream().publish(FORM_ISSUED, form_issued(
                self.sealer, dt.datetime.now(dt.UTC), municipality, form).SerializeToString())
        finally:
            await nc.close()
        from issuance.forms import form_key
        app = self.issuance
        key = form_key(app.service.applications.lookup, form_id)  # type: ignore[attr-defined]
        for _ in range(400):
            async with app.units() as store:  # type: ignore[attr-defined]
                if await store.form(key) is not None:
                    return form_id
            await asyncio.sleep(0.05)
        raise AssertionError("issuance did not store the form.issued event")


@pytest.fixture(scope="module")
async def issuance_service(tmp_path_factory: pytest.TempPathFactory, new_database: Callable[[], str],
                           nats_url: str, events_key: Path) -> AsyncIterator[tuple[str, Forms]]:
    tmp = tmp_path_factory.mktemp("issuance")
    url = new_database()
    migrate(url, ISSUANCE_MIGRATIONS)
    (tmp / "issuance.key").write_text(os.urandom(32).hex())
    nc = await nats_connect("notice", nats_url)
    await ensure_stream(nc.jetstream(), "notice")  # notice's stream, as notice would create it
    await nc.close()
    settings = IssuanceSettings(database=DatabaseSettings(url=url), nats=nats_settings("issuance", nats_url),
                                grpc=grpc_server_settings("service:issuance"), keys_file=tmp / "issuance.key",
                                events_key_file=events_key,
                                consumer_name="issuance-gw-" + secrets.token_hex(4))
    app = await build_issuance(settings)
    stop, task = await serve_app(app)
    yield settings.grpc.listen, Forms(nats_url, SubjectSealer(bytes.fromhex(events_key.read_text())), app)
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
async def notice_target(tmp_path_factory: pytest.TempPathFactory, new_database: Callable[[], str], nats_url: str,
                        events_key: Path, numbering_target: str) -> AsyncIterator[str]:
    """notice, consuming the numbering service's number.assigned as in production (numbering runs first)."""
    tmp = tmp_path_factory.mktemp("notice")
    url = new_database()
    migrate(url, NOTICE_MIGRATIONS)
    for name in ("notice.key", "print.key"):
        (tmp / name).write_text(os.urandom(32).hex())
    settings = NoticeSettings(database=DatabaseSettings(url=url), nats=nats_settings("notice", nats_url),
                              grpc=grpc_server_settings("service:notice"), keys_file=tmp / "notice.key",
                              events_key_file=events_key, print_key_file=tmp / "print.key",
                              export_dir=tmp / "export", consumer_name="notice-gw-" + secrets.token_hex(4))
    stop, task = await serve_app(await build_notice(settings))
    yield settings.grpc.listen
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
def forms(issuance_service: tuple[str, Forms]) -> Forms:
    return issuance_service[1]


def gateway_settings(tmp: Path, database_url: str, numbering_target: str, issuance_target: str,
                     notice_target: str,
                     **https: object) -> GatewaySettings:
    keys = tmp / "gateway.key"
    if not keys.exists():
        keys.write_text(os.urandom(32).hex())
    (tmp / "ordinances.toml").write_text(ORDINANCES, encoding="utf-8")
    return GatewaySettings(
        database=DatabaseSettings(url=database_url), keys_file=keys, grpc=grpc_server_settings("service:gateway"),
        purposes_file=tmp / "ordinances.toml",
        https=HttpsSettings(listen_port=free_port(), **https),  # type: ignore[arg-type]
        numbering=UpstreamSettings(target=numbering_target), issuance=UpstreamSettings(target=issuance_target),
        notice=UpstreamSettings(target=notice_target))


@pytest.fixture(scope="module")
def gateway_database(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, GATEWAY_MIGRATIONS)
    return url


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory, gateway_database: str, numbering_target: str,
                  issuance_service: tuple[str, Forms], notice_target: str) -> AsyncIterator[Gateway]:
    settings = gateway_settings(tmp_path_factory.mktemp("gateway"), gateway_database, numbering_target,
                                issuance_service[0], notice_target, max_body_bytes=4096)
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
