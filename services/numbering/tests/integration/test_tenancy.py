"""Tenancy: a municipality reaches only the people its register holds, and "not yours" looks like "unknown".

Every refusal here is compared with the refusal of a case that reveals nothing (an unknown code, a retired code):
same status code, same reason, same message. Issue 9: AssignNumber used to hand another municipality's resident's
number back as "already assigned", and ChangeNumber answered "registered in another municipality".
"""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber_runtime.grpc_server import error_reason
from numbering.models import access_log, numbers, outbox

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY
from .test_numbering_api import new_code, req

OWN = f"municipality:{MUNICIPALITY}"
OTHER = f"municipality:{OTHER_MUNICIPALITY}"


def refusal(e: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str | None, str]:
    return e.code(), error_reason(e), e.details()


async def refused(call) -> tuple[grpc.StatusCode, str | None, str]:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    return refusal(e.value)


async def others_resident(numbering) -> tuple[str, str]:
    """A resident of OTHER_MUNICIPALITY's register, with their number."""
    code = new_code()
    number = (await numbering.stub(OTHER).AssignNumber(req(code, OTHER_MUNICIPALITY))).individual_number
    return code, number


async def retired_code(numbering) -> str:
    """A 住民票コード of our own register that was replaced by a newer one."""
    old = new_code()
    await numbering.stub(OWN).AssignNumber(req(old))
    await numbering.stub(OWN).ChangeResidentCode(pb.ChangeResidentCodeRequest(
        municipality_code=MUNICIPALITY, old_resident_code=old, new_resident_code=new_code()))
    return old


async def state(db) -> tuple[int, int, list[str]]:
    async with db.connect() as conn:
        n = (await conn.execute(sa.select(sa.func.count()).select_from(numbers))).scalar_one()
        o = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()
        holders = [r[0] for r in await conn.execute(sa.select(numbers.c.municipality_code).order_by(
            numbers.c.number_hash))]
    return n, o, holders


async def test_assign_for_another_municipalitys_resident_reveals_nothing(numbering, db):
    code, number = await others_resident(numbering)
    retired = await retired_code(numbering)
    before = await state(db)
    theirs = await refused(numbering.stub(OWN).AssignNumber(req(code)))
    assert number not in theirs[2] and code not in theirs[2]
    # Exactly the refusal of a code nobody can number (a retired one): nothing tells the two apart.
    assert theirs == await refused(numbering.stub(OWN).AssignNumber(req(retired)))
    assert theirs[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert await state(db) == before  # no row, no event, no change of holder


async def test_bulk_assign_for_another_municipalitys_residents_reveals_nothing(numbering, db):
    code, number = await others_resident(numbering)
    retired = await retired_code(numbering)
    fresh = new_code()

    async def chunk():
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=[code, retired, fresh])

    (resp,) = [r async for r in numbering.stub(OWN).AssignNumbers(chunk())]
    assert resp.individual_numbers[0] == resp.individual_numbers[1] == "" and resp.individual_numbers[2]
    assert number not in resp.individual_numbers
    theirs, retired_error = sorted(resp.errors, key=lambda e: e.index)
    assert (theirs.index, retired_error.index) == (0, 1)
    assert (theirs.reason, theirs.field, theirs.message) == (retired_error.reason, retired_error.field,
                                                             retired_error.message)
    assert resp.progress.failed == 2 and resp.progress.already_assigned == 0
    # The other register still holds its resident.
    assert (await numbering.stub(OTHER).LookupNumber(pb.LookupNumberRequest(
        municipality_code=OTHER_MUNICIPALITY, resident_code=code))).individual_number == number


async def test_change_number_for_another_municipalitys_resident_looks_like_an_unknown_code(numbering, db):
    code, number = await others_resident(numbering)
    before = await state(db)

    def change(c: str):
        return numbering.stub(OWN).ChangeNumber(pb.ChangeNumberRequest(
            municipality_code=MUNICIPALITY, resident_code=c, reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST))

    theirs = await refused(change(code))
    assert theirs == await refused(change(new_code()))
    assert theirs[0] == grpc.StatusCode.NOT_FOUND
    assert await state(db) == before
    assert (await numbering.stub(OTHER).LookupNumber(pb.LookupNumberRequest(
        municipality_code=OTHER_MUNICIPALITY, resident_code=code))).individual_number == number


async def test_change_resident_code_for_another_municipalitys_resident_looks_like_an_unknown_code(numbering, db):
    code, _ = await others_resident(numbering)
    before = await state(db)

    def change(c: str):
        return numbering.stub(OWN).ChangeResidentCode(pb.ChangeResidentCodeRequest(
            municipality_code=MUNICIPALITY, old_resident_code=c, new_resident_code=new_code()))

    assert await refused(change(code)) == await refused(change(new_code()))
    assert await state(db) == before


@pytest.mark.parametrize("method", ["LookupNumber", "ListNumberHistory"])
async def test_reading_another_municipalitys_resident_looks_like_an_unknown_code(numbering, method):
    code, _ = await others_resident(numbering)
    request = (pb.LookupNumberRequest if method == "LookupNumber" else pb.ListNumberHistoryRequest)
    call = getattr(numbering.stub(OWN), method)
    theirs = await refused(call(request(municipality_code=MUNICIPALITY, resident_code=code)))
    assert theirs == await refused(call(request(municipality_code=MUNICIPALITY, resident_code=new_code())))
    assert theirs[0] == grpc.StatusCode.NOT_FOUND


