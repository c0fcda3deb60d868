"""The gateway calls numbering on behalf of the municipality whose certificate it verified (docs/gateway.md): only
`service:gateway` may name one, only a municipality, and the call is then judged exactly as the municipality's."""

from __future__ import annotations

import grpc
import pytest
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber_runtime.identity import ON_BEHALF_KEY, PURPOSE_KEY

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY
from .test_numbering_api import new_code, req

pytestmark = pytest.mark.integration
OWN = f"municipality:{MUNICIPALITY}"


def on_behalf(identity: str) -> tuple[tuple[str, str], ...]:
    return ((ON_BEHALF_KEY, identity),)


async def test_the_gateway_acts_as_the_municipality_it_names(numbering) -> None:
    code = new_code()
    via = await numbering.stub("service:gateway").AssignNumber(req(code), metadata=on_behalf(OWN))
    direct = await numbering.stub(OWN).AssignNumber(req(code))
    assert direct.individual_number == via.individual_number and not direct.newly_assigned


async def test_the_gateway_naming_a_municipality_reaches_only_that_municipalitys_people(numbering) -> None:
    code = new_code()
    await numbering.stub(OWN).AssignNumber(req(code))
    other = f"municipality:{OTHER_MUNICIPALITY}"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("service:gateway").LookupNumber(
            pb_lookup(code, OTHER_MUNICIPALITY), metadata=on_behalf(other))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def pb_lookup(code: str, municipality: str) -> pb.LookupNumberRequest:
    return pb.LookupNumberRequest(municipality_code=municipality, resident_code=code)


async def test_the_gateway_without_a_named_municipality_is_refused(numbering) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("service:gateway").AssignNumber(req(new_code()))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_gateway_may_not_act_for_an_operator(numbering) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("service:gateway").AssignNumber(req(new_code()), metadata=on_behalf("operator:x"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("identity", ["service:notice", "store-terminal:7-11-000123"])
async def test_anyone_else_naming_a_municipality_is_still_themselves(numbering, identity: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub(identity).AssignNumber(req(new_code()), metadata=on_behalf(OWN))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_municipality_naming_another_is_still_itself(numbering) -> None:
    code = new_code()
    await numbering.stub(f"municipality:{OTHER_MUNICIPALITY}").AssignNumber(req(code, OTHER_MUNICIPALITY))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub(OWN).LookupNumber(pb_lookup(code, OTHER_MUNICIPALITY),
                                               metadata=on_behalf(f"municipality:{OTHER_MUNICIPALITY}"))
    # Its own identity (131016) asking for 271004's register: refused at the edge, not admitted as 271004.
    assert e.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND,
                              grpc.StatusCode.INVALID_ARGUMENT)


async def test_the_gateway_naming_two_callers_is_refused(numbering) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("service:gateway").AssignNumber(
            req(new_code()), metadata=(*on_behalf(OWN), *on_behalf(f"municipality:{OTHER_MUNICIPALITY}")))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_gateway_acts_for_no_one_on_the_sector_code_service(numbering) -> None:
    from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc

    stub = pb_grpc.SectorCodeServiceStub(numbering.channel("service:gateway"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.IssueSectorCode(pb.IssueSectorCodeRequest(agency_code="AG-01", individual_number="123456789018"),
                                   metadata=on_behalf("service:linkage"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def latest_entry(db: object, action: str) -> dict[str, object]:
    import sqlalchemy as sa
    from numbering.models import access_log
    async with db.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(sa.select(access_log.c.details).where(access_log.c.action == action)
                                  .order_by(access_log.c.seq.desc()).limit(1))).one()
    return dict(row.details)


async def test_the_purpose_the_gateway_declares_is_in_the_access_record(numbering, db) -> None:
    code = new_code()
    await numbering.stub(OWN).AssignNumber(req(code))
    await numbering.stub("service:gateway").LookupNumber(
        pb_lookup(code, MUNICIPALITY), metadata=(*on_behalf(OWN), (PURPOSE_KEY, "b1-kokuho")))
    assert (await latest_entry(db, "number.lookup"))["purpose_of_use"] == "b1-kokuho"


async def test_a_purpose_named_by_anyone_but_a_delegate_is_not_recorded(numbering, db) -> None:
    code = new_code()
    await numbering.stub(OWN).AssignNumber(req(code))
    await numbering.stub(OWN).LookupNumber(pb_lookup(code, MUNICIPALITY), metadata=((PURPOSE_KEY, "b1-kokuho"),))
    assert "purpose_of_use" not in await latest_entry(db, "number.lookup")


@pytest.mark.parametrize("purposes", [("b1-kokuho", "b1-kaigo"), ("Not A Code",), ("x" * 65,)])
async def test_a_delegate_declaring_more_than_one_purpose_or_a_malformed_one_is_refused(numbering, purposes) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("service:gateway").LookupNumber(
            pb_lookup(new_code(), MUNICIPALITY), metadata=(*on_behalf(OWN), *((PURPOSE_KEY, p) for p in purposes)))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED and purposes[0] not in (e.value.details() or "")
