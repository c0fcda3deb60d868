"""gRPC face of the notice service: proto <-> domain, nothing else."""

from __future__ import annotations

from pathlib import Path

import grpc
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber.notice.v1 import notice_pb2_grpc as pb_grpc
from mynumber_runtime.grpc_server import ServiceBinding
from mynumber_runtime.identity import GATEWAY_FOR_MUNICIPALITIES, current_caller
from mynumber_runtime.timestamps import maybe_timestamp as _ts

from notice.entities import Mailing
from notice.errors import no_residence
from notice.ports import UnitsOf
from notice.service import HouseholdIn, MemberIn, NoticeService, PendingBatch
from notice.wire import (
    DESTINATION,
    FINDING,
    MAIL_ACTION,
    MAILING_KIND,
    MAILING_STATUS,
    MOVE_KIND,
    PREFERENCE,
    PRINT_STATUS,
    REISSUE_REASON,
    RESIDENCE_KIND,
    RESIDENCE_SOURCE,
    RETURN_REASON,
)

# Who may call which method, and why (the interceptor enforces it before any handler runs; which resident a
# caller may then touch is notice.tenancy's table):
# - Municipal methods: the municipality's own staff and 既存住基 system, with its own certificate
#   (`municipality:<団体コード>`). No platform service calls them: issuance learns of mail from notice's events,
#   and the gateway, when it lands, forwards with the municipality's identity or is named here by id with the
#   role it needs. In particular no service and no operator reads a DV victim's 居所 (GetResidence): design, the
#   居所 is visible only to the staff of the home municipality that registered it.
MUNICIPAL = ("municipality",)
# - J-LIS operator methods: the print batch (the municipalities' joint delegation of the mailing to J-LIS) and the
#   daily 3-month rule of returned mail. They never name a resident.
OPERATOR = ("operator",)
# - The print vendor reports progress of a batch: J-LIS staff enter it, or the vendor's transfer agent with its
#   own platform certificate (`service:print-vendor`); it names batches only, never a resident.
PRINT_VENDOR = ("operator", "service:print-vendor")


def _member(m: pb.Member) -> MemberIn:
    return MemberIn(resident_code=m.resident_code, name=m.name, birth_date=m.birth_date, sex=int(m.sex))


def _mailing(r: Mailing) -> pb.Mailing:
    return pb.Mailing(mailing_id=r.mailing_id, household_id=r.household_id, status=MAILING_STATUS.encode(r.status),
                      return_reason=RETURN_REASON.encode(r.return_reason), kind=MAILING_KIND.encode(r.kind),
                      reissue_reason=REISSUE_REASON.encode(r.reissue_reason),
                      items=r.items,
                      # A DV victim's 居所 shows as a plain RESIDENCE (wire.DESTINATION): the kind of victim is not
                      # the list's business.
                      destination=DESTINATION.encode(r.destination),
                      hold_until=_ts(r.hold_until), fee_yen=r.fee_yen)


