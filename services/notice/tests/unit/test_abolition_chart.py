"""2020-05-25, the day the 通知カード was abolished, against the seed's charts: after it no 通知カード is ever made
again, whichever box would have made one (①-1 新規発行, ①-3 返戻後再送, RequestResend), and the day the notice is
made decides what a newly numbered person is sent (policy.document_for_notice)."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError
from notice.events import Assigned
from notice.outcomes import HouseholdIn, MemberIn

from .desk import HERE, HOME, NEW, Desk, new_code, new_number

LAST_CARD_DAY = dt.datetime(2020, 5, 24, 23, 59, tzinfo=JST)
ABOLISHED = dt.datetime(2020, 5, 25, 0, 0, tzinfo=JST)


async def numbered_then_listed(desk: Desk, numbered: dt.datetime, listed: dt.datetime) -> str:
    code = new_code()
    desk.clock.set(numbered)
    await desk.unit(lambda s: desk.service.mailing.on_number_assigned(s, Assigned([HERE], [code], [new_number()],
                                                                                  numbered)))
    desk.clock.set(listed)
    household = HouseholdIn("HLATE", HOME, "1000001", [MemberIn(code, "試験 次郎", "2020-05-24", 1)])
    await desk.unit(lambda s: desk.service.mailing.submit_mailing_list(s, desk.caller(), HERE, [household]))
    return code


@pytest.mark.parametrize(("listed", "document", "kind"), [
    (LAST_CARD_DAY, "notice_card", "initial"),
    (dt.datetime(2020, 5, 26, 10, 0, tzinfo=JST), "notification_letter", "notification_letter"),
])
async def test_付番_2020_05_24_送付先情報_05_26_the_day_the_notice_is_made_decides(listed, document, kind):
    desk = Desk()
    code = await numbered_then_listed(desk, dt.datetime(2020, 5, 24, 9, 0, tzinfo=JST), listed)
    (m,) = desk.units.tables.mailings.values()
    (item,) = desk.units.tables.items
    assert (item.document, m.kind) == (document, kind)
    assert (m.status, m.fee_yen) == ("prepared", 0)
    assert desk.resident(code).card_status == "mailed"
    assert desk.events(m.mailing_id) == ["mailing.prepared"]
    assert desk.subsidy_count() == 0


async def returned_in_may_2020(desk: Desk) -> tuple[str, str]:
    desk.clock.set(dt.datetime(2020, 5, 20, 10, 0, tzinfo=JST))
    mid, (code,) = await desk.returned()
    return mid, code


async def test_転居_1_1_返還登録_廃棄処理_再送_on_the_last_day_is_a_500_yen_reissue():
    desk = Desk()
    mid, code = await returned_in_may_2020(desk)
    desk.clock.set(LAST_CARD_DAY)
    out = await desk.resolve(mid, code, "moved_within", "new_issue", **NEW)
    assert (out.kind, out.fee_yen) == ("reissue", 500)
    assert desk.mailing(out.new_mailing_id).kind == "reissue" and desk.subsidy_count() == 1


async def test_転居_1_1_返還登録_廃棄処理_再送_after_2020_05_25_is_refused_and_changes_nothing():
    desk = Desk()
    mid, code = await returned_in_may_2020(desk)
    before = desk.events(mid)
    desk.clock.set(ABOLISHED)
    with pytest.raises(DomainError) as e:
        await desk.resolve(mid, code, "moved_within", "new_issue", **NEW)
    assert e.value.reason == "NOTICE_CARD_ABOLISHED"  # as RequestResend answers
    assert (desk.resident(code).card_status, desk.mailing(mid).status) == ("returned", "returned")
    assert len(desk.units.tables.mailings) == 1 and desk.events(mid) == before
    assert desk.subsidy_count() == 0
    # The card itself may still be collected at the counter (it stays valid while its data match the 住民票).
    assert (await desk.resolve(mid, code, "collected_at_counter")).steps == ["handed_over"]


async def test_転居_1_3_新規発行希望_返戻後返還登録_廃棄処理_after_2020_05_25_makes_no_new_card():
    desk = Desk()
    desk.clock.set(dt.datetime(2020, 5, 20, 10, 0, tzinfo=JST))
    mid, (code,) = await desk.posted()
    desk.clock.set(dt.datetime(2020, 5, 22, 10, 0, tzinfo=JST))
    assert (await desk.move(code, "tenkyo", preference="new_issue")).steps == ["await_return_then_resend"]
    desk.clock.set(dt.datetime(2020, 5, 26, 10, 0, tzinfo=JST))
    await desk.deliver(mid, "受取り拒否")  # the post's fact is recorded whatever the date
    r = desk.resident(code)
    assert (r.card_status, r.pending_action, r.current_mailing_id) == ("return_registered", None, mid)
    assert desk.events(mid)[-4:] == ["mailing.returned", "card.return_registered", "card.disposed",
                                     "mailing.resolved"]
    assert len(desk.units.tables.mailings) == 1 and desk.subsidy_count() == 0


async def test_request_resend_after_2020_05_25_is_refused():
    desk = Desk()
    _mid, code = await returned_in_may_2020(desk)
    desk.clock.set(ABOLISHED)
    returns = desk.service.returns
    with pytest.raises(DomainError) as e:
        await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code))
    assert e.value.reason == "NOTICE_CARD_ABOLISHED"
    assert desk.resident(code).card_status == "returned" and desk.subsidy_count() == 0
