"""issuance over gRPC, as the gateway calls it: on behalf of the verified municipality, with a deadline, its errors
mapped (upstream.py). Proto in, plain values out. The REST names of the enums are the proto names without their
prefix, lower-cased (`CHANNEL_EMPLOYER_BULK` -> `employer_bulk`); a unit test holds the routes' lists to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber.issuance.v1 import issuance_pb2_grpc as pb_grpc
from mynumber_runtime.identity import Caller

from gateway.upstream import mapped_errors, metadata, rfc3339


def rest_names(enum: EnumTypeWrapper, prefix: str) -> dict[str, int]:
    """REST name -> proto number, for every value but UNSPECIFIED."""
    return {name.removeprefix(prefix).lower(): number for name, number in enum.items() if number}


CHANNELS = rest_names(pb.Channel, "CHANNEL_")
METHODS = rest_names(pb.HandoverMethod, "HANDOVER_METHOD_")
STATES = rest_names(pb.ApplicationState, "APPLICATION_STATE_")
SEXES = rest_names(pb.Sex, "SEX_")
_NAMES = {kind: {v: k for k, v in table.items()} for kind, table in
          (("channel", CHANNELS), ("handover_method", METHODS), ("state", STATES))}


def application(a: pb.Application) -> dict[str, Any]:
    return {"application_ref": a.application_ref, "channel": _NAMES["channel"].get(a.channel),
            "handover_method": _NAMES["handover_method"].get(a.handover_method),
            "state": _NAMES["state"].get(a.state), "submitted_at": rfc3339(a, "submitted_at"),
            "updated_at": rfc3339(a, "updated_at"), "photo_width": a.photo_width, "photo_height": a.photo_height}


@dataclass
class IssuanceClient:
    channel: grpc.aio.Channel
    deadline_s: float

    def __post_init__(self) -> None:
        self.stub = pb_grpc.IssuanceServiceStub(self.channel)

    def _opts(self, caller: Caller) -> dict[str, Any]:
        return {"timeout": self.deadline_s, "metadata": metadata(caller)}

    async def submit(self, caller: Caller, *, application_id: str, channel: str, handover_method: str,
                     applicant: dict[str, str], photo: bytes) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.SubmitApplication(pb.SubmitApplicationRequest(
                municipality_code=caller.id, application_id=application_id, channel=CHANNELS[channel],
                handover_method=METHODS[handover_method], photo=photo,
                applicant=pb.Applicant(name=applicant["name"], address=applicant["address"],
                                       birth_date=applicant["birth_date"], sex=SEXES[applicant["sex"]])),
                **self._opts(caller))
        return application(r.application)

    async def get(self, caller: Caller, ref: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.GetApplication(pb.GetApplicationRequest(
                municipality_code=caller.id, application_ref=ref), **self._opts(caller))
        return {**application(r.application),
                "history": [{"state": _NAMES["state"].get(h.state), "at": rfc3339(h, "at")} for h in r.history]}

    async def list(self, caller: Caller, *, state: str | None, limit: int, cursor: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.ListApplications(pb.ListApplicationsRequest(
                municipality_code=caller.id, state=STATES[state] if state else 0, limit=limit, page_token=cursor),
                **self._opts(caller))
        return {"applications": [application(a) for a in r.applications], "next_cursor": r.next_page_token or None}

    async def withdraw(self, caller: Caller, ref: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.WithdrawApplication(pb.WithdrawApplicationRequest(
                municipality_code=caller.id, application_ref=ref), **self._opts(caller))
        return application(r.application)
