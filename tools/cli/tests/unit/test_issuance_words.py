"""`mynumber issuance` speaks the clerk's words: channels and states as issuance stores them, the methods by the
seed's circled numbers, and an application as one tab-separated line with no personal data."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from issuance.channels import Channel
from issuance.states import STORED_APPLICATION_STATES
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber_cli import issuance_cmds as cmds


def test_channels_states_and_methods_are_the_services_words() -> None:
    # The words the service stores (issuance.channels, issuance.states), through the proto enums.
    assert list(cmds.CHANNELS) == [c.value for c in Channel]
    assert list(cmds.STATES) == [s.value for s in STORED_APPLICATION_STATES]
    assert sorted(cmds.METHODS) == ["1", "2", "3", "4", "5"]
    assert [cmds.METHOD_NAMES[cmds.METHODS[k]][0] for k in sorted(cmds.METHODS)] == ["①", "②", "③", "④", "⑤"]


def test_an_application_is_one_line_and_an_unknown_value_is_shown_not_fatal() -> None:
    at = Timestamp(seconds=1454288400)  # 2016-02-01 01:00 UTC
    a = pb.Application(application_ref="a" * 32, state=pb.APPLICATION_STATE_ACCEPTED, channel=pb.CHANNEL_MAIL,
                       handover_method=pb.HANDOVER_METHOD_AT_COLLECTION, submitted_at=at)
    assert cmds.line(a) == f"{'a' * 32}\taccepted\tmail\t①交付時来庁\t2016-02-01T01:00:00+00:00"
    newer = pb.Application(application_ref="b" * 32, state=42, channel=9, handover_method=8, submitted_at=at)
    assert cmds.line(newer).split("\t")[1:4] == ["?", "?", "?"]
