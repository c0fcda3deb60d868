"""The numbering service through gRPC, on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import sqlalchemy as sa
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.grpc_server import error_reason
from numbering.models import numbers, outbox
from stdnum.jp import in_

from .clear_text import found
from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY

RULE = ResidentCodeRule()
_bodies = iter(range(1_000_000_000, 2_000_000_000, 7919))


def new_code() -> str:
    return RULE.make(f"{next(_bodies):010d}")


def req(code: str, municipality: str = MUNICIPALITY) -> pb.AssignNumberRequest:
    return pb.AssignNumberRequest(municipality_code=municipality, resident_code=code)


async def rows(db, table=numbers) -> int:
    async with db.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_assign_returns_a_valid_number_and_the_same_one_again(numbering, db):
    stub = numbering.stub()
    code = new_code()
    first = await stub.AssignNumber(req(code))
    again = await stub.AssignNumber(req(code))
    assert in_.is_valid(first.individual_number)
    assert first.newly_assigned and not again.newly_assigned
    assert again.individual_number == first.individual_number
    assert again.assigned_at == first.assigned_at


async def test_concurrent_duplicate_requests_never_give_two_numbers(numbering, db):
    code = new_code()
    before = await rows(db)
    stubs = [numbering.stub() for _ in range(4)]
    answers = await asyncio.gather(*(stubs[i % 4].AssignNumber(req(code)) for i in range(40)))
    assert len({a.individual_number for a in answers}) == 1
    assert sum(a.newly_assigned for a in answers) == 1
    assert await rows(db) == before + 1


@pytest.mark.parametrize(("municipality", "code", "field", "rule"), [
    (MUNICIPALITY, "1234567890", "resident_code", "11 digits"),
    (MUNICIPALITY, "1234567890a", "resident_code", "digits"),
    (MUNICIPALITY, "12345678904", "resident_code", "check digit"),
    ("13101", "12345678903", "municipality_code", "6 digits"),
    ("131017", "12345678903", "municipality_code", "check digit"),
    ("991016", "12345678903", "municipality_code", "prefecture"),
])
async def test_bad_input_is_refused_naming_field_and_rule_and_nothing_is_written(numbering, db, municipality,
                                                                                 code, field, rule):
    before_numbers, before_events = await rows(db), await rows(db, outbox)
    caller = f"municipality:{municipality}"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub(caller).AssignNumber(req(code, municipality))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith(f"{field}:") and rule in e.value.details()
    assert error_reason(e.value) == "INVALID_ARGUMENT"
    assert (await rows(db), await rows(db, outbox)) == (before_numbers, before_events)


async def test_a_municipality_numbers_only_its_own_residents(numbering):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub(f"municipality:{OTHER_MUNICIPALITY}").AssignNumber(req(new_code()))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_store_terminals_and_anonymous_callers_are_refused(numbering):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub("store-terminal:7-11-0001").AssignNumber(req(new_code()))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub(None).AssignNumber(req(new_code()))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE  # no client certificate: the TLS handshake refuses it


async def test_bulk_stream_gives_per_item_results_and_progress(numbering, db):
    codes = [new_code() for _ in range(2500)]
    await numbering.stub().AssignNumber(req(codes[0]))
    events_before = await rows(db, outbox)
    bad_check = codes[7][:-1] + str((int(codes[7][-1]) + 1) % 10)
    chunks = [[*codes[:1000], "123", codes[5]], [*codes[1000:2500], bad_check]]

    async def requests():
        for chunk in chunks:
            yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=chunk)

    responses = [r async for r in numbering.stub().AssignNumbers(requests())]
    assert [r.first_index for r in responses] == [0, 1002]
    numbers = [n for r in responses for n in r.individual_numbers]
    new = [b for r in responses for b in r.newly_assigned]
    errors = {e.index: e for r in responses for e in r.errors}
    assert len(numbers) == len(new) == 2503
    assert responses[-1].progress == pb.BulkProgress(received=2503, assigned=2499, already_assigned=2, failed=2)
    assert set(errors) == {1000, 2502}
    assert errors[1000].field == "resident_code" and "11 digits" in errors[1000].message
    assert errors[2502].reason == "INVALID_ARGUMENT" and "check digit" in errors[2502].message
    assert numbers[1000] == numbers[2502] == ""
    assert numbers[1001] == numbers[5] and not new[1001]  # a repeat inside the stream
    assert not new[0]  # numbered before the stream
    assert all(in_.is_valid(n) for k, n in enumerate(numbers) if k not in errors)
    assert len({n for n in numbers if n}) == 2500
    singles = await asyncio.gather(*(numbering.stub().LookupNumber(pb.LookupNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=codes[i])) for i in (0, 999, 1700)))
    assert [s.individual_number for s in singles] == [numbers[i] for i in (0, 999, 1702)]
    assert await rows(db, outbox) == events_before + 2  # one event per chunk


async def test_a_bulk_rerun_returns_the_same_numbers_and_issues_nothing_new(numbering, db):
    codes = [new_code() for _ in range(300)]

    async def requests():
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=codes)

    first = [r async for r in numbering.stub().AssignNumbers(requests())]
    before = (await rows(db), await rows(db, outbox))
    again = [r async for r in numbering.stub().AssignNumbers(requests())]
    assert list(again[0].individual_numbers) == list(first[0].individual_numbers)
    assert not any(again[0].newly_assigned)
    assert (await rows(db), await rows(db, outbox)) == before


async def test_a_bulk_chunk_of_another_municipality_is_refused_item_by_item(numbering, db):
    before = await rows(db)

    async def requests():
        yield pb.AssignNumbersRequest(municipality_code=OTHER_MUNICIPALITY, resident_codes=[new_code(), new_code()])

    (resp,) = [r async for r in numbering.stub().AssignNumbers(requests())]
    assert [e.reason for e in resp.errors] == ["PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert await rows(db) == before


async def test_an_oversized_bulk_message_is_refused(numbering):
    async def requests():
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=[
            new_code() for _ in range(numbering.settings.bulk_chunk_limit + 1)])

    with pytest.raises(grpc.aio.AioRpcError) as e:
        _ = [r async for r in numbering.stub().AssignNumbers(requests())]
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "resident_codes" in e.value.details()


async def test_change_after_a_leak_retires_the_old_number_for_good(numbering, db):
    stub = numbering.stub()
    code = new_code()
    old = (await stub.AssignNumber(req(code))).individual_number
    changed = await stub.ChangeNumber(pb.ChangeNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code, reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST,
        reason_detail="case 2015-123"))
    assert in_.is_valid(changed.individual_number) and changed.individual_number != old
    # Assigning again gives the current number, never the retired one.
    assert (await stub.AssignNumber(req(code))).individual_number == changed.individual_number
    history = await stub.ListNumberHistory(pb.ListNumberHistoryRequest(municipality_code=MUNICIPALITY,
                                                                       resident_code=code))
    assert [(r.individual_number, r.status) for r in history.records] == [
        (changed.individual_number, pb.NUMBER_STATUS_ACTIVE), (old, pb.NUMBER_STATUS_RETIRED)]
    assert history.records[0].issuing_region == numbering.settings.region_digit
    assert history.records[1].retired_reason == pb.CHANGE_REASON_LEAKED_ON_REQUEST
    # A second change retires the second number too; all three stay in the registry.
    third = await stub.ChangeNumber(pb.ChangeNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code, reason=pb.CHANGE_REASON_LEAKED_EX_OFFICIO))
    history = await stub.ListNumberHistory(pb.ListNumberHistoryRequest(municipality_code=MUNICIPALITY,
                                                                       resident_code=code))
    assert [r.individual_number for r in history.records] == [third.individual_number, changed.individual_number,
                                                              old]


@pytest.mark.parametrize(("reason", "detail", "field"), [
    (pb.CHANGE_REASON_UNSPECIFIED, "", "reason"),
    (pb.CHANGE_REASON_LEAKED_ON_REQUEST, "number 123456789018 leaked", "reason_detail"),
])
async def test_a_change_needs_a_reason_and_no_personal_data_in_the_detail(numbering, reason, detail, field):
    stub = numbering.stub()
    code = new_code()
    await stub.AssignNumber(req(code))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.ChangeNumber(pb.ChangeNumberRequest(municipality_code=MUNICIPALITY, resident_code=code,
                                                       reason=reason, reason_detail=detail))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details().startswith(field)
    assert "123456789018" not in e.value.details()


async def test_change_of_a_resident_code_keeps_the_number_and_retires_the_code(numbering):
    stub = numbering.stub()
    old_code, new = new_code(), new_code()
    number = (await stub.AssignNumber(req(old_code))).individual_number
    kept = await stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(
        municipality_code=MUNICIPALITY, old_resident_code=old_code, new_resident_code=new))
    assert kept.individual_number == number
    assert (await stub.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                           resident_code=new))).individual_number == number
    assert (await stub.AssignNumber(req(new))).individual_number == number
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.AssignNumber(req(old_code))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(e.value) == "RESIDENT_CODE_UNAVAILABLE"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(
            municipality_code=MUNICIPALITY, old_resident_code=new, new_resident_code=old_code))
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_lookup_of_an_unknown_resident_is_not_found(numbering):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await numbering.stub().LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                                   resident_code=new_code()))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and error_reason(e.value) == "NO_NUMBER"


async def test_sector_codes_come_only_from_the_linkage_network_and_differ_per_agency(numbering):
    number = (await numbering.stub().AssignNumber(req(new_code()))).individual_number
    linkage = pb_grpc.SectorCodeServiceStub(numbering.channel("service:linkage"))
    a = await linkage.IssueSectorCode(pb.IssueSectorCodeRequest(agency_code="AG-01", individual_number=number))
    b = await linkage.IssueSectorCode(pb.IssueSectorCodeRequest(agency_code="AG-02", individual_number=number))
    assert a.sector_code != b.sector_code and len(a.sector_code) == 32
    # Allow-listed by identity: another platform service, an agency or a municipality never reaches it.
    for caller in ("service:notice", "agency:AG-01", f"municipality:{MUNICIPALITY}"):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await pb_grpc.SectorCodeServiceStub(numbering.channel(caller)).IssueSectorCode(
                pb.IssueSectorCodeRequest(agency_code="AG-01", individual_number=number))
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, caller
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await linkage.IssueSectorCode(pb.IssueSectorCodeRequest(agency_code="AG-01",
                                                                individual_number="123456789018"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_registry_stores_no_number_or_code_in_clear(numbering, db):
    """One person through every path that writes (assignment, bulk, change of number, change of 住民票コード, 転出
    and 転入, a refusal), then every table of the numbering schema, as text (bytea as hex), searched for every
    number and code in every form."""
    stub, other = numbering.stub(), numbering.stub(f"municipality:{OTHER_MUNICIPALITY}")
    code, bulk_code, new_code_ = new_code(), new_code(), new_code()
    first = (await stub.AssignNumber(req(code))).individual_number

    async def chunk():
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=[bulk_code])

    (bulk_number,) = [n async for r in stub.AssignNumbers(chunk()) for n in r.individual_numbers]
    changed = (await stub.ChangeNumber(pb.ChangeNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code, reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST,
        reason_detail="seen on a notice board"))).individual_number
    await stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(municipality_code=MUNICIPALITY,
                                                               old_resident_code=code, new_resident_code=new_code_))
    await stub.RecordMoveOut(pb.RecordMoveOutRequest(municipality_code=MUNICIPALITY, resident_code=new_code_,
                                                     destination_municipality_code=OTHER_MUNICIPALITY))
    await other.RecordMoveIn(pb.RecordMoveInRequest(municipality_code=OTHER_MUNICIPALITY, resident_code=new_code_))
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY, resident_code=new_code_))
    secrets = [first, bulk_number, changed, code, bulk_code, new_code_]
    async with db.connect() as conn:
        tables = [t for (t,) in await conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'numbering' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"))]
        dumps = {t: (await conn.execute(sa.text(
            f'SELECT coalesce(string_agg(t::text, E\'\\n\'), \'\') FROM numbering."{t}" t'))).scalar_one()
            for t in tables}
    # Anchors: the schema's tables were all found, and the ones this person's acts wrote hold rows.
    assert {"numbers", "resident_code_changes", "moves", "outbox", "access_log", "data_keys"} <= set(tables)
    assert all(dumps[t] for t in ("numbers", "resident_code_changes", "moves", "outbox", "access_log"))
    assert {t: found(d, secrets) for t, d in dumps.items() if found(d, secrets)} == {}


async def test_health_reports_serving_with_real_checks(numbering):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(numbering.channel())
    r = await stub.Check(health_pb2.HealthCheckRequest(service="mynumber.numbering.v1.NumberingService"))
    assert r.status == health_pb2.HealthCheckResponse.SERVING