async def access_entries(db, action: str) -> list[tuple[str, str, dict]]:
    async with db.connect() as conn:
        return [(r.actor, r.action, r.details) for r in await conn.execute(
            sa.select(access_log.c.actor, access_log.c.action, access_log.c.details)
            .where(access_log.c.action.like(f"{action}%")).order_by(access_log.c.seq))]


async def test_an_assignment_attempt_for_another_municipalitys_resident_is_in_the_access_log(numbering, db):
    code, _ = await others_resident(numbering)
    before = await access_entries(db, "number.assign")
    await refused(numbering.stub(OWN).AssignNumber(req(code)))
    after = await access_entries(db, "number.assign")
    assert after[len(before):] == [(OWN, "number.assign.refused", {"basis": "none"})]


async def test_every_grant_is_logged_with_its_basis(numbering, db):
    code = new_code()
    before = len(await access_entries(db, ""))
    await numbering.stub(OWN).AssignNumber(req(code))
    await numbering.stub(OWN).LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                                  resident_code=code))
    await numbering.stub("operator:sre-tanaka").LookupNumber(pb.LookupNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code))
    entries = (await access_entries(db, ""))[before:]
    assert [(a, act, d.get("basis")) for a, act, d in entries] == [
        (OWN, "number.assign", "own_register"),
        (OWN, "number.lookup", "own_register"),
        ("operator:sre-tanaka", "number.lookup", "operator"),
    ]


async def test_an_operator_acts_for_the_municipality_it_names_and_no_other(numbering):
    code, number = await others_resident(numbering)
    operator = numbering.stub("operator:sre-tanaka")
    ok = await operator.LookupNumber(pb.LookupNumberRequest(municipality_code=OTHER_MUNICIPALITY,
                                                            resident_code=code))
    assert ok.individual_number == number
    wrong = await refused(operator.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                                       resident_code=code)))
    assert wrong == await refused(operator.LookupNumber(pb.LookupNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=new_code())))


NEIGHBOUR = "131024"  # 中央区: the same prefecture (東京都) as MUNICIPALITY


def provision(code: str, *, caller_municipality: str = NEIGHBOUR, case: str = "case-7") -> pb.LookupNumberRequest:
    return pb.LookupNumberRequest(municipality_code=caller_municipality, resident_code=code,
                                  basis=pb.LOOKUP_BASIS_SAME_PREFECTURE, case_reference=case)


async def test_same_prefecture_provision_is_granted_only_when_named_and_is_logged_with_its_case(numbering, db):
    code = new_code()
    number = (await numbering.stub(OWN).AssignNumber(req(code))).individual_number
    neighbour = numbering.stub(f"municipality:{NEIGHBOUR}")
    # Without naming 住基法 第30条の10 a neighbour is refused like anyone else...
    plain = await refused(neighbour.LookupNumber(pb.LookupNumberRequest(municipality_code=NEIGHBOUR,
                                                                        resident_code=code)))
    assert plain == await refused(neighbour.LookupNumber(pb.LookupNumberRequest(
        municipality_code=NEIGHBOUR, resident_code=new_code())))
    # ...naming it and a case, the number is provided and the access log says on what basis, for which case.
    before = len(await access_entries(db, "number.lookup"))
    assert (await neighbour.LookupNumber(provision(code))).individual_number == number
    entries = (await access_entries(db, "number.lookup"))[before:]
    assert entries == [(f"municipality:{NEIGHBOUR}", "number.lookup",
                        {"basis": "juki_30_10_same_prefecture", "case_reference": "case-7"})]


async def test_same_prefecture_provision_never_reaches_another_prefecture_and_reveals_nothing(numbering):
    code, _ = await others_resident(numbering)  # 大阪市's resident
    neighbour = numbering.stub(f"municipality:{NEIGHBOUR}")
    theirs = await refused(neighbour.LookupNumber(provision(code)))
    assert theirs == await refused(neighbour.LookupNumber(provision(new_code())))
    assert theirs[0] == grpc.StatusCode.NOT_FOUND


async def test_same_prefecture_provision_needs_a_case_and_a_municipality_caller(numbering):
    code = new_code()
    await numbering.stub(OWN).AssignNumber(req(code))
    neighbour = numbering.stub(f"municipality:{NEIGHBOUR}")
    for case in ("", "x" * 33, "ケース1", "a b"):
        status, _, message = await refused(neighbour.LookupNumber(provision(code, case=case)))
        assert status == grpc.StatusCode.INVALID_ARGUMENT and message.startswith("case_reference")
    status, _, message = await refused(numbering.stub(OWN).LookupNumber(pb.LookupNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code, case_reference="case-7")))
    assert status == grpc.StatusCode.INVALID_ARGUMENT and message.startswith("case_reference")
    status, _, _ = await refused(numbering.stub("operator:sre-tanaka").LookupNumber(provision(code)))
    assert status == grpc.StatusCode.PERMISSION_DENIED
    status, _, message = await refused(neighbour.LookupNumber(pb.LookupNumberRequest(
        municipality_code=NEIGHBOUR, resident_code=code, basis=7)))
    assert status == grpc.StatusCode.INVALID_ARGUMENT and message.startswith("basis")
