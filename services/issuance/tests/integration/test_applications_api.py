"""Applications through the real gRPC server, PostgreSQL and NATS: notice's form.issued teaches the 申請書ID, a
counter application on it is accepted and announced, and every refusal names the field and the rule."""

from __future__ import annotations

import asyncio
import datetime as dt

import grpc
import nats
import pytest
from mynumber.issuance.v1 import events_pb2 as ev
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.streams import stream_name
from mynumber_runtime.testing.identities import nats_connect

from .conftest import ADDRESS, MUNICIPALITY, OTHER_MUNICIPALITY, PHOTO, applicant, jpeg, new_form_id, request

pytestmark = pytest.mark.integration


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call  # type: ignore[misc]
    return e.value


async def issuance_events(nats_url: str, ref: str) -> list[str]:
    nc = await nats_connect("operator", nats_url)
    sub = await nc.jetstream().pull_subscribe("mynumber.issuance.v1.application.>", stream=stream_name("issuance"))
    seen: list[str] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(500, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return seen
            for m in msgs:
                if ev.ApplicationChanged.FromString(m.data).application_ref == ref:
                    seen.append(m.subject.rsplit(".", 1)[-1])
    finally:
        await sub.unsubscribe()
        await nc.close()


async def wait_events(nats_url: str, ref: str, want: list[str]) -> list[str]:
    for _ in range(100):  # the relay publishes after commit: wait for the condition, bounded
        got = await issuance_events(nats_url, ref)
        if got == want:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"events {want} not published for the application (got {got})")


async def test_a_counter_application_is_accepted_shown_listed_and_announced(issuance) -> None:
    form_id, _ = await issuance.known_form()
    r = await issuance.stub().SubmitApplication(request(form_id))
    app = r.application
    assert app.state == pb.APPLICATION_STATE_ACCEPTED and app.municipality_code == MUNICIPALITY
    assert (app.photo_width, app.photo_height) == (600, 800) and len(app.application_ref) == 32
    got = await issuance.stub().GetApplication(pb.GetApplicationRequest(
        municipality_code=MUNICIPALITY, application_ref=app.application_ref))
    assert got.application == app and [h.state for h in got.history] == [pb.APPLICATION_STATE_ACCEPTED]
    listed = await issuance.stub().ListApplications(pb.ListApplicationsRequest(
        municipality_code=MUNICIPALITY, state=pb.APPLICATION_STATE_ACCEPTED))
    assert app.application_ref in [a.application_ref for a in listed.applications]
    assert await wait_events(issuance.nats_url, app.application_ref, ["accepted"]) == ["accepted"]


async def test_the_intake_submits_a_mailed_form_for_the_municipality_that_holds_it(issuance) -> None:
    form_id, _ = await issuance.known_form()
    r = await issuance.stub("operator:intake").SubmitApplication(request(
        form_id, channel=pb.CHANNEL_MAIL, handover_method=pb.HANDOVER_METHOD_AT_COLLECTION))
    assert r.application.channel == pb.CHANNEL_MAIL
    # A municipality's own identity cannot submit a mailed form (it goes to J-LIS's intake).
    form_id, _ = await issuance.known_form()
    e = await refused(issuance.stub().SubmitApplication(request(
        form_id, channel=pb.CHANNEL_MAIL, handover_method=pb.HANDOVER_METHOD_AT_COLLECTION)))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED and error_reason(e) == "CHANNEL_NOT_ALLOWED"


async def test_an_unknown_form_and_another_municipalitys_form_look_the_same(issuance) -> None:
    theirs, _ = await issuance.known_form(municipality=OTHER_MUNICIPALITY)
    unknown = await refused(issuance.stub().SubmitApplication(request(new_form_id())))
    foreign = await refused(issuance.stub().SubmitApplication(request(theirs)))
    assert (unknown.code(), error_reason(unknown), unknown.details()) == \
        (foreign.code(), error_reason(foreign), foreign.details())
    assert unknown.code() == grpc.StatusCode.NOT_FOUND and theirs not in foreign.details()
    # The holder itself is served.
    r = await issuance.stub(f"municipality:{OTHER_MUNICIPALITY}").SubmitApplication(
        request(theirs, OTHER_MUNICIPALITY))
    assert r.application.municipality_code == OTHER_MUNICIPALITY
    # and another municipality cannot see it, by reference or in its list
    ref = r.application.application_ref
    e = await refused(issuance.stub().GetApplication(pb.GetApplicationRequest(
        municipality_code=MUNICIPALITY, application_ref=ref)))
    e2 = await refused(issuance.stub().GetApplication(pb.GetApplicationRequest(
        municipality_code=MUNICIPALITY, application_ref="0" * 32)))
    assert (e.code(), e.details()) == (e2.code(), e2.details()) == (grpc.StatusCode.NOT_FOUND, e.details())
    mine = await issuance.stub().ListApplications(pb.ListApplicationsRequest(municipality_code=MUNICIPALITY))
    assert ref not in [a.application_ref for a in mine.applications]


async def test_a_form_from_before_a_move_is_stale_and_the_new_one_is_accepted(issuance) -> None:
    old, number = await issuance.known_form()
    new, _ = await issuance.known_form(number=number, address="東京都千代田区丸の内2-2",
                                       at=issuance.clock.now() + dt.timedelta(days=20))
    e = await refused(issuance.stub().SubmitApplication(request(old)))
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION and error_reason(e) == "STALE_FORM"
    e = await refused(issuance.stub().SubmitApplication(request(new)))  # the old address is no longer the person's
    assert error_reason(e) == "STALE_FORM" and e.details().startswith("applicant:")
    r = await issuance.stub().SubmitApplication(request(new, applicant=applicant(address="東京都千代田区丸の内2-2")))
    assert r.application.state == pb.APPLICATION_STATE_ACCEPTED


