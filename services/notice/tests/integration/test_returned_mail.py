"""Chart ② (通知カード返戻時の対応フロー) branch by branch, and the dated resend / re-issue policy."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.grpc_server import error_reason

from .conftest import MUNICIPALITY, OPERATOR, START, wait_events


def resolve(notice, m, person, finding, preference=pb.PREFERENCE_UNSPECIFIED, address="", postal=""):
    return notice.stub().ResolveReturnedMail(pb.ResolveReturnedMailRequest(
        municipality_code=MUNICIPALITY, mailing_id=m.mailing_id, resident_code=person.resident_code,
        finding=finding, preference=preference, new_address=address, new_postal_code=postal))


async def status_of(notice, mailing_id):
    return {m.mailing_id: m for m in await notice.mailings()}[mailing_id]


@pytest.mark.parametrize(("reason", "stored"), [(pb.RETURN_REASON_NO_SUCH_ADDRESS, "あて所なし"),
                                                (pb.RETURN_REASON_REFUSED, "受取拒否"),
                                                (pb.RETURN_REASON_HOLD_EXPIRED, "保管期間経過")])
async def test_returned_mail_is_held_three_months_then_return_registered_and_disposed(notice, reason, stored):
    notice.clock.set(START)
    m, people = await notice.returned(reason)
    assert m.status == pb.MAILING_STATUS_RETURNED and m.return_reason == reason
    three_months = dt.datetime(2016, 1, 20, 1, 0, tzinfo=dt.UTC)  # returned 2015-10-20 10:00 JST
    assert m.hold_until.ToDatetime(tzinfo=dt.UTC) == three_months
    op = notice.stub(OPERATOR)
    notice.clock.set(three_months - dt.timedelta(minutes=1))
    await op.ExpireReturnedMail(pb.ExpireReturnedMailRequest())
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_RETURNED
    notice.clock.set(three_months)
    assert (await op.ExpireReturnedMail(pb.ExpireReturnedMailRequest())).disposed >= 1
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_DISPOSED
    # The whole end state, row by row: the envelope, its card, the resident, and nothing else written for them.
    (p,) = people
    rh = notice.service.ctx.rh(p.resident_code)
    async with notice.units() as store:
        env = await store.get_mailing(m.mailing_id)
        items = await store.items_of([m.mailing_id])
        resident = await store.get_resident(rh)
        endorsed = (await store.conn.execute(sa.text(
            "SELECT count(*) FROM notice.endorsements WHERE resident_hash = :rh"), {"rh": rh})).scalar_one()
        household = await store.list_mailings(MUNICIPALITY, 1000)
        access = await store.access_entries(rh.hex())
    returned_at = START
    assert (env.status, env.return_reason, env.returned_at, env.hold_until, env.updated_at) == (
        "disposed", stored, returned_at, three_months, three_months)
    assert env.batch_id and env.recall_batch_id is None and (env.kind, env.fee_yen) == ("initial", 0)
    (item,) = items
    assert (item.resident_hash, item.document, len(item.application_id or "")) == (rh, "notice_card", 23)
    assert (resident.card_status, resident.current_mailing_id, resident.pending_action,
            resident.sealed_pending_address, resident.moving_to) == ("return_registered", m.mailing_id, None, None,
                                                                    None)
    assert endorsed == 0 and access == []
    assert [x.mailing_id for x in household if x.household_id == env.household_id] == [m.mailing_id]
    got = await wait_events(notice.nats_url, m.mailing_id, ["mailing.disposed"])
    assert got == ["mailing.prepared", "mailing.exported", "mailing.printed", "mailing.posted", "mailing.returned",
                   "card.return_registered", "card.disposed", "mailing.disposed"]
    # ※2: 以後の通知カードの発行は再発行扱い; it is 2016, so with the 500-yen fee.
    r = await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=p.resident_code))
    assert (r.kind, r.fee_yen) == (pb.MAILING_KIND_REISSUE, 500)
    assert (await notice.resident(p.resident_code)).current_mailing_id == r.new_mailing_id


async def test_expiry_registers_and_disposes_only_the_cards_still_held_in_the_envelope(notice):
    notice.clock.set(START)
    m, (gone, held) = await notice.returned(n=2)
    await resolve(notice, m, gone, pb.FINDING_COLLECTED_AT_COUNTER)
    notice.clock.set(dt.datetime(2016, 1, 20, 1, 0, tzinfo=dt.UTC))
    assert (await notice.stub(OPERATOR).ExpireReturnedMail(pb.ExpireReturnedMailRequest())).disposed >= 1
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_DISPOSED
    got = await wait_events(notice.nats_url, m.mailing_id, ["mailing.disposed", "card.disposed"])
    assert got.count("card.return_registered") == 1 and got.count("card.disposed") == 1
    assert got.index("card.disposed") < got.index("mailing.disposed")
    # The handed-over card is still the person's; the held one is cancelled: a new card for either is a re-issue.
    for p in (gone, held):
        r = await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                      resident_code=p.resident_code))
        assert (r.kind, r.fee_yen) == (pb.MAILING_KIND_REISSUE, 500)


async def test_returned_card_collected_at_the_counter_is_handed_over(notice):
    notice.clock.set(START)
    m, (p,) = await notice.returned()
    r = await resolve(notice, m, p, pb.FINDING_COLLECTED_AT_COUNTER)
    assert list(r.steps) == ["handed_over"]
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_RESOLVED


async def test_returned_card_is_resent_by_the_municipality_by_simple_registered_mail(notice):
    notice.clock.set(START)
    m, (p,) = await notice.returned(pb.RETURN_REASON_HOLD_EXPIRED)
    r = await resolve(notice, m, p, pb.FINDING_MUNICIPAL_RESEND)
    assert list(r.steps) == ["municipal_resend"]
    again = await status_of(notice, r.new_mailing_id)
    assert (again.kind, again.status) == (pb.MAILING_KIND_MUNICIPAL_RESEND, pb.MAILING_STATUS_POSTED)


async def test_returned_card_of_a_resident_who_moved_within_is_endorsed_and_handed_over(notice):
    notice.clock.set(START)
    m, (p,) = await notice.returned()
    r = await resolve(notice, m, p, pb.FINDING_MOVED_WITHIN, pb.PREFERENCE_ENDORSE, "東京都千代田区神田1-1", "1010047")
    assert list(r.steps) == ["endorsed", "handed_over"]


async def test_返戻後裏書の上市町村の独自サービスとして簡易書留で再送_to_the_new_address(notice):
    notice.clock.set(START)
    m, (p,) = await notice.returned()
    r = await resolve(notice, m, p, pb.FINDING_MUNICIPAL_RESEND, address="東京都千代田区神田1-1", postal="1010047")
    assert list(r.steps) == ["endorsed", "municipal_resend"]
    sent = await status_of(notice, r.new_mailing_id)
    assert (sent.kind, sent.status, sent.fee_yen) == (pb.MAILING_KIND_MUNICIPAL_RESEND, pb.MAILING_STATUS_POSTED, 0)
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_RESOLVED


async def test_returned_card_of_a_resident_who_moved_within_is_registered_disposed_and_resent(notice):
    notice.clock.set(START)
    m, (p,) = await notice.returned()
    r = await resolve(notice, m, p, pb.FINDING_MOVED_WITHIN, pb.PREFERENCE_NEW_ISSUE, "東京都千代田区神田1-1",
                      "1010047")
    assert list(r.steps) == ["return_registered", "disposed", "resent"]
    new = await status_of(notice, r.new_mailing_id)
    # Before 2016 and inside the hold it is a free 再送 (seed: H27.12.31 までは無料で再送; ①-1 3. 通知カードを再送),
    # the municipality's own 返還登録 as step 1 notwithstanding (policy.resend_terms).
    assert (new.kind, new.fee_yen, new.status) == (pb.MAILING_KIND_RESEND, 0, pb.MAILING_STATUS_PREPARED)


@pytest.mark.parametrize("finding", [pb.FINDING_MOVED_OUT, pb.FINDING_DELETED])
async def test_returned_card_of_a_resident_who_moved_out_or_was_deleted_is_registered_and_disposed(notice, finding):
    notice.clock.set(START)
    m, people = await notice.returned(n=2)
    r = await resolve(notice, m, people[0], finding)
    assert list(r.steps) == ["return_registered", "disposed"]
    # The other member's card is still held.
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_RETURNED
    await resolve(notice, m, people[1], pb.FINDING_COLLECTED_AT_COUNTER)
    assert (await status_of(notice, m.mailing_id)).status == pb.MAILING_STATUS_RESOLVED


async def test_resolving_mail_that_was_not_returned_is_refused(notice):
    notice.clock.set(START)
    m, (p,) = await notice.posted_household()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await resolve(notice, m, p, pb.FINDING_COLLECTED_AT_COUNTER)
    assert error_reason(e.value) == "NOT_RETURNED"
    # No finding, or a number the proto does not define: refused naming the field, never echoing the number.
    for finding in (pb.FINDING_UNSPECIFIED, 99, -1):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await resolve(notice, m, p, finding)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details() == "finding: must be one of COLLECTED_AT_COUNTER, MUNICIPAL_RESEND, MOVED_WITHIN, " \
            "MOVED_OUT, DELETED"


async def test_resend_is_free_until_2015_12_31_and_a_500_yen_reissue_afterwards(notice):
    notice.clock.set(START)
    _m, (p,) = await notice.returned()
    notice.clock.set(dt.datetime(2015, 12, 31, 14, 59, tzinfo=dt.UTC))  # 23:59 JST on 12/31
    r = await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=p.resident_code))
    assert (r.kind, r.fee_yen) == (pb.MAILING_KIND_RESEND, 0)
    notice.clock.set(START)
    _m, (p,) = await notice.returned()
    notice.clock.set(dt.datetime(2015, 12, 31, 15, 0, tzinfo=dt.UTC))  # 2016-01-01 00:00 JST
    r = await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=p.resident_code))
    assert (r.kind, r.fee_yen) == (pb.MAILING_KIND_REISSUE, 500)


async def test_再交付_of_a_delivered_card_keeps_its_reason_and_an_issuer_fault_is_free(notice):
    notice.clock.set(START)
    m, (p,) = await notice.posted_household(1)
    await notice.stub().RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY,
                                                                mailing_id=m.mailing_id, delivered=True))
    notice.clock.set(dt.datetime(2016, 2, 1, tzinfo=dt.UTC))
    r = await notice.stub().RequestResend(pb.RequestResendRequest(
        municipality_code=MUNICIPALITY, resident_code=p.resident_code, reason=pb.REISSUE_REASON_ISSUER_FAULT))
    assert (r.kind, r.fee_yen) == (pb.MAILING_KIND_REISSUE, 0)
    sent = await status_of(notice, r.new_mailing_id)
    assert (sent.kind, sent.fee_yen, sent.reissue_reason) == (pb.MAILING_KIND_REISSUE, 0,
                                                             pb.REISSUE_REASON_ISSUER_FAULT)


async def test_no_resend_or_reissue_after_2020_05_25(notice):
    notice.clock.set(START)
    _m, (p,) = await notice.returned()
    notice.clock.set(dt.datetime(2020, 5, 25, 0, 0, tzinfo=dt.UTC))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=p.resident_code))
    assert error_reason(e.value) == "NOTICE_CARD_ABOLISHED"


async def test_new_numbers_from_2020_05_25_get_a_notification_letter(notice):
    notice.clock.set(dt.datetime(2020, 6, 1, tzinfo=dt.UTC))
    hid, (p,) = await notice.household(1)
    m = await notice.wait_mailing(hid)
    assert m.kind == pb.MAILING_KIND_NOTIFICATION_LETTER
    r = await notice.stub().RecordMove(pb.RecordMoveRequest(
        municipality_code=MUNICIPALITY, resident_code=p.resident_code, kind=pb.MOVE_KIND_TENKYO,
        new_address="東京都千代田区神田2-2",
        new_postal_code="1010047", new_household_id="HNEW" + p.resident_code))
    assert list(r.steps) == ["no_card_action_notice_card_abolished"]
