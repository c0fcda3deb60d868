"""Tenancy (issue 9): a resident belongs to one municipality at a time; another municipality's list, 居所 or move
never reaches them, and "not yours" answers exactly as "unknown" does."""

from __future__ import annotations

import secrets
from pathlib import Path

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.grpc_server import error_reason
from notice.codes import grouped_number

from .conftest import MUNICIPALITY, OPERATOR, OTHER, START, Person, new_code, new_number

DOCS = ["application", "identity_copy", "address_proof"]
ATTACKER_ADDRESS = "東京都千代田区霞が関9-9-9"


def list_of(municipality: str, people: list[Person], address: str = ATTACKER_ADDRESS, *,
            household_id: str = "") -> pb.SubmitMailingListRequest:
    return pb.SubmitMailingListRequest(municipality_code=municipality, households=[pb.Household(
        household_id=household_id or "H" + secrets.token_hex(6), address=address, postal_code="1000013", members=[
            pb.Member(resident_code=p.resident_code, name=p.name, birth_date="1980-04-01", sex=pb.SEX_FEMALE)
            for p in people])])


def dv(municipality: str, person: Person, place: str) -> pb.RegisterResidenceRequest:
    return pb.RegisterResidenceRequest(municipality_code=municipality, resident_code=person.resident_code,
                                       kind=pb.RESIDENCE_KIND_DV_VICTIM, address=place, postal_code="5900000",
                                       documents=DOCS)


async def refusal(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    return e.value


def same_refusal(a: grpc.aio.AioRpcError, b: grpc.aio.AioRpcError) -> bool:
    return (a.code(), error_reason(a), a.details()) == (b.code(), error_reason(b), b.details())


async def test_a_mailing_list_naming_another_municipalitys_resident_leaves_them_where_they_are(notice):
    notice.clock.set(START)
    hid, (x,) = await notice.household(1, OTHER)  # OTHER's resident, envelope prepared there
    ours = Person(new_code(), new_number(), "自区 一郎")
    r = await notice.stub().SubmitMailingList(list_of(MUNICIPALITY, [x, ours]))
    # The item naming OTHER's resident is refused as unknown; the rest of the list is kept.
    assert r.residents == 1
    assert [(f.household_index, f.member_index, f.reason) for f in r.refused] == [(0, 0, "UNKNOWN_RESIDENT")]
    assert x.resident_code not in str(r)
    # Still OTHER's: the attacker can neither register a 居所 nor resend nor move them.
    assert hid in {m.household_id for m in await notice.mailings(OTHER)}
    e = await refusal(notice.stub().RegisterResidence(dv(MUNICIPALITY, x, "大阪府堺市北区隠れ町1")))
    assert e.code() == grpc.StatusCode.NOT_FOUND and error_reason(e) == "UNKNOWN_RESIDENT"
    e = await refusal(notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                          resident_code=x.resident_code)))
    assert e.code() == grpc.StatusCode.NOT_FOUND and error_reason(e) == "UNKNOWN_RESIDENT"


async def test_another_municipality_can_never_overwrite_a_dv_registration(notice):
    notice.clock.set(START)
    x = Person(new_code(), new_number(), "被害 花子")
    await notice.assign_and_wait(OTHER, [x])
    place = f"大阪府堺市北区隠れ町{secrets.randbelow(10**6)}"
    await notice.stub(f"municipality:{OTHER}").RegisterResidence(dv(OTHER, x, place))
    await notice.stub().SubmitMailingList(list_of(MUNICIPALITY, [x]))
    e = await refusal(notice.stub().RegisterResidence(dv(MUNICIPALITY, x, "東京都千代田区霞が関9-9-9")))
    assert e.code() == grpc.StatusCode.NOT_FOUND and error_reason(e) == "UNKNOWN_RESIDENT"
    got = await notice.stub(f"municipality:{OTHER}").GetResidence(pb.GetResidenceRequest(
        municipality_code=OTHER, resident_code=x.resident_code))
    assert got.address == place and got.kind == pb.RESIDENCE_KIND_DV_VICTIM


async def test_a_dv_victims_card_is_never_exported_in_another_municipalitys_batch(notice):
    notice.clock.set(START)
    x = Person(new_code(), new_number(), "被害 花子")
    await notice.assign_and_wait(OTHER, [x])  # numbered in OTHER; OTHER has not sent its list yet
    await notice.stub(f"municipality:{OTHER}").RegisterResidence(dv(OTHER, x, "大阪府堺市北区隠れ町7"))
    hid = "HA" + secrets.token_hex(6)
    await notice.stub().SubmitMailingList(list_of(MUNICIPALITY, [x], household_id=hid))
    assert hid not in {m.household_id for m in await notice.mailings()}
    await export_has_not(notice, x)


