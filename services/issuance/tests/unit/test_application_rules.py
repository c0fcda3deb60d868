"""The rules of 交付申請 on an in-memory unit of work: accepted only for a known, current form whose facts are the
person's today, one live application per person, and "not yours" exactly like "unknown"."""

from __future__ import annotations

import datetime as dt

import pytest
from issuance.channels import Channel, HandoverMethod
from issuance.errors import (
    ApplicationsNotOpen,
    ChannelNotYours,
    LiveApplication,
    NoApplication,
    StaleForm,
    UnknownForm,
)
from issuance.service import Refused
from issuance.states import ApplicationState
from mynumber.issuance.v1 import events_pb2 as ev
from mynumber_runtime.clock import JST
from mynumber_runtime.errors import DomainError, InvalidArgument, PermissionDenied

from .desk import INTAKE, A, B, Desk, form_id, muni, replace


def message(e: pytest.ExceptionInfo[DomainError]) -> tuple[str, str | None, str]:
    return type(e.value).__mro__[1].__name__, e.value.reason, e.value.message


async def test_a_counter_application_on_a_current_form_is_accepted_and_announced() -> None:
    d = Desk()
    await d.form(1, person=1)
    app = await d.submit(d.submission(1))
    assert app.state is ApplicationState.ACCEPTED and app.municipality_code == A
    assert (app.photo_width, app.photo_height) == (600, 800)
    subject, payload = d.units.state.events[-1]
    assert subject == "mynumber.issuance.v1.application.accepted"
    event = ev.ApplicationChanged.FromString(payload)
    assert event.application_ref == app.ref and event.handover_method == 2 and event.municipality_code == A
    assert d.units.state.access[-1]["action"] == "application.submit"
    assert d.units.state.access[-1]["details"]["basis"] == "own_register"  # type: ignore[index]


async def test_an_unknown_form_and_another_municipalitys_form_are_refused_alike() -> None:
    d = Desk()
    await d.form(1, person=1, municipality=B)
    with pytest.raises(UnknownForm) as unknown:
        await d.submit(d.submission(2))
    with pytest.raises(UnknownForm) as foreign:
        await d.submit(d.submission(1))
    assert message(unknown) == message(foreign)  # type: ignore[arg-type]
    assert not d.units.state.applications
    # Both attempts are in the access log, as refusals.
    assert [a["action"] for a in d.units.state.access] == ["application.submit.refused"] * 2


async def test_an_operator_reaches_a_form_only_through_the_municipality_that_holds_it() -> None:
    d = Desk()
    await d.form(1, person=1, municipality=B)
    with pytest.raises(UnknownForm):
        await d.submit(d.submission(1, municipality=A, channel=Channel.MAIL, method=HandoverMethod.AT_COLLECTION),
                       INTAKE)
    app = await d.submit(d.submission(1, municipality=B, channel=Channel.MAIL,
                                      method=HandoverMethod.AT_COLLECTION), INTAKE)
    assert app.channel is Channel.MAIL
    assert d.units.state.access[-1]["details"] == {"basis": "operator", "application_ref": app.ref,
                                                   "channel": "mail", "handover_method": 1, "acting_for": B}


async def test_a_form_from_before_a_move_is_refused_as_stale() -> None:
    d = Desk()
    await d.form(1, person=1)
    d.clock.advance(dt.timedelta(days=30))
    await d.form(2, person=1, address="東京都千代田区丸の内2-2")  # the resend after the 転居
    with pytest.raises(StaleForm) as e:
        await d.submit(d.submission(1))
    assert e.value.message.startswith("application_id:")
    app = await d.submit(d.submission(2, address="東京都千代田区丸の内2-2"))
    assert app.state is ApplicationState.ACCEPTED


async def test_facts_that_differ_from_the_form_are_refused_as_stale() -> None:
    d = Desk()
    await d.form(1, person=1)
    with pytest.raises(StaleForm) as e:
        await d.submit(d.submission(1, name="佐藤　花子"))
    assert e.value.message.startswith("applicant:") and "佐藤" not in e.value.message


async def test_full_width_forms_and_spacing_are_the_same_facts() -> None:
    d = Desk()
    await d.form(1, person=1, address="東京都千代田区千代田１－１")
    await d.submit(d.submission(1, address="東京都千代田区千代田1-1"))


