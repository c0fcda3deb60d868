"""The real notice service makes the 交付申請書 and announces it; the issuance service learns the 申請書ID from that
event alone (never from notice's tables) and accepts the application on it. No 申請書ID, number, name or address
reaches a log line of either service."""

from __future__ import annotations

import asyncio
import logging
import secrets

import nats
import pytest
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber.notice.v1 import events_pb2 as notice_ev
from mynumber.notice.v1 import notice_pb2 as npb
from mynumber.notice.v1 import notice_pb2_grpc as npb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_events.notice import FORM_ISSUED, open_form_issued
from mynumber_events.numbering import NUMBER_ASSIGNED, EventSealer, number_assigned
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.streams import ensure_stream, stream_name
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, nats_connect, nats_settings
from notice.__main__ import MIGRATIONS as NOTICE_MIGRATIONS
from notice.app import build as build_notice
from notice.settings import NoticeSettings

from .conftest import MUNICIPALITY, START, applicant, new_number, request

pytestmark = pytest.mark.integration


async def form_for(nats_url: str, sealer: EventSealer, number: str) -> tuple[str, notice_ev.IssuedForm]:
    """The form.issued notice published for the person (read as an SRE tool would, opened with the event key)."""
    for _ in range(100):
        nc = await nats_connect("operator", nats_url)
        sub = await nc.jetstream().pull_subscribe(FORM_ISSUED, stream=stream_name("notice"))
        try:
            while True:
                try:
                    msgs = await sub.fetch(500, timeout=0.5)
                except (nats.errors.TimeoutError, TimeoutError):
                    break
                for m in msgs:
                    try:
                        event = notice_ev.ApplicationFormIssued.FromString(m.data)
                        form = open_form_issued(sealer, event)
                    except Exception:  # other tests' forms, under their own keys, and their poison events
                        continue
                    if form.individual_number == number:
                        return event.municipality_code, form
        finally:
            await sub.unsubscribe()
            await nc.close()
        await asyncio.sleep(0.1)
    raise AssertionError("notice published no form.issued for the person")


async def test_a_form_notice_mails_is_accepted_by_issuance(issuance, new_database, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    url = new_database()
    migrate(url, NOTICE_MIGRATIONS)
    for name in ("notice.key", "print.key"):
        (tmp_path / name).write_text(secrets.token_hex(32))
    settings = NoticeSettings(database=DatabaseSettings(url=url), nats=nats_settings("notice", issuance.nats_url),
                              grpc=grpc_server_settings("service:notice"), keys_file=tmp_path / "notice.key",
                              events_key_file=issuance.settings.events_key_file,  # the platform event key
                              print_key_file=tmp_path / "print.key", export_dir=tmp_path / "export",
                              consumer_name="notice-for-issuance-" + secrets.token_hex(4))
    nc = await nats_connect("numbering", issuance.nats_url)
    await ensure_stream(nc.jetstream(), "numbering")
    await nc.close()
    notice = await build_notice(settings, clock=FixedClock(START))
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(notice.run(ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 30)
    channel = grpc_channel(f"municipality:{MUNICIPALITY}", settings.grpc.listen)
    try:
        code, number = ResidentCodeRule().make(f"{secrets.randbelow(10**10):010d}"), new_number()
        await npb_grpc.NoticeServiceStub(channel).SubmitMailingList(npb.SubmitMailingListRequest(
            municipality_code=MUNICIPALITY, households=[npb.Household(
                household_id="H" + code, address="東京都千代田区千代田1-1", postal_code="1000001",
                members=[npb.Member(resident_code=code, name="山田　太郎", birth_date="1980-06-15",
                                    sex=npb.SEX_MALE)])]))
        sealer = EventSealer(bytes.fromhex(settings.events_key_file.read_text()))
        assigned = number_assigned(sealer, START, [MUNICIPALITY], [code], [number])
        nc = await nats_connect("numbering", issuance.nats_url)  # what numbering publishes
        await nc.jetstream().publish(NUMBER_ASSIGNED, assigned.SerializeToString())
        await nc.close()

        municipality, form = await form_for(issuance.nats_url, sealer, number)
        assert municipality == MUNICIPALITY and len(form.application_id) == 23
        await issuance.form_known(form.application_id)
        r = await issuance.stub().SubmitApplication(request(form.application_id, applicant=applicant(
            name="山田　太郎", address="東京都千代田区千代田1-1", birth_date="1980-06-15")))
        assert r.application.state == pb.APPLICATION_STATE_ACCEPTED

        text = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
        assert any(rec.name == "notice" for rec in caplog.records)  # the capture holds notice's lines
        for value in (form.application_id, number, code, "山田"):
            assert value not in text
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(task, 30)
