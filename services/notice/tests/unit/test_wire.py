"""notice.wire is the one mapping between the states (notice.states) and the API's enums (notice.proto): a state
added on one side only fails here, by name, before any request meets it."""

from __future__ import annotations

import enum

import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.errors import InvalidArgument
from notice import states, wire

# Every StrEnum of notice.states that is not on the API, and why: an enum added to states.py must land either in
# wire.WIRES or here.
INTERNAL = {
    states.CardStatus: "a card's state: on the events only (MailingChanged.status, a string)",
    states.Document: "what an envelope holds: the print batch file's, not the API's",
    states.PendingAction: "a move decided while the card travels: the rules' own bookkeeping",
}
# Every proto enum of notice.proto that is not a state (no StrEnum behind it).
NOT_A_STATE = {"Sex"}


def test_every_strenum_of_states_is_on_the_wire_or_declared_internal():
    strenums = {v for v in vars(states).values()
                if isinstance(v, type) and issubclass(v, enum.StrEnum) and v.__module__ == states.__name__}
    on_wire = {w.states for w in wire.WIRES}
    assert strenums == on_wire | set(INTERNAL), (strenums - on_wire - set(INTERNAL), on_wire - strenums)


def test_every_proto_enum_of_notice_proto_has_its_wire():
    assert set(pb.DESCRIPTOR.enum_types_by_name) == {w.proto.DESCRIPTOR.name for w in wire.WIRES} | NOT_A_STATE


@pytest.mark.parametrize("w", wire.WIRES, ids=lambda w: w.proto.DESCRIPTOR.name)
def test_every_state_maps_to_a_proto_value_and_back(w: wire.Wire[enum.StrEnum]):
    missing = [s.name for s in w.states if s not in w.to_proto and s not in w.not_on_wire]
    assert not missing, f"{w.states.__name__}: no {w.prefix}<NAME> in notice.proto for {missing}"
    for s in w.states:
        if s in w.not_on_wire:
            continue
        number = w.encode(s.value)
        assert number != 0 and w.proto.Name(number) == w.prefix + w.shown_as.get(s, s).name
        # Back: the same state, except one the API shows as another (declared in shown_as).
        assert w.decode(number, "f") == w.shown_as.get(s, s).value


@pytest.mark.parametrize("w", wire.WIRES, ids=lambda w: w.proto.DESCRIPTOR.name)
def test_every_proto_value_but_unspecified_maps_to_a_state(w: wire.Wire[enum.StrEnum]):
    values = {v.number: v.name for v in w.proto.DESCRIPTOR.values}
    assert values[0] == w.prefix + "UNSPECIFIED"
    unmapped = [name for number, name in values.items() if number and number not in w.from_proto]
    assert not unmapped, f"{w.proto.DESCRIPTOR.name}: no {w.states.__name__} member for {unmapped}"
    for number, name in values.items():
        if number:
            assert w.from_proto[number].name == name.removeprefix(w.prefix)
            assert w.encode(w.decode(number, "f")) == number


def test_the_only_aliases_are_declared_and_the_dv_victims_residence_is_a_plain_residence():
    assert {w.proto.DESCRIPTOR.name: w.shown_as for w in wire.WIRES if w.shown_as} == {
        "Destination": {states.Destination.RESIDENCE_RESTRICTED: states.Destination.RESIDENCE}}
    assert wire.DESTINATION.encode("residence_restricted") == pb.DESTINATION_RESIDENCE
    assert {w.proto.DESCRIPTOR.name: w.not_on_wire for w in wire.WIRES if w.not_on_wire} == {
        "PrintStatus": {states.BatchStatus.EXPORTED}}


def test_japanese_return_reasons_map_by_their_member_names():
    assert wire.RETURN_REASON.encode("あて所なし") == pb.RETURN_REASON_NO_SUCH_ADDRESS
    assert wire.RETURN_REASON.decode(pb.RETURN_REASON_HOLD_EXPIRED, "return_reason") == "保管期間経過"


def test_no_value_encodes_as_unspecified_and_unspecified_decodes_as_none_unless_required():
    assert wire.RETURN_REASON.encode(None) == wire.RETURN_REASON.encode("") == pb.RETURN_REASON_UNSPECIFIED
    assert wire.PREFERENCE.decode(pb.PREFERENCE_UNSPECIFIED, "preference") == ""
    with pytest.raises(InvalidArgument) as e:
        wire.FINDING.decode(pb.FINDING_UNSPECIFIED, "finding", required=True)
    assert str(e.value).startswith("finding: must be one of COLLECTED_AT_COUNTER, MUNICIPAL_RESEND, MOVED_WITHIN")


@pytest.mark.parametrize("number", [-1, 4, 99, 2**31 - 1, -(2**31)])
def test_a_number_the_proto_does_not_define_is_refused_naming_the_field_not_the_number(number: int):
    for required in (False, True):
        with pytest.raises(InvalidArgument) as e:
            wire.MOVE_KIND.decode(number, "kind", required=required)
        assert str(e.value) == "kind: must be one of TENKYO, TENSHUTSU, TENNYU"
        assert str(number) not in str(e.value)
