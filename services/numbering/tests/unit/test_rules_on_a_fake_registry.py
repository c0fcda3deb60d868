"""The rules of 付番 on an in-memory registry (no server, no database): tenancy, assignment, number changes,
and the boundary's handling of a refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis
from numbering.errors import NoNumber, NoPendingMove, NumberCollision, ResidentCodeUnavailable
from numbering.grpc_api import NumberingServicer
from numbering.records import ACTIVE, RETIRED, NumberRow
from numbering.service import BulkTotals, NumberingService, Refused

from .fakes import FakeUnits, State
from .test_numbers import service

RULE = ResidentCodeRule()
A, B, C = "131016", "271004", "011002"  # 千代田区, 大阪市, 札幌市
LEAKED_ON_REQUEST, LEAKED_EX_OFFICIO = 1, 2


def muni(code: str) -> Caller:
    return Caller("municipality", code)


def code(body: int) -> str:
    return RULE.make(f"{body:010d}")


@pytest.fixture
def s() -> NumberingService:
    return service(3)


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


async def refusal_of(work) -> Refused:
    with pytest.raises(Refused) as e:
        await work
    return e.value


# --- tenancy -------------------------------------------------------------------------------------------------

async def test_another_registers_person_looks_exactly_like_an_unknown_code(s, units):
    held, unknown = code(1), code(2)
    async with units() as store:
        await s.assign(store, muni(A), A, held)
    outcomes = []
    for resident in (held, unknown):
        async with units() as store:
            calls = [
                s.lookup(store, muni(B), B, resident),
                s.history(store, muni(B), B, resident),
                s.change_number(store, muni(B), B, resident, LEAKED_ON_REQUEST, ""),
                s.record_move_out(store, muni(B), B, resident, C),
                s.record_move_in(store, muni(B), B, resident),
            ]
            refusals = [await refusal_of(c) for c in calls]
        outcomes.append(([(type(r.error), r.error.reason, r.error.message, r.action) for r in refusals],
                         store.reads))
    assert outcomes[0] == outcomes[1]  # same errors, same actions, after the same number of reads
    assert all(t is NoNumber for t, *_ in outcomes[0][0])


async def test_assigning_another_registers_person_is_refused_like_a_retired_code(s, units):
    held, old, new = code(10), code(11), code(12)
    async with units() as store:
        await s.assign(store, muni(A), A, held)
        await s.assign(store, muni(B), B, old)
        await s.change_resident_code(store, muni(B), B, old, new)
    async with units() as store:
        other = await refusal_of(s.assign(store, muni(B), B, held))
        retired = await refusal_of(s.assign(store, muni(B), B, old))
    assert isinstance(other.error, ResidentCodeUnavailable)
    assert (type(other.error), other.error.message) == (type(retired.error), retired.error.message)


async def test_a_refusal_leaves_nothing_of_the_request_and_is_recorded_in_a_unit_of_its_own(s, units):
    resident = code(20)
    async with units() as store:
        await s.assign(store, muni(A), A, resident)
    before = len(units.state.access)
    boundary = NumberingServicer(s, units)
    with pytest.raises(NoNumber):  # the caller gets the domain error, not the internal Refused
        async with boundary.unit(muni(B)) as store:
            await store.record_access(at=s.clock.now(), actor="x", action="written before", subject_ref="-",
                                      purpose="-", details={})
            await s.lookup(store, muni(B), B, resident)
    recorded = units.state.access[before:]
    assert [(e["action"], e["basis"], e["actor"]) for e in recorded] == [
        ("number.lookup.refused", "none", str(muni(B)))]  # the request's own write was rolled back


async def test_the_move_in_transfers_the_holding_to_the_destination(s, units):
    resident = code(30)
    async with units() as store:
        number = (await s.assign(store, muni(A), A, resident)).individual_number
        await s.record_move_out(store, muni(A), A, resident, B)
    async with units() as store:
        # Before the 転入 the destination reads nothing, and a third municipality cannot record it.
        await refusal_of(s.lookup(store, muni(B), B, resident))
        await refusal_of(s.record_move_in(store, muni(C), C, resident))
        with pytest.raises(NoPendingMove):  # the holder is admitted only to be told there is no 転入 to record
            await s.record_move_in(store, muni(A), A, resident)
    async with units() as store:
        moved = await s.record_move_in(store, muni(B), B, resident)
    assert moved.individual_number == number  # the number follows the person
    async with units() as store:
        assert (await s.lookup(store, muni(B), B, resident)).individual_number == number
        gone = await refusal_of(s.lookup(store, muni(A), A, resident))
        unknown = await refusal_of(s.lookup(store, muni(A), A, code(31)))
    assert gone.error.message == unknown.error.message  # the former holder now sees "unknown"
    assert [subject for subject, _ in units.state.events][-1].endswith("number.moved")


async def test_an_operator_acts_only_through_the_municipality_that_holds_the_person(s, units):
    resident = code(40)
    operator = Caller("operator", "sre")
    async with units() as store:
        await s.assign(store, muni(A), A, resident)
    async with units() as store:
        assert (await s.lookup(store, operator, A, resident)).individual_number
        await refusal_of(s.lookup(store, operator, B, resident))
    assert units.state.access[-1]["basis"] == Basis.OPERATOR.value


# --- assignment ----------------------------------------------------------------------------------------------

async def test_reassigning_returns_the_same_number_and_writes_no_second_number_or_event(s, units):
    resident = code(50)
    async with units() as store:
        first = await s.assign(store, muni(A), A, resident)
    s.clock.advance(dt.timedelta(days=1))
    async with units() as store:
        again = await s.assign(store, muni(A), A, resident)
    assert (first.newly_assigned, again.newly_assigned) == (True, False)
    assert again.individual_number == first.individual_number and again.assigned_at == first.assigned_at
    assert len(units.state.numbers) == 1 and len(units.state.events) == 1
    assert [e["action"] for e in units.state.access] == ["number.assign", "number.assign.repeat"]


async def test_a_concurrent_assignment_that_committed_first_is_returned_as_already_assigned(s, units):
    resident = code(60)

    def concurrent(state: State, row: NumberRow) -> None:  # the same request, committed by another connection
        if row.number_hash not in state.numbers:
            state.numbers[row.number_hash] = row

    units.on_insert = concurrent
    async with units() as store:
        a = await s.assign(store, muni(A), A, resident)
    assert not a.newly_assigned and a.individual_number == s.first_numbers([resident])[0]
    assert units.state.events == []  # the other request announced it


async def test_a_number_that_collides_with_another_persons_is_refused_and_nothing_is_written(s, units):
    resident = code(70)
    number = s.first_numbers([resident])[0]
    taken = NumberRow(s.keys.lookup(number.encode()), b"other person....", b"", B, RETIRED, 0, s.clock.now(),
                      retired_at=s.clock.now(), retired_reason=1)
    units.state.numbers[taken.number_hash] = taken
    with pytest.raises(NumberCollision):
        async with units() as store:
            await s.assign(store, muni(A), A, resident)
    assert list(units.state.numbers.values()) == [taken] and units.state.events == []


# --- number change -------------------------------------------------------------------------------------------

async def test_a_change_retires_the_old_number_with_its_reason_and_issues_one_of_this_region(s, units):
    resident = code(80)
    async with units() as store:
        old = (await s.assign(store, muni(A), A, resident)).individual_number
    async with units() as store:
        new = await s.change_number(store, muni(A), A, resident, LEAKED_EX_OFFICIO, "found on a web page")
    assert new.newly_assigned and new.individual_number not in (old, "")
    assert new.individual_number == s.changed_numbers([1])[0]  # FF1(region 3 || counter 1)
    rows = {r.number_hash: r for r in units.state.numbers.values()}
    retired = rows[s.keys.lookup(old.encode())]
    current = rows[s.keys.lookup(new.individual_number.encode())]
    assert (retired.status, retired.retired_reason, retired.retired_at) == (RETIRED, LEAKED_EX_OFFICIO, new.assigned_at)
    assert (current.status, current.region, current.previous_hash) == (ACTIVE, 3, retired.number_hash)
    async with units() as store:
        history = await s.history(store, muni(A), A, resident)
        assert [(h.individual_number, h.status) for h in history] == [(new.individual_number, ACTIVE), (old, RETIRED)]
        assert (await s.lookup(store, muni(A), A, resident)).individual_number == new.individual_number
        with pytest.raises(NoNumber):  # the old number reaches no one any more
            await s.sector_code(store, Caller("service", "linkage"), "AG-1", old)
        assert await s.sector_code(store, Caller("service", "linkage"), "AG-1", new.individual_number)
    (changed,) = [e for e in units.state.access if e["action"] == "number.change"]
    assert (changed["reason"], changed["detail"]) == (LEAKED_EX_OFFICIO, "found on a web page")


@pytest.mark.parametrize(("reason", "detail", "field"), [
    (0, "", "reason"),
    (3, "", "reason"),
    (LEAKED_ON_REQUEST, "number 1234567890 leaked", "reason_detail"),
    (LEAKED_ON_REQUEST, "１２３４５６７８９０", "reason_detail"),
    (LEAKED_ON_REQUEST, "number 1234 5678 9012 leaked", "reason_detail"),
    (LEAKED_ON_REQUEST, "number 1234-5678-9012 leaked", "reason_detail"),
])
async def test_a_change_needs_a_known_reason_and_no_number_in_its_detail(s, units, reason, detail, field):
    resident = code(90)
    async with units() as store:
        await s.assign(store, muni(A), A, resident)
    with pytest.raises(InvalidArgument) as e:
        async with units() as store:
            await s.change_number(store, muni(A), A, resident, reason, detail)
    assert e.value.field == field
    assert len(units.state.numbers) == 1


async def test_a_changed_number_that_collides_rolls_the_retirement_back(s, units):
    resident = code(100)
    async with units() as store:
        old = (await s.assign(store, muni(A), A, resident)).individual_number
    clash = s.changed_numbers([1])[0]
    units.state.numbers[s.keys.lookup(clash.encode())] = NumberRow(
        s.keys.lookup(clash.encode()), b"someone else....", b"", B, ACTIVE, 3, s.clock.now())
    with pytest.raises(NumberCollision):
        async with units() as store:
            await s.change_number(store, muni(A), A, resident, LEAKED_ON_REQUEST, "")
    async with units() as store:
        assert (await s.lookup(store, muni(A), A, resident)).individual_number == old  # still active


async def test_a_bulk_chunk_refuses_another_registers_and_retired_codes_alike_item_by_item(s, units):
    mine, theirs, old, new = code(300), code(301), code(302), code(303)
    async with units() as store:
        await s.assign(store, muni(B), B, theirs)
        await s.assign(store, muni(A), A, old)
        await s.change_resident_code(store, muni(A), A, old, new)
    async with units() as store:
        chunk = s.prepare_chunk(muni(A), A, [mine, theirs, old, new], 0)
        result = await s.write_chunk(store, muni(A), chunk, BulkTotals())
    assert result.newly_assigned == [True, False, False, False]
    assert result.numbers[0] and not result.numbers[1] and not result.numbers[2] and result.numbers[3]
    assert [(i, type(e), e.message) for i, e in result.errors] == [
        (1, ResidentCodeUnavailable, ResidentCodeUnavailable().message),
        (2, ResidentCodeUnavailable, ResidentCodeUnavailable().message)]
