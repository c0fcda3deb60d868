"""A 居所 registered at any point of an envelope's life (issue 9): before the list, after it but before the export
(re-routed), after the export or the posting (recalled through the next vendor batch, held at the office when it
comes back), after delivery; with a move during printing, a retry, a second list and a crash-retry."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from pathlib import Path

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.crypto import FieldSealer
from notice.export import read_batch
from notice.repository import NoticeStore

from .conftest import MUNICIPALITY, OPERATOR, START, Person, new_code, new_number

DOCS = ["application", "identity_copy", "address_proof"]
HOME = "東京都千代田区千代田1-1"
OFFICE = "東京都千代田区九段南1-2-1 千代田区役所"  # notice/data/municipal_offices.csv, 131016


def place() -> str:
    return f"大阪府堺市北区隠れ町{secrets.randbelow(10**6)}-{secrets.randbelow(100)}"


def registration(person: Person, where: str, *, kind: int = pb.RESIDENCE_KIND_DV_VICTIM,
                 hold_at_office: bool = False) -> pb.RegisterResidenceRequest:
    return pb.RegisterResidenceRequest(municipality_code=MUNICIPALITY, resident_code=person.resident_code, kind=kind,
                                       address=where, postal_code="5900000", documents=DOCS,
                                       hold_at_office=hold_at_office)


async def mine(notice, hid: str) -> list[pb.Mailing]:
    return [m for m in await notice.mailings() if m.household_id == hid]


async def export(notice) -> list[list[str]]:
    batch = await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[MUNICIPALITY]))
    return read_batch(Path(batch.path))


async def export_batch(notice) -> pb.ExportPrintBatchResponse:
    return await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[MUNICIPALITY]))


async def report(notice, batch_id: str, *statuses: int) -> None:
    for s in statuses:
        await notice.stub(OPERATOR).ReportPrintStatus(pb.ReportPrintStatusRequest(batch_id=batch_id, status=s))


def label_of(notice, env: list[str]) -> dict[str, str]:
    vendor = FieldSealer({1: bytes.fromhex(notice.settings.print_key_file.read_text())}, current=1)
    return json.loads(vendor.open(base64.b64decode(env[10]), env[1].encode()))  # type: ignore[no-any-return]


async def test_a_residence_registered_before_the_list_routes_the_first_envelope(notice):
    notice.clock.set(START)
    x = Person(new_code(), new_number(), "先登録 花子")
    await notice.assign_and_wait(MUNICIPALITY, [x])
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where))
    assert (r.destination, r.mail_action) == (pb.DESTINATION_RESIDENCE, pb.MAIL_ACTION_NOTHING_IN_TRANSIT)
    hid = "HB" + secrets.token_hex(5)
    await notice.stub().SubmitMailingList(pb.SubmitMailingListRequest(municipality_code=MUNICIPALITY, households=[
        pb.Household(household_id=hid, address=HOME, postal_code="1000001", members=[
            pb.Member(resident_code=x.resident_code, name=x.name, birth_date="1980-04-01", sex=pb.SEX_FEMALE)])]))
    (m,) = await mine(notice, hid)
    assert m.destination == pb.DESTINATION_RESIDENCE
    (env,) = [e for e in await export(notice) if e[0] == "ENV" and e[1] == m.mailing_id]
    assert env[6] == "residence_restricted" and label_of(notice, env)["address"] == where


async def test_a_residence_registered_after_the_list_reroutes_the_envelope_before_export(notice):
    notice.clock.set(START)
    hid, (victim, other) = await notice.household(2)
    (before,) = await mine(notice, hid)
    where = place()
    r = await notice.stub().RegisterResidence(registration(victim, where))
    ms = {m.mailing_id: m for m in await mine(notice, hid)}
    # The victim's card leaves the household envelope for an envelope of its own, to the 居所.
    assert sorted((m.destination, m.items, m.status) for m in ms.values()) == [
        (pb.DESTINATION_ADDRESS, 1, pb.MAILING_STATUS_PREPARED),
        (pb.DESTINATION_RESIDENCE, 1, pb.MAILING_STATUS_PREPARED)]
    assert r.mail_action == pb.MAIL_ACTION_REROUTED and r.destination == pb.DESTINATION_RESIDENCE
    (own,) = r.rerouted_mailing_ids
    assert ms[own].destination == pb.DESTINATION_RESIDENCE and not r.recalled_mailing_ids
    records = await export(notice)
    household = [e for e in records if e[0] == "ENV" and e[1] == before.mailing_id]
    assert household[0][6] == "address" and victim.name not in household[0][9]  # the addressee names the other
    cards = {c[1]: c[7] for c in records if c[0] == "CRD" and c[1] in ms}
    assert cards == {before.mailing_id: other.name, own: victim.name}
    (env,) = [e for e in records if e[0] == "ENV" and e[1] == own]
    assert env[6] == "residence_restricted" and env[8] == "" and label_of(notice, env)["address"] == where


@pytest.mark.parametrize("reported", [(), (pb.PRINT_STATUS_PRINTED,)], ids=["exported", "printed"])
async def test_a_residence_registered_after_export_recalls_the_envelope_in_the_next_batch(notice, reported):
    notice.clock.set(START)
    hid, (x,) = await notice.household(1)
    first = await export_batch(notice)
    await report(notice, first.batch_id, *reported)
    (m,) = await mine(notice, hid)
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where))
    # Not "residence" and silence: the envelope already left for the vendor, so it is recalled and the clerk is told.
    assert r.mail_action == pb.MAIL_ACTION_RECALLED and list(r.recalled_mailing_ids) == [m.mailing_id]
    assert (await mine(notice, hid))[0].status == pb.MAILING_STATUS_RECALLED
    await report(notice, first.batch_id, *[s for s in (pb.PRINT_STATUS_PRINTED, pb.PRINT_STATUS_POSTED)
                                           if s not in reported])
    # The vendor's report does not post a recalled one.
    assert (await mine(notice, hid))[0].status == pb.MAILING_STATUS_RECALLED
    await assert_recall_in_next_batch_then_held(notice, hid, m.mailing_id, x, where)


async def assert_recall_in_next_batch_then_held(notice, hid: str, mailing_id: str, x: Person, where: str) -> None:
    await notice.household(1)  # something else to print, so the next batch also carries envelopes
    records = await export(notice)
    (rcl,) = [e for e in records if e[0] == "RCL" and e[1] == mailing_id]
    # Back to the office, by its real address and postal code (never empty, never 000-0000).
    assert rcl[2] == MUNICIPALITY and rcl[4:6] == [OFFICE, "102-8688"] and where not in "|".join(rcl)
    assert not [e for e in records if e[0] in ("ENV", "CRD") and e[1] == mailing_id]
    # Only once: a later batch does not repeat the instruction.
    await notice.household(1)
    assert not [e for e in await export(notice) if e[0] == "RCL" and e[1] == mailing_id]
    # Back at the office: held there; the municipality hands it over or posts it itself to the 居所.
    back = await notice.stub().RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY,
                                                                       mailing_id=mailing_id, delivered=True))
    assert back.mailing.status == pb.MAILING_STATUS_HELD_AT_OFFICE
    done = await notice.stub().ResolveReturnedMail(pb.ResolveReturnedMailRequest(
        municipality_code=MUNICIPALITY, mailing_id=mailing_id, resident_code=x.resident_code,
        finding=pb.FINDING_MUNICIPAL_RESEND))
    sent = {m.mailing_id: m for m in await notice.mailings()}[done.new_mailing_id]
    assert (sent.kind, sent.status, sent.destination) == (
        pb.MAILING_KIND_MUNICIPAL_RESEND, pb.MAILING_STATUS_POSTED, pb.DESTINATION_RESIDENCE)


async def test_a_residence_registered_after_posting_recalls_the_envelope_from_the_post(notice):
    notice.clock.set(START)
    m, (x,) = await notice.posted_household(1)
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where))
    assert r.mail_action == pb.MAIL_ACTION_RECALLED and list(r.recalled_mailing_ids) == [m.mailing_id]
    assert (await mine(notice, m.household_id))[0].status == pb.MAILING_STATUS_RECALLED
    await assert_recall_in_next_batch_then_held(notice, m.household_id, m.mailing_id, x, where)


async def test_a_residence_registered_after_delivery_recalls_nothing_and_says_so(notice):
    notice.clock.set(START)
    m, (x,) = await notice.posted_household(1)
    await notice.stub().RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY,
                                                                mailing_id=m.mailing_id, delivered=True))
    r = await notice.stub().RegisterResidence(registration(x, place()))
    assert r.mail_action == pb.MAIL_ACTION_ALREADY_DELIVERED and not r.recalled_mailing_ids
    assert (await mine(notice, m.household_id))[0].status == pb.MAILING_STATUS_DELIVERED
    # A later card (a re-issue) goes to the 居所.
    again = await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                      resident_code=x.resident_code))
    resent = {m.mailing_id: m for m in await notice.mailings()}[again.new_mailing_id]
    assert resent.destination == pb.DESTINATION_RESIDENCE


async def test_a_residence_for_a_card_already_held_at_the_office_keeps_it_there(notice):
    notice.clock.set(START)
    m, (x,) = await notice.returned()
    r = await notice.stub().RegisterResidence(registration(x, place(), kind=pb.RESIDENCE_KIND_EVACUEE))
    assert r.mail_action == pb.MAIL_ACTION_HELD_AT_OFFICE
    assert (await mine(notice, m.household_id))[0].status == pb.MAILING_STATUS_RETURNED


async def test_a_hold_at_office_registration_reroutes_a_prepared_envelope_to_the_office(notice):
    notice.clock.set(START)
    hid, (x,) = await notice.household(1)
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where, hold_at_office=True))
    assert (r.destination, r.mail_action) == (pb.DESTINATION_OFFICE, pb.MAIL_ACTION_REROUTED)
    (m,) = await mine(notice, hid)
    assert m.destination == pb.DESTINATION_OFFICE
    (env,) = [e for e in await export(notice) if e[0] == "ENV" and e[1] == m.mailing_id]
    assert env[6:9] == ["office", "102-8688", OFFICE] and where not in "|".join(env)


async def test_a_move_during_printing_then_a_residence_recalls_the_old_envelope_and_reroutes_the_new(notice):
    notice.clock.set(START)
    hid, (x,) = await notice.household(1)
    first = await export_batch(notice)
    await report(notice, first.batch_id, pb.PRINT_STATUS_PRINTED)
    (old,) = await mine(notice, hid)
    moved = await notice.stub().RecordMove(pb.RecordMoveRequest(
        municipality_code=MUNICIPALITY, resident_code=x.resident_code, kind=pb.MOVE_KIND_TENKYO,
        new_household_id="HM" + hid, new_address="東京都千代田区神田3-3", new_postal_code="1010047",
        former_household_may_receive=True,
        preference=pb.PREFERENCE_NEW_ISSUE))
    assert list(moved.steps) == ["resent_without_form", "urge_return_of_old_card"]
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where))
    # Both of the person's cards are kept from the known addresses: the new one re-routed, the old one recalled.
    assert r.mail_action == pb.MAIL_ACTION_RECALLED
    assert list(r.rerouted_mailing_ids) == [moved.new_mailing_id] and list(r.recalled_mailing_ids) == [old.mailing_id]
    ms = {m.mailing_id: m for m in await notice.mailings()}
    assert ms[moved.new_mailing_id].destination == pb.DESTINATION_RESIDENCE
    assert ms[old.mailing_id].status == pb.MAILING_STATUS_RECALLED


async def test_the_same_registration_twice_changes_nothing_the_second_time(notice):
    notice.clock.set(START)
    hid, (x, _y) = await notice.household(2)
    await export_batch(notice)
    where = place()
    a = await notice.stub().RegisterResidence(registration(x, where))
    b = await notice.stub().RegisterResidence(registration(x, where))
    assert a == b and a.mail_action == pb.MAIL_ACTION_RECALLED
    await notice.household(1)
    records = await export(notice)
    assert len([e for e in records if e[0] == "RCL" and e[1] in a.recalled_mailing_ids]) == 1
    assert len(await mine(notice, hid)) == 1


async def test_a_second_list_after_a_registration_keeps_the_residence_route_and_adds_no_envelope(notice):
    notice.clock.set(START)
    hid, (x, y) = await notice.household(2)
    where = place()
    r = await notice.stub().RegisterResidence(registration(x, where))
    again = await notice.stub().SubmitMailingList(pb.SubmitMailingListRequest(
        municipality_code=MUNICIPALITY, households=[pb.Household(
            household_id=hid, address="東京都千代田区千代田1-2", postal_code="1000001", members=[
                pb.Member(resident_code=p.resident_code, name=p.name, birth_date="1980-04-01", sex=pb.SEX_MALE)
                for p in (x, y)])]))
    assert again.envelopes_prepared == 0 and not again.refused
    ms = {m.mailing_id: m for m in await mine(notice, hid)}
    assert len(ms) == 2 and ms[r.rerouted_mailing_ids[0]].destination == pb.DESTINATION_RESIDENCE
    got = await notice.stub().GetResidence(pb.GetResidenceRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=x.resident_code))
    assert got.address == where


async def test_the_same_registration_sent_twice_at_once_reroutes_once(notice):
    notice.clock.set(START)
    hid, (x, _y) = await notice.household(2)
    where = place()
    a, b = await asyncio.gather(notice.stub().RegisterResidence(registration(x, where)),
                                notice.stub().RegisterResidence(registration(x, where)))
    assert a == b and a.mail_action == pb.MAIL_ACTION_REROUTED
    assert sorted((m.destination, m.items) for m in await mine(notice, hid)) == [
        (pb.DESTINATION_ADDRESS, 1), (pb.DESTINATION_RESIDENCE, 1)]


async def test_a_registration_that_crashed_before_its_commit_is_retried_to_the_same_end(notice, monkeypatch):
    notice.clock.set(START)
    hid, (x, _y) = await notice.household(2)
    await export_batch(notice)
    real = NoticeStore.add_events
    calls = {"n": 0}

    async def crash_once(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the database went away")
        return await real(self, *args, **kw)

    monkeypatch.setattr(NoticeStore, "add_events", crash_once)
    request = registration(x, place())
    with pytest.raises(grpc.aio.AioRpcError):
        await notice.stub().RegisterResidence(request)
    (m,) = await mine(notice, hid)
    assert m.status == pb.MAILING_STATUS_EXPORTED  # rolled back whole: no half-recalled envelope
    done = await notice.stub().RegisterResidence(request)
    assert done.mail_action == pb.MAIL_ACTION_RECALLED and list(done.recalled_mailing_ids) == [m.mailing_id]
    await notice.household(1)
    assert len([e for e in await export(notice) if e[0] == "RCL" and e[1] == m.mailing_id]) == 1


async def test_a_registration_is_refused_for_an_unknown_resident_before_anything_moves(notice):
    notice.clock.set(START)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().RegisterResidence(registration(Person(new_code(), new_number(), "誰"), place()))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
