"""A notice service on a fresh database, real NATS, in this process, on an injected clock. number.assigned events
are published to the real numbering stream, sealed exactly as the numbering service seals them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import nats
import pytest
from mynumber.notice.v1 import events_pb2 as ev
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber.notice.v1 import notice_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule, individual_number_check_digit
from mynumber_events.numbering import NUMBER_ASSIGNED, EventSealer, number_assigned
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.streams import ensure_stream, stream_name
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, nats_connect, nats_settings
from notice.__main__ import MIGRATIONS
from notice.app import App, build
from notice.entities import Resident
from notice.repository import NoticeStore
from notice.service import NoticeService
from notice.settings import NoticeSettings
from stdnum.jp import in_

# A 個人番号 in any form a log line could carry it: 12 digits, grouped by spaces (notice's print form) or hyphens.
NUMBER_FORMS = re.compile(r"(?<!\d)(\d{4})[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

MUNICIPALITY = "131016"  # 千代田区
OTHER = "271004"  # 大阪市
OPERATOR = "operator:jlis-print"
START = dt.datetime(2015, 10, 20, 1, 0, tzinfo=dt.UTC)


def new_code() -> str:
    """A 住民票コード with a valid check digit (notice refuses what numbering refuses)."""
    return ResidentCodeRule().make(f"{secrets.randbelow(10**10):010d}")


def new_number() -> str:
    base = f"{secrets.randbelow(10**11):011d}"
    return base + individual_number_check_digit(base)


@dataclass
class Person:
    resident_code: str
    number: str
    name: str


@dataclass
class Running:
    target: str
    settings: NoticeSettings
    nats_url: str
    clock: FixedClock
    app: App
    event_sealer: EventSealer
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @property
    def service(self) -> NoticeService:
        return self.app.service

    def units(self) -> contextlib.AbstractAsyncContextManager[NoticeStore]:
        """A unit of work of the running service's own (committed on a clean exit)."""
        return self.app.units()

    async def resident(self, resident_code: str) -> Resident | None:
        async with self.units() as store:
            return await store.get_resident(self.service.ctx.rh(resident_code))

    def stub(self, caller: str = f"municipality:{MUNICIPALITY}") -> pb_grpc.NoticeServiceStub:
        if caller not in self.channels:
            self.channels[caller] = grpc_channel(caller, self.target)
        return pb_grpc.NoticeServiceStub(self.channels[caller])

    async def assign(self, municipality: str, people: list[Person], at: dt.datetime | None = None) -> None:
        """What the numbering service publishes after a transaction: one sealed number.assigned event."""
        ev = number_assigned(self.event_sealer, at or self.clock.now(), [municipality] * len(people),
                             [p.resident_code for p in people], [p.number for p in people])
        nc = await nats_connect("numbering", self.nats_url)  # as the numbering service: only it may publish this
        try:
            await nc.jetstream().publish(NUMBER_ASSIGNED, ev.SerializeToString())
        finally:
            await nc.close()

    async def assign_and_wait(self, municipality: str, people: list[Person]) -> None:
        """Numbers only (no mailing list yet): returns once the consumer holds every one of them."""
        await self.assign(municipality, people)
        for _ in range(200):  # the consumer's work, bounded
            rows = [await self.resident(p.resident_code) for p in people]
            if all(r is not None and r.sealed_number is not None for r in rows):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the numbers were not consumed")

    async def mailings(self, municipality: str = MUNICIPALITY) -> list[pb.Mailing]:
        out: list[pb.Mailing] = []
        token = None
        while token != "":
            resp = await self.stub(f"municipality:{municipality}").ListMailings(
                pb.ListMailingsRequest(municipality_code=municipality, page_token=token or ""))
            out += resp.mailings
            token = resp.next_page_token
        return out

    async def wait_mailing(self, household_id: str, municipality: str = MUNICIPALITY,
                           status: int = pb.MAILING_STATUS_PREPARED) -> pb.Mailing:
        # Waits for a condition (the consumer's work), not for a duration: 200 polls bound a hung consumer.
        for _ in range(200):
            for m in await self.mailings(municipality):
                if m.household_id == household_id and m.status == status:
                    return m
            await asyncio.sleep(0.05)
        raise AssertionError("no envelope was prepared for the household")

    async def household(self, n: int = 1, municipality: str = MUNICIPALITY, *, at: dt.datetime | None = None,
                        residence: dict[str, object] | None = None) -> tuple[str, list[Person]]:
        """A household on the mailing list plus its numbers: returns its id and members once its envelope exists."""
        hid = "H" + secrets.token_hex(6)
        people = [Person(new_code(), new_number(), f"試験 太郎{i}") for i in range(n)]
        stub = self.stub(f"municipality:{municipality}")
        await stub.SubmitMailingList(pb.SubmitMailingListRequest(municipality_code=municipality, households=[
            pb.Household(household_id=hid, address="東京都千代田区千代田1-1", postal_code="1000001", members=[
                pb.Member(resident_code=p.resident_code, name=p.name, birth_date="1980-04-01", sex=pb.SEX_MALE)
                for p in people])]))
        if residence is not None:
            await stub.RegisterResidence(pb.RegisterResidenceRequest(
                municipality_code=municipality, resident_code=people[0].resident_code, **residence))  # type: ignore[arg-type]
        await self.assign(municipality, people, at)
        await self.wait_mailing(hid, municipality)
        return hid, people

    async def post_all(self, municipality: str = MUNICIPALITY, with_pdfs: bool = False) -> pb.ExportPrintBatchResponse:
        op = self.stub(OPERATOR)
        batch = await op.ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[municipality],
                                                                     with_pdfs=with_pdfs))
        await op.ReportPrintStatus(pb.ReportPrintStatusRequest(batch_id=batch.batch_id,
                                                               status=pb.PRINT_STATUS_PRINTED))
        await op.ReportPrintStatus(pb.ReportPrintStatusRequest(batch_id=batch.batch_id, status=pb.PRINT_STATUS_POSTED))
        return batch

    async def posted_household(self, n: int = 1, municipality: str = MUNICIPALITY,
                               **kw: object) -> tuple[pb.Mailing, list[Person]]:
        hid, people = await self.household(n, municipality, **kw)  # type: ignore[arg-type]
        await self.post_all(municipality)
        return await self.wait_mailing(hid, municipality, pb.MAILING_STATUS_POSTED), people

    async def returned(self, reason: int = pb.RETURN_REASON_NO_SUCH_ADDRESS, n: int = 1
                       ) -> tuple[pb.Mailing, list[Person]]:
        m, people = await self.posted_household(n)
        r = await self.stub().RecordDelivery(pb.RecordDeliveryRequest(
            municipality_code=MUNICIPALITY, mailing_id=m.mailing_id, delivered=False, return_reason=reason))
        return r.mailing, people


