"""gRPC face of the numbering service: proto <-> domain, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_runtime.errors import DomainError, InvalidArgument
from mynumber_runtime.grpc_server import ServiceBinding
from mynumber_runtime.identity import GATEWAY_FOR_MUNICIPALITIES, Caller, current_caller
from mynumber_runtime.telemetry import meter
from mynumber_runtime.tenancy import Basis
from mynumber_runtime.timestamps import maybe_timestamp as _ts

from numbering.ports import Registry, Units
from numbering.service import BulkTotals, ChunkResult, NumberingService, PreparedChunk, Refused


def _item_error(index: int, e: DomainError) -> pb.ItemError:
    return pb.ItemError(index=index, reason=e.reason, field=getattr(e, "field", ""),
                        message=getattr(e, "rule", e.message))


# Bulk throughput (docs/operations.md): residents of bulk streams by outcome; rate() of it is numbers per second.
_bulk_items = meter(__name__).create_counter("mynumber.numbering.bulk.items",
                                             description="residents of bulk assignment streams, by outcome")


def _count_bulk(before: tuple[int, int, int], totals: BulkTotals) -> None:
    for outcome, was, now in zip(("assigned", "already_assigned", "failed"), before,
                                 (totals.assigned, totals.already_assigned, totals.failed), strict=True):
        if now > was:
            _bulk_items.add(now - was, {"outcome": outcome})


def _chunk_response(r: ChunkResult, totals: BulkTotals) -> pb.AssignNumbersResponse:
    return pb.AssignNumbersResponse(
        first_index=r.first_index, individual_numbers=r.numbers, newly_assigned=r.newly_assigned,
        errors=[_item_error(i, e) for i, e in r.errors],
        progress=pb.BulkProgress(received=totals.received, assigned=totals.assigned,
                                 already_assigned=totals.already_assigned, failed=totals.failed))


class _Boundary:
    """Each request runs in one unit of work opened here and handed to the service: committed when the method
    returns, rolled back when it raises. A tenancy refusal rolls its unit back and is then recorded in a unit of
    its own (the person's access record shows the attempt) before the caller gets the refusal."""

    def __init__(self, service: NumberingService, units: Units) -> None:
        self.service = service
        self.units = units

    @contextlib.asynccontextmanager
    async def unit(self, caller: Caller) -> AsyncIterator[Registry]:
        try:
            async with self.units() as store:
                yield store
        except Refused as r:
            async with self.units() as store:
                await self.service.record_refusal(store, caller, r)
            raise r.error from None


class NumberingServicer(_Boundary, pb_grpc.NumberingServiceServicer):
    def __init__(self, service: NumberingService, units: Units, *, chunk_limit: int = 10_000) -> None:
        super().__init__(service, units)
        self.chunk_limit = chunk_limit

    async def AssignNumber(self, request: pb.AssignNumberRequest, context: grpc.aio.ServicerContext
                           ) -> pb.AssignNumberResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            a = await self.service.assign(store, caller, request.municipality_code, request.resident_code)
        return pb.AssignNumberResponse(individual_number=a.individual_number, newly_assigned=a.newly_assigned,
                                       assigned_at=_ts(a.assigned_at))

    async def AssignNumbers(self, request_iterator: AsyncIterator[pb.AssignNumbersRequest],
                            context: grpc.aio.ServicerContext) -> AsyncIterator[pb.AssignNumbersResponse]:
        """Two stages: the CPU work of chunk k+1 runs while the database writes chunk k. Queues of one chunk keep
        memory constant whatever the register's size; gRPC flow control slows the client to our pace."""
        caller = current_caller()
        totals = BulkTotals()
        prepared: asyncio.Queue[PreparedChunk | None] = asyncio.Queue(maxsize=1)

        async def prepare() -> None:
            start = 0
            try:
                async for req in request_iterator:
                    if len(req.resident_codes) > self.chunk_limit:
                        raise InvalidArgument("resident_codes", f"at most {self.chunk_limit} residents per message")
                    codes = list(req.resident_codes)
                    await prepared.put(self.service.prepare_chunk(caller, req.municipality_code, codes, start))
                    start += len(codes)
            finally:
                await prepared.put(None)

        producer = asyncio.create_task(prepare())
        try:
            async with self.unit(caller) as store:
                while (chunk := await prepared.get()) is not None:
                    before = (totals.assigned, totals.already_assigned, totals.failed)
                    result = await self.service.write_chunk(store, caller, chunk, totals)
                    # Each chunk commits before its response: what the client was told is numbered stays
                    # numbered when a later chunk (or the stream) fails, and a register of millions is not one
                    # transaction holding its locks and WAL to the end.
                    await store.checkpoint()
                    _count_bulk(before, totals)
                    yield _chunk_response(result, totals)
            await producer  # re-raises a failure of the reading side (e.g. an oversized chunk)
        finally:
            producer.cancel()

    async def ChangeNumber(self, request: pb.ChangeNumberRequest, context: grpc.aio.ServicerContext
                           ) -> pb.ChangeNumberResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            a = await self.service.change_number(store, caller, request.municipality_code, request.resident_code,
                                                 int(request.reason), request.reason_detail)
        return pb.ChangeNumberResponse(individual_number=a.individual_number, changed_at=_ts(a.assigned_at))

    async def ChangeResidentCode(self, request: pb.ChangeResidentCodeRequest, context: grpc.aio.ServicerContext
                                 ) -> pb.ChangeResidentCodeResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            a = await self.service.change_resident_code(store, caller, request.municipality_code,
                                                        request.old_resident_code, request.new_resident_code)
        return pb.ChangeResidentCodeResponse(individual_number=a.individual_number, changed_at=_ts(a.assigned_at))

    async def LookupNumber(self, request: pb.LookupNumberRequest, context: grpc.aio.ServicerContext
                           ) -> pb.LookupNumberResponse:
        if request.basis not in _LOOKUP_BASES:
            raise InvalidArgument("basis", "a LookupBasis value")
        caller = current_caller()
        async with self.unit(caller) as store:
            a = await self.service.lookup(store, caller, request.municipality_code, request.resident_code,
                                          basis=_LOOKUP_BASES[request.basis], case_reference=request.case_reference)
        return pb.LookupNumberResponse(individual_number=a.individual_number, assigned_at=_ts(a.assigned_at))

    async def ListNumberHistory(self, request: pb.ListNumberHistoryRequest, context: grpc.aio.ServicerContext
                                ) -> pb.ListNumberHistoryResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            entries = await self.service.history(store, caller, request.municipality_code, request.resident_code)
        return pb.ListNumberHistoryResponse(records=[
            pb.NumberRecord(individual_number=e.individual_number, status=pb.NumberStatus.ValueType(e.status),
                            issued_at=_ts(e.issued_at), retired_at=_ts(e.retired_at),
                            retired_reason=pb.ChangeReason.ValueType(e.retired_reason or 0), issuing_region=e.region)
            for e in entries])

    async def RecordMoveOut(self, request: pb.RecordMoveOutRequest, context: grpc.aio.ServicerContext
                            ) -> pb.RecordMoveOutResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            at = await self.service.record_move_out(store, caller, request.municipality_code, request.resident_code,
                                                    request.destination_municipality_code)
        return pb.RecordMoveOutResponse(moved_out_at=_ts(at))

    async def RecordMoveIn(self, request: pb.RecordMoveInRequest, context: grpc.aio.ServicerContext
                           ) -> pb.RecordMoveInResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            a = await self.service.record_move_in(store, caller, request.municipality_code, request.resident_code)
        return pb.RecordMoveInResponse(individual_number=a.individual_number, moved_in_at=_ts(a.assigned_at))

    async def CancelMoveOut(self, request: pb.CancelMoveOutRequest, context: grpc.aio.ServicerContext
                            ) -> pb.CancelMoveOutResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            at = await self.service.cancel_move_out(store, caller, request.municipality_code, request.resident_code)
        return pb.CancelMoveOutResponse(cancelled_at=_ts(at))


class SectorCodeServicer(_Boundary, pb_grpc.SectorCodeServiceServicer):

    async def IssueSectorCode(self, request: pb.IssueSectorCodeRequest, context: grpc.aio.ServicerContext
                              ) -> pb.IssueSectorCodeResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            code = await self.service.sector_code(store, caller, request.agency_code, request.individual_number)
        return pb.IssueSectorCodeResponse(sector_code=code)


# Who may call what (default deny: a method not named is refused for everyone). Which person a caller then
# reaches is decided per request by numbering's tenancy rule (numbering/tenancy.py), never here.
#
# NumberingService: 付番 and the register's changes are acts of the municipality whose register holds the
# person (番号法 第8条: the 市町村長 requests the number; 住基法: the register is the municipality's), so callers
# of kind `municipality` (each for itself) and J-LIS operators (`operator`, acting under Basis.OPERATOR for the
# municipality the request names, audited). No platform service calls these: notice and issuance learn numbers
# from the `number.*` events, never by asking; store terminals and agencies reach nothing here.
_LOOKUP_BASES = {pb.LOOKUP_BASIS_UNSPECIFIED: Basis.OWN_REGISTER, pb.LOOKUP_BASIS_OWN_REGISTER: Basis.OWN_REGISTER,
                 pb.LOOKUP_BASIS_SAME_PREFECTURE: Basis.SAME_PREFECTURE}
MUNICIPAL = ("municipality", "operator")
NUMBERING_ALLOW = {
    "AssignNumber": MUNICIPAL,
    "AssignNumbers": MUNICIPAL,  # a register's bulk numbering (the 既存住基システム of one municipality)
    "ChangeNumber": MUNICIPAL,  # 番号法 第7条2項: the 市町村長 changes a leaked number
    "ChangeResidentCode": MUNICIPAL,  # 住基法 第30条の4: the municipality records the new 住民票コード
    "LookupNumber": MUNICIPAL,
    "ListNumberHistory": MUNICIPAL,
    "RecordMoveOut": MUNICIPAL,  # the former municipality (住基法 第24条)
    "RecordMoveIn": MUNICIPAL,  # the destination the 転出 names (住基法 第22条)
    "CancelMoveOut": MUNICIPAL,  # the former municipality, before the 転入
}
# SectorCodeService: 符号 are generated for the 情報提供ネットワークシステム (番号法 第21条), which alone hands each
# agency its own: `service:linkage` by identity, not every platform service (notice, issuance, jpki have no use
# for a 符号 and must not be able to link people across agencies). Operators (audited) for investigations.
# Agencies obtain their 符号 through the linkage network, never from numbering directly.
SECTOR_ALLOW = {"IssueSectorCode": ("service:linkage", "operator")}
# The gateway is the municipal systems' door (docs/gateway.md): it verifies a municipal system's client certificate
# itself and calls on behalf of that municipality (runtime identity.ON_BEHALF_KEY), so numbering's allow-list and
# tenancy rule judge the municipality exactly as if it had called directly. Only `service:gateway` may do so, only
# for municipalities, and only on NumberingService (never the 符号).
NUMBERING_DELEGATES = GATEWAY_FOR_MUNICIPALITIES


def bindings(service: NumberingService, units: Units, *, chunk_limit: int = 10_000) -> list[ServiceBinding]:
    numbering = pb.DESCRIPTOR.services_by_name["NumberingService"].full_name
    sector = pb.DESCRIPTOR.services_by_name["SectorCodeService"].full_name
    return [
        ServiceBinding(numbering, pb_grpc.add_NumberingServiceServicer_to_server,
                       NumberingServicer(service, units, chunk_limit=chunk_limit), allow=NUMBERING_ALLOW,
                       delegates=NUMBERING_DELEGATES),
        ServiceBinding(sector, pb_grpc.add_SectorCodeServiceServicer_to_server, SectorCodeServicer(service, units),
                       allow=SECTOR_ALLOW),
    ]


__all__ = ["DomainError", "NumberingServicer", "SectorCodeServicer", "bindings"]