async def test_a_second_live_application_is_refused_and_a_withdrawal_frees_the_person() -> None:
    d = Desk()
    await d.form(1, person=1)
    first = await d.submit(d.submission(1))
    with pytest.raises(LiveApplication):
        await d.submit(d.submission(1, channel=Channel.COUNTER, method=HandoverMethod.AT_COLLECTION))
    withdrawn = await d.withdraw(first.ref)
    assert withdrawn.state is ApplicationState.WITHDRAWN
    assert d.units.state.events[-1][0] == "mynumber.issuance.v1.application.withdrawn"
    again = await d.submit(d.submission(1))
    assert again.ref != first.ref


async def test_a_withdrawn_application_cannot_be_withdrawn_again() -> None:
    d = Desk()
    await d.form(1, person=1)
    app = await d.submit(d.submission(1))
    await d.withdraw(app.ref)
    with pytest.raises(DomainError) as e:
        await d.withdraw(app.ref)
    assert e.value.reason == "ILLEGAL_TRANSITION"


async def test_another_municipalitys_application_is_unknown_to_read_and_to_withdraw() -> None:
    d = Desk()
    await d.form(1, person=1)
    app = await d.submit(d.submission(1))
    async with d.units() as store:
        with pytest.raises(Refused) as foreign:
            await d.service.applications.get(store, muni(B), B, app.ref)
        with pytest.raises(Refused) as unknown:
            await d.service.applications.get(store, muni(B), B, "0" * 32)
        assert isinstance(foreign.value.error, NoApplication) and isinstance(unknown.value.error, NoApplication)
        assert foreign.value.error.message == unknown.value.error.message
        assert await d.service.applications.list(store, muni(B), B, None, 0) == ([], "")
        assert [a.ref for a in (await d.service.applications.list(store, muni(A), A, None, 0))[0]] == [app.ref]
        got, history = await d.service.applications.get(store, muni(A), A, app.ref)
    assert got == app and [h.state for h in history] == [ApplicationState.ACCEPTED]


async def test_a_municipality_acts_only_for_itself() -> None:
    d = Desk()
    await d.form(1, person=1, municipality=B)
    with pytest.raises(PermissionDenied):
        await d.submit(d.submission(1, municipality=B), muni(A))


async def test_mailed_online_and_employer_bulk_forms_come_through_the_intake_only() -> None:
    d = Desk()
    await d.form(1, person=1)
    for channel, method in ((Channel.MAIL, HandoverMethod.AT_COLLECTION),
                            (Channel.ONLINE, HandoverMethod.AT_COLLECTION),
                            (Channel.EMPLOYER_BULK, HandoverMethod.EMPLOYER_BULK)):
        with pytest.raises(ChannelNotYours):
            await d.submit(d.submission(1, channel=channel, method=method))


@pytest.mark.parametrize(("channel", "method"), [(Channel.MAIL, HandoverMethod.AT_APPLICATION),
                                                 (Channel.EMPLOYER_VISIT, HandoverMethod.EMPLOYER_BULK),
                                                 (Channel.COUNTER, HandoverMethod.STAFF_VISIT)])
async def test_a_method_the_channel_does_not_allow_is_refused(channel: Channel, method: HandoverMethod) -> None:
    d = Desk()
    await d.form(1, person=1)
    with pytest.raises(InvalidArgument) as e:
        await d.submit(d.submission(1, channel=channel, method=method), INTAKE)
    assert e.value.field == "handover_method"  # type: ignore[attr-defined]


async def test_applications_are_refused_before_2015_10_05() -> None:
    d = Desk()
    d.clock.set(dt.datetime(2015, 10, 1, 9, 0, tzinfo=JST))
    await d.form(1, person=1)
    with pytest.raises(ApplicationsNotOpen):
        await d.submit(d.submission(1))
    d.clock.set(dt.datetime(2015, 10, 5, 0, 0, tzinfo=JST))
    await d.submit(d.submission(1))


@pytest.mark.parametrize(("change", "field"), [
    ({"application_id": "1" * 22}, "application_id"), ({"application_id": "１" * 23}, "application_id"),
    ({"municipality_code": "131017"}, "municipality_code"), ({"name": ""}, "applicant.name"),
    ({"address": "a\x00b"}, "applicant.address"), ({"birth_date": "1980-02-30"}, "applicant.birth_date"),
    ({"birth_date": "2016-02-02"}, "applicant.birth_date"), ({"sex": 3}, "applicant.sex"),
    ({"photo": b"GIF89a" * 5000}, "photo"), ({"channel": None}, "channel"), ({"handover_method": None},
                                                                             "handover_method"),
])
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(change: dict[str, object],
                                                                            field: str) -> None:
    d = Desk()
    await d.form(1, person=1)
    with pytest.raises(InvalidArgument) as e:
        await d.submit(replace(d.submission(1), **change))  # type: ignore[arg-type]
    assert e.value.field == field  # type: ignore[attr-defined]
    assert not d.units.state.applications and not d.units.state.events


