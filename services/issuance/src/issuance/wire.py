"""The domain's enums <-> the proto's numbers (issuance.proto). A unit test ties the two: every domain value has
a number and every named number a value."""

from __future__ import annotations

from mynumber.issuance.v1 import issuance_pb2 as pb

from issuance.channels import Channel, HandoverMethod
from issuance.states import ApplicationState

CHANNELS: dict[Channel, int] = {
    Channel.MAIL: pb.CHANNEL_MAIL, Channel.ONLINE: pb.CHANNEL_ONLINE, Channel.COUNTER: pb.CHANNEL_COUNTER,
    Channel.EMPLOYER_BULK: pb.CHANNEL_EMPLOYER_BULK, Channel.EMPLOYER_VISIT: pb.CHANNEL_EMPLOYER_VISIT,
}
CHANNEL_OF = {n: c for c, n in CHANNELS.items()}

METHODS: dict[HandoverMethod, int] = {
    HandoverMethod.AT_COLLECTION: pb.HANDOVER_METHOD_AT_COLLECTION,
    HandoverMethod.AT_APPLICATION: pb.HANDOVER_METHOD_AT_APPLICATION,
    HandoverMethod.AT_APPLICATION_RESIDENCE: pb.HANDOVER_METHOD_AT_APPLICATION_RESIDENCE,
    HandoverMethod.EMPLOYER_BULK: pb.HANDOVER_METHOD_EMPLOYER_BULK,
    HandoverMethod.STAFF_VISIT: pb.HANDOVER_METHOD_STAFF_VISIT,
}
METHOD_OF = {n: m for m, n in METHODS.items()}

STATES: dict[ApplicationState, int] = {
    ApplicationState.ACCEPTED: pb.APPLICATION_STATE_ACCEPTED,
    ApplicationState.ORDERED: pb.APPLICATION_STATE_ORDERED,
    ApplicationState.PERSONALISED: pb.APPLICATION_STATE_PERSONALISED,
    ApplicationState.HANDED_OVER: pb.APPLICATION_STATE_HANDED_OVER,
    ApplicationState.WITHDRAWN: pb.APPLICATION_STATE_WITHDRAWN,
    ApplicationState.SUPERSEDED: pb.APPLICATION_STATE_SUPERSEDED,
    ApplicationState.REFUSED: pb.APPLICATION_STATE_REFUSED,
}
STATE_OF = {n: s for s, n in STATES.items()}


def state_number(state: ApplicationState) -> int:
    return int(STATES.get(state, pb.APPLICATION_STATE_UNSPECIFIED))
