"""gRPC servicers: proto <-> domain. Caller identity comes from the shared runtime (mTLS, or metadata on
loopback); the per-method allow-lists below are enforced by the runtime's interceptor (default deny)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.grpc_server import ServiceBinding
from mynumber_runtime.identity import current_caller

from jpki import events, profiles
from jpki.errors import InvalidArgument, PermissionDenied, UnknownVerifier
from jpki.profiles import CaKind
from jpki.service import (
    VERIFIER_SCOPE,
    CertificateStatus,
    IssueRequest,
    JpkiService,
    RevocationCause,
    Verifier,
)

KIND_FROM_PB = {pb.CA_KIND_SIGN: CaKind.SIGN, pb.CA_KIND_AUTH: CaKind.AUTH}
CAUSE_FROM_PB = {v: RevocationCause(k) for k, v in events.CAUSE.items()}
STATE = {"good": pb.CERTIFICATE_STATE_GOOD, "hold": pb.CERTIFICATE_STATE_HOLD,
         "revoked": pb.CERTIFICATE_STATE_REVOKED}
VERIFIER_KIND = {"signature_verifier": pb.VERIFIER_KIND_SIGNATURE_VERIFIER,
                 "user_verifier": pb.VERIFIER_KIND_USER_VERIFIER,
                 "platform_operator": pb.VERIFIER_KIND_PLATFORM_OPERATOR,
                 "platform_service": pb.VERIFIER_KIND_PLATFORM_SERVICE}
VERIFIER_KIND_FROM_PB = {v: k for k, v in VERIFIER_KIND.items()}


def _kind(value: int, field: str = "ca") -> CaKind:
    kind = KIND_FROM_PB.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument(field, "must be CA_KIND_SIGN or CA_KIND_AUTH")
    return kind


def _serial(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        value = -1
    if value <= 0 or len(text) > 40:
        raise InvalidArgument("serial_hex", "must be a positive serial number in hex (at most 20 octets)")
    return value


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(field, "must be a date YYYY-MM-DD") from None


def _status(s: CertificateStatus) -> pb.CertificateStatus:
    out = pb.CertificateStatus(ca=events.CA_KIND[s.kind], serial_hex=format(s.serial, "x"), state=STATE[s.status],
                               not_after=events.ts(s.not_after))
    if s.revoked_at is not None:
        out.revoked_at.CopyFrom(events.ts(s.revoked_at))
    if s.cause:
        out.cause = events.CAUSE[s.cause]
    return out


def _verifier(v: Verifier) -> pb.Verifier:
    out = pb.Verifier(verifier_id=v.id, kind=VERIFIER_KIND[v.kind], organization=v.organization,
                      filing_ref=v.filing_ref, registered_at=events.ts(v.registered_at))
    if v.deregistered_at is not None:
        out.deregistered_at.CopyFrom(events.ts(v.deregistered_at))
    return out


class CertificateAuthorityServicer(pb_grpc.CertificateAuthorityServiceServicer):
    def __init__(self, service: JpkiService, *, issuing_services: frozenset[str]) -> None:
        self.service = service
        self.issuing_services = issuing_services

    def _actor(self) -> str:
        caller = current_caller()
        # Among platform services only the card-issuing side may touch certificates (Boulder: the CA takes
        # instructions from the RA only).
        if caller.kind == "service" and caller.id not in self.issuing_services:
            raise PermissionDenied(f"service {caller.id} may not manage certificates")
        return str(caller)

    async def IssueCertificate(self, request: pb.IssueCertificateRequest, context: Any
                               ) -> pb.IssueCertificateResponse:
        actor = self._actor()
        kind = _kind(request.ca)
        facts = None
        if request.HasField("facts"):
            f = request.facts
            facts = profiles.BasicFacts(name=f.name, birth_date=_date(f.birth_date, "facts.birth_date"), sex=f.sex,
                                        address=f.address, name_substitutes=f.name_substitutes,
                                        address_substitutes=f.address_substitutes)
        issued = await self.service.issue(IssueRequest(
            kind=kind, card_id=request.card_id, resident_code=request.resident_code,
            partition=profiles.Partition(request.municipality_code, request.prefecture_name,
                                         request.municipality_name),
            birth_date=_date(request.birth_date, "birth_date"), card_expiry=_date(request.card_expiry, "card_expiry"),
            public_key_der=request.public_key, csr_der=request.csr, facts=facts, adult_ward=request.adult_ward,
        ), actor=actor)
        return pb.IssueCertificateResponse(serial_hex=format(issued.serial, "x"), certificate=issued.cert_der,
                                           not_before=events.ts(issued.not_before),
                                           not_after=events.ts(issued.not_after))

    async def RevokeCertificate(self, request: pb.RevokeCertificateRequest, context: Any
                                ) -> pb.RevokeCertificateResponse:
        actor = self._actor()
        cause = CAUSE_FROM_PB.get(request.cause)
        if cause is None:
            raise InvalidArgument("cause", "must name a revocation cause")
        s = await self.service.revoke(_kind(request.ca), _serial(request.serial_hex), cause, actor=actor)
        return pb.RevokeCertificateResponse(status=_status(s))

    async def ReleaseHold(self, request: pb.ReleaseHoldRequest, context: Any) -> pb.ReleaseHoldResponse:
        actor = self._actor()
        s = await self.service.release_hold(_kind(request.ca), _serial(request.serial_hex), actor=actor)
        return pb.ReleaseHoldResponse(status=_status(s))

    async def SuspendCard(self, request: pb.SuspendCardRequest, context: Any) -> pb.SuspendCardResponse:
        actor = self._actor()
        if not request.card_id:
            raise InvalidArgument("card_id", "is required")
        return pb.SuspendCardResponse(statuses=[_status(s) for s in await self.service.suspend_card(
            request.card_id, actor=actor)])

    async def ResumeCard(self, request: pb.ResumeCardRequest, context: Any) -> pb.ResumeCardResponse:
        actor = self._actor()
        if not request.card_id:
            raise InvalidArgument("card_id", "is required")
        return pb.ResumeCardResponse(statuses=[_status(s) for s in await self.service.resume_card(
            request.card_id, actor=actor)])

    async def GetCertificate(self, request: pb.GetCertificateRequest, context: Any) -> pb.GetCertificateResponse:
        self._actor()
        s = await self.service.status(_kind(request.ca), _serial(request.serial_hex))
        return pb.GetCertificateResponse(certificate=s.cert_der or b"", status=_status(s))

    async def GenerateCrls(self, request: pb.GenerateCrlsRequest, context: Any) -> pb.GenerateCrlsResponse:
        actor = self._actor()
        kinds = None if request.ca == pb.CA_KIND_UNSPECIFIED else [_kind(request.ca)]
        made = await self.service.generate_due_crls(force=True, kinds=kinds, actor=actor)
        return pb.GenerateCrlsResponse(generated=made)

    async def VerifyAuditChain(self, request: pb.VerifyAuditChainRequest, context: Any
                               ) -> pb.VerifyAuditChainResponse:
        ok, entries, bad, problem = await self.service.verify_audit()
        return pb.VerifyAuditChainResponse(ok=ok, entries=entries, first_bad_seq=bad or 0, problem=problem or "")


class CertificateStatusServicer(pb_grpc.CertificateStatusServiceServicer):
    def __init__(self, service: JpkiService) -> None:
        self.service = service

    async def CheckCertificateStatus(self, request: pb.CheckCertificateStatusRequest, context: Any
                                     ) -> pb.CheckCertificateStatusResponse:
        caller = current_caller()
        try:
            cert = x509.load_der_x509_certificate(request.certificate)
        except ValueError:
            raise InvalidArgument("certificate", "must be a DER X.509 certificate") from None
        kind = next((k for k, a in self.service.authorities.items() if a.cert.subject == cert.issuer), None)
        if kind is None:
            raise InvalidArgument("certificate", "was not issued by a JPKI CA of this platform")
        if caller.kind == "verifier":
            # Only registered verifiers get status answers, and only for the CA their filing covers.
            v = await self.service.verifier(caller.id)
            if v is None or v.deregistered_at is not None:
                raise UnknownVerifier()
            if kind.value not in VERIFIER_SCOPE[v.kind]:
                raise PermissionDenied(f"a {v.kind} may not ask about {kind} certificates")
        s = await self.service.status(kind, cert.serial_number)
        return pb.CheckCertificateStatusResponse(status=_status(s), checked_at=events.ts(self.service.now()))


class VerifierRegistryServicer(pb_grpc.VerifierRegistryServiceServicer):
    def __init__(self, service: JpkiService) -> None:
        self.service = service

    async def RegisterVerifier(self, request: pb.RegisterVerifierRequest, context: Any
                               ) -> pb.RegisterVerifierResponse:
        kind = VERIFIER_KIND_FROM_PB.get(request.kind)  # type: ignore[call-overload]
        if kind is None:
            raise InvalidArgument("kind", "must name a verifier kind")
        v, token = await self.service.register_verifier(kind=kind, organization=request.organization,
                                                        filing_ref=request.filing_ref, actor=str(current_caller()))
        return pb.RegisterVerifierResponse(verifier=_verifier(v), token=token)

    async def DeregisterVerifier(self, request: pb.DeregisterVerifierRequest, context: Any
                                 ) -> pb.DeregisterVerifierResponse:
        await self.service.deregister_verifier(request.verifier_id, actor=str(current_caller()))
        return pb.DeregisterVerifierResponse()

    async def ListVerifiers(self, request: pb.ListVerifiersRequest, context: Any) -> pb.ListVerifiersResponse:
        return pb.ListVerifiersResponse(verifiers=[_verifier(v) for v in await self.service.list_verifiers()])


_MANAGE = ("service", "operator")


def bindings(service: JpkiService, *, issuing_services: frozenset[str] = frozenset({"issuance"})
             ) -> list[ServiceBinding]:
    ca_methods: dict[str, tuple[str, ...]] = {
        m: _MANAGE for m in ("IssueCertificate", "RevokeCertificate", "ReleaseHold", "SuspendCard", "ResumeCard",
                             "GetCertificate")}
    ca_methods |= {"GenerateCrls": ("operator",), "VerifyAuditChain": ("operator",)}
    return [
        ServiceBinding(pb.DESCRIPTOR.services_by_name["CertificateAuthorityService"].full_name,
                       pb_grpc.add_CertificateAuthorityServiceServicer_to_server,
                       CertificateAuthorityServicer(service, issuing_services=issuing_services), ca_methods),
        ServiceBinding(pb.DESCRIPTOR.services_by_name["CertificateStatusService"].full_name,
                       pb_grpc.add_CertificateStatusServiceServicer_to_server,
                       CertificateStatusServicer(service),
                       {"CheckCertificateStatus": ("verifier", "service", "operator")}),
        ServiceBinding(pb.DESCRIPTOR.services_by_name["VerifierRegistryService"].full_name,
                       pb_grpc.add_VerifierRegistryServiceServicer_to_server,
                       VerifierRegistryServicer(service),
                       {m: ("operator",) for m in ("RegisterVerifier", "DeregisterVerifier", "ListVerifiers")}),
    ]

