"""The domain's enums and the proto's numbers cover each other."""

from __future__ import annotations

from issuance import wire
from issuance.channels import CHANNELS, SUBSIDY_WEIGHTS, Channel, HandoverMethod
from issuance.states import ApplicationState
from mynumber.issuance.v1 import issuance_pb2 as pb


def named(enum: object) -> set[int]:
    return {v.number for v in enum.DESCRIPTOR.values if v.number}  # type: ignore[attr-defined]


def test_every_channel_method_and_state_has_its_proto_number() -> None:
    assert set(wire.CHANNELS) == set(Channel) and set(wire.CHANNEL_OF) == named(pb.Channel)
    assert set(wire.METHODS) == set(HandoverMethod) and set(wire.METHOD_OF) == named(pb.HandoverMethod)
    assert set(wire.STATES) == set(ApplicationState) - {ApplicationState.NEW}
    assert set(wire.STATE_OF) == named(pb.ApplicationState)


def test_the_method_numbers_are_the_seeds_circled_numbers() -> None:
    assert [int(m) for m in HandoverMethod] == [1, 2, 3, 4, 5]
    assert all(wire.METHODS[m] == int(m) for m in HandoverMethod)


def test_every_channel_allows_a_method_and_every_method_has_a_channel_and_a_weight() -> None:
    assert all(rule.methods for rule in CHANNELS.values())
    assert {m for rule in CHANNELS.values() for m in rule.methods} == set(HandoverMethod)
    assert [str(SUBSIDY_WEIGHTS[m]) for m in HandoverMethod] == ["1.00", "1.05", "1.00", "1.10", "1.20"]
