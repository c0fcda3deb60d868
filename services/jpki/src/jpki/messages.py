"""Proto <-> domain for the gRPC servicers: enum tables, answers as messages, and the field-by-field edge check of
an issuance request (before any work is done)."""

from __future__ import annotations

import re

from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber_runtime.timestamps import timestamp

from jpki import events, profiles
from jpki import validation as v
from jpki.domain import CertificateStatus, IssueRequest, RevocationCause, Verifier
from jpki.errors import InvalidArgument
from jpki.profiles import CaKind

KIND_FROM_PB = {pb.CA_KIND_SIGN: CaKind.SIGN, pb.CA_KIND_AUTH: CaKind.AUTH}
CAUSE_FROM_PB = {code: RevocationCause(name) for name, code in events.CAUSE.items()}
STATE = {"good": pb.CERTIFICATE_STATE_GOOD, "hold": pb.CERTIFICATE_STATE_HOLD,
         "revoked": pb.CERTIFICATE_STATE_REVOKED}
STATE_FROM_PB = {code: name for name, code in STATE.items()}
# A next_page_token: the last listed certificate's key, "<ca>:<serial hex>".
PAGE_TOKEN = re.compile(r"(sign|auth):([0-9a-f]{1,40})")
VERIFIER_KIND = {"signature_verifier": pb.VERIFIER_KIND_SIGNATURE_VERIFIER,
                 "user_verifier": pb.VERIFIER_KIND_USER_VERIFIER,
                 "platform_operator": pb.VERIFIER_KIND_PLATFORM_OPERATOR,
                 "platform_service": pb.VERIFIER_KIND_PLATFORM_SERVICE}
VERIFIER_KIND_FROM_PB = {code: name for name, code in VERIFIER_KIND.items()}


def kind_of(value: int, field: str = "ca") -> CaKind:
    kind = KIND_FROM_PB.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument(field, "must be CA_KIND_SIGN or CA_KIND_AUTH")
    return kind


def status_message(s: CertificateStatus) -> pb.CertificateStatus:
    out = pb.CertificateStatus(ca=events.CA_KIND[s.kind], serial_hex=format(s.serial, "x"), state=STATE[s.status],
                               not_after=timestamp(s.not_after))
    if s.revoked_at is not None:
        out.revoked_at.CopyFrom(timestamp(s.revoked_at))
    if s.cause:
        out.cause = events.CAUSE[s.cause]
    return out


def verifier_message(ver: Verifier) -> pb.Verifier:
    out = pb.Verifier(verifier_id=ver.id, kind=VERIFIER_KIND[ver.kind], organization=ver.organization,
                      filing_ref=ver.filing_ref, registered_at=timestamp(ver.registered_at))
    if ver.deregistered_at is not None:
        out.deregistered_at.CopyFrom(timestamp(ver.deregistered_at))
    return out


def facts_of(f: pb.BasicFacts) -> profiles.BasicFacts:
    # Sizes first (mynumber_codes' text rules), so a megabyte name costs a length check.
    v.validate_name(f.name, "facts.name")
    v.validate_address(f.address, "facts.address")
    for field, marks in (("facts.name_substitutes", f.name_substitutes),
                         ("facts.address_substitutes", f.address_substitutes)):
        if len(marks) > profiles.ADDRESS_MAX_CHARS:
            raise InvalidArgument(field, "must hold one '0' or '1' per character of the value it marks")
    return profiles.BasicFacts(name=f.name, birth_date=v.validate_date(f.birth_date, "facts.birth_date"), sex=f.sex,
                               address=f.address, name_substitutes=f.name_substitutes,
                               address_substitutes=f.address_substitutes)


def issue_request(request: pb.IssueCertificateRequest) -> IssueRequest:
    """The edge check of an issuance request: every field, in the proto's order, before any work."""
    kind = kind_of(request.ca)
    v.validate_card_id(request.card_id)
    v.validate_resident_code(request.resident_code, "resident_code")
    v.validate_partition_names(request.municipality_code, request.prefecture_name, request.municipality_name)
    birth_date = v.validate_date(request.birth_date, "birth_date")
    card_expiry = v.validate_date(request.card_expiry, "card_expiry")
    v.validate_der(request.public_key, "public_key", max_bytes=v.MAX_KEY_DER, required=False)
    v.validate_der(request.csr, "csr", max_bytes=v.MAX_CSR_DER, required=False)
    if bool(request.public_key) == bool(request.csr):
        raise InvalidArgument("public_key", "give exactly one of public_key (DER SubjectPublicKeyInfo) or csr")
    facts = facts_of(request.facts) if request.HasField("facts") else None
    return IssueRequest(
        kind=kind, card_id=request.card_id, resident_code=request.resident_code,
        partition=profiles.Partition(request.municipality_code, request.prefecture_name, request.municipality_name),
        birth_date=birth_date, card_expiry=card_expiry, public_key_der=request.public_key, csr_der=request.csr,
        facts=facts, adult_ward=request.adult_ward,
        idempotency_key=v.validate_idempotency_key(request.idempotency_key), on_hold=request.on_hold)
