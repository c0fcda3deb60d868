"""The label of a card sent again (再送 or 再交付) in every box that sends one, against the seed: 再送 (free) through
2015-12-31 and while the returned card's 3-month hold lasts, 再交付 (500 yen) from 2016-01-01 (~21894
「H28.1月以降は再交付扱い（有料）」) or once the hold has ended (chart ② ※2 「以後の通知カードの発行は再発行扱い」).
Not wording: the 交付事務費補助金 is reduced per 再交付 (~28429), so each case asserts the subsidy count too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from mynumber_runtime.clock import JST

from .desk import HERE, NEW, OTHER, Desk

LAST_FREE = dt.datetime(2015, 12, 31, 23, 59, tzinfo=JST)
FIRST_PAID = dt.datetime(2016, 1, 1, 0, 0, tzinfo=JST)
Flow = Callable[[Desk, dt.datetime], Awaitable[Any]]


async def tenkyo_returned_new_issue(desk: Desk, at: dt.datetime) -> Any:
    # Chart ① 転居, 通知カードが返戻されている場合: 1. 返還登録 2. 廃棄処理 3. 通知カードを再送.
    _mid, (code,) = await desk.returned()
    desk.clock.set(at)
    return await desk.move(code, "tenkyo", preference="new_issue")


async def moved_within_new_issue(desk: Desk, at: dt.datetime) -> Any:
    # Chart ② ①同一市区町村内での転居 ①-1: 1. 返還登録 2. 廃棄処理 3. 通知カードを再送.
    mid, (code,) = await desk.returned()
    desk.clock.set(at)
    return await desk.resolve(mid, code, "moved_within", "new_issue", **NEW)


async def request_resend_held(desk: Desk, at: dt.datetime) -> Any:
    _mid, (code,) = await desk.returned()
    desk.clock.set(at)
    returns = desk.service.returns
    return await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code))


async def tennyu_returned(desk: Desk, at: dt.datetime) -> Any:
    # Chart ① 転入, 返戻されている場合: <転出元> 1. 返戻後返還登録 2. 廃棄処理; <転入先> 通知カードを再送.
    _mid, (code,) = await desk.returned()
    await desk.move(code, "tenshutsu", destination=OTHER)
    desk.clock.set(at)
    return await desk.move(code, "tennyu", municipality=OTHER)


async def tennyu_after_moved_out(desk: Desk, at: dt.datetime) -> Any:
    # Chart ② ②: the 転出元 registered the held card; the 転入先 resends it 「再交付に準じて」 (~22247).
    mid, (code,) = await desk.returned()
    await desk.resolve(mid, code, "moved_out")
    await desk.move(code, "tenshutsu", destination=OTHER)
    desk.clock.set(at)
    return await desk.move(code, "tennyu", municipality=OTHER)


async def tenkyo_pending_new_issue(desk: Desk, at: dt.datetime) -> Any:
    # Chart ① 転居 ①-3 【新規発行希望】: 1. 返戻後返還登録 2. 廃棄処理 3. 通知カードを再送, on the return.
    mid, (code,) = await desk.posted()
    await desk.move(code, "tenkyo", preference="new_issue")
    desk.clock.set(at)
    await desk.deliver(mid, "あて所なし")
    sent = desk.mailing(desk.resident(code).current_mailing_id or "")
    return sent


FLOWS = [tenkyo_returned_new_issue, moved_within_new_issue, request_resend_held, tennyu_returned,
         tennyu_after_moved_out, tenkyo_pending_new_issue]
# The flows whose card has been held since before the step (in ①-3 the card comes back in the step itself; after
# the hold the 転入 of ② sends nothing: test_moving_chart's test_返戻_2他の市区町村への転出_after_the_hold...).
FLOWS_HELD = FLOWS[:4]


def label(out: Any) -> tuple[str, int]:
    return (out.kind, out.fee_yen)


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("at", "kind", "fee", "subsidy"), [
    (LAST_FREE, "resend", 0, 0),
    (FIRST_PAID, "reissue", 500, 1),
], ids=["2015-12-31_再送", "2016-01-01_再交付"])
async def test_再送_until_2016_01_01_then_再交付(flow: Flow, at: dt.datetime, kind: str, fee: int, subsidy: int):
    desk = Desk()
    out = await flow(desk, at)
    assert label(out) == (kind, fee)
    sent = desk.mailing(out.mailing_id if hasattr(out, "mailing_id") else out.new_mailing_id)
    assert (sent.kind, sent.fee_yen, sent.status) == (kind, fee, "prepared")
    assert desk.events(sent.mailing_id) == ["mailing.prepared"]
    assert desk.subsidy_count() == subsidy


@pytest.mark.parametrize("flow", FLOWS_HELD, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("after_hold", "kind", "fee", "subsidy"), [
    (dt.timedelta(minutes=-1), "resend", 0, 0),
    (dt.timedelta(0), "reissue", 500, 1),
], ids=["in_the_hold_再送", "hold_ended_再交付"])
async def test_再送_until_the_3_month_hold_ends_then_再交付(flow: Flow, after_hold: dt.timedelta, kind: str, fee: int,
                                                        subsidy: int):
    # Inside 2015 on purpose (a card back on 2015-07-31 is held until 10-31), so only the hold decides.
    desk = Desk()
    desk.clock.set(dt.datetime(2015, 7, 31, 10, 0, tzinfo=JST))
    hold_end = dt.datetime(2015, 10, 31, 10, 0, tzinfo=JST)
    out = await flow(desk, hold_end + after_hold)
    assert label(out) == (kind, fee)
    assert desk.mailing(out.new_mailing_id).kind == kind
    assert desk.subsidy_count() == subsidy