async def test_a_changed_form_supersedes_the_accepted_application_and_says_so() -> None:
    d = Desk()
    await d.form(1, person=1)
    app = await d.submit(d.submission(1))
    d.clock.advance(dt.timedelta(days=3))
    await d.form(2, person=1, name="山田　花子")  # a marriage, a new form
    assert d.units.state.applications[app.ref].state is ApplicationState.SUPERSEDED
    subject, payload = d.units.state.events[-1]
    assert subject == "mynumber.issuance.v1.application.superseded"
    assert ev.ApplicationChanged.FromString(payload).previous_state == ev.ApplicationChanged().state + 1


async def test_a_reprinted_form_with_the_same_facts_keeps_the_application() -> None:
    d = Desk()
    await d.form(1, person=1)
    app = await d.submit(d.submission(1))
    d.clock.advance(dt.timedelta(days=3))
    await d.form(2, person=1)
    assert d.units.state.applications[app.ref].state is ApplicationState.ACCEPTED


async def test_a_redelivered_form_changes_nothing_and_a_late_older_form_is_stale() -> None:
    d = Desk()
    newer = await d.form(2, person=1)
    before = (dict(d.units.state.forms), dict(d.units.state.people))
    async with d.units() as store:
        await d.service.forms.on_form_issued(store, newer)
    assert (d.units.state.forms, d.units.state.people) == before
    await d.form(1, person=1, at=newer.issued_at - dt.timedelta(days=10))
    with pytest.raises(StaleForm):
        await d.submit(d.submission(1))
    await d.submit(d.submission(2))


async def test_a_move_to_another_municipality_moves_the_person() -> None:
    d = Desk()
    await d.form(1, person=1, municipality=A)
    d.clock.advance(dt.timedelta(days=3))
    await d.form(2, person=1, municipality=B, address="大阪府大阪市北区1-1")
    with pytest.raises(UnknownForm):
        await d.submit(d.submission(2, address="大阪府大阪市北区1-1"))
    with pytest.raises(UnknownForm):  # the former municipality's own old form: the person is no longer its
        await d.submit(d.submission(1))
    with pytest.raises(StaleForm):  # the new holder, on the old form: stale
        await d.submit(d.submission(1, municipality=B))
    assert (await d.submit(d.submission(2, municipality=B, address="大阪府大阪市北区1-1"))).municipality_code == B
    assert form_id(2) not in str(d.units.state.access)


async def test_the_list_pages_by_token_through_every_application_once_newest_first() -> None:
    d = Desk()
    refs = []
    for n in range(1, 6):
        await d.form(n, person=n)
        refs.append((await d.submit(d.submission(n))).ref)
        if n != 3:  # two submitted in the same instant: the ref orders them
            d.clock.advance(dt.timedelta(minutes=1))
    seen, token, pages = [], "", 0
    async with d.units() as store:
        while True:
            page, token = await d.service.applications.list(store, muni(A), A, None, 2, token)
            seen += [a.ref for a in page]
            pages += 1
            if not token:
                break
        # Another municipality's page, with A's token: nothing of A's.
        _, mid = await d.service.applications.list(store, muni(A), A, None, 2)
        assert await d.service.applications.list(store, muni(B), B, None, 2, mid) == ([], "")
    assert pages == 3 and len(seen) == 5 and set(seen) == set(refs)
    # Newest first; the two of one instant (3rd and 4th) by ref.
    assert seen[0] == refs[4] and seen[1:3] == sorted(refs[2:4]) and seen[3:] == [refs[1], refs[0]]


@pytest.mark.parametrize("token", ["x", "bm90IGEgdG9rZW4", "MjAxNi0wMi0wMVQxMDowMDowMHwx", "%%%"])
async def test_a_page_token_not_issued_here_is_refused_naming_the_field(token: str) -> None:
    d = Desk()
    async with d.units() as store:
        with pytest.raises(InvalidArgument) as e:
            await d.service.applications.list(store, muni(A), A, None, 2, token)
    assert e.value.message.startswith("page_token: ") and token not in e.value.message
