"""Bad input is refused at the edge (issue 9): notice refuses what numbering refuses, names the field and the rule,
never echoes the value, and never answers INTERNAL."""

from __future__ import annotations

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb

from .conftest import MUNICIPALITY, OPERATOR, new_code

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DOCS = ["application", "identity_copy", "address_proof"]


def wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def member(**kw: object) -> pb.Member:
    return pb.Member(**{"resident_code": new_code(), "name": "試験 太郎", "birth_date": "1980-04-01",
                        "sex": pb.SEX_MALE, **kw})  # type: ignore[arg-type]


def household(**kw: object) -> pb.Household:
    return pb.Household(**{"household_id": "HV1", "address": "東京都千代田区千代田1-1", "postal_code": "1000001",
                           "members": [member()], **kw})  # type: ignore[arg-type]


CASES = [
    ("full-width digits in a 住民票コード", household(members=[member(resident_code=new_code().translate(FULL_WIDTH))]),
     "households[0].members[0].resident_code"),
    ("a 住民票コード with a wrong check digit",
     household(members=[member(resident_code=wrong_check_digit(new_code()))]),
     "households[0].members[0].resident_code"),
    ("full-width digits in a postal code", household(postal_code="1000001".translate(FULL_WIDTH)),
     "households[0].postal_code"),
    ("a megabyte name", household(members=[member(name="長" * 1_000_000)]), "households[0].members[0].name"),
    ("a NUL in a name", household(members=[member(name="試験\x00太郎")]), "households[0].members[0].name"),
    ("a control character in an address", household(address="東京都\x1b[2J千代田区"), "households[0].address"),
    ("a megabyte address", household(address="東" * 1_000_000), "households[0].address"),
    ("a NUL in a household id", household(household_id="H\x00"), "households[0].household_id"),
    ("a megabyte household id", household(household_id="H" * 1_000_000), "households[0].household_id"),
]


@pytest.mark.parametrize(("scenario", "h", "field"), CASES, ids=[c[0] for c in CASES])
async def test_a_mailing_list_with_bad_input_is_refused_naming_the_field(notice, scenario, h, field):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub().SubmitMailingList(pb.SubmitMailingListRequest(municipality_code=MUNICIPALITY,
                                                                          households=[h]), timeout=30)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, scenario
    assert e.value.details().startswith(field + ": ")
    for value in (h.household_id, h.address, h.members[0].resident_code, h.members[0].name):
        assert value not in e.value.details()


@pytest.mark.parametrize("code", ["131017", "139998", "990006", "130001", "１３１０１６", "13101"],
                         ids=["wrong check digit", "no such body", "no such prefecture",
                              "a prefecture keeps no register", "full-width", "short"])
async def test_a_municipality_code_that_names_no_real_municipality_is_refused(notice, code):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(municipality_codes=[code]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith("municipality_codes[0]: ") and code not in e.value.details()


async def test_a_residence_with_full_width_digits_or_a_huge_address_is_refused(notice):
    for req, field in [
        (pb.RegisterResidenceRequest(municipality_code=MUNICIPALITY, resident_code=new_code(),
                                     kind=pb.RESIDENCE_KIND_EVACUEE, address="大阪府", postal_code="５９００００１",
                                     documents=DOCS), "postal_code"),
        (pb.RegisterResidenceRequest(municipality_code=MUNICIPALITY, resident_code=new_code(),
                                     kind=pb.RESIDENCE_KIND_EVACUEE, address="大" * 300_000, postal_code="5900001",
                                     documents=DOCS), "address"),
        (pb.RegisterResidenceRequest(municipality_code=MUNICIPALITY, resident_code=new_code(),
                                     kind=pb.RESIDENCE_KIND_EVACUEE, address="大阪府", postal_code="5900001",
                                     documents=["x" * 100_000]), "documents[0]"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await notice.stub().RegisterResidence(req)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details().startswith(field + ": ")
