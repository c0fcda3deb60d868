"""Every 交付申請書 notice makes is announced by form.issued, its 申請書ID sealed with the number and the 4 facts
printed on it (the issuance service learns the IDs there); a card resent without a form announces none."""

from __future__ import annotations

from .desk import HERE, HOME, OTHER, Desk
from .test_moving_chart import moved_out


async def test_the_first_mailing_announces_each_members_form_with_its_facts():
    desk = Desk()
    mid, _codes = await desk.mailed(2)
    forms = desk.forms_issued()
    items = [i for i in desk.units.tables.items if i.mailing_id == mid]
    assert sorted(f.application_id for _, f in forms) == sorted(i.application_id for i in items)
    assert {m for m, _ in forms} == {HERE}
    assert {(f.name, f.address, f.birth_date, f.sex) for _, f in forms} == \
        {("試験 太郎0", HOME, "1980-04-01", 1), ("試験 太郎1", HOME, "1980-04-01", 1)}
    assert all(len(f.individual_number) == 12 for _, f in forms)


async def test_a_resend_with_a_form_announces_the_new_form_for_the_new_municipality():
    desk = Desk()
    _mid, (code,) = await desk.posted()
    await moved_out(desk, code)
    before = {f.application_id for _, f in desk.forms_issued()}
    out = await desk.move(code, "tennyu", municipality=OTHER, may_receive=True, preference="new_issue")
    (item,) = [i for i in desk.units.tables.items if i.mailing_id == out.new_mailing_id]
    new = [(m, f) for m, f in desk.forms_issued() if f.application_id not in before]
    assert [(m, f.application_id) for m, f in new] == [(OTHER, item.application_id)]


async def test_a_card_resent_without_a_form_announces_no_form():
    desk = Desk()
    _mid, (code,) = await desk.posted()
    before = len(desk.forms_issued())
    out = await desk.move(code, "tenkyo", may_receive=True, preference="new_issue")
    assert out.steps[0] == "resent_without_form" and len(desk.forms_issued()) == before
