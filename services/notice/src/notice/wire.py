"""The one mapping between notice's states (the `StrEnum`s of notice.states: what the database and the events
hold) and the enums of its API (notice.proto), both ways, built from the names: member `RETURNED` of
`MailingStatus` is `MAILING_STATUS_RETURNED`. Nothing else in notice spells a proto enum value; tests/unit/
test_wire.py fails when a state exists on one side only.

Decoding a request's enum field: UNSPECIFIED is "" (the rules decide whether the field was needed and say so,
naming it), unless the caller says the field is required here; a number the proto does not define is always
refused. Every refusal is `InvalidArgument(field, rule)` naming the allowed values, never the number sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from mynumber.notice.v1 import notice_pb2 as pb

from notice.errors import InvalidArgument
from notice.states import (
    BatchStatus,
    Destination,
    Finding,
    MailAction,
    MailingKind,
    MailingStatus,
    MoveKind,
    Preference,
    ReissueReason,
    ResidenceKind,
    ResidenceSource,
    ReturnReason,
)

__all__ = ["DESTINATION", "FINDING", "MAILING_KIND", "MAILING_STATUS", "MAIL_ACTION", "MOVE_KIND", "PREFERENCE",
           "PRINT_STATUS", "REISSUE_REASON", "RESIDENCE_KIND", "RESIDENCE_SOURCE", "RETURN_REASON", "WIRES",
           "Wire"]

S = TypeVar("S", bound=enum.StrEnum)


def _prefix(proto: Any) -> str:
    # MailingStatus -> MAILING_STATUS_ (buf's ENUM_VALUE_PREFIX; the UNSPECIFIED value carries it too).
    unspecified: str = proto.DESCRIPTOR.values_by_number[0].name
    assert unspecified.endswith("_UNSPECIFIED"), unspecified
    return unspecified.removesuffix("UNSPECIFIED")


class Wire(Generic[S]):
    """One StrEnum <-> one proto enum.

    `shown_as`: states the API deliberately does not tell apart, encoded as another member (a DV victim's 居所 is
    a plain RESIDENCE on the wire). `not_on_wire`: states a proto enum never carries (PrintStatus is what the
    vendor reports; a batch is EXPORTED by the export, not by a report). Both are declared here, never implied."""

    def __init__(self, states: type[S], proto: Any, *, shown_as: Mapping[S, S] | None = None,
                 not_on_wire: frozenset[S] = frozenset()) -> None:
        self.states = states
        self.proto = proto
        self.prefix = _prefix(proto)
        self.shown_as: dict[S, S] = dict(shown_as or {})
        self.not_on_wire = not_on_wire
        numbers = {v.name: v.number for v in proto.DESCRIPTOR.values}
        # Lenient on purpose: a state on one side only is left out here and named by test_wire, not a crash.
        self.to_proto: dict[S, int] = {s: numbers[self.prefix + s.name] for s in states
                                       if self.prefix + s.name in numbers}
        for alias, shown in self.shown_as.items():
            self.to_proto[alias] = self.to_proto[shown]
        self.from_proto: dict[int, S] = {n: s for s, n in self.to_proto.items() if s not in self.shown_as}
        self.names = ", ".join(v.name.removeprefix(self.prefix) for v in proto.DESCRIPTOR.values if v.number)

    def encode(self, value: str | None) -> int:
        """A stored state (its value) as the proto number; "" or None (no value) as UNSPECIFIED."""
        return self.to_proto[self.states(value)] if value else 0

    def decode(self, number: int, field: str, *, required: bool = False) -> str:
        """The state a request's field names (its StrEnum value); "" for UNSPECIFIED unless `required`."""
        if number == 0 and not required:
            return ""
        state = self.from_proto.get(number)
        if state is None:
            raise InvalidArgument(field, f"must be one of {self.names}")
        return state.value


MAILING_STATUS = Wire(MailingStatus, pb.MailingStatus)
RETURN_REASON = Wire(ReturnReason, pb.ReturnReason)
MAILING_KIND = Wire(MailingKind, pb.MailingKind)
DESTINATION = Wire(Destination, pb.Destination, shown_as={Destination.RESIDENCE_RESTRICTED: Destination.RESIDENCE})
RESIDENCE_KIND = Wire(ResidenceKind, pb.ResidenceKind)
RESIDENCE_SOURCE = Wire(ResidenceSource, pb.ResidenceSource)
REISSUE_REASON = Wire(ReissueReason, pb.ReissueReason)
MAIL_ACTION = Wire(MailAction, pb.MailAction)
MOVE_KIND = Wire(MoveKind, pb.MoveKind)
PREFERENCE = Wire(Preference, pb.Preference)
FINDING = Wire(Finding, pb.Finding)
PRINT_STATUS = Wire(BatchStatus, pb.PrintStatus, not_on_wire=frozenset({BatchStatus.EXPORTED}))

WIRES: tuple[Wire[Any], ...] = (MAILING_STATUS, RETURN_REASON, MAILING_KIND, DESTINATION, RESIDENCE_KIND,
                                 MAIL_ACTION, MOVE_KIND, PREFERENCE, FINDING, PRINT_STATUS, RESIDENCE_SOURCE,
                                 REISSUE_REASON)