async def events_for(nats_url: str, mailing_id: str) -> list[str]:
    nc = await nats_connect("operator", nats_url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("mynumber.notice.>", stream=stream_name("notice"))
    statuses = []
    try:
        while True:
            try:
                msgs = await sub.fetch(500, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return statuses
            for m in msgs:
                if m.subject.split(".")[3] not in ("mailing", "card"):
                    continue  # the stream also carries the audit anchors (mynumber.notice.v1.<table>.anchored)
                e = ev.MailingChanged()
                e.ParseFromString(m.data)
                if e.mailing_id == mailing_id:
                    statuses.append(m.subject.rsplit(".", 2)[-2] + "." + e.status)
    finally:
        await sub.unsubscribe()
        await nc.close()


async def wait_events(nats_url: str, mailing_id: str, want: list[str]) -> list[str]:
    for _ in range(100):  # the relay publishes after commit; wait for the condition, bounded
        got = await events_for(nats_url, mailing_id)
        if all(w in got for w in want):
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"events {want} not all published")


def make_settings(tmp: Path, database_url: str, nats_url: str) -> NoticeSettings:
    for name in ("notice.key", "events.key", "print.key"):
        if not (tmp / name).exists():
            (tmp / name).write_text(os.urandom(32).hex())
    return NoticeSettings(
        database=DatabaseSettings(url=database_url), nats=nats_settings("notice", nats_url),
        grpc=grpc_server_settings("service:notice"),
        keys_file=tmp / "notice.key", events_key_file=tmp / "events.key", print_key_file=tmp / "print.key",
        export_dir=tmp / "export", consumer_name="notice-test-" + secrets.token_hex(4))


@pytest.fixture(scope="module")
def database_url(new_database: Callable[[], str]) -> str:
    url = new_database()
    migrate(url, MIGRATIONS)
    return url


@contextlib.asynccontextmanager
async def running_notice(settings: NoticeSettings, nats_url: str) -> AsyncIterator[Running]:
    """The service as production wires it (notice.app.build), on a fixed clock, until the block ends."""
    nc = await nats_connect("numbering", nats_url)
    # Only the numbering subjects we publish: the stream may already hold other tests' events under other keys.
    await ensure_stream(nc.jetstream(), "numbering")
    await nc.close()
    clock = FixedClock(START)
    app = await build(settings, clock=clock)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(app.run(ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 30)
    running = Running(settings.grpc.listen, settings, nats_url, clock, app,
                      EventSealer(bytes.fromhex(settings.events_key_file.read_text())))
    try:
        yield running
    finally:
        for ch in running.channels.values():
            await ch.close()
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
async def notice(tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str
                 ) -> AsyncIterator[Running]:
    async with running_notice(make_settings(tmp_path_factory.mktemp("notice"), database_url, nats_url),
                              nats_url) as running:
        yield running


def logged(caplog: pytest.LogCaptureFixture, anchor: str = "mailing list stored") -> str:
    """Every captured log record's message and extra fields (the JSON line's content), once the capture is known
    to hold notice's own lines: an absence found in an empty capture would prove nothing."""
    assert any(r.name == "notice" and r.getMessage() == anchor for r in caplog.records), \
        f"no {anchor!r} line from notice was captured"
    return "\n".join(f"{r.getMessage()} {({k: v for k, v in r.__dict__.items() if k not in _STANDARD})}"
                     for r in caplog.records)


def numbers_in(text: str) -> list[str]:
    """The valid 個人番号 in a text, in each of their forms."""
    return [n for a, b, c in NUMBER_FORMS.findall(text) if in_.is_valid(n := a + b + c)]
