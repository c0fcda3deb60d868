"""Events + mailing list -> household envelopes -> vendor batch -> printed/posted -> delivered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_events.numbering import NUMBER_ASSIGNED, number_assigned
from mynumber_runtime.db import Units
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.testing.identities import nats_connect
from notice.codes import application_id_valid, grouped_number
from notice.export import read_batch
from notice.repository import NoticeStore

from .conftest import MUNICIPALITY, OPERATOR, OTHER, START, Person, new_code, new_number, wait_events


async def test_household_gets_one_envelope_with_card_and_form_per_member_through_print_to_delivery(notice):
    notice.clock.set(START)
    hid, people = await notice.household(3)
    m = await notice.wait_mailing(hid)
    assert m.items == 3 and m.kind == pb.MAILING_KIND_INITIAL and m.destination == pb.DESTINATION_ADDRESS
    batch = await notice.post_all(with_pdfs=True)
    records = read_batch(Path(batch.path))
    env = [r for r in records if r[0] == "ENV" and r[1] == m.mailing_id]
    cards = [r for r in records if r[0] == "CRD" and r[1] == m.mailing_id]
    assert len(env) == 1 and env[0][4:6] == ["簡易書留", "転送不要"] and env[0][8] == "東京都千代田区千代田1-1"
    assert sorted(c[7] for c in cards) == sorted(p.name for p in people)
    assert sorted(c[6] for c in cards) == sorted(grouped_number(p.number) for p in people)
    ids = [c[4] for c in cards]
    assert all(application_id_valid(i) for i in ids) and len(set(ids)) == 3
    assert all(c[5] == "MYNA-APPLY:1:" + c[4] for c in cards)
    assert not any(p.number in i for p in people for i in ids)
    assert batch.records == len(records) and len(batch.sha256) == 64
    assert Path(batch.pdf_paths[0]).read_bytes().startswith(b"%PDF")
    posted = await notice.wait_mailing(hid, status=pb.MAILING_STATUS_POSTED)
    r = await notice.stub().RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY,
                                                                    mailing_id=posted.mailing_id, delivered=True))
    assert r.mailing.status == pb.MAILING_STATUS_DELIVERED
    got = await wait_events(notice.nats_url, m.mailing_id, ["mailing.prepared", "mailing.exported", "mailing.printed",
                                                           "mailing.posted", "mailing.delivered"])
    assert got.index("mailing.prepared") < got.index("mailing.delivered")


@pytest.mark.parametrize("order", ["number_first", "list_first"])
async def test_numbers_that_arrive_before_the_mailing_list_are_mailed_when_the_list_comes(notice, order):
    notice.clock.set(START)
    p = Person(new_code(), new_number(), "先着 花子")
    hid = "HEARLY" + p.resident_code
    submit = pb.SubmitMailingListRequest(municipality_code=MUNICIPALITY, households=[
        pb.Household(household_id=hid, address="東京都千代田区丸の内1-1", postal_code="1000005", members=[
            pb.Member(resident_code=p.resident_code, name=p.name, birth_date="1990-01-02", sex=pb.SEX_FEMALE)])])
    # Each order forced: the second step starts only once the first is stored.
    if order == "number_first":
        await notice.assign_and_wait(MUNICIPALITY, [p])
        assert (await notice.resident(p.resident_code)).sealed_facts is None
        out = await notice.stub().SubmitMailingList(submit)
        assert out.envelopes_prepared == 1  # the list itself mails the number already held
    else:
        out = await notice.stub().SubmitMailingList(submit)
        r = await notice.resident(p.resident_code)
        assert out.envelopes_prepared == 0 and r.sealed_number is None and r.card_status == "none"
        assert hid not in {m.household_id for m in await notice.mailings()}
        await notice.assign(MUNICIPALITY, [p])
    m = await notice.wait_mailing(hid)
    assert m.items == 1
    assert len([x for x in await notice.mailings() if x.household_id == hid]) == 1
    r = await notice.resident(p.resident_code)
    assert (r.card_status, r.current_mailing_id) == ("mailed", m.mailing_id)


async def test_a_municipality_sees_only_its_own_mail(notice):
    notice.clock.set(START)
    hid, _ = await notice.household(1, OTHER)
    assert hid in {m.household_id for m in await notice.mailings(OTHER)}
    assert hid not in {m.household_id for m in await notice.mailings(MUNICIPALITY)}
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().ListMailings(pb.ListMailingsRequest(municipality_code=OTHER))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(("field", "change", "rule"), [
    ("households[0].postal_code", {"postal_code": "12"}, "NNN-NNNN"),
    ("households[0].members", {"members": []}, "at least one member"),
    ("households[0].household_id", {"household_id": ""}, "required"),
    # fromisoformat would take these; the card, the PDF and the MNB1 file print YYYY-MM-DD.
    ("households[0].members[0].birth_date",
     {"members": [pb.Member(resident_code=new_code(), name="x", birth_date="19800101", sex=pb.SEX_MALE)]},
     "YYYY-MM-DD"),
    ("households[0].members[0].birth_date",
     {"members": [pb.Member(resident_code=new_code(), name="x", birth_date="1980-W01-2", sex=pb.SEX_MALE)]},
     "YYYY-MM-DD"),
])
async def test_a_bad_mailing_list_is_refused_naming_the_field(notice, field, change, rule):
    h = dict(household_id="HBAD", address="東京都", postal_code="1000001",
             members=[pb.Member(resident_code=new_code(), name="x", birth_date="1980-01-01", sex=pb.SEX_MALE)])
    h.update(change)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().SubmitMailingList(pb.SubmitMailingListRequest(
            municipality_code=MUNICIPALITY, households=[pb.Household(**h)]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in e.value.details() and rule in e.value.details()
    assert not any(m.birth_date in e.value.details() for m in change.get("members", []))  # the rule, not the value


async def test_a_return_for_a_mailing_never_posted_or_unknown_is_refused(notice):
    notice.clock.set(START)
    hid, _ = await notice.household(1)
    m = await notice.wait_mailing(hid)
    stub = notice.stub()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY, mailing_id=m.mailing_id,
                                                           return_reason=pb.RETURN_REASON_NO_SUCH_ADDRESS))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and error_reason(e.value) == "NOT_POSTED"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY, mailing_id="0" * 32,
                                                           return_reason=pb.RETURN_REASON_NO_SUCH_ADDRESS))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and error_reason(e.value) == "UNKNOWN_MAILING"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY, mailing_id="nope",
                                                           return_reason=pb.RETURN_REASON_NO_SUCH_ADDRESS))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "mailing_id" in e.value.details()
    # Returned mail needs the post office's reason: none, or a number the proto does not define, is refused
    # naming the field (never the number); a delivery needs none, but an undefined number is refused all the same.
    for delivered, reason in ((False, pb.RETURN_REASON_UNSPECIFIED), (False, 99), (True, 7), (True, -5)):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY, mailing_id=m.mailing_id,
                                                               delivered=delivered, return_reason=reason))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details() == "return_reason: must be one of NO_SUCH_ADDRESS, REFUSED, HOLD_EXPIRED"


async def test_print_status_out_of_order_is_refused(notice):
    notice.clock.set(START)
    await notice.household(1)
    op = notice.stub(OPERATOR)
    batch = await op.ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[MUNICIPALITY]))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await op.ReportPrintStatus(pb.ReportPrintStatusRequest(batch_id=batch.batch_id, status=pb.PRINT_STATUS_POSTED))
    assert error_reason(e.value) == "PRINT_ORDER"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().ExportPrintBatch(pb.ExportPrintBatchRequest())
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("where", ["inside_the_unit", "at_the_commit"])
async def test_an_export_that_fails_before_its_commit_leaves_no_file_and_the_envelopes_prepared(notice, monkeypatch,
                                                                                                 where):
    notice.clock.set(START)
    hid, _ = await notice.household(1)
    if where == "inside_the_unit":
        async def failing(*_args: object) -> None:
            raise ConnectionError("the database went away")

        monkeypatch.setattr(NoticeStore, "insert_batch", failing)
    else:
        @contextlib.asynccontextmanager
        async def commit_fails(self: Units[NoticeStore]) -> AsyncIterator[NoticeStore]:
            async with self.engine.connect() as conn:
                yield self.store(conn)
                await conn.rollback()
                raise ConnectionError("the database went away at the commit")

        monkeypatch.setattr(Units, "__call__", commit_fails)
    export_dir = notice.settings.export_dir
    before = set(export_dir.iterdir()) if export_dir.exists() else set()
    with pytest.raises(grpc.aio.AioRpcError):
        await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[MUNICIPALITY],
                                                                                with_pdfs=True))
    monkeypatch.undo()
    # Nothing for the vendor's agent to pick up: the same envelopes go out once, in the next batch.
    assert set(export_dir.iterdir()) == before
    assert (await notice.wait_mailing(hid)).status == pb.MAILING_STATUS_PREPARED


async def test_a_number_assigned_event_failing_validation_is_set_aside_and_the_next_one_is_mailed(notice):
    notice.clock.set(START)
    bad = Person(new_code()[:-1] + "０", new_number(), "毒 太郎")  # a full-width check digit: numbering refuses it
    event = number_assigned(notice.event_sealer, START, [MUNICIPALITY], [bad.resident_code], [bad.number])
    nc = await nats_connect("numbering", notice.nats_url)  # numbering may publish it; the payload is poison
    try:
        await nc.jetstream().publish(NUMBER_ASSIGNED, event.SerializeToString())
    finally:
        await nc.close()
    # The consumer parks the poison event and carries on: the next household is mailed as usual.
    hid, _ = await notice.household(1)
    assert (await notice.wait_mailing(hid)).items == 1
    assert await notice.resident(bad.resident_code) is None
