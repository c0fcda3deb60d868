"""gRPC servicers: proto <-> domain. Caller identity comes from the shared runtime (mTLS, or metadata on
loopback); the per-method allow-lists in `bindings` are enforced by the runtime's interceptor (default deny).

Every request is validated here, field by field (jpki.validation), before the service looks anything up or the HSM
signs anything: a refusal names the field and the rule and costs no signature. Each method is the boundary of
one unit of work: it opens it, hands its store to the role, and the unit commits when the method returns."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cryptography import x509
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.grpc_server import ServiceBinding
from mynumber_runtime.identity import current_caller
from mynumber_runtime.timestamps import datetime_of, timestamp

from jpki import validation as v
from jpki.domain import (
    VERIFIER_SCOPE,
    CertificateFilter,
    CertificateStatus,
    Listed,
)
from jpki.errors import InvalidArgument, PermissionDenied, UnknownVerifier
from jpki.messages import (
    CAUSE_FROM_PB,
    PAGE_TOKEN,
    STATE,
    STATE_FROM_PB,
    VERIFIER_KIND_FROM_PB,
    issue_request,
)
from jpki.messages import kind_of as _kind
from jpki.messages import status_message as _status
from jpki.messages import verifier_message as _verifier
from jpki.parts import Jpki

# How many of a mass revocation's selected certificates its answer shows (the operator's check of the selection).
MASS_SAMPLE = 20


def _selection(request: pb.ListCertificatesRequest | pb.RevokeMassRequest) -> CertificateFilter:
    """An operator's selection, field by field (both requests carry the same fields)."""
    if request.state and request.state not in STATE_FROM_PB:
        raise InvalidArgument("state", "a CertificateState value")
    return CertificateFilter(
        kind=None if request.ca == pb.CA_KIND_UNSPECIFIED else _kind(request.ca),
        municipality_code=v.validate_municipality_code(request.municipality_code, "municipality_code").code
        if request.municipality_code else None,
        card_id=v.validate_card_id(request.card_id) if request.card_id else None,
        status=STATE_FROM_PB.get(request.state),
        issued_from=datetime_of(request.issued_from, "issued_from") if request.HasField("issued_from") else None,
        issued_before=datetime_of(request.issued_before, "issued_before") if request.HasField("issued_before")
        else None)


def _summary(x: Listed, now: CertificateStatus | None = None) -> pb.CertificateSummary:
    """A listed certificate, with its status as listed or, when given, as it is `now`."""
    return pb.CertificateSummary(status=_status(now or x.status), card_id=x.card_id,
                                 municipality_code=x.municipality_code, issued_at=timestamp(x.issued_at))


