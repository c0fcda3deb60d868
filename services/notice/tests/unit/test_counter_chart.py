"""Chart ① boxes that end at the counter: 受理する可能性あり (the former household received the card):
「その者から入手の上、来庁時に裏書きの上交付」,
and 「通知カードを再送するとともにその者から入手の上返還を促す」, the old card
handed back afterwards (1. 返還登録 2. 廃棄処理)."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError
from notice.base import AAD_ADDRESS

from .desk import HERE, NEW, OTHER, Desk


async def endorse_at_counter(desk: Desk, code: str, municipality: str = HERE):
    counter = desk.service.counter
    return await desk.unit(lambda s: counter.endorse_at_counter(s, desk.caller(municipality), municipality, code))


async def handed_back(desk: Desk, mailing_id: str, code: str, municipality: str = HERE):
    counter = desk.service.counter
    return await desk.unit(lambda s: counter.record_old_card_returned(s, desk.caller(municipality), municipality,
                                                                      mailing_id, code))


@pytest.mark.parametrize("kind", ["tenkyo", "tennyu"])
async def test_受理する可能性あり_その者から入手の上_来庁時に裏書きの上交付(kind):
    desk = Desk()
    mid, (code,) = await desk.posted()
    where = HERE
    if kind == "tennyu":
        await desk.move(code, "tenshutsu", destination=OTHER)
        where = OTHER
    out = await desk.move(code, kind, municipality=where, may_receive=True)
    assert out.steps == ["await_card_from_former_household_then_endorse"]
    await desk.deliver(mid)  # the former household receives it
    assert desk.resident(code).pending_action == "endorse"  # nothing happens until the visit
    desk.clock.set(dt.datetime(2016, 2, 1, 10, 0, tzinfo=JST))
    out = await endorse_at_counter(desk, code, where)
    assert out.steps == ["endorsed", "handed_over"] and (out.kind, out.fee_yen, out.new_mailing_id) == ("", 0, "")
    r = desk.resident(code)
    assert (r.card_status, r.pending_action, r.sealed_pending_address) == ("handed_over", None, None)
    (endorsement,) = desk.units.tables.endorsements
    assert (endorsement[1], desk.service.ctx.open(endorsement[2], AAD_ADDRESS)["address"]) == (
        where, NEW["new_address"])
    assert desk.events(mid)[-2:] == ["card.endorsed", "card.handed_over"]
    assert desk.event_municipalities(mid)["card.endorsed"] == {HERE}  # the envelope's municipality
    assert len(desk.units.tables.mailings) == 1 and desk.subsidy_count() == 0
    with pytest.raises(DomainError) as e:  # once
        await endorse_at_counter(desk, code, where)
    assert e.value.reason == "NO_PENDING_ENDORSEMENT"


async def test_来庁時に裏書き_needs_a_pending_endorsement_and_the_card_at_hand():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    with pytest.raises(DomainError) as e:
        await endorse_at_counter(desk, code)
    assert e.value.reason == "NO_PENDING_ENDORSEMENT"
    assert desk.units.tables.endorsements == [] and desk.resident(code).card_status == "delivered"


async def test_通知カードを再送するとともにその者から入手の上返還を促す_the_old_card_is_registered_and_disposed():
    desk = Desk()
    mid, (code,) = await desk.posted()
    out = await desk.move(code, "tenkyo", may_receive=True, preference="new_issue")
    assert out.steps == ["resent_without_form", "urge_return_of_old_card"] and (out.kind, out.fee_yen) == ("resend", 0)
    await desk.deliver(mid)  # the old card reached the former household
    back = await handed_back(desk, mid, code)
    assert back.steps == ["return_registered", "disposed"]
    assert desk.events(mid)[-2:] == ["card.return_registered", "card.disposed"]
    assert desk.event_municipalities(mid)["card.disposed"] == {HERE}
    r = desk.resident(code)
    assert (r.card_status, r.current_mailing_id) == ("mailed", out.new_mailing_id)  # the new card is untouched
    assert desk.subsidy_count() == 0
    with pytest.raises(DomainError) as e:
        await handed_back(desk, mid, code)
    assert e.value.reason == "ALREADY_RETURNED"
    assert desk.events(mid).count("card.disposed") == 1


async def test_the_current_card_is_not_handed_back_as_superseded():
    desk = Desk()
    mid, (code,) = await desk.posted()
    await desk.deliver(mid)
    with pytest.raises(DomainError) as e:
        await handed_back(desk, mid, code)
    assert e.value.reason == "NOT_IN_MAILING"
    assert desk.resident(code).card_status == "delivered"