async def export_has_not(notice, x: Person) -> None:
    """Whatever else our next batch holds, x's number is not in it."""
    try:
        batch = await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(
            municipality_codes=[MUNICIPALITY]))
    except grpc.aio.AioRpcError as e:
        assert error_reason(e) == "NOTHING_TO_EXPORT"
        return
    assert grouped_number(x.number) not in Path(batch.path).read_text(encoding="utf-8")


async def test_a_list_sent_before_the_numbers_does_not_claim_another_municipalitys_resident(notice):
    notice.clock.set(START)
    x = Person(new_code(), new_number(), "先取 太郎")
    hid = "HA" + secrets.token_hex(6)
    await notice.stub().SubmitMailingList(list_of(MUNICIPALITY, [x], household_id=hid))  # nobody holds x yet
    await notice.assign_and_wait(OTHER, [x])  # numbering says: OTHER's register holds x
    await notice.stub().SubmitMailingList(list_of(MUNICIPALITY, [Person(new_code(), new_number(), "別人")]))
    assert hid not in {m.household_id for m in await notice.mailings()}
    await export_has_not(notice, x)
    e = await refusal(notice.stub().RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY,
                                                                          resident_code=x.resident_code)))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    # OTHER's own list then mails x, to OTHER's address.
    own = "HOWN" + secrets.token_hex(4)
    r = await notice.stub(f"municipality:{OTHER}").SubmitMailingList(
        list_of(OTHER, [x], address="大阪府大阪市北区梅田1-1", household_id=own))
    assert r.residents == 1 and not r.refused
    assert (await notice.wait_mailing(own, OTHER)).items == 1


async def test_a_service_caller_cannot_read_a_dv_residence(notice):
    notice.clock.set(START)
    _, (p,) = await notice.household(1, residence=dict(kind=pb.RESIDENCE_KIND_DV_VICTIM, address="大阪府堺市1",
                                                       postal_code="5900000", documents=DOCS))
    for caller in ("service:issuance", "service:gateway", "operator:jlis-sre"):
        e = await refusal(notice.stub(caller).GetResidence(pb.GetResidenceRequest(
            municipality_code=MUNICIPALITY, resident_code=p.resident_code)))
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_not_yours_and_unknown_are_refused_alike_by_every_resident_method(notice):
    notice.clock.set(START)
    _, (x,) = await notice.posted_household(1, OTHER, residence=dict(
        kind=pb.RESIDENCE_KIND_DV_VICTIM, address="大阪府堺市2", postal_code="5900000", documents=DOCS))
    stub = notice.stub()
    nobody = new_code()

    def calls(code: str) -> list:
        return [
            stub.RegisterResidence(pb.RegisterResidenceRequest(
                municipality_code=MUNICIPALITY, resident_code=code, kind=pb.RESIDENCE_KIND_EVACUEE,
                address="東京都千代田区1", postal_code="1000001", documents=DOCS)),
            stub.GetResidence(pb.GetResidenceRequest(municipality_code=MUNICIPALITY, resident_code=code)),
            stub.RequestResend(pb.RequestResendRequest(municipality_code=MUNICIPALITY, resident_code=code)),
            stub.RecordMove(pb.RecordMoveRequest(municipality_code=MUNICIPALITY, resident_code=code,
                                                 kind=pb.MOVE_KIND_TENKYO, new_household_id="HX",
                                                 new_address="東京都千代田区2", new_postal_code="1000001")),
            stub.RecordMove(pb.RecordMoveRequest(municipality_code=MUNICIPALITY, resident_code=code,
                                                 kind=pb.MOVE_KIND_TENNYU, new_household_id="HX",
                                                 new_address="東京都千代田区2", new_postal_code="1000001")),
        ]

    for theirs, unknown in zip(calls(x.resident_code), calls(nobody), strict=True):
        a, b = await refusal(theirs), await refusal(unknown)
        assert same_refusal(a, b), (a.details(), b.details())
        assert a.code() == grpc.StatusCode.NOT_FOUND


async def test_a_tennyu_without_the_former_municipalitys_tenshutsu_is_refused_as_unknown(notice):
    notice.clock.set(START)
    m, (x,) = await notice.posted_household(1, OTHER)
    e = await refusal(notice.stub().RecordMove(pb.RecordMoveRequest(
        municipality_code=MUNICIPALITY, resident_code=x.resident_code, kind=pb.MOVE_KIND_TENNYU, new_household_id="HT",
        new_address="東京都千代田区神田3-3", new_postal_code="1010047")))
    assert e.code() == grpc.StatusCode.NOT_FOUND and error_reason(e) == "UNKNOWN_RESIDENT"
    # Still OTHER's: its envelope is untouched and OTHER records its delivery.
    r = await notice.stub(f"municipality:{OTHER}").RecordDelivery(pb.RecordDeliveryRequest(
        municipality_code=OTHER, mailing_id=m.mailing_id, delivered=True))
    assert r.mailing.status == pb.MAILING_STATUS_DELIVERED