class CertificateAuthorityServicer(pb_grpc.CertificateAuthorityServiceServicer):
    def __init__(self, jpki: Jpki) -> None:
        self.jpki = jpki

    async def IssueCertificate(self, request: pb.IssueCertificateRequest, context: Any
                               ) -> pb.IssueCertificateResponse:
        req = issue_request(request)
        async with self.jpki.units() as store:
            issued = await self.jpki.issuance.issue(store, req, caller=current_caller())
        return pb.IssueCertificateResponse(serial_hex=format(issued.serial, "x"), certificate=issued.cert_der,
                                           not_before=timestamp(issued.not_before),
                                           not_after=timestamp(issued.not_after), state=STATE[issued.status],
                                           replayed=issued.replayed)

    async def RevokeCertificate(self, request: pb.RevokeCertificateRequest, context: Any
                                ) -> pb.RevokeCertificateResponse:
        kind = _kind(request.ca)
        serial = v.validate_serial_hex(request.serial_hex)
        cause = CAUSE_FROM_PB.get(request.cause)  # type: ignore[call-overload]
        if cause is None:
            raise InvalidArgument("cause", "must name a revocation cause")
        async with self.jpki.units() as store:
            s = await self.jpki.revocation.revoke(store, kind, serial, cause, caller=current_caller())
        return pb.RevokeCertificateResponse(status=_status(s))

    async def ReleaseHold(self, request: pb.ReleaseHoldRequest, context: Any) -> pb.ReleaseHoldResponse:
        kind = _kind(request.ca)
        serial = v.validate_serial_hex(request.serial_hex)
        async with self.jpki.units() as store:
            s = await self.jpki.revocation.release_hold(store, kind, serial, caller=current_caller())
        return pb.ReleaseHoldResponse(status=_status(s))

    async def SuspendCard(self, request: pb.SuspendCardRequest, context: Any) -> pb.SuspendCardResponse:
        v.validate_card_id(request.card_id)
        async with self.jpki.units() as store:
            done = await self.jpki.revocation.suspend_card(store, request.card_id, caller=current_caller())
        return pb.SuspendCardResponse(statuses=[_status(s) for s in done])

    async def ResumeCard(self, request: pb.ResumeCardRequest, context: Any) -> pb.ResumeCardResponse:
        v.validate_card_id(request.card_id)
        async with self.jpki.units() as store:
            done = await self.jpki.revocation.resume_card(store, request.card_id, caller=current_caller())
        return pb.ResumeCardResponse(statuses=[_status(s) for s in done])

    async def GetCertificate(self, request: pb.GetCertificateRequest, context: Any) -> pb.GetCertificateResponse:
        kind = _kind(request.ca)
        serial = v.validate_serial_hex(request.serial_hex)
        async with self.jpki.units() as store:
            s = await self.jpki.revocation.certificate(store, kind, serial, caller=current_caller())
        return pb.GetCertificateResponse(certificate=s.cert_der or b"", status=_status(s))

    async def GenerateCrls(self, request: pb.GenerateCrlsRequest, context: Any) -> pb.GenerateCrlsResponse:
        kinds = None if request.ca == pb.CA_KIND_UNSPECIFIED else [_kind(request.ca)]
        async with self.jpki.units() as store:
            made = await self.jpki.publication.generate_due_crls(store, force=True, kinds=kinds,
                                                                 actor=str(current_caller()))
        return pb.GenerateCrlsResponse(generated=made)

    async def ListCertificates(self, request: pb.ListCertificatesRequest, context: Any
                               ) -> pb.ListCertificatesResponse:
        size = request.page_size or 100
        if not 1 <= size <= 1000:
            raise InvalidArgument("page_size", "1-1000 (0 means 100)")
        after = None
        if request.page_token:
            token = PAGE_TOKEN.fullmatch(request.page_token)
            if token is None:
                raise InvalidArgument("page_token", "must be a next_page_token this method returned")
            after = (token[1], token[2])
        selection = _selection(request)
        async with self.jpki.units() as store:
            page, next_key = await self.jpki.revocation.list_certificates(store, selection, caller=current_caller(),
                                                                          limit=size, after=after)
        return pb.ListCertificatesResponse(certificates=[_summary(x) for x in page],
                                           next_page_token="" if next_key is None else f"{next_key[0]}:{next_key[1]}")

    async def RevokeMass(self, request: pb.RevokeMassRequest, context: Any) -> pb.RevokeMassResponse:
        selection = _selection(request)
        cause = CAUSE_FROM_PB.get(request.cause)  # type: ignore[call-overload]
        if cause is None:
            raise InvalidArgument("cause", "must name a revocation cause")
        # One unit of work; revoke_selection commits page by page when executing, so a call cut short (its
        # deadline) keeps what it revoked and the same call again goes on from there.
        async with self.jpki.units() as store:
            done = await self.jpki.revocation.revoke_selection(store, selection, cause, caller=current_caller(),
                                                               execute=request.execute)
        now = {(s.kind, s.serial): s for s in done.revoked}
        return pb.RevokeMassResponse(executed=done.executed, selected=len(done.chosen), revoked=len(done.revoked),
                                     sample=[_summary(x, now.get((x.status.kind, x.status.serial)))
                                             for x in done.chosen[:MASS_SAMPLE]])

    async def VerifyAuditChain(self, request: pb.VerifyAuditChainRequest, context: Any
                               ) -> pb.VerifyAuditChainResponse:
        async with self.jpki.units() as store:
            rep = await self.jpki.authorities.verify_audit(store, self.jpki.audit_anchors)
        return pb.VerifyAuditChainResponse(ok=rep.ok, entries=rep.entries, first_bad_seq=rep.first_bad_seq or 0,
                                           problem=rep.problem or "", anchored_seq=rep.anchored_seq,
                                           note=rep.note or "")


