"""The real numbering service assigns numbers; the notice service mails them. Also: a repeated assignment changes
nothing, and no number, name or address reaches a log line."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2 as npb
from mynumber.numbering.v1 import numbering_pb2_grpc as npb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, nats_settings
from notice.codes import grouped_number
from numbering.__main__ import MIGRATIONS as NUMBERING_MIGRATIONS
from numbering.__main__ import serve as serve_numbering
from numbering.settings import NumberingSettings

from .conftest import MUNICIPALITY, OPERATOR, START, Person, logged, new_code, new_number, numbers_in

pytestmark = pytest.mark.integration


async def test_numbers_from_the_numbering_service_are_mailed_with_the_mailing_list(notice, new_database, tmp_path,
                                                                                     caplog):
    caplog.set_level(logging.DEBUG)
    notice.clock.set(START)
    url = new_database()
    migrate(url, NUMBERING_MIGRATIONS)
    (tmp_path / "numbering.key").write_text(secrets.token_hex(32))
    settings = NumberingSettings(database=DatabaseSettings(url=url), nats=nats_settings("numbering", notice.nats_url),
                                 grpc=grpc_server_settings("service:numbering"),
                                 keys_file=tmp_path / "numbering.key",
                                 events_key_file=notice.settings.events_key_file)  # the platform event key
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve_numbering(settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 30)
    channel = grpc_channel(f"municipality:{MUNICIPALITY}", settings.grpc.listen)
    try:
        rule = ResidentCodeRule()
        codes = [rule.make(f"{secrets.randbelow(10**10):010d}") for _ in range(2)]
        hid = "HN" + codes[0]
        await notice.stub().SubmitMailingList(pb.SubmitMailingListRequest(municipality_code=MUNICIPALITY, households=[
            pb.Household(household_id=hid, address="東京都千代田区永田町1-7-1", postal_code="1000014", members=[
                pb.Member(resident_code=c, name=f"番号 連携{i}", birth_date="2001-02-03", sex=pb.SEX_FEMALE)
                for i, c in enumerate(codes)])]))
        stub = npb_grpc.NumberingServiceStub(channel)
        numbers = [(await stub.AssignNumber(npb.AssignNumberRequest(municipality_code=MUNICIPALITY,
                                                                    resident_code=c))).individual_number
                   for c in codes]
        for _ in range(200):  # numbering's relay, then our consumer: wait for the envelope to hold both
            ms = [m for m in await notice.mailings() if m.household_id == hid]
            if sum(m.items for m in ms) == 2:
                break
            await asyncio.sleep(0.05)
        assert sum(m.items for m in ms) == 2
        batch = await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(
            municipality_codes=[MUNICIPALITY]))
        text = Path(batch.path).read_text(encoding="utf-8")
        assert all(grouped_number(n) in text for n in numbers)
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(task, 30)
    text = logged(caplog)
    # The finder itself sees each form (else the absence below would be empty).
    assert numbers_in(" ".join([numbers[0], grouped_number(numbers[0]), grouped_number(numbers[0]).replace(" ", "-")
                                ])) == [numbers[0]] * 3
    found = numbers_in(text)
    assert not found, [line for line in text.splitlines() if any(f[:4] in line for f in found)][:3]
    assert "番号 連携" not in text and "永田町" not in text and not any(c in text for c in codes)


async def test_a_repeated_assignment_prepares_no_second_envelope(notice):
    notice.clock.set(START)
    hid, people = await notice.household(1)
    await notice.assign(MUNICIPALITY, people)  # a second event for the same person (e.g. a replayed transaction)
    late = Person(new_code(), new_number(), "後続")
    await notice.assign(MUNICIPALITY, [late])  # a later event: once it is handled, the first one was too
    for _ in range(200):
        if await notice.resident(late.resident_code):
            break
        await asyncio.sleep(0.05)
    assert len([m for m in await notice.mailings() if m.household_id == hid]) == 1
