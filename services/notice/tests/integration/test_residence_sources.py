"""Where a 居所 registration comes from (別紙 1/2) and what it carries: the person's application with its three
documents; the exceptions where the municipality registers what it holds (別紙 1 (2) 保有する避難先情報を活用) or has
confirmed with a DV victim (別紙 2 (2) 連絡し、居所情報を確認する), with no document; the DV victim's proof
(ＤＶ等被害者であることを証する書類, ~20887); and the evacuee's consent to share (別紙 1 同意欄, ~19918)."""

from __future__ import annotations

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb

from .conftest import MUNICIPALITY, START
from .test_residence import DOCS, secret_place

EVACUEE, DV = pb.RESIDENCE_KIND_EVACUEE, pb.RESIDENCE_KIND_DV_VICTIM


async def register(notice, code: str, **kw):
    return await notice.stub().RegisterResidence(pb.RegisterResidenceRequest(
        municipality_code=MUNICIPALITY, resident_code=code, address=secret_place(), postal_code="5900000", **kw))


async def read(notice, code: str) -> pb.GetResidenceResponse:
    return await notice.stub().GetResidence(pb.GetResidenceRequest(municipality_code=MUNICIPALITY,
                                                                   resident_code=code))


async def refused(notice, code: str, **kw) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await register(notice, code, **kw)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert code not in e.value.details()  # no personal data in the refusal
    return e.value.details()


@pytest.mark.parametrize(("kind", "source"), [
    (EVACUEE, pb.RESIDENCE_SOURCE_MUNICIPAL_RECORDS),  # 別紙 1 (2) 保有する避難先情報を活用
    (DV, pb.RESIDENCE_SOURCE_CONFIRMED_WITH_PERSON),  # 別紙 2 (2) 住所地市区町村がＤＶ等支援対象者に連絡し確認
])
async def test_別紙_例外_2_the_municipality_registers_what_it_holds_without_documents(notice, kind, source):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    out = await register(notice, p.resident_code, kind=kind, source=source)
    assert out.destination == pb.DESTINATION_RESIDENCE and out.mail_action == pb.MAIL_ACTION_REROUTED
    got = await read(notice, p.resident_code)
    assert (got.kind, got.source, got.sharing_consent) == (kind, source, False)


async def test_別紙_1_the_persons_own_application_still_needs_the_three_documents(notice):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    for source in (pb.RESIDENCE_SOURCE_UNSPECIFIED, pb.RESIDENCE_SOURCE_APPLICATION):
        assert "missing application" in await refused(notice, p.resident_code, kind=EVACUEE, source=source)
    await register(notice, p.resident_code, kind=EVACUEE, documents=DOCS)
    assert (await read(notice, p.resident_code)).source == pb.RESIDENCE_SOURCE_APPLICATION


async def test_each_exception_belongs_to_its_kind(notice):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    assert (await refused(notice, p.resident_code, kind=DV, source=pb.RESIDENCE_SOURCE_MUNICIPAL_RECORDS)
            ).startswith("source:")
    assert (await refused(notice, p.resident_code, kind=EVACUEE, source=pb.RESIDENCE_SOURCE_CONFIRMED_WITH_PERSON)
            ).startswith("source:")


async def test_別紙2_ＤＶ等被害者であることを証する書類_is_a_known_document_of_a_dv_victim(notice):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    assert "dv_proof" in await refused(notice, p.resident_code, kind=EVACUEE, documents=[*DOCS, "dv_proof"])
    out = await register(notice, p.resident_code, kind=DV, documents=[*DOCS, "dv_proof"])
    assert out.destination == pb.DESTINATION_RESIDENCE


async def test_別紙1_同意欄_an_evacuees_consent_to_share_is_kept_and_a_dv_victim_never_gives_one(notice):
    notice.clock.set(START)
    _hid, (p,) = await notice.household(1)
    assert (await refused(notice, p.resident_code, kind=DV, documents=DOCS, sharing_consent=True)
            ).startswith("sharing_consent:")
    await register(notice, p.resident_code, kind=EVACUEE, documents=DOCS, sharing_consent=True)
    assert (await read(notice, p.resident_code)).sharing_consent is True
    await register(notice, p.resident_code, kind=EVACUEE, documents=DOCS)  # re-registered: the latest wins
    assert (await read(notice, p.resident_code)).sharing_consent is False