class CertificateStatusServicer(pb_grpc.CertificateStatusServiceServicer):
    def __init__(self, jpki: Jpki) -> None:
        self.jpki = jpki

    async def CheckCertificateStatus(self, request: pb.CheckCertificateStatusRequest, context: Any
                                     ) -> pb.CheckCertificateStatusResponse:
        caller = current_caller()
        v.validate_der(request.certificate, "certificate", max_bytes=v.MAX_CERT_DER)
        try:
            # cryptography parses lazily: a certificate whose issuer or serial is malformed loads, then raises
            # ValueError when the field is read, so both are read here.
            cert = x509.load_der_x509_certificate(request.certificate)
            issuer, serial = cert.issuer, cert.serial_number
        except (ValueError, x509.InvalidVersion):  # InvalidVersion: a version field other than v1/v3
            raise InvalidArgument("certificate", "must be a DER X.509 certificate") from None
        kind = next((k for k, a in self.jpki.authorities.by_kind.items() if a.cert.subject == issuer), None)
        if kind is None:
            raise InvalidArgument("certificate", "was not issued by a JPKI CA of this platform")
        async with self.jpki.units() as store:
            if caller.kind == "verifier":
                # Only registered verifiers get status answers, and only for the CA their filing covers.
                ver = await self.jpki.verifiers.get(store, caller.id)
                if ver is None or ver.deregistered_at is not None:
                    raise UnknownVerifier()
                if kind.value not in VERIFIER_SCOPE[ver.kind]:
                    raise PermissionDenied(f"a {ver.kind} may not ask about {kind} certificates")
            if serial <= 0 or serial.bit_length() > 160:
                raise InvalidArgument("certificate", "its serial number must be positive and at most 20 octets")
            s = await self.jpki.revocation.status(store, kind, serial)
        return pb.CheckCertificateStatusResponse(status=_status(s), checked_at=timestamp(self.jpki.authorities.now()))


class VerifierRegistryServicer(pb_grpc.VerifierRegistryServiceServicer):
    def __init__(self, jpki: Jpki) -> None:
        self.jpki = jpki

    async def RegisterVerifier(self, request: pb.RegisterVerifierRequest, context: Any
                               ) -> pb.RegisterVerifierResponse:
        kind = VERIFIER_KIND_FROM_PB.get(request.kind)  # type: ignore[call-overload]
        if kind is None:
            raise InvalidArgument("kind", "must name a verifier kind")
        async with self.jpki.units() as store:
            ver, token = await self.jpki.verifiers.register(store, kind=kind, organization=request.organization,
                                                            filing_ref=request.filing_ref,
                                                            actor=str(current_caller()))
        return pb.RegisterVerifierResponse(verifier=_verifier(ver), token=token)

    async def DeregisterVerifier(self, request: pb.DeregisterVerifierRequest, context: Any
                                 ) -> pb.DeregisterVerifierResponse:
        v.validate_verifier_id(request.verifier_id)
        async with self.jpki.units() as store:
            await self.jpki.verifiers.deregister(store, request.verifier_id, actor=str(current_caller()))
        return pb.DeregisterVerifierResponse()

    async def ListVerifiers(self, request: pb.ListVerifiersRequest, context: Any) -> pb.ListVerifiersResponse:
        async with self.jpki.units() as store:
            found = await self.jpki.verifiers.list_all(store)
        return pb.ListVerifiersResponse(verifiers=[_verifier(x) for x in found])


