"""numbering over gRPC, as the gateway calls it: on behalf of the verified municipality, with a deadline, its
errors mapped (upstream.py). Proto in, plain values out: the routes never see a protobuf message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_runtime.identity import Caller

from gateway.upstream import mapped_errors, metadata, rfc3339

CHANGE_REASONS = {"leaked_on_request": pb.CHANGE_REASON_LEAKED_ON_REQUEST,
                  "leaked_ex_officio": pb.CHANGE_REASON_LEAKED_EX_OFFICIO}
_REASON_NAMES = {v: k for k, v in CHANGE_REASONS.items()}
_STATUS_NAMES = {pb.NUMBER_STATUS_ACTIVE: "active", pb.NUMBER_STATUS_RETIRED: "retired"}


@dataclass
class NumberingClient:
    channel: grpc.aio.Channel
    deadline_s: float

    def __post_init__(self) -> None:
        self.stub = pb_grpc.NumberingServiceStub(self.channel)

    def _opts(self, caller: Caller, purpose: str | None = None) -> dict[str, Any]:
        return {"timeout": self.deadline_s, "metadata": metadata(caller, purpose)}

    async def assign(self, caller: Caller, resident_code: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.AssignNumber(pb.AssignNumberRequest(
                municipality_code=caller.id, resident_code=resident_code), **self._opts(caller))
        return {"individual_number": r.individual_number, "newly_assigned": r.newly_assigned,
                "assigned_at": rfc3339(r, "assigned_at")}

    async def lookup(self, caller: Caller, resident_code: str, purpose: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.LookupNumber(pb.LookupNumberRequest(
                municipality_code=caller.id, resident_code=resident_code, basis=pb.LOOKUP_BASIS_OWN_REGISTER),
                **self._opts(caller, purpose))
        return {"individual_number": r.individual_number, "assigned_at": rfc3339(r, "assigned_at")}

    async def history(self, caller: Caller, resident_code: str, purpose: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.ListNumberHistory(pb.ListNumberHistoryRequest(
                municipality_code=caller.id, resident_code=resident_code), **self._opts(caller, purpose))
        return {"records": [
            {"individual_number": e.individual_number, "status": _STATUS_NAMES.get(e.status, "active"),
             "issued_at": rfc3339(e, "issued_at"), "retired_at": rfc3339(e, "retired_at"),
             "retired_reason": _REASON_NAMES.get(e.retired_reason), "issuing_region": e.issuing_region}
            for e in r.records]}

    async def change_number(self, caller: Caller, resident_code: str, reason: str, detail: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.ChangeNumber(pb.ChangeNumberRequest(
                municipality_code=caller.id, resident_code=resident_code, reason=CHANGE_REASONS[reason],
                reason_detail=detail), **self._opts(caller))
        return {"individual_number": r.individual_number, "changed_at": rfc3339(r, "changed_at")}

    async def change_resident_code(self, caller: Caller, old: str, new: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.ChangeResidentCode(pb.ChangeResidentCodeRequest(
                municipality_code=caller.id, old_resident_code=old, new_resident_code=new), **self._opts(caller))
        return {"individual_number": r.individual_number, "changed_at": rfc3339(r, "changed_at")}


@dataclass(frozen=True)
class ChunkAnswer:
    """numbering's answer to one chunk of a bulk stream, as plain values."""

    first_index: int
    numbers: list[str]
    newly_assigned: list[bool]
    # (index in the whole stream, reason, field, rule): never the value.
    errors: list[tuple[int, str, str, str]]
    progress: dict[str, int]


async def assign_many(client: NumberingClient, caller: Caller, codes: list[str], *, chunk: int,
                      deadline_s: float) -> AsyncIterator[ChunkAnswer]:
    """AssignNumbers: the codes sent in chunks on one stream, each chunk's answer yielded as it comes."""

    async def chunks() -> AsyncIterator[pb.AssignNumbersRequest]:
        for start in range(0, len(codes), chunk):
            yield pb.AssignNumbersRequest(municipality_code=caller.id, resident_codes=codes[start:start + chunk])

    with mapped_errors():
        call = client.stub.AssignNumbers(chunks(), timeout=deadline_s, metadata=metadata(caller))
        async for r in call:
            yield ChunkAnswer(r.first_index, list(r.individual_numbers), list(r.newly_assigned),
                              [(e.index, e.reason, e.field, e.message) for e in r.errors],
                              {"received": r.progress.received, "assigned": r.progress.assigned,
                               "already_assigned": r.progress.already_assigned, "failed": r.progress.failed})