async def test_a_second_live_application_is_refused_until_the_first_is_withdrawn(issuance) -> None:
    form_id, _ = await issuance.known_form()
    first = (await issuance.stub().SubmitApplication(request(form_id))).application
    e = await refused(issuance.stub().SubmitApplication(request(form_id)))
    assert e.code() == grpc.StatusCode.ALREADY_EXISTS and error_reason(e) == "LIVE_APPLICATION"
    w = await issuance.stub().WithdrawApplication(pb.WithdrawApplicationRequest(
        municipality_code=MUNICIPALITY, application_ref=first.application_ref))
    assert w.application.state == pb.APPLICATION_STATE_WITHDRAWN
    again = (await issuance.stub().SubmitApplication(request(form_id))).application
    assert again.application_ref != first.application_ref
    assert await wait_events(issuance.nats_url, first.application_ref, ["accepted", "withdrawn"])


async def test_concurrent_applications_for_one_person_leave_exactly_one(issuance) -> None:
    form_id, _ = await issuance.known_form()
    results = await asyncio.gather(*(issuance.stub().SubmitApplication(request(form_id)) for _ in range(4)),
                                   return_exceptions=True)
    ok = [r for r in results if isinstance(r, pb.SubmitApplicationResponse)]
    assert len(ok) == 1
    assert all(isinstance(r, grpc.aio.AioRpcError) and error_reason(r) == "LIVE_APPLICATION"
               for r in results if r not in ok)


@pytest.mark.parametrize(("change", "field"), [
    ({"application_id": "123"}, "application_id"), ({"municipality_code": "13101"}, "municipality_code"),
    ({"channel": 99}, "channel"), ({"channel": pb.CHANNEL_UNSPECIFIED}, "channel"),
    ({"handover_method": pb.HANDOVER_METHOD_STAFF_VISIT}, "handover_method"),
    ({"applicant": applicant(name="")}, "applicant.name"), ({"applicant": applicant(sex=7)}, "applicant.sex"),
    ({"applicant": applicant(birth_date="2016-13-01")}, "applicant.birth_date"),
    ({"photo": b"not an image" * 3000}, "photo"), ({"photo": jpeg(400, 500)}, "photo"), ({"photo": b""}, "photo"),
])
async def test_bad_input_is_refused_naming_the_field_and_the_rule_and_echoing_nothing(issuance, change, field
                                                                                       ) -> None:
    form_id, _ = await issuance.known_form()
    req = request(form_id, **change)
    e = await refused(issuance.stub().SubmitApplication(req))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details().startswith(f"{field}:")
    for value in (req.application_id, req.applicant.name, req.applicant.address):
        if len(value) > 3:
            assert value not in e.details()
    assert (await issuance.stub().SubmitApplication(request(form_id))).application.state == \
        pb.APPLICATION_STATE_ACCEPTED  # nothing half-done: the refused request left no trace that blocks


async def test_a_photo_above_the_size_limit_is_refused(issuance) -> None:
    form_id, _ = await issuance.known_form()
    e = await refused(issuance.stub().SubmitApplication(request(form_id, photo=PHOTO + b"\0" * (7 * 1024 * 1024))))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details().startswith("photo:")


@pytest.mark.parametrize("caller", ["store-terminal:0001", "service:notice", "agency:cityhall"])
async def test_a_caller_the_allow_list_does_not_name_reaches_nothing(issuance, caller) -> None:
    form_id, _ = await issuance.known_form()
    e = await refused(issuance.stub(caller).SubmitApplication(request(form_id)))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED and ADDRESS not in e.details()


async def test_an_enum_number_this_version_does_not_know_is_named_as_such_not_as_missing(issuance) -> None:
    form_id, _ = await issuance.known_form()
    unknown = await refused(issuance.stub().SubmitApplication(request(form_id, channel=99)))
    missing = await refused(issuance.stub().SubmitApplication(request(form_id, channel=pb.CHANNEL_UNSPECIFIED)))
    assert unknown.details() == "channel: a Channel value"
    assert missing.details() == "channel: a Channel value is required"
    e = await refused(issuance.stub().SubmitApplication(request(form_id, handover_method=17)))
    assert e.details() == "handover_method: a HandoverMethod value"


async def test_the_list_pages_through_applications_of_one_instant_each_once(issuance) -> None:
    # The clock stands still: every application below has the same submitted_at, so only the ref orders them.
    issuance.clock.advance(dt.timedelta(days=1))
    refs = []
    for _ in range(5):
        form_id, _ = await issuance.known_form()
        refs.append((await issuance.stub().SubmitApplication(request(form_id))).application.application_ref)
    seen: list[str] = []
    token = ""
    for _ in range(10):
        page = await issuance.stub().ListApplications(pb.ListApplicationsRequest(
            municipality_code=MUNICIPALITY, limit=2, page_token=token))
        seen += [a.application_ref for a in page.applications]
        token = page.next_page_token
        if not token:
            break
    assert seen[:5] == sorted(refs) and len(seen) == len(set(seen))
