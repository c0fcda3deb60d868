"""Events the JPKI CA emits (certificate issued / revoked) and consumes (resident facts changed): subjects,
payloads and the edge check of what arrives. The handler that acts on them is jpki.handlers."""

from __future__ import annotations

import datetime as dt

from mynumber.jpki.v1 import events_pb2 as jev
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.resident.v1 import events_pb2 as rev
from mynumber_runtime.consumer import PoisonEvent
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.streams import subject
from mynumber_runtime.timestamps import timestamp as ts

from jpki import validation
from jpki.errors import InvalidArgument

CERTIFICATE_ISSUED = subject("jpki", "certificate", "issued")
CERTIFICATE_REVOKED = subject("jpki", "certificate", "revoked")
# Published by the platform's resident side (the municipal register through the gateway).
RESIDENT_FACTS_CHANGED = subject("resident", "resident", "facts_changed")
RESIDENT_SERVICE = "resident"
FACTS = frozenset({rev.FACT_NAME, rev.FACT_ADDRESS, rev.FACT_BIRTH_DATE, rev.FACT_SEX})

CA_KIND = {"sign": pb.CA_KIND_SIGN, "auth": pb.CA_KIND_AUTH}
CAUSE = {
    "loss_or_compromise": pb.REVOCATION_CAUSE_LOSS_OR_COMPROMISE,
    "holder_request": pb.REVOCATION_CAUSE_HOLDER_REQUEST,
    "death": pb.REVOCATION_CAUSE_DEATH,
    "record_error": pb.REVOCATION_CAUSE_RECORD_ERROR,
    "suspension": pb.REVOCATION_CAUSE_SUSPENSION,
    "facts_changed": pb.REVOCATION_CAUSE_FACTS_CHANGED,
}


def certificate_issued(kind: str, serial: int, card_id: str, municipality_code: str, not_before: dt.datetime,
                       not_after: dt.datetime) -> tuple[str, jev.CertificateIssued]:
    return CERTIFICATE_ISSUED, jev.CertificateIssued(
        ca=CA_KIND[kind], serial_hex=format(serial, "x"), card_id=card_id, municipality_code=municipality_code,
        not_before=ts(not_before), not_after=ts(not_after))


def certificate_revoked(kind: str, serial: int, card_id: str, cause: str, revoked_at: dt.datetime,
                        on_hold: bool) -> tuple[str, jev.CertificateRevoked]:
    return CERTIFICATE_REVOKED, jev.CertificateRevoked(
        ca=CA_KIND[kind], serial_hex=format(serial, "x"), card_id=card_id, cause=CAUSE[cause],
        revoked_at=ts(revoked_at), on_hold=on_hold)


class ResidentEventSealer:
    """Seals/opens SealedResident under the platform event key (bound to the facts_changed subject)."""

    def __init__(self, key: bytes) -> None:
        self._sealer = SubjectSealer(key)

    def seal(self, resident_code: str) -> bytes:
        return self._sealer.seal(RESIDENT_FACTS_CHANGED,
                                 rev.SealedResident(resident_code=resident_code).SerializeToString())

    def open(self, sealed: bytes) -> str:
        return str(rev.SealedResident.FromString(self._sealer.open(RESIDENT_FACTS_CHANGED, sealed)).resident_code)


def resident_facts_changed(sealer: ResidentEventSealer, *, change_id: str, municipality_code: str,
                           resident_code: str, facts: list[int], at: dt.datetime) -> rev.ResidentFactsChanged:
    """What the producer publishes (used by tests and the demo; the register side owns the real producer)."""
    return rev.ResidentFactsChanged(change_id=change_id, municipality_code=municipality_code,
                                    sealed_resident=sealer.seal(resident_code), changed_facts=facts,
                                    changed_at=ts(at))


class PoisonFactsChanged(PoisonEvent):
    """A facts_changed event that can never be handled: undecodable, failing validation, or a seal that does not
    open. The reason names the field and the rule, never a value; the consumer parks the event in the
    dead-letter stream with it (runtime consumer, replayable by `python -m jpki dead-letters`)."""


def read_facts_changed(data: bytes, sealer: ResidentEventSealer) -> tuple[rev.ResidentFactsChanged, str]:
    """The event and the 住民票コード it carries, validated like any request at jpki's edge (mynumber_codes)."""
    try:
        event = rev.ResidentFactsChanged.FromString(data)
    except Exception:  # protobuf's DecodeError and friends: any undecodable payload is poison
        raise PoisonFactsChanged("payload: not a ResidentFactsChanged message") from None
    try:
        validation.validate_text(event.change_id, "change_id", max_chars=128, required=True, multiline=False)
        validation.validate_municipality_code(event.municipality_code, "municipality_code")
    except InvalidArgument as e:
        raise PoisonFactsChanged(e.message) from None
    if not event.changed_facts or any(f not in FACTS for f in event.changed_facts):
        raise PoisonFactsChanged("changed_facts: must name at least one of the 4 facts")
    try:
        resident_code = sealer.open(event.sealed_resident)
    except Exception:  # a tampered or foreign seal, or a plaintext that is no SealedResident
        raise PoisonFactsChanged("sealed_resident: does not open under the platform event key") from None
    try:
        validation.validate_resident_code(resident_code, "sealed_resident.resident_code")
    except InvalidArgument as e:
        raise PoisonFactsChanged(e.message) from None
    return event, resident_code
