"""gRPC face of the issuance service: proto <-> domain, nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

import grpc
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber.issuance.v1 import issuance_pb2_grpc as pb_grpc
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.grpc_server import ServiceBinding
from mynumber_runtime.identity import GATEWAY_FOR_MUNICIPALITIES, Caller, current_caller
from mynumber_runtime.timestamps import maybe_timestamp as _ts

from issuance import wire
from issuance.ports import IssuanceStorePort, Units
from issuance.records import Application
from issuance.service import IssuanceService, Refused, SubmitIn


def _application(a: Application) -> pb.Application:
    return pb.Application(application_ref=a.ref, municipality_code=a.municipality_code,
                          channel=wire.CHANNELS[a.channel], handover_method=wire.METHODS[a.handover_method],
                          state=wire.state_number(a.state), submitted_at=_ts(a.submitted_at),
                          updated_at=_ts(a.updated_at), photo_width=a.photo_width, photo_height=a.photo_height)


def _known(value: int, table: Mapping[int, object], field: str, name: str) -> None:
    if value and value not in table:
        raise InvalidArgument(field, f"a {name} value")


class IssuanceServicer(pb_grpc.IssuanceServiceServicer):
    """Each request runs in one unit of work opened here: committed when the method returns, rolled back when it
    raises. A tenancy refusal rolls its unit back and is recorded in a unit of its own before the caller gets it."""

    def __init__(self, service: IssuanceService, units: Units) -> None:
        self.service = service
        self.units = units

    @contextlib.asynccontextmanager
    async def unit(self, caller: Caller) -> AsyncIterator[IssuanceStorePort]:
        try:
            async with self.units() as store:
                yield store
        except Refused as r:
            async with self.units() as store:
                await self.service.record_refusal(store, caller, r)
            raise r.error from None

    async def SubmitApplication(self, request: pb.SubmitApplicationRequest, context: grpc.aio.ServicerContext
                                ) -> pb.SubmitApplicationResponse:
        _known(request.channel, wire.CHANNEL_OF, "channel", "Channel")
        _known(request.handover_method, wire.METHOD_OF, "handover_method", "HandoverMethod")
        _known(request.applicant.sex, {1: 1, 2: 2}, "applicant.sex", "Sex")
        a = request.applicant
        submission = SubmitIn(
            municipality_code=request.municipality_code, application_id=request.application_id,
            channel=wire.CHANNEL_OF.get(request.channel), handover_method=wire.METHOD_OF.get(request.handover_method),
            name=a.name, address=a.address, birth_date=a.birth_date, sex=int(a.sex), photo=request.photo)
        caller = current_caller()
        async with self.unit(caller) as store:
            app = await self.service.applications.submit(store, caller, submission)
        return pb.SubmitApplicationResponse(application=_application(app))

    async def GetApplication(self, request: pb.GetApplicationRequest, context: grpc.aio.ServicerContext
                             ) -> pb.GetApplicationResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            app, history = await self.service.applications.get(store, caller, request.municipality_code,
                                                               request.application_ref)
        return pb.GetApplicationResponse(
            application=_application(app),
            history=[pb.StateChange(state=wire.state_number(h.state), at=_ts(h.at)) for h in history])

    async def ListApplications(self, request: pb.ListApplicationsRequest, context: grpc.aio.ServicerContext
                               ) -> pb.ListApplicationsResponse:
        _known(request.state, wire.STATE_OF, "state", "ApplicationState")
        caller = current_caller()
        async with self.unit(caller) as store:
            apps, token = await self.service.applications.list(store, caller, request.municipality_code,
                                                               wire.STATE_OF.get(request.state), request.limit,
                                                               request.page_token)
        return pb.ListApplicationsResponse(applications=[_application(a) for a in apps], next_page_token=token)

    async def WithdrawApplication(self, request: pb.WithdrawApplicationRequest,
                                  context: grpc.aio.ServicerContext) -> pb.WithdrawApplicationResponse:
        caller = current_caller()
        async with self.unit(caller) as store:
            app = await self.service.applications.withdraw(store, caller, request.municipality_code,
                                                           request.application_ref)
        return pb.WithdrawApplicationResponse(application=_application(app))


# Who may call what (default deny). Which person a caller then reaches is decided per request by issuance's
# tenancy rule (issuance/tenancy.py), and which channel a caller may submit by by issuance.channels, never here.
# Municipalities (each for itself) and J-LIS operators (the intake of mailed, online and employer-bulk forms;
# staff acting for a municipality, audited). The gateway calls on their behalf with their identity; no platform
# service submits applications.
MUNICIPAL = ("municipality", "operator")
ISSUANCE_ALLOW = {
    "SubmitApplication": MUNICIPAL,
    "GetApplication": MUNICIPAL,
    "ListApplications": MUNICIPAL,
    "WithdrawApplication": MUNICIPAL,
}


def bindings(service: IssuanceService, units: Units) -> list[ServiceBinding]:
    name = pb.DESCRIPTOR.services_by_name["IssuanceService"].full_name
    return [ServiceBinding(name, pb_grpc.add_IssuanceServiceServicer_to_server, IssuanceServicer(service, units),
                           allow=ISSUANCE_ALLOW, delegates=GATEWAY_FOR_MUNICIPALITIES)]
