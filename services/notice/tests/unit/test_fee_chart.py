"""The 再交付手数料 and the subsidy, against the seed: the fee by each municipality's ordinance (~26916
「各市町村において手数料条例で定める必要あり」; it may charge nothing, ~30070), and the 別紙 of 再交付がやむを得ないと
認められる場合 (~30870, 省令§11Ⅰ): a loss counts against the 交付事務費補助金, a full 追記欄 (~31084) and the
municipality's or J-LIS's own mistake (~30951, free) do not."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError
from notice.fees import FeeOrdinance, FeeSchedule

from .desk import HERE, OTHER, Desk

FEB_2016 = dt.datetime(2016, 2, 1, 10, 0, tzinfo=JST)


async def delivered_then_reissued(desk: Desk, at: dt.datetime, reason: str = "") -> tuple[str, object]:
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    desk.clock.set(at)
    returns = desk.service.returns
    out = await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code, reason))
    return code, out


@pytest.mark.parametrize(("reason", "fee", "subsidy"), [
    ("", 500, 1),
    ("loss", 500, 1),  # 紛失・焼失・著しく損傷 (§11Ⅰ①): 原則として×
    ("endorsement_space_full", 500, 0),  # 追記欄の余白がなくなった場合 (§11Ⅰ②): ○
    ("issuer_fault", 0, 0),  # 市区町村・J-LISのミスによる場合: ○, and the resident pays nothing
])
async def test_再交付がやむを得ないと認められる場合_the_fee_and_the_subsidy(reason, fee, subsidy):
    desk = Desk()
    _code, out = await delivered_then_reissued(desk, FEB_2016, reason)
    assert (out.kind, out.fee_yen, out.steps) == ("reissue", fee, ["reissue"])
    sent = desk.mailing(out.new_mailing_id)
    assert (sent.kind, sent.fee_yen, sent.status, sent.reissue_reason) == ("reissue", fee, "prepared", reason or None)
    assert desk.events(sent.mailing_id) == ["mailing.prepared"]
    assert desk.subsidy_count() == subsidy


@pytest.mark.parametrize(("at", "fee"), [
    (dt.datetime(2016, 3, 31, 23, 59, tzinfo=JST), 500),  # before the ordinance: the standard fee
    (dt.datetime(2016, 4, 1, 0, 0, tzinfo=JST), 0),  # 申請者から徴収しないこととすることも可能
])
async def test_手数料条例_the_fee_is_the_municipalitys_ordinance_on_the_day(at, fee):
    desk = Desk(FeeSchedule.of([FeeOrdinance(HERE, dt.date(2016, 4, 1), 0), FeeOrdinance(OTHER, dt.date(2016, 1, 1),
                                                                                         300)]))
    _code, out = await delivered_then_reissued(desk, at, "loss")
    assert (out.kind, out.fee_yen) == ("reissue", fee)
    assert desk.mailing(out.new_mailing_id).fee_yen == fee
    assert desk.subsidy_count() == 1  # still a 再交付 of a lost card


async def test_a_free_resend_keeps_no_reissue_reason():
    desk = Desk()
    _mid, (code,) = await desk.returned()
    returns = desk.service.returns
    out = await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code, "loss"))
    assert (out.kind, out.fee_yen) == ("resend", 0)
    assert desk.mailing(out.new_mailing_id).reissue_reason is None and desk.subsidy_count() == 0


async def test_an_unknown_reissue_reason_is_refused():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    returns = desk.service.returns
    with pytest.raises(DomainError) as e:
        await desk.unit(lambda s: returns.request_resend(s, desk.caller(), HERE, code, "bored"))
    assert e.value.field == "reason"  # type: ignore[attr-defined]
    assert len(desk.units.tables.mailings) == 1


def test_a_negative_fee_is_no_ordinance():
    with pytest.raises(ValueError, match="fee_yen"):
        FeeSchedule.of([FeeOrdinance(HERE, dt.date(2016, 1, 1), -1)])


def test_an_ordinance_file_is_read_and_a_bad_line_named(tmp_path):
    from notice.fees import load_schedule

    good = tmp_path / "fees.csv"
    good.write_text("code,effective_from,fee_yen\n131016,2016-04-01,0\n", encoding="utf-8")
    schedule = load_schedule(good)
    assert schedule.reissue_fee(HERE, dt.datetime(2016, 4, 1, tzinfo=JST)) == 0
    assert schedule.reissue_fee(OTHER, dt.datetime(2016, 4, 1, tzinfo=JST)) == 500
    bad = tmp_path / "bad.csv"
    bad.write_text("code,effective_from,fee_yen\n131016,2016-04-01,0\n13101,2016-04-01,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^bad.csv line 3: code"):
        load_schedule(bad)
