"""Chart ② (通知カード返戻時の対応フロー) on the rules alone: a returned card for each of 日本郵便's reasons, each
finding after 住民票記載事項の確認・調査 (hand-over at the counter, the municipality's own resend, a move within
with endorsement or re-issue, a move out, a deletion), and the 3-month hold after which the card is registered as
returned and disposed of."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError
from notice import policy
from notice.base import AAD_ADDRESS

from .desk import HERE, NEW, START, Desk

REASONS = ("あて所なし", "受取拒否", "保管期間経過")


@pytest.mark.parametrize("reason", REASONS)
async def test_a_card_returned_for_any_reason_is_held_three_months_at_the_office(reason):
    desk = Desk()
    mid, (code,) = await desk.returned(reason)
    m = desk.mailing(mid)
    assert (m.status, m.return_reason, m.returned_at) == ("returned", reason, START)
    assert m.hold_until == dt.datetime(2016, 1, 20, 1, 0, tzinfo=dt.UTC)
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id) == ("returned", mid)
    assert desk.events(mid)[-1] == "mailing.returned"


@pytest.mark.parametrize("written", ["受取拒否", "受取り拒否"])
async def test_日本郵便返戻理由_受取り拒否_and_受取拒否_are_one_reason(written):
    # Chart ② 日本郵便 返戻理由: 「あて所なし 保管期間経過 受取り拒否」 (the seed's spelling) is the post's 受取拒否.
    desk = Desk()
    mid, (code,) = await desk.posted()
    m = await desk.deliver(mid, written)
    assert (m.status, m.return_reason, m.fee_yen) == ("returned", "受取拒否", 0)
    assert desk.resident(code).card_status == "returned"
    assert desk.event_reasons(mid) == [("mailing.returned", "受取拒否")]
    assert desk.subsidy_count() == 0


async def test_an_unknown_return_reason_is_refused_and_changes_nothing():
    desk = Desk()
    mid, (code,) = await desk.posted()
    with pytest.raises(DomainError) as e:
        await desk.deliver(mid, "転居")
    assert e.value.field == "return_reason"  # type: ignore[attr-defined]
    assert desk.mailing(mid).status == "posted" and desk.resident(code).card_status == "mailed"


async def test_a_card_never_posted_cannot_come_back():
    desk = Desk()
    mid, (code,) = await desk.mailed()
    with pytest.raises(DomainError) as e:
        await desk.deliver(mid, "あて所なし")
    assert e.value.reason == "NOT_POSTED"
    assert desk.mailing(mid).status == "prepared" and desk.resident(code).card_status == "mailed"


async def test_no_move_the_resident_collects_it_at_the_counter_and_the_envelope_is_resolved():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, "collected_at_counter")
    assert out.steps == ["handed_over"]
    assert desk.resident(code).card_status == "handed_over"
    assert desk.mailing(mid).status == "resolved"
    assert desk.events(mid)[-2:] == ["card.handed_over", "mailing.resolved"]


async def test_no_move_the_municipality_resends_the_same_card_by_its_own_registered_post():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, "municipal_resend")
    assert out.steps == ["municipal_resend"]
    sent = desk.mailing(out.new_mailing_id)
    assert (sent.kind, sent.status, sent.destination, sent.fee_yen) == ("municipal_resend", "posted", "address", 0)
    assert desk.destination(sent.mailing_id)["address"] == "東京都千代田区千代田1-1"
    old_item, new_item = (next(i for i in desk.units.tables.items if i.mailing_id == x)
                          for x in (mid, sent.mailing_id))
    assert (new_item.sealed_card, new_item.application_id) == (old_item.sealed_card, old_item.application_id)
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id) == ("mailed", sent.mailing_id)
    assert desk.mailing(mid).status == "resolved"


async def test_1_3_裏書交付希望_返戻後裏書の上市町村の独自サービスとして簡易書留で再送():
    # Chart ② ①-3 【裏書交付希望の場合】 … 又は 裏書の上市町村の独自サービスとして簡易書留で再送 (~22866, ~24139).
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, "municipal_resend", **NEW)
    assert out.steps == ["endorsed", "municipal_resend"] and (out.kind, out.fee_yen) == ("", 0)
    (endorsement,) = desk.units.tables.endorsements
    assert desk.service.ctx.open(endorsement[2], AAD_ADDRESS)["address"] == NEW["new_address"]
    sent = desk.mailing(out.new_mailing_id)
    assert (sent.kind, sent.status, sent.fee_yen) == ("municipal_resend", "posted", 0)
    assert desk.destination(sent.mailing_id)["address"] == NEW["new_address"]  # to the new address
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id) == ("mailed", sent.mailing_id)
    assert desk.mailing(mid).status == "resolved"
    assert desk.events(mid)[-2:] == ["card.endorsed", "mailing.resolved"]
    assert desk.events(sent.mailing_id) == ["mailing.posted"]
    assert desk.subsidy_count() == 0
    await desk.deliver(sent.mailing_id)
    assert desk.resident(code).card_status == "delivered"


async def test_1_3_裏書交付希望_a_pending_endorsement_is_used_when_the_municipality_posts_the_card():
    # Chart ① ①-3 転居, 受理する可能性なし, 【裏書交付希望】: the 転居 is recorded while the card travels; when it
    # comes back the municipality endorses it (the address the 転居 gave) and posts it there.
    desk = Desk()
    mid, (code,) = await desk.posted()
    assert (await desk.move(code, "tenkyo", preference="endorse")).steps == ["await_return_then_endorse"]
    await desk.deliver(mid, "あて所なし")
    out = await desk.resolve(mid, code, "municipal_resend")
    assert out.steps == ["endorsed", "municipal_resend"]
    assert desk.destination(out.new_mailing_id)["address"] == NEW["new_address"]
    r = desk.resident(code)
    assert (r.card_status, r.pending_action, r.sealed_pending_address) == ("mailed", None, None)
    assert len(desk.units.tables.endorsements) == 1 and desk.subsidy_count() == 0


async def test_1_3_裏書交付希望_返戻後裏書きのための再来庁_a_pending_endorsement_is_used_at_the_counter():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.move(code, "tenkyo", preference="endorse")
    await desk.deliver(mid, "保管期間経過")
    out = await desk.resolve(mid, code, "collected_at_counter")
    assert out.steps == ["endorsed", "handed_over"]
    r = desk.resident(code)
    assert (r.card_status, r.pending_action) == ("handed_over", None)
    assert desk.events(mid)[-3:] == ["card.endorsed", "card.handed_over", "mailing.resolved"]
    (endorsement,) = desk.units.tables.endorsements
    assert desk.service.ctx.open(endorsement[2], AAD_ADDRESS)["address"] == NEW["new_address"]


async def test_moved_within_endorsed_then_handed_over():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, "moved_within", "endorse", **NEW)
    assert out.steps == ["endorsed", "handed_over"]
    (endorsement,) = desk.units.tables.endorsements
    assert endorsement[0] == desk.resident(code).resident_hash and endorsement[1] == HERE
    assert desk.resident(code).card_status == "handed_over" and desk.mailing(mid).status == "resolved"


async def test_moved_within_new_issue_registers_disposes_and_resends_free_in_2015():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, "moved_within", "new_issue", **NEW)
    assert out.steps == ["return_registered", "disposed", "resent"]
    # ①-1 1. 返還登録 2. 廃棄処理 3. 通知カードを再送: a free 再送 in 2015 while the hold lasts (policy.resend_terms).
    assert (out.kind, out.fee_yen) == ("resend", 0)
    sent = desk.mailing(out.new_mailing_id)
    assert (sent.kind, sent.status, sent.fee_yen) == ("resend", "prepared", 0)
    assert desk.destination(sent.mailing_id)["address"] == NEW["new_address"]
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id) == ("mailed", sent.mailing_id)
    assert desk.mailing(mid).status == "resolved"
    assert desk.events(mid)[-3:] == ["card.return_registered", "card.disposed", "mailing.resolved"]


async def test_a_new_issue_after_2015_costs_the_reissue_fee():
    desk = Desk()
    mid, (code,) = await desk.returned()
    desk.clock.set(dt.datetime(2016, 1, 5, 1, 0, tzinfo=JST))
    out = await desk.resolve(mid, code, "moved_within", "new_issue", **NEW)
    assert (out.kind, out.fee_yen) == ("reissue", policy.REISSUE_FEE_YEN)


@pytest.mark.parametrize("finding", ["moved_out", "deleted"])
async def test_moved_out_or_deleted_the_card_is_registered_and_disposed_with_no_resend(finding):
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.resolve(mid, code, finding)
    assert out.steps == ["return_registered", "disposed"] and out.new_mailing_id == ""
    r = desk.resident(code)
    assert (r.card_status, r.pending_action) == ("return_registered", None)
    assert desk.mailing(mid).status == "resolved"
    assert len(desk.units.tables.mailings) == 1


async def test_a_household_envelope_is_resolved_only_when_every_card_in_it_is():
    desk = Desk()
    mid, (a, b) = await desk.returned(n=2)
    await desk.resolve(mid, a, "collected_at_counter")
    assert desk.mailing(mid).status == "returned"
    await desk.resolve(mid, b, "deleted")
    assert desk.mailing(mid).status == "resolved"


async def test_a_finding_on_an_envelope_not_returned_is_refused():
    desk = Desk()
    mid, (code,) = await desk.posted()
    with pytest.raises(DomainError) as e:
        await desk.resolve(mid, code, "collected_at_counter")
    assert e.value.reason == "NOT_RETURNED"
    assert desk.resident(code).card_status == "mailed"


async def test_another_municipality_cannot_resolve_it_and_learns_nothing():
    desk = Desk()
    mid, (code,) = await desk.returned()
    returns = desk.service.returns
    with pytest.raises(DomainError) as e:
        await desk.unit(lambda s: returns.resolve_returned(s, desk.caller("271004"), "271004", mid, code,
                                                           "collected_at_counter", "", "", ""))
    assert e.value.reason == "UNKNOWN_MAILING"
    assert desk.resident(code).card_status == "returned"


async def test_after_three_months_the_held_card_is_registered_returned_and_disposed():
    desk = Desk()
    mid, (a, b) = await desk.returned(n=2)
    desk.clock.set(dt.datetime(2016, 1, 20, 0, 59, tzinfo=dt.UTC))
    assert await desk.expire() == 0
    assert desk.mailing(mid).status == "returned"
    desk.clock.set(dt.datetime(2016, 1, 20, 1, 0, tzinfo=dt.UTC))
    assert await desk.expire() == 1
    assert desk.mailing(mid).status == "disposed"
    assert {desk.resident(c).card_status for c in (a, b)} == {"return_registered"}
    assert desk.events(mid)[-5:] == ["card.return_registered", "card.disposed", "card.return_registered",
                                     "card.disposed", "mailing.disposed"]
    assert await desk.expire() == 0  # done once


async def test_expiry_leaves_a_card_already_handed_over_alone():
    desk = Desk()
    mid, (a, b) = await desk.returned(n=2)
    await desk.resolve(mid, a, "collected_at_counter")
    desk.clock.set(dt.datetime(2016, 2, 1, tzinfo=dt.UTC))
    assert await desk.expire() == 1
    assert desk.resident(a).card_status == "handed_over"
    assert desk.resident(b).card_status == "return_registered"


async def test_after_expiry_a_new_card_is_a_reissue():
    desk = Desk()
    _mid, (code,) = await desk.returned()
    desk.clock.set(dt.datetime(2016, 2, 1, tzinfo=dt.UTC))
    await desk.expire()
    returns = desk.service.returns
    out = await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code))
    assert (out.kind, out.fee_yen, out.steps) == ("reissue", policy.REISSUE_FEE_YEN, ["reissue"])
    assert desk.mailing(out.new_mailing_id).status == "prepared"


async def test_a_resend_asked_while_the_card_is_held_registers_it_first_and_is_free_in_2015():
    desk = Desk()
    _mid, (code,) = await desk.returned()
    returns = desk.service.returns
    out = await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code))
    assert out.steps == ["return_registered", "disposed", "resend"] and (out.kind, out.fee_yen) == ("resend", 0)


async def test_a_resend_is_refused_while_the_card_is_on_its_way():
    desk = Desk()
    _, (code,) = await desk.posted()
    returns = desk.service.returns
    with pytest.raises(DomainError) as e:
        await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code))
    assert e.value.reason == "CARD_NOT_RESENDABLE"


async def test_a_card_that_left_the_envelope_does_not_keep_it_open_when_its_new_envelope_comes_back_too():
    desk = Desk()
    mid, (a, b) = await desk.returned(n=2)
    out = await desk.resolve(mid, a, "moved_within", "new_issue", **NEW)
    desk.post(out.new_mailing_id)
    await desk.deliver(out.new_mailing_id, "受取拒否")
    assert desk.resident(a).card_status == "returned"  # held again, but in the new envelope
    await desk.resolve(mid, b, "collected_at_counter")
    assert desk.mailing(mid).status == "resolved"
    assert desk.mailing(out.new_mailing_id).status == "returned"
