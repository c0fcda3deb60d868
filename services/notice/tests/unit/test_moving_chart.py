"""Chart ① (転居・転入時の扱い) on the rules alone: a 転居 or 転入 while the card is not mailed yet, on its way
(the former household may or may not receive it; endorse or new issue), back at the office, delivered, or already
registered as returned; the 転出 that names the 転入先; and the day the 通知カード was abolished."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError
from notice.events import Assigned
from notice.outcomes import MemberIn

from .desk import HERE, NEW, OTHER, START, Desk, new_code, new_number

THIRD = "141003"  # 横浜市


async def moved_out(desk: Desk, code: str) -> None:
    assert (await desk.move(code, "tenshutsu", destination=OTHER)).steps == ["tenshutsu_recorded"]
    assert desk.resident(code).moving_to == OTHER


# --- the card not mailed yet -----------------------------------------------------------------------------------
async def test_not_mailed_yet_only_the_address_changes():
    desk = Desk()
    code = new_code()
    await desk.unit(lambda s: desk.service.mailing.on_number_assigned(s, Assigned([HERE], [code], [new_number()],
                                                                                  START)))
    out = await desk.move(code, "tenkyo", member=MemberIn(code, "転居 花子", "1990-01-02", 2))
    assert out.steps == ["address_updated"]
    r = desk.resident(code)
    assert (r.card_status, r.household_id) == ("none", "HNEW")
    assert desk.units.tables.mailings == {}


async def test_a_move_without_the_residents_facts_is_refused_and_changes_nothing():
    desk = Desk()
    code = new_code()
    await desk.unit(lambda s: desk.service.mailing.on_number_assigned(s, Assigned([HERE], [code], [new_number()],
                                                                                  START)))
    with pytest.raises(DomainError) as e:
        await desk.move(code, "tenkyo")
    assert e.value.reason == "FACTS_MISSING"
    assert desk.resident(code).household_id is None


# --- the card on its way (通知カードが返戻されていない場合) -------------------------------------------------------
async def test_in_transit_the_former_household_may_receive_it_then_it_is_endorsed_at_the_counter():
    desk = Desk()
    mid, (code,) = await desk.posted()
    out = await desk.move(code, "tenkyo", may_receive=True)
    assert out.steps == ["await_card_from_former_household_then_endorse"]
    r = desk.resident(code)
    assert (r.card_status, r.pending_action, r.current_mailing_id) == ("mailed", "endorse", mid)
    assert desk.pending_address(code) == {"address": NEW["new_address"], "postal_code": "100-0014"}
    assert len(desk.units.tables.mailings) == 1


async def test_in_transit_may_receive_new_issue_tenkyo_resends_the_card_without_the_form():
    desk = Desk()
    mid, (code,) = await desk.posted()
    out = await desk.move(code, "tenkyo", may_receive=True, preference="new_issue")
    assert out.steps == ["resent_without_form", "urge_return_of_old_card"]
    (item,) = [i for i in desk.units.tables.items if i.mailing_id == out.new_mailing_id]
    assert item.application_id is None  # 返還登録をしないと申請書付きの再送は不可
    assert desk.resident(code).current_mailing_id == out.new_mailing_id
    assert desk.mailing(mid).status == "posted"


async def test_in_transit_may_receive_new_issue_tennyu_resends_with_the_form():
    desk = Desk()
    _mid, (code,) = await desk.posted()
    await moved_out(desk, code)
    out = await desk.move(code, "tennyu", municipality=OTHER, may_receive=True, preference="new_issue")
    assert out.steps == ["resent", "urge_return_of_old_card"]
    (item,) = [i for i in desk.units.tables.items if i.mailing_id == out.new_mailing_id]
    assert item.application_id is not None
    assert desk.mailing(out.new_mailing_id).municipality_code == OTHER


async def test_in_transit_tennyu_not_received_resends_now_and_the_old_card_is_registered_when_it_returns():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await moved_out(desk, code)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["resent", "old_card_return_registered_on_return"]
    assert (out.kind, out.fee_yen) == ("resend", 0)
    r = desk.resident(code)
    assert (r.municipality_code, r.moving_to, r.current_mailing_id) == (OTHER, None, out.new_mailing_id)
    # The old envelope comes back to the former municipality: its card is registered and disposed of at once.
    await desk.deliver(mid, "あて所なし")
    assert desk.events(mid)[-4:] == ["mailing.returned", "card.return_registered", "card.disposed",
                                     "mailing.resolved"]
    assert desk.mailing(mid).status == "resolved"
    assert desk.resident(code).current_mailing_id == out.new_mailing_id


async def test_in_transit_tenkyo_not_received_new_issue_waits_then_resends_on_return():
    desk = Desk()
    mid, (code,) = await desk.posted()
    out = await desk.move(code, "tenkyo", preference="new_issue")
    assert out.steps == ["await_return_then_resend"] and out.new_mailing_id == ""
    assert desk.resident(code).pending_action == "new_issue"
    await desk.deliver(mid, "あて所なし")
    r = desk.resident(code)
    new = r.current_mailing_id
    assert new != mid and (r.card_status, r.pending_action, r.sealed_pending_address) == ("mailed", None, None)
    # ①-3 【新規発行希望】 1. 返戻後返還登録 2. 廃棄処理 3. 通知カードを再送: a 再送 (free) in 2015, in the hold.
    assert (desk.mailing(new).kind, desk.mailing(new).status, desk.mailing(new).fee_yen) == ("resend", "prepared", 0)
    assert desk.destination(new)["address"] == NEW["new_address"]
    assert desk.events(mid)[-3:] == ["card.return_registered", "card.disposed", "mailing.resolved"]


async def test_in_transit_tenkyo_not_received_endorse_waits_for_the_return_and_a_visit():
    desk = Desk()
    mid, (code,) = await desk.posted()
    out = await desk.move(code, "tenkyo", preference="endorse")
    assert out.steps == ["await_return_then_endorse"]
    await desk.deliver(mid, "保管期間経過")
    r = desk.resident(code)
    assert (r.card_status, r.pending_action, r.current_mailing_id) == ("returned", "endorse", mid)
    assert desk.mailing(mid).status == "returned"


async def test_転入_受理する可能性なし_転出元_1返戻後返還登録_2廃棄処理_records_the_disposal():
    # Chart ① 転入, 受理する可能性なし: <転出元市区町村> 1. 返戻後返還登録 2. 廃棄処理; <転入先> 通知カードを再送.
    desk = Desk()
    mid, (code,) = await desk.posted()
    await moved_out(desk, code)
    desk.clock.set(dt.datetime(2015, 12, 31, 23, 59, tzinfo=JST))  # the last free day (JST)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert (out.kind, out.fee_yen) == ("resend", 0) and desk.mailing(out.new_mailing_id).kind == "resend"
    desk.clock.set(dt.datetime(2016, 1, 8, 10, 0, tzinfo=JST))
    await desk.deliver(mid, "あて所なし")  # back at the 転出元, after the 転入
    assert desk.events(mid)[-3:] == ["card.return_registered", "card.disposed", "mailing.resolved"]
    assert desk.mailing(mid).status == "resolved"
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id, r.municipality_code) == ("mailed", out.new_mailing_id, OTHER)
    assert desk.subsidy_count() == 0


async def test_転入_返戻されている場合_転出元_返還登録_廃棄処理_events_carry_the_転出元_code():
    # Card events on the 転出元's envelope are the 転出元's (it registers and disposes of the card), even though the
    # resident belongs to the 転入先 by then; the resent card's envelope is the 転入先's.
    desk = Desk()
    mid, (code,) = await desk.returned()
    await moved_out(desk, code)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["return_registered", "disposed", "resent"]
    codes = desk.event_municipalities(mid)
    assert {k: codes[k] for k in ("card.return_registered", "card.disposed", "mailing.resolved")} == {
        "card.return_registered": {HERE}, "card.disposed": {HERE}, "mailing.resolved": {HERE}}
    assert desk.event_municipalities(out.new_mailing_id) == {"mailing.prepared": {OTHER}}
    assert desk.resident(code).card_status == "mailed"


async def test_転入_既達_裏書き_the_endorsement_event_is_about_the_転出元_envelope():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    await moved_out(desk, code)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["endorsed"]
    assert desk.event_municipalities(mid)["card.endorsed"] == {HERE}
    (endorsement,) = desk.units.tables.endorsements
    assert endorsement[1] == OTHER  # the 転入先 endorsed it at its counter


# --- the card back at the office (通知カードが返戻されている場合) ---------------------------------------------------
async def test_returned_tenkyo_endorse_is_endorsed_and_handed_over():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.move(code, "tenkyo", preference="endorse")
    assert out.steps == ["endorsed", "handed_over"]
    assert desk.resident(code).card_status == "handed_over" and desk.mailing(mid).status == "resolved"
    assert len(desk.units.tables.endorsements) == 1


async def test_returned_tenkyo_new_issue_is_registered_disposed_and_resent():
    desk = Desk()
    mid, (code,) = await desk.returned()
    out = await desk.move(code, "tenkyo", preference="new_issue")
    assert out.steps == ["return_registered", "disposed", "resent"] and (out.kind, out.fee_yen) == ("resend", 0)
    assert desk.mailing(mid).status == "resolved"
    assert desk.resident(code).current_mailing_id == out.new_mailing_id


async def test_returned_tennyu_the_former_registers_and_the_destination_resends():
    desk = Desk()
    mid, (code,) = await desk.returned()
    await moved_out(desk, code)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["return_registered", "disposed", "resent"] and out.kind == "resend"
    assert desk.mailing(mid).status == "resolved"
    assert desk.mailing(out.new_mailing_id).municipality_code == OTHER


# --- the card delivered, or already registered ------------------------------------------------------------------
async def test_delivered_the_card_is_endorsed():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    out = await desk.move(code, "tenkyo")
    assert out.steps == ["endorsed"]
    assert desk.resident(code).card_status == "delivered"
    assert desk.events(mid)[-1] == "card.endorsed"


async def test_registered_as_returned_the_resident_asks_for_a_reissue():
    desk = Desk()
    mid, (code,) = await desk.returned()
    await desk.resolve(mid, code, "deleted")
    out = await desk.move(code, "tenkyo")
    assert out.steps == ["no_card_request_reissue"] and out.new_mailing_id == ""


async def test_after_the_notice_card_was_abolished_a_move_changes_only_the_address():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    desk.clock.set(dt.datetime(2020, 5, 25, tzinfo=dt.UTC))
    out = await desk.move(code, "tenkyo")
    assert out.steps == ["no_card_action_notice_card_abolished"]
    assert desk.units.tables.endorsements == []


@pytest.mark.parametrize(("at", "kind", "fee", "subsidy"), [
    (dt.datetime(2015, 12, 31, 23, 59, tzinfo=JST), "resend", 0, 0),
    (dt.datetime(2016, 1, 1, 0, 0, tzinfo=JST), "reissue", 500, 1),
])
async def test_返戻_2他の市区町村への転出_転入先_転入手続後_通知カードを再送(at, kind, fee, subsidy):
    # Chart ② ②: <転出元> 転出手続後 1. 返還登録 2. 廃棄処理; <転入先> 転入手続後 新送付先情報をJ-LISに送信、
    # 通知カードを再送 (docs/notice.md: "the new one resends on its 転入").
    desk = Desk()
    mid, (code,) = await desk.returned()
    assert (await desk.resolve(mid, code, "moved_out")).steps == ["return_registered", "disposed"]
    await moved_out(desk, code)
    desk.clock.set(at)
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["resent"] and (out.kind, out.fee_yen) == (kind, fee)
    sent = desk.mailing(out.new_mailing_id)
    assert (sent.municipality_code, sent.kind, sent.fee_yen, sent.status) == (OTHER, kind, fee, "prepared")
    (item,) = [i for i in desk.units.tables.items if i.mailing_id == sent.mailing_id]
    assert item.application_id is not None  # with the form
    r = desk.resident(code)
    assert (r.card_status, r.municipality_code, r.current_mailing_id) == ("mailed", OTHER, sent.mailing_id)
    assert desk.events(sent.mailing_id) == ["mailing.prepared"]
    assert desk.event_municipalities(mid)["card.disposed"] == {HERE}
    assert desk.subsidy_count() == subsidy


async def test_返戻_2他の市区町村への転出_after_the_hold_the_転入_asks_for_a_reissue():
    # Chart ② ※2: once the hold has ended any later card is a 再発行 the resident applies for.
    desk = Desk()
    mid, (code,) = await desk.returned()
    await desk.resolve(mid, code, "moved_out")
    await moved_out(desk, code)
    desk.clock.set(desk.mailing(mid).hold_until)  # type: ignore[arg-type]
    out = await desk.move(code, "tennyu", municipality=OTHER)
    assert out.steps == ["no_card_request_reissue"] and out.new_mailing_id == ""
    assert len(desk.units.tables.mailings) == 1 and desk.subsidy_count() == 0


# --- who may record which move -----------------------------------------------------------------------------------
async def test_only_the_named_destination_records_the_tennyu():
    desk = Desk()
    _, (code,) = await desk.posted()
    with pytest.raises(DomainError) as e:
        await desk.move(code, "tennyu", municipality=OTHER)
    assert e.value.reason == "UNKNOWN_RESIDENT"  # before the 転出: "not yours" looks like "unknown"
    await moved_out(desk, code)
    with pytest.raises(DomainError) as e:
        await desk.move(code, "tennyu", municipality=THIRD)
    assert e.value.reason == "UNKNOWN_RESIDENT"
    assert desk.resident(code).municipality_code == HERE


async def test_a_tennyu_within_the_same_municipality_is_a_tenkyo():
    desk = Desk()
    _, (code,) = await desk.posted()
    with pytest.raises(DomainError) as e:
        await desk.move(code, "tennyu")
    assert e.value.field == "kind"  # type: ignore[attr-defined]


async def test_a_tenshutsu_names_another_municipality():
    desk = Desk()
    _, (code,) = await desk.posted()
    with pytest.raises(DomainError) as e:
        await desk.move(code, "tenshutsu", destination=HERE)
    assert e.value.field == "destination_municipality_code"  # type: ignore[attr-defined]
    assert desk.resident(code).moving_to is None
