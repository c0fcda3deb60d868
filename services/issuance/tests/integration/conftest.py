"""An issuance service on a fresh database and real NATS, wired by issuance.app.build as production wires it, on a
fixed clock; clients call it over loopback gRPC with mTLS identities. notice's form.issued events are published to
the real notice stream as the notice user, sealed exactly as notice seals them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from issuance.__main__ import MIGRATIONS
from issuance.app import App, build
from issuance.settings import IssuanceSettings
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber.issuance.v1 import issuance_pb2_grpc as pb_grpc
from mynumber.notice.v1 import events_pb2 as notice_ev
from mynumber_codes import individual_number_check_digit
from mynumber_events.notice import FORM_ISSUED, form_issued
from mynumber_runtime.clock import JST, FixedClock
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.streams import ensure_stream
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, nats_connect, nats_settings
from PIL import Image

MUNICIPALITY = "131016"  # 千代田区
OTHER_MUNICIPALITY = "271004"  # 大阪市
START = dt.datetime(2016, 2, 1, 10, 0, tzinfo=JST)
NAME, ADDRESS, BIRTH = "山田　太郎", "東京都千代田区千代田1-1", "1980-06-15"


def new_form_id() -> str:
    return f"{secrets.randbelow(10**23):023d}"


def new_number() -> str:
    base = f"{secrets.randbelow(10**11):011d}"
    return base + individual_number_check_digit(base)


def jpeg(width: int = 600, height: int = 800) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, format="JPEG", quality=85)
    return out.getvalue()


PHOTO = jpeg()


def applicant(**change: object) -> pb.Applicant:
    return pb.Applicant(**{"name": NAME, "address": ADDRESS, "birth_date": BIRTH, "sex": pb.SEX_MALE,
                           **change})  # type: ignore[arg-type]


def request(form_id: str, municipality: str = MUNICIPALITY, **change: object) -> pb.SubmitApplicationRequest:
    fields = {"municipality_code": municipality, "application_id": form_id, "channel": pb.CHANNEL_COUNTER,
              "handover_method": pb.HANDOVER_METHOD_AT_APPLICATION, "applicant": applicant(), "photo": PHOTO,
              **change}
    return pb.SubmitApplicationRequest(**fields)  # type: ignore[arg-type]


@dataclass
class Running:
    target: str
    settings: IssuanceSettings
    nats_url: str
    clock: FixedClock
    app: App
    sealer: SubjectSealer
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    def stub(self, caller: str = f"municipality:{MUNICIPALITY}") -> pb_grpc.IssuanceServiceStub:
        if caller not in self.channels:
            self.channels[caller] = grpc_channel(caller, self.target)
        return pb_grpc.IssuanceServiceStub(self.channels[caller])

    async def issue_form(self, form_id: str, number: str, *, municipality: str = MUNICIPALITY, name: str = NAME,
                         address: str = ADDRESS, at: dt.datetime | None = None) -> None:
        """What notice publishes when it makes a 交付申請書: one sealed form.issued event."""
        form = notice_ev.IssuedForm(application_id=form_id, individual_number=number, name=name, address=address,
                                    birth_date=BIRTH, sex=1)
        event = form_issued(self.sealer, at or self.clock.now(), municipality, form)
        nc = await nats_connect("notice", self.nats_url)  # as the notice service: only it may publish this
        try:
            await nc.jetstream().publish(FORM_ISSUED, event.SerializeToString())
        finally:
            await nc.close()

    async def form_known(self, form_id: str) -> None:
        """Until the consumer has stored the form (bounded)."""
        from issuance.forms import form_key
        key = form_key(self.app.service.applications.lookup, form_id)
        for _ in range(200):
            async with self.app.units() as store:
                if await store.form(key) is not None:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the form.issued event was not handled")

    async def known_form(self, *, municipality: str = MUNICIPALITY, number: str | None = None, **kw: object
                         ) -> tuple[str, str]:
        form_id, number = new_form_id(), number or new_number()
        await self.issue_form(form_id, number, municipality=municipality, **kw)  # type: ignore[arg-type]
        await self.form_known(form_id)
        return form_id, number


def make_settings(tmp: Path, database_url: str, nats_url: str) -> IssuanceSettings:
    for name in ("issuance.key", "events.key"):
        if not (tmp / name).exists():
            (tmp / name).write_text(os.urandom(32).hex())
    return IssuanceSettings(
        database=DatabaseSettings(url=database_url), nats=nats_settings("issuance", nats_url),
        grpc=grpc_server_settings("service:issuance"), keys_file=tmp / "issuance.key",
        events_key_file=tmp / "events.key", consumer_name="issuance-test-" + secrets.token_hex(4))


@pytest.fixture(scope="module")
def database_url(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, MIGRATIONS)
    return url


@contextlib.asynccontextmanager
async def running_issuance(settings: IssuanceSettings, nats_url: str) -> AsyncIterator[Running]:
    nc = await nats_connect("notice", nats_url)
    await ensure_stream(nc.jetstream(), "notice")  # notice's stream, as notice would create it
    await nc.close()
    clock = FixedClock(START)
    app = await build(settings, clock=clock)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(app.run(ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 30)
    running = Running(settings.grpc.listen, settings, nats_url, clock, app,
                      SubjectSealer(bytes.fromhex(settings.events_key_file.read_text())))
    try:
        yield running
    finally:
        for ch in running.channels.values():
            await ch.close()
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
async def issuance(tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str
                   ) -> AsyncIterator[Running]:
    async with running_issuance(make_settings(tmp_path_factory.mktemp("issuance"), database_url, nats_url),
                                nats_url) as running:
        yield running
