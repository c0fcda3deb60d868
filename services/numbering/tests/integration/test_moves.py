"""Moves between municipalities only through the seed's move flow: 転出 recorded by the holder (naming a real
destination), then 転入 by that destination, which becomes the holder; the former may withdraw the 転出 before.
Every other order is refused, and refused as "unknown" wherever the caller has no basis."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from google.protobuf.message import DecodeError
from mynumber.numbering.v1 import events_pb2 as ev
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber_events import numbering as events
from numbering.models import access_log

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY
from .test_events_and_logs import wait_for_event
from .test_numbering_api import new_code, req
from .test_tenancy import refused

FORMER, DESTINATION, THIRD = MUNICIPALITY, OTHER_MUNICIPALITY, "011002"  # 千代田区, 大阪市, 札幌市


def caller(municipality: str) -> str:
    return f"municipality:{municipality}"


class Register:
    """Calls as one municipality."""

    def __init__(self, numbering, municipality: str) -> None:
        self.code = municipality
        self.stub = numbering.stub(caller(municipality))

    def move_out(self, resident_code: str, to: str):
        return self.stub.RecordMoveOut(pb.RecordMoveOutRequest(
            municipality_code=self.code, resident_code=resident_code, destination_municipality_code=to))

    def move_in(self, resident_code: str):
        return self.stub.RecordMoveIn(pb.RecordMoveInRequest(municipality_code=self.code,
                                                             resident_code=resident_code))

    def cancel(self, resident_code: str):
        return self.stub.CancelMoveOut(pb.CancelMoveOutRequest(municipality_code=self.code,
                                                               resident_code=resident_code))

    def lookup(self, resident_code: str):
        return self.stub.LookupNumber(pb.LookupNumberRequest(municipality_code=self.code,
                                                             resident_code=resident_code))

    def change(self, resident_code: str):
        return self.stub.ChangeNumber(pb.ChangeNumberRequest(
            municipality_code=self.code, resident_code=resident_code, reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST))


@pytest.fixture
async def former(numbering) -> Register:
    return Register(numbering, FORMER)


@pytest.fixture
async def destination(numbering) -> Register:
    return Register(numbering, DESTINATION)


@pytest.fixture
async def third(numbering) -> Register:
    return Register(numbering, THIRD)


async def resident(former: Register) -> tuple[str, str]:
    code = new_code()
    return code, (await former.stub.AssignNumber(req(code, former.code))).individual_number


async def unknown(register: Register, method: str) -> tuple:
    """The refusal `register` gets for a code no one holds."""
    return await refused(getattr(register, method)(new_code()))


async def test_move_out_then_move_in_makes_the_destination_the_holder(numbering, former, destination, db):
    code, number = await resident(former)
    await former.move_out(code, DESTINATION)
    # Until the 転入 the former holds the person; the destination reaches nothing but the 転入.
    assert (await former.lookup(code)).individual_number == number
    assert await refused(destination.lookup(code)) == await unknown(destination, "lookup")
    moved = await destination.move_in(code)
    assert moved.individual_number == number and moved.HasField("moved_in_at")
    assert (await destination.lookup(code)).individual_number == number
    assert await refused(former.lookup(code)) == await unknown(former, "lookup")
    assert await refused(former.stub.AssignNumber(req(code, FORMER))) == await refused(
        former.stub.AssignNumber(req(await retired(former), FORMER)))
    sealer = events.EventSealer(numbering.events_key)

    def ours(data: bytes) -> bool:
        try:
            return sealer.open_identity(events.NUMBER_MOVED, ev.NumberMoved.FromString(data).sealed_identity
                                        ).resident_code == code
        except (InvalidTag, DecodeError):  # another key's event, or another test's poison
            return False

    data = await wait_for_event(numbering.nats_url, events.NUMBER_MOVED, ours)
    assert code.encode() not in data and number.encode() not in data
    e = ev.NumberMoved.FromString(data)
    assert (e.from_municipality_code, e.to_municipality_code) == (FORMER, DESTINATION)
    assert sealer.open_identity(events.NUMBER_MOVED, e.sealed_identity).individual_number == number
    async with db.connect() as conn:
        entries = [(r.actor, r.action, r.details["basis"]) for r in await conn.execute(
            sa.select(access_log).where(access_log.c.action.in_(["move.out", "move.in"])).order_by(
                access_log.c.seq.desc()).limit(2))]
    assert entries == [(caller(DESTINATION), "move.in", "tennyu_destination"),
                       (caller(FORMER), "move.out", "own_register")]


async def retired(register: Register) -> str:
    old = new_code()
    await register.stub.AssignNumber(req(old, register.code))
    await register.stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(
        municipality_code=register.code, old_resident_code=old, new_resident_code=new_code()))
    return old


async def test_a_move_in_without_a_move_out_is_refused_as_unknown(former, destination):
    code, number = await resident(former)
    assert await refused(destination.move_in(code)) == await unknown(destination, "move_in")
    assert (await former.lookup(code)).individual_number == number


async def test_a_third_municipality_cannot_record_the_move_in(former, destination, third):
    code, _ = await resident(former)
    await former.move_out(code, DESTINATION)
    assert await refused(third.move_in(code)) == await unknown(third, "move_in")
    assert (await destination.move_in(code)).individual_number


async def test_a_withdrawn_move_out_cannot_be_moved_in(former, destination):
    code, number = await resident(former)
    await former.move_out(code, DESTINATION)
    assert (await former.cancel(code)).HasField("cancelled_at")
    assert await refused(destination.move_in(code)) == await unknown(destination, "move_in")
    assert (await former.lookup(code)).individual_number == number
    no_pending = await refused(former.cancel(code))
    assert no_pending[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "NO_PENDING_MOVE")


async def test_a_second_move_out_while_one_is_pending_is_refused(former, destination, third):
    code, _ = await resident(former)
    await former.move_out(code, DESTINATION)
    twice = await refused(former.move_out(code, THIRD))
    assert twice[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "MOVE_OUT_PENDING")
    # Withdrawn, then a 転出 to another destination: only that one may record the 転入.
    await former.cancel(code)
    await former.move_out(code, THIRD)
    assert await refused(destination.move_in(code)) == await unknown(destination, "move_in")
    assert (await third.move_in(code)).individual_number


async def test_a_number_changed_during_a_pending_move_follows_the_person(numbering, former, destination):
    code, old = await resident(former)
    await former.move_out(code, DESTINATION)
    assert await refused(destination.change(code)) == await unknown(destination, "change")
    new = (await former.change(code)).individual_number
    assert (await destination.move_in(code)).individual_number == new
    history = await destination.stub.ListNumberHistory(pb.ListNumberHistoryRequest(
        municipality_code=DESTINATION, resident_code=code))
    assert [r.individual_number for r in history.records] == [new, old]


async def test_a_resident_code_change_waits_for_the_pending_move(former, destination):
    code, _ = await resident(former)
    await former.move_out(code, DESTINATION)
    waiting = await refused(former.stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(
        municipality_code=FORMER, old_resident_code=code, new_resident_code=new_code())))
    assert waiting[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "MOVE_OUT_PENDING")
    assert (await destination.move_in(code)).individual_number


async def test_only_the_holder_records_or_withdraws_a_move_out(former, destination, third):
    code, _ = await resident(former)
    # Another municipality's resident: moving them out, or withdrawing their 転出, looks like an unknown code.
    assert await refused(third.move_out(code, DESTINATION)) == await refused(third.move_out(new_code(), DESTINATION))
    await former.move_out(code, DESTINATION)
    assert await refused(destination.cancel(code)) == await unknown(destination, "cancel")
    assert await refused(third.cancel(code)) == await unknown(third, "cancel")
    # The former itself records no 転入; after the 転入 the destination records none again.
    assert (await refused(former.move_in(code)))[1] == "NO_PENDING_MOVE"
    await destination.move_in(code)
    assert (await refused(destination.move_in(code)))[1] == "NO_PENDING_MOVE"
    assert await refused(former.cancel(code)) == await unknown(former, "cancel")


@pytest.mark.parametrize(("to", "rule"), [
    ("131017", "check digit"),  # 千代田区 with a wrong check digit
    ("991016", "prefecture"),
    ("１３１０１６", "digits"),
    ("139998", "JIS X 0402 list"),  # a right check digit, but no such municipality
    ("130001", "kind of body"),  # 東京都: a prefecture holds no register
    (FORMER, "must differ"),
])
async def test_a_move_out_names_a_real_other_municipality(former, to, rule):
    code, _ = await resident(former)
    status, reason, details = await refused(former.move_out(code, to))
    assert (status, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert details.startswith("destination_municipality_code:") and rule in details


async def test_an_operator_moves_a_person_only_as_the_municipalities_would(numbering, former, destination):
    code, number = await resident(former)
    operator = numbering.stub("operator:sre-tanaka")
    await operator.RecordMoveOut(pb.RecordMoveOutRequest(municipality_code=FORMER, resident_code=code,
                                                         destination_municipality_code=DESTINATION))
    as_third = await refused(operator.RecordMoveIn(pb.RecordMoveInRequest(municipality_code=THIRD,
                                                                          resident_code=code)))
    assert as_third == await refused(operator.RecordMoveIn(pb.RecordMoveInRequest(municipality_code=THIRD,
                                                                                  resident_code=new_code())))
    moved = await operator.RecordMoveIn(pb.RecordMoveInRequest(municipality_code=DESTINATION, resident_code=code))
    assert moved.individual_number == number
