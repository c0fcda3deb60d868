"""居所 delivery for evacuees and DV victims (別紙 1 and 2): where the mail goes, and where a 居所 never appears."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import shutil
import subprocess
from pathlib import Path

import grpc
import nats
import pytest
import sqlalchemy as sa
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.crypto import FieldSealer
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.streams import stream_name
from mynumber_runtime.testing.identities import nats_connect
from notice.export import read_batch

from .conftest import MUNICIPALITY, OPERATOR, OTHER, START, logged

DOCS = ["application", "identity_copy", "address_proof"]


def secret_place() -> str:
    return f"大阪府堺市北区隠れ町{secrets.randbelow(10**6)}-9"


async def all_notice_event_bytes(nats_url: str) -> bytes:
    nc = await nats_connect("operator", nats_url)
    sub = await nc.jetstream().pull_subscribe("mynumber.notice.>", stream=stream_name("notice"))
    out = b""
    try:
        while True:
            try:
                msgs = await sub.fetch(1000, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return out
            out += b"".join(m.data + m.subject.encode() for m in msgs)
    finally:
        await sub.unsubscribe()
        await nc.close()


async def dump_schema(notice) -> tuple[set[str], list[bytes]]:
    """Every base table of the notice schema (from information_schema, so a new table is dumped too) and every
    cell of every row, as bytes (text as UTF-8, bytea as is, arrays and JSON as their text)."""
    cells: list[bytes] = []
    async with notice.units() as store:
        tables = set((await store.conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'notice' "
            "AND table_type = 'BASE TABLE'"))).scalars().all())
        for table in sorted(tables):
            for row in (await store.conn.execute(sa.text(f'SELECT * FROM notice."{table}"'))).all():
                cells += [bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row]
    return tables, cells


def pdf_text(path: str) -> str:
    """The text a reader sees (PDF streams are compressed: grepping the bytes would prove nothing)."""
    # A missing tool fails the privacy check, never skips it (a broken setup, not a reason to pass).
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext is needed (apt-get install poppler-utils; scripts/setup.sh)"
    return subprocess.run([tool, path, "-"], check=True, capture_output=True, text=True).stdout


async def export(notice) -> tuple[list[list[str]], bytes, pb.ExportPrintBatchResponse]:
    batch = await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(
        municipality_codes=[MUNICIPALITY], with_pdfs=True))
    return read_batch(Path(batch.path)), Path(batch.path).read_bytes(), batch


@pytest.mark.parametrize("missing", DOCS)
async def test_a_residence_registration_without_the_documents_is_refused(notice, missing):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().RegisterResidence(pb.RegisterResidenceRequest(
            municipality_code=MUNICIPALITY, resident_code=p.resident_code, kind=pb.RESIDENCE_KIND_EVACUEE,
            address=secret_place(), postal_code="5900000", documents=[d for d in DOCS if d != missing]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "documents" in e.value.details() and missing in e.value.details()


async def test_only_a_dv_victim_may_have_the_card_held_at_the_office(notice):
    notice.clock.set(START)
    _, (p,) = await notice.household(1)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().RegisterResidence(pb.RegisterResidenceRequest(
            municipality_code=MUNICIPALITY, resident_code=p.resident_code, kind=pb.RESIDENCE_KIND_EVACUEE,
            address=secret_place(), postal_code="5900000", documents=DOCS, hold_at_office=True))
    assert "hold_at_office" in e.value.details()


async def test_an_evacuees_mail_goes_to_the_residence_in_an_envelope_of_their_own(notice):
    notice.clock.set(START)
    place = secret_place()
    hid, _people = await notice.household(2, residence=dict(kind=pb.RESIDENCE_KIND_EVACUEE, address=place,
                                                           postal_code="5900001", documents=DOCS))
    ms = [m for m in await notice.mailings() if m.household_id == hid]
    assert sorted((m.destination, m.items) for m in ms) == [(pb.DESTINATION_ADDRESS, 1),
                                                                (pb.DESTINATION_RESIDENCE, 1)]
    records, _, _ = await export(notice)
    (env,) = [r for r in records if r[0] == "ENV" and r[1] in {m.mailing_id for m in ms} and r[6] == "residence"]
    assert env[8] == place


async def test_a_dv_victims_card_held_at_the_office_never_sends_the_residence_anywhere(notice, caplog):
    caplog.set_level(logging.DEBUG)
    notice.clock.set(START)
    place = secret_place()
    hid, (_p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address=place,
                                                         postal_code="5900002", documents=DOCS,
                                                         hold_at_office=True))
    (m,) = [m for m in await notice.mailings() if m.household_id == hid]
    assert m.destination == pb.DESTINATION_OFFICE
    records, raw, batch = await export(notice)
    (env,) = [r for r in records if r[0] == "ENV" and r[1] == m.mailing_id]
    # 別紙 2 (2): addressed to the office itself, its real postal code and address (千代田区役所), never a
    # placeholder or 〒000-0000.
    assert env[6:9] == ["office", "102-8688", "東京都千代田区九段南1-2-1 千代田区役所"] and env[10] == ""
    text = pdf_text(batch.pdf_paths[0])
    assert "〒102-8688" in text and "東京都千代田区九段南1-2-1 千代田区役所" in text and "000-0000" not in text
    assert place.encode() not in raw and place not in text
    assert place.encode() not in await all_notice_event_bytes(notice.nats_url)
    assert place not in logged(caplog)
    # Nor in the database in clear: every table of the schema, every row, every column.
    tables, cells = await dump_schema(notice)
    assert {"residences", "mailings", "mailing_items", "households", "residents", "outbox", "access_log"} <= tables
    assert any(m.mailing_id.encode() in c for c in cells)  # the dump holds this test's rows
    assert not [c[:40] for c in cells if place.encode() in c]


async def test_a_dv_victims_residence_leaves_only_sealed_to_the_print_vendor(notice, caplog):
    caplog.set_level(logging.DEBUG)
    notice.clock.set(START)
    place = secret_place()
    hid, (_p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address=place,
                                                         postal_code="5900003", documents=DOCS))
    (m,) = [m for m in await notice.mailings() if m.household_id == hid]
    assert m.destination == pb.DESTINATION_RESIDENCE  # the list does not tell a DV victim from an evacuee
    records, raw, batch = await export(notice)
    (env,) = [r for r in records if r[0] == "ENV" and r[1] == m.mailing_id]
    assert env[6] == "residence_restricted" and env[7:10] == ["", "", ""]
    text = pdf_text(batch.pdf_paths[0])
    assert place.encode() not in raw and "封緘ラベル" in text and place not in text
    vendor = FieldSealer({1: bytes.fromhex(notice.settings.print_key_file.read_text())}, current=1)
    label = json.loads(vendor.open(base64.b64decode(env[10]), m.mailing_id.encode()))
    assert label["address"] == place
    assert place.encode() not in await all_notice_event_bytes(notice.nats_url)
    assert place not in logged(caplog)


async def test_a_dv_victims_residence_is_visible_only_to_the_municipality_that_registered_it(notice):
    notice.clock.set(START)
    place = secret_place()
    _, (p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address=place,
                                                       postal_code="5900004", documents=DOCS))
    mine = await notice.stub().GetResidence(pb.GetResidenceRequest(municipality_code=MUNICIPALITY,
                                                                   resident_code=p.resident_code))
    assert mine.address == place
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub(f"municipality:{OTHER}").GetResidence(pb.GetResidenceRequest(
            municipality_code=OTHER, resident_code=p.resident_code))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and error_reason(e.value) == "NO_RESIDENCE"
    assert place not in e.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub(f"municipality:{OTHER}").GetResidence(pb.GetResidenceRequest(
            municipality_code=MUNICIPALITY, resident_code=p.resident_code))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_every_look_at_a_residence_is_in_the_access_log_refusals_too(notice):
    notice.clock.set(START)
    _, (p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address=secret_place(),
                                                       postal_code="5900005", documents=DOCS))
    await notice.stub().GetResidence(pb.GetResidenceRequest(municipality_code=MUNICIPALITY,
                                                            resident_code=p.resident_code))
    with pytest.raises(grpc.aio.AioRpcError):
        await notice.stub(f"municipality:{OTHER}").GetResidence(pb.GetResidenceRequest(
            municipality_code=OTHER, resident_code=p.resident_code))
    async with notice.units() as store:
        entries = await store.access_entries(notice.service.ctx.rh(p.resident_code).hex())
    assert [(e.actor, e.action) for e in entries] == [
        (f"municipality:{MUNICIPALITY}", "residence.register"), (f"municipality:{MUNICIPALITY}", "residence.read"),
        (f"municipality:{OTHER}", "residence.read.refused")]


@pytest.mark.parametrize(("finding", "after"), [(pb.FINDING_COLLECTED_AT_COUNTER, None),
                                                 (pb.FINDING_MUNICIPAL_RESEND, pb.MAILING_STATUS_POSTED)])
async def test_a_card_held_at_the_office_is_collected_or_sent_on_by_the_municipality_itself(notice, finding, after):
    notice.clock.set(START)
    place = secret_place()
    hid, (p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address=place,
                                                         postal_code="5900006", documents=DOCS,
                                                         hold_at_office=True))
    await notice.post_all()
    (m,) = [m for m in await notice.mailings() if m.household_id == hid]
    r = await notice.stub().RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY,
                                                                    mailing_id=m.mailing_id, delivered=True))
    assert r.mailing.status == pb.MAILING_STATUS_HELD_AT_OFFICE
    done = await notice.stub().ResolveReturnedMail(pb.ResolveReturnedMailRequest(
        municipality_code=MUNICIPALITY, mailing_id=m.mailing_id, resident_code=p.resident_code, finding=finding))
    mine = {x.mailing_id: x for x in await notice.mailings()}
    assert mine[m.mailing_id].status == pb.MAILING_STATUS_RESOLVED
    if after is None:
        assert list(done.steps) == ["handed_over"]
        return
    sent = mine[done.new_mailing_id]
    # Posted by the municipality to the 居所: never prepared for J-LIS, so never in a batch file.
    assert (sent.kind, sent.status, sent.destination) == (
        pb.MAILING_KIND_MUNICIPAL_RESEND, pb.MAILING_STATUS_POSTED, pb.DESTINATION_RESIDENCE)
    async with notice.units() as store:
        assert (await store.get_mailing(sent.mailing_id)).batch_id is None
    assert place.encode() not in await all_notice_event_bytes(notice.nats_url)