class NoticeServicer(pb_grpc.NoticeServiceServicer):
    """Each method is the boundary of one unit of work: it opens it, hands its store to the rules, and the unit
    commits when the method's work is done (or rolls back on any error)."""

    def __init__(self, service: NoticeService, *, units: UnitsOf, export_dir: Path) -> None:
        self.service = service
        self.units = units
        self.export_dir = export_dir

    async def SubmitMailingList(self, request: pb.SubmitMailingListRequest, context: grpc.aio.ServicerContext
                                ) -> pb.SubmitMailingListResponse:
        households = [HouseholdIn(household_id=h.household_id, address=h.address, postal_code=h.postal_code,
                                  members=[_member(m) for m in h.members]) for h in request.households]
        async with self.units() as store:
            out = await self.service.mailing.submit_mailing_list(store, current_caller(), request.municipality_code,
                                                                 households)
        return pb.SubmitMailingListResponse(residents=out.residents, envelopes_prepared=out.prepared, refused=[
            pb.RefusedMember(household_index=i, member_index=j, reason=reason,
                             field=f"households[{i}].members[{j}].resident_code")
            for i, j, reason in out.refused])

    async def RegisterResidence(self, request: pb.RegisterResidenceRequest, context: grpc.aio.ServicerContext
                                ) -> pb.RegisterResidenceResponse:
        kind = RESIDENCE_KIND.decode(request.kind, "kind", required=True)
        source = RESIDENCE_SOURCE.decode(request.source, "source")  # UNSPECIFIED: the person's application
        async with self.units() as store:
            out = await self.service.residence.register_residence(
                store, current_caller(), request.municipality_code, request.resident_code, kind,
                request.address, request.postal_code, list(request.documents), request.hold_at_office,
                source=source, sharing_consent=request.sharing_consent)
        return pb.RegisterResidenceResponse(destination=DESTINATION.encode(out.destination),
                                            mail_action=MAIL_ACTION.encode(out.mail_action),
                                            rerouted_mailing_ids=out.rerouted, recalled_mailing_ids=out.recalled)

    async def GetResidence(self, request: pb.GetResidenceRequest, context: grpc.aio.ServicerContext
                           ) -> pb.GetResidenceResponse:
        async with self.units() as store:
            found = await self.service.residence.get_residence(store, current_caller(), request.municipality_code,
                                                               request.resident_code)
        # After the unit: the refusal it logged is committed.
        if found is None:
            raise no_residence()
        residence, address = found
        return pb.GetResidenceResponse(kind=RESIDENCE_KIND.encode(residence.kind), address=address["address"],
                                       hold_at_office=residence.hold_at_office,
                                       source=RESIDENCE_SOURCE.encode(residence.source),
                                       sharing_consent=residence.sharing_consent)

    async def ListMailings(self, request: pb.ListMailingsRequest, context: grpc.aio.ServicerContext
                           ) -> pb.ListMailingsResponse:
        async with self.units() as store:
            rows, token = await self.service.mailing.list_mailings(
                store, current_caller(), request.municipality_code, request.page_size, request.page_token)
        return pb.ListMailingsResponse(mailings=[_mailing(r) for r in rows], next_page_token=token)

    async def ExportPrintBatch(self, request: pb.ExportPrintBatchRequest, context: grpc.aio.ServicerContext
                               ) -> pb.ExportPrintBatchResponse:
        pending: PendingBatch | None = None
        try:
            async with self.units() as store:
                pending = await self.service.printing.export_batch(
                    store, current_caller(), list(request.municipality_codes), self.export_dir,
                    with_pdfs=request.with_pdfs)
        except BaseException:
            # The commit failed after the files were written: nothing for the vendor's agent to pick up.
            if pending is not None:
                await pending.abort()
            raise
        # Only after the commit does the vendor's agent see the files (printing.PendingBatch).
        r = await pending.publish()
        return pb.ExportPrintBatchResponse(batch_id=r.batch_id, path=str(r.path), envelopes=r.envelopes,
                                           records=r.records, sha256=r.sha256,
                                           pdf_paths=[str(p) for p in r.pdf_paths], recalls=r.recalls)

    async def ReportPrintStatus(self, request: pb.ReportPrintStatusRequest, context: grpc.aio.ServicerContext
                                ) -> pb.ReportPrintStatusResponse:
        status = PRINT_STATUS.decode(request.status, "status", required=True)
        async with self.units() as store:
            n = await self.service.printing.report_print_status(store, request.batch_id, status)
        return pb.ReportPrintStatusResponse(envelopes=n)

    async def RecordDelivery(self, request: pb.RecordDeliveryRequest, context: grpc.aio.ServicerContext
                             ) -> pb.RecordDeliveryResponse:
        # Required for returned mail only; a number the proto does not define is refused either way.
        reason = RETURN_REASON.decode(request.return_reason, "return_reason", required=not request.delivered)
        async with self.units() as store:
            m = await self.service.returns.record_delivery(store, current_caller(), request.municipality_code,
                                                           request.mailing_id, request.delivered, reason)
        return pb.RecordDeliveryResponse(mailing=_mailing(m))

    async def ResolveReturnedMail(self, request: pb.ResolveReturnedMailRequest,
                                  context: grpc.aio.ServicerContext) -> pb.ResolveReturnedMailResponse:
        finding = FINDING.decode(request.finding, "finding", required=True)
        # Needed for moved_within only: the rules say so, naming the field.
        preference = PREFERENCE.decode(request.preference, "preference")
        async with self.units() as store:
            o = await self.service.returns.resolve_returned(
                store, current_caller(), request.municipality_code, request.mailing_id, request.resident_code,
                finding, preference, request.new_address, request.new_postal_code)
        return pb.ResolveReturnedMailResponse(steps=o.steps, new_mailing_id=o.new_mailing_id)

    async def RecordMove(self, request: pb.RecordMoveRequest, context: grpc.aio.ServicerContext
                         ) -> pb.RecordMoveResponse:
        kind = MOVE_KIND.decode(request.kind, "kind", required=True)
        preference = PREFERENCE.decode(request.preference, "preference")  # optional: the resident's wish
        async with self.units() as store:
            o = await self.service.moves.record_move(
                store, current_caller(), request.municipality_code, request.resident_code, kind,
                request.new_address, request.new_postal_code, request.new_household_id,
                request.former_household_may_receive, preference,
                _member(request.member) if request.HasField("member") else None,
                destination_municipality_code=request.destination_municipality_code)
        return pb.RecordMoveResponse(steps=o.steps, new_mailing_id=o.new_mailing_id)

    async def RequestResend(self, request: pb.RequestResendRequest, context: grpc.aio.ServicerContext
                            ) -> pb.RequestResendResponse:
        reason = REISSUE_REASON.decode(request.reason, "reason")  # optional: only a re-issue keeps it
        async with self.units() as store:
            o = await self.service.returns.request_resend(store, current_caller(), request.municipality_code,
                                                          request.resident_code, reason)
        return pb.RequestResendResponse(kind=MAILING_KIND.encode(o.kind), fee_yen=o.fee_yen,
                                        new_mailing_id=o.new_mailing_id)

    async def ExpireReturnedMail(self, request: pb.ExpireReturnedMailRequest, context: grpc.aio.ServicerContext
                                 ) -> pb.ExpireReturnedMailResponse:
        async with self.units() as store:
            disposed = await self.service.returns.expire_returned(store)
        return pb.ExpireReturnedMailResponse(disposed=disposed)


    async def EndorseAtCounter(self, request: pb.EndorseAtCounterRequest, context: grpc.aio.ServicerContext
                               ) -> pb.EndorseAtCounterResponse:
        async with self.units() as store:
            o = await self.service.counter.endorse_at_counter(store, current_caller(), request.municipality_code,
                                                              request.resident_code)
        return pb.EndorseAtCounterResponse(steps=o.steps)

    async def RecordOldCardReturned(self, request: pb.RecordOldCardReturnedRequest,
                                    context: grpc.aio.ServicerContext) -> pb.RecordOldCardReturnedResponse:
        async with self.units() as store:
            o = await self.service.counter.record_old_card_returned(
                store, current_caller(), request.municipality_code, request.mailing_id, request.resident_code)
        return pb.RecordOldCardReturnedResponse(steps=o.steps)


def bindings(service: NoticeService, *, units: UnitsOf, export_dir: Path) -> list[ServiceBinding]:
    return [ServiceBinding(
        "mynumber.notice.v1.NoticeService", pb_grpc.add_NoticeServiceServicer_to_server,
        NoticeServicer(service, units=units, export_dir=export_dir), allow={
            "SubmitMailingList": MUNICIPAL, "RegisterResidence": MUNICIPAL, "GetResidence": MUNICIPAL,
            "ListMailings": MUNICIPAL, "RecordDelivery": MUNICIPAL, "ResolveReturnedMail": MUNICIPAL,
            "RecordMove": MUNICIPAL, "RequestResend": MUNICIPAL, "EndorseAtCounter": MUNICIPAL,
            "RecordOldCardReturned": MUNICIPAL,
            "ExportPrintBatch": OPERATOR, "ReportPrintStatus": PRINT_VENDOR, "ExpireReturnedMail": OPERATOR},
        # The municipal systems' door (docs/gateway.md): only for municipalities; the vendor and J-LIS call directly.
        delegates=GATEWAY_FOR_MUNICIPALITIES)]