def bindings(jpki: Jpki, *, issuing_services: frozenset[str] = frozenset({"issuance"})
             ) -> list[ServiceBinding]:
    """Who may call what, by identity: a platform service reaches only the methods its role needs (issue 9).

    `issuing_services` are the card centre's services (Boulder: the CA takes instructions from its RA only);
    each is named `service:<id>`. Which certificates a caller may then act on is the tenancy rule in revocation.py
    (PERSON_BASES): a municipality only its own residents', the issuing services and operators any.
    """
    issuers = tuple(sorted(f"service:{s}" for s in issuing_services))
    operator = ("operator",)
    # 住所地市町村長: the holder asks its municipality for revocation (公的個人認証法 第9条・第28条) or, after a
    # found card, for resumption; it looks up its residents' certificates to do so (own residents only).
    municipal = ("municipality",)
    # CertificateStatusService: registered verifiers (their filing decides sign/auth), and the two platform
    # services that check a card holder's 利用者証明用 certificate for someone else: convenience-cert (コンビニ交付,
    # the municipality's 36条 filing) and the gateway (card log-in of municipal and resident front ends).
    status_services = ("service:convenience-cert", "service:gateway")
    ca_methods: dict[str, Collection[str]] = {
        # Card personalisation at the card centre: only the issuing side and J-LIS operators (re-issue by hand).
        "IssueCertificate": issuers + operator,
        # Loss, death and the holder's request through the card flow (issuance), the municipal counter, and
        # J-LIS (ex officio; RECORD_ERROR and FACTS_CHANGED are operator-only causes, revocation.OPERATOR_ONLY_CAUSES).
        # A change of the 4 facts needs no caller: jpki consumes the register's facts_changed event.
        "RevokeCertificate": issuers + municipal + operator,
        "ReleaseHold": issuers + municipal + operator,
        # 一時利用停止: the 24-hour loss line (issuance, J-LIS operators); resumption also at the counter.
        "SuspendCard": issuers + municipal + operator,
        "ResumeCard": issuers + municipal + operator,
        # The certificate itself (the 署名用 one carries the 4 facts): whoever may act on it, nobody else.
        "GetCertificate": issuers + municipal + operator,
        "GenerateCrls": operator,
        "VerifyAuditChain": operator,
        # An incident's selection (which cards, which municipality, which days): J-LIS operators only.
        "ListCertificates": operator,
        # Mass revocation of that selection (dry run unless `execute`): J-LIS operators only; revoke_selection
        # checks the caller again (defence in depth: a wrong allow-list still does not open it).
        "RevokeMass": operator,
    }
    return [
        ServiceBinding(pb.DESCRIPTOR.services_by_name["CertificateAuthorityService"].full_name,
                       pb_grpc.add_CertificateAuthorityServiceServicer_to_server,
                       CertificateAuthorityServicer(jpki), ca_methods),
        ServiceBinding(pb.DESCRIPTOR.services_by_name["CertificateStatusService"].full_name,
                       pb_grpc.add_CertificateStatusServiceServicer_to_server,
                       CertificateStatusServicer(jpki),
                       {"CheckCertificateStatus": ("verifier", *status_services, *operator)}),
        ServiceBinding(pb.DESCRIPTOR.services_by_name["VerifierRegistryService"].full_name,
                       pb_grpc.add_VerifierRegistryServiceServicer_to_server,
                       VerifierRegistryServicer(jpki),
                       # J-LIS registers the verifiers it accepted (届出 / 主務大臣認定): operators only.
                       {m: operator for m in ("RegisterVerifier", "DeregisterVerifier", "ListVerifiers")}),
    ]
