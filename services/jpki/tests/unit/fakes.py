"""An in-memory CA store (jpki.ports.CaStorePort) and a signer that needs no HSM: the revocation rules without any
server. Only what the rules under test use is stored; the rest raises, so a rule that starts using more says so."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jpki import models as m
from jpki.authority import Authorities, Authority
from jpki.domain import Tuning, serial_hex
from jpki.ports import Message
from jpki.profiles import CaKind
from jpki.records import CertificateRecord, OcspResponseRecord
from mynumber_runtime.clock import FixedClock

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
KEY = b"k" * 32


@dataclass
class FakeSigner:
    """Stands for ocsp.Signer: the 'response' names what it was asked to say."""

    signed: list[tuple[int, bool]] = field(default_factory=list)

    def sign(self, *, serial: int, status: Any, this_update: dt.datetime, next_update: dt.datetime,
             **_: object) -> bytes:
        self.signed.append((serial, status.good))
        return f"ocsp {serial:x} {'good' if status.good else 'revoked'}".encode()


def authorities(clock: FixedClock | None = None) -> Authorities:
    cas = Authorities(hsm=None, clock=clock or FixedClock(NOW), linter=None, tuning=Tuning())  # type: ignore[arg-type]
    for i, kind in enumerate(CaKind):
        cas.by_kind[kind] = Authority(kind, cert=None, key=None, signer_id=i + 1,  # type: ignore[arg-type]
                                      signer=FakeSigner())  # type: ignore[arg-type]
    return cas


@dataclass
class FakeStore:
    certificates: dict[tuple[str, str], CertificateRecord] = field(default_factory=dict)
    ocsp: dict[tuple[str, str], OcspResponseRecord] = field(default_factory=dict)
    audit_log: list[tuple[str, str, str, Mapping[str, object]]] = field(default_factory=list)
    events: list[tuple[str, Message]] = field(default_factory=list)
    checkpoints: int = 0

    # --- test set-up ---------------------------------------------------------------------------------------
    def add(self, kind: CaKind, serial: int, *, card_id: str = "card-1", municipality: str = "131016",
            status: str = m.GOOD, holder: bytes = b"holder-1", issued_at: dt.datetime = NOW,
            revoked_at: dt.datetime | None = None) -> CertificateRecord:
        sh = serial_hex(serial)
        row = CertificateRecord(
            ca_kind=kind.value, serial_hex=sh, status=status, card_id=card_id, holder_ref=holder,
            municipality_code=municipality, subject_id="-", modulus_hash=hashlib.sha256(sh.encode()).digest(),
            not_before=issued_at, not_after=issued_at + dt.timedelta(days=365 * 5), request_sealed=b"",
            tbs_der=b"", cert_der=None if status in (m.PENDING, m.FAILED) else b"der " + sh.encode(),
            revoked_at=revoked_at if revoked_at or status not in (m.HOLD, m.REVOKED) else issued_at,
            reason_code=None, revocation_cause=None, hold_released_at=None, status_changed_at=issued_at,
            created_at=issued_at)
        self.certificates[(kind.value, sh)] = row
        return row

    def state(self, kind: CaKind, serial: int) -> str:
        return self.certificates[(kind.value, serial_hex(serial))].status

    def actions(self) -> list[str]:
        return [a for _, a, _, _ in self.audit_log]

    # --- the port ------------------------------------------------------------------------------------------
    async def checkpoint(self) -> None:
        self.checkpoints += 1

    async def certificate(self, ca_kind: str, serial_hex: str, *, for_update: bool = False
                          ) -> CertificateRecord | None:
        return self.certificates.get((str(ca_kind), serial_hex))

    async def certificates_of_card(self, card_id: str, *, for_update: bool = False) -> list[CertificateRecord]:
        return sorted((r for r in self.certificates.values() if r.card_id == card_id), key=lambda r: r.created_at)

    async def live_certificates_of_holder(self, holder_ref: bytes, ca_kind: str) -> list[CertificateRecord]:
        return [r for r in self.certificates.values()
                if r.holder_ref == holder_ref and r.ca_kind == ca_kind and r.status in (m.GOOD, m.HOLD)]

    async def list_certificates(self, *, ca_kind: str | None, municipality_code: str | None, card_id: str | None,
                                status: str | None, issued_from: dt.datetime | None,
                                issued_before: dt.datetime | None, after: tuple[str, str] | None, limit: int
                                ) -> list[CertificateRecord]:
        rows = [r for r in self.certificates.values()
                if r.status in (m.GOOD, m.HOLD, m.REVOKED)
                and (ca_kind is None or r.ca_kind == ca_kind)
                and (municipality_code is None or r.municipality_code == municipality_code)
                and (card_id is None or r.card_id == card_id)
                and (status is None or r.status == status)
                and (issued_from is None or r.created_at >= issued_from)
                and (issued_before is None or r.created_at < issued_before)
                and (after is None or (r.ca_kind, r.serial_hex) > after)]
        return sorted(rows, key=lambda r: (r.ca_kind, r.serial_hex))[:limit]

    async def set_revoked(self, ca_kind: str, serial_hex: str, *, status: str, revoked_at: dt.datetime,
                          reason_code: int, cause: str, at: dt.datetime) -> None:
        key = (str(ca_kind), serial_hex)
        self.certificates[key] = replace(self.certificates[key], status=str(status), revoked_at=revoked_at,
                                         reason_code=reason_code, revocation_cause=cause, status_changed_at=at)

    async def set_released(self, ca_kind: str, serial_hex: str, *, status: str, at: dt.datetime) -> None:
        key = (str(ca_kind), serial_hex)
        self.certificates[key] = replace(self.certificates[key], status=str(status), hold_released_at=at,
                                         status_changed_at=at)

    async def upsert_ocsp_response(self, r: OcspResponseRecord) -> None:
        self.ocsp[(r.ca_kind, r.serial_hex)] = r

    async def audit(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str,
                    details: Mapping[str, object] | None = None, purpose: str = "jpki") -> int:
        self.audit_log.append((actor, action, subject_ref, dict(details or {})))
        return len(self.audit_log)

    async def add_event(self, subject: str, message: Message) -> int:
        self.events.append((subject, message))
        return len(self.events)

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"FakeStore.{name}: not needed by the rules under test")

