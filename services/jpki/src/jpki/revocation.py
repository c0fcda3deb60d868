"""Status, revocation and holds: revoke, hold (一時利用停止) and resume a certificate or a whole card, the
automatic revocation on a change of the 4 facts, an operator's mass revocation after an incident, and the reads
that go with them (status for verifiers, a certificate for whoever may act on it, an operator's listing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mynumber_runtime.crypto import KeyedHash
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from jpki import events, ocsp, states
from jpki import models as m
from jpki import validation as v
from jpki.authority import Authorities
from jpki.domain import (
    REASON_CODES,
    REASON_FOR,
    CertificateFilter,
    CertificateStatus,
    Listed,
    RevocationCause,
    serial_hex,
    status_of,
)
from jpki.errors import CardNotFound, CertificateNotFound, FailedPrecondition, InvalidArgument, PermissionDenied
from jpki.ports import CaStorePort
from jpki.profiles import CaKind
from jpki.records import CertificateRecord
from jpki.states import Move

# Tenancy (runtime `tenancy.grant`): on whose behalf a caller may read or change a person's certificates. A
# certificate is held by the municipality named in it (its CRL partition: the 住所地 where it was issued).
# - municipality:<code>: only certificates of its own residents (OWN_REGISTER), as the 住所地市町村長 through whom
#   the holder asks for revocation (公的個人認証法 第9条・第28条) or for resumption after a found card.
#   No 住基法 第30条の10 provision here: that covers 本人確認情報, not certificates.
# - service:<id> named in the allow-list (SERVICE_ROLE): the card centre's issuance service, which acts for every
#   municipality in the card flows; the allow-list, not this rule, keeps other services out.
# - operator:<id> (OPERATOR): J-LIS staff (the 24-hour suspension line, ex officio revocation).
# "Not yours" raises exactly what "no such certificate/card" raises: the refusal is no existence oracle.
PERSON_BASES = (Basis.OWN_REGISTER, Basis.SERVICE_ROLE, Basis.OPERATOR)

# Causes only J-LIS itself asserts: a record error is corrected ex officio by the CA, and a change of the 4 facts
# comes from the resident register's event (jpki.handlers); a municipality or the issuance service asks for loss,
# death, the holder's request or a suspension.
OPERATOR_ONLY_CAUSES = frozenset({RevocationCause.RECORD_ERROR, RevocationCause.FACTS_CHANGED})
# A mass revocation works page by page; each page is committed, so an interrupted run, run again, goes on.
MASS_PAGE = 500


@dataclass(frozen=True)
class MassRevocation:
    """What a mass revocation chose (dry run) or did (executed)."""

    executed: bool
    chosen: list[Listed] = field(default_factory=list)  # not yet revoked when selected
    revoked: list[CertificateStatus] = field(default_factory=list)


def _granted(caller: Caller, row: CertificateRecord | None) -> Basis:
    """The tenancy rule on one certificate: pending/failed rows were never issued, so they are unknown."""
    holding = None if row is None or row.status in (m.PENDING, m.FAILED) else Holding(row.municipality_code)
    return grant(caller, holding, permits=PERSON_BASES, unknown=CertificateNotFound)


def _filter_details(f: CertificateFilter) -> dict[str, object]:
    """A selection as the audit log records it (codes and times only: no personal data in a filter)."""
    return {"ca": f.kind, "municipality_code": f.municipality_code, "card_id": f.card_id, "status": f.status,
            "issued_from": f.issued_from.isoformat() if f.issued_from else None,
            "issued_before": f.issued_before.isoformat() if f.issued_before else None}


async def _page(store: CaStorePort, f: CertificateFilter, *, limit: int, after: tuple[str, str] | None
                ) -> tuple[list[Listed], tuple[str, str] | None]:
    """One page of a selection, unaudited (the caller audits the read), and the key of the next page."""
    rows = await store.list_certificates(
        ca_kind=f.kind, municipality_code=f.municipality_code, card_id=f.card_id, status=f.status,
        issued_from=f.issued_from, issued_before=f.issued_before, after=after, limit=limit + 1)
    page = [Listed(status_of(r, with_certificate=False), r.card_id, r.municipality_code, r.created_at)
            for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return page, (None if last is None else (last.ca_kind, last.serial_hex))


def _check_cause(kind: CaKind | None, cause: RevocationCause, caller: Caller) -> None:
    # Both are about the request alone, so they are answered before the certificate is looked up: otherwise
    # the difference between this refusal and "unknown" would tell a caller that a serial exists.
    if cause in OPERATOR_ONLY_CAUSES and caller.kind != "operator":
        raise PermissionDenied("cause: only J-LIS operators revoke for a record error or a change of the "
                               "4 facts (the register's event does the latter)")
    if kind is CaKind.AUTH and cause is RevocationCause.FACTS_CHANGED:
        raise InvalidArgument("cause", "a change of the 4 facts revokes only the 署名用 certificate")


@dataclass
class Revocation:
    authorities: Authorities
    holder_hash: KeyedHash

    # --- reads -----------------------------------------------------------------------------------------------
    async def status(self, store: CaStorePort, kind: CaKind, serial: int) -> CertificateStatus:
        """The standing of a certificate the caller presents (CheckCertificateStatus, OCSP's twin): revocation
        status is given to every registered verifier by law (公的個人認証法 17条・36条), whoever the holder is, so
        this is not a tenancy read; it returns no certificate."""
        row = await store.certificate(kind, serial_hex(serial))
        if row is None or row.status in (m.PENDING, m.FAILED):
            raise CertificateNotFound()
        return status_of(row, with_certificate=False)

    async def certificate(self, store: CaStorePort, kind: CaKind, serial: int, *, caller: Caller
                          ) -> CertificateStatus:
        """A certificate (the 署名用 one carries the 4 facts) and its status, for a caller that may read it."""
        row = await store.certificate(kind, serial_hex(serial))
        _granted(caller, row)
        assert row is not None
        return status_of(row)

    async def list_certificates(self, store: CaStorePort, selection: CertificateFilter, *, caller: Caller,
                                limit: int, after: tuple[str, str] | None = None
                                ) -> tuple[list[Listed], tuple[str, str] | None]:
        """A page of issued certificates for a J-LIS operator (an incident's selection), and the key of the next
        page. Recorded in the audit log with the filter: who looked at which certificates, and why is theirs."""
        if caller.kind != "operator":
            raise PermissionDenied("only J-LIS operators list certificates")
        page, next_key = await _page(store, selection, limit=limit, after=after)
        await store.audit(at=self.authorities.now(), actor=str(caller), action="certificates.listed",
                          subject_ref="-", details={**_filter_details(selection), "page": len(page)})
        return page, next_key

    # --- one certificate -------------------------------------------------------------------------------------
    async def revoke(self, store: CaStorePort, kind: CaKind, serial: int, cause: RevocationCause, *,
                     caller: Caller) -> CertificateStatus:
        _check_cause(kind, cause, caller)
        row = await store.certificate(kind, serial_hex(serial), for_update=True)
        basis = _granted(caller, row)
        assert row is not None
        return await self._revoke_row(store, row, cause, actor=str(caller), basis=basis)

    async def release_hold(self, store: CaStorePort, kind: CaKind, serial: int, *, caller: Caller
                           ) -> CertificateStatus:
        row = await store.certificate(kind, serial_hex(serial), for_update=True)
        basis = _granted(caller, row)
        assert row is not None
        return await self._release_row(store, row, actor=str(caller), basis=basis)

    async def _revoke_row(self, store: CaStorePort, r: CertificateRecord, cause: RevocationCause, *, actor: str,
                          basis: str = "resident_register_event") -> CertificateStatus:
        kind, sh = CaKind(r.ca_kind), r.serial_hex
        new_status = states.move(r.status, Move.HOLD if cause is RevocationCause.SUSPENSION else Move.REVOKE)
        now = self.authorities.now()
        reason = REASON_FOR[cause]
        # A hold that becomes permanent keeps its original date (RFC 5280 §5.3.1, certificateHold).
        revoked_at = r.revoked_at if r.status == m.HOLD and r.revoked_at is not None else now
        await self.authorities.publish_status(store, kind, sh, ocsp.Status(False, revoked_at, reason), now)
        await store.set_revoked(kind, sh, status=new_status, revoked_at=revoked_at,
                                reason_code=REASON_CODES[reason], cause=cause.value, at=now)
        await store.audit(at=now, actor=actor,
                          action="certificate.held" if new_status == m.HOLD else "certificate.revoked",
                          subject_ref=sh, details={"ca": kind, "cause": cause.value, "basis": basis,
                                                   "reason_code": REASON_CODES[reason]})
        await store.add_event(*events.certificate_revoked(kind, int(sh, 16), r.card_id, cause.value, revoked_at,
                                                          new_status == m.HOLD))
        return await self._reread(store, kind, sh)

    async def _release_row(self, store: CaStorePort, r: CertificateRecord, *, actor: str, basis: str
                           ) -> CertificateStatus:
        new_status = states.move(r.status, Move.RELEASE)
        kind, sh = CaKind(r.ca_kind), r.serial_hex
        now = self.authorities.now()
        await self.authorities.publish_status(store, kind, sh, ocsp.Status(good=True), now)
        await store.set_released(kind, sh, status=new_status, at=now)
        await store.audit(at=now, actor=actor, action="certificate.hold_released", subject_ref=sh,
                          details={"ca": kind, "basis": basis})
        return await self._reread(store, kind, sh)

    @staticmethod
    async def _reread(store: CaStorePort, kind: CaKind, sh: str) -> CertificateStatus:
        updated = await store.certificate(kind, sh)
        assert updated is not None
        return status_of(updated)

    # --- a card ----------------------------------------------------------------------------------------------
    async def _card(self, store: CaStorePort, card_id: str, caller: Caller) -> tuple[list[CertificateRecord], Basis]:
        """The issued certificates of a card, if the caller may act on every one of them. A card whose
        certificates name another municipality (even one of them, after a move) is unknown to a municipality:
        acting on part of a card would tell it that the rest exists."""
        v.validate_card_id(card_id)
        rows = [r for r in await store.certificates_of_card(card_id, for_update=True)
                if r.status not in (m.PENDING, m.FAILED)]
        if not rows:
            raise CardNotFound()
        bases = {grant(caller, Holding(r.municipality_code), permits=PERSON_BASES, unknown=CardNotFound)
                 for r in rows}
        return rows, bases.pop()

    async def suspend_card(self, store: CaStorePort, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        """一時利用停止 of a card: every live certificate of the card goes on hold."""
        rows, basis = await self._card(store, card_id, caller)
        good = [r for r in rows if r.status == m.GOOD]
        if not good:
            raise FailedPrecondition("card_id: the card has no valid certificate to suspend",
                                     reason="NOTHING_TO_SUSPEND")
        return [await self._revoke_row(store, r, RevocationCause.SUSPENSION, actor=str(caller), basis=basis)
                for r in good]

    async def resume_card(self, store: CaStorePort, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        rows, basis = await self._card(store, card_id, caller)
        held = [r for r in rows if r.status == m.HOLD]
        if not held:
            raise FailedPrecondition("card_id: the card has no certificate on hold", reason="NOTHING_ON_HOLD")
        return [await self._release_row(store, r, actor=str(caller), basis=basis) for r in held]

    # --- the register's event and incidents ------------------------------------------------------------------
    async def facts_changed(self, store: CaStorePort, resident_code: str, *, actor: str
                            ) -> list[CertificateStatus]:
        """A change of 氏名・住所・生年月日・性別 revokes the 署名用 certificate (a held one for good, keeping the
        hold's date); 利用者証明用 survives (domain.md §4.4)."""
        v.validate_resident_code(resident_code, "resident_code")
        holder = self.holder_hash(resident_code.encode())
        return [await self._revoke_row(store, r, RevocationCause.FACTS_CHANGED, actor=actor)
                for r in await store.live_certificates_of_holder(holder, CaKind.SIGN)]

    async def revoke_selection(self, store: CaStorePort, selection: CertificateFilter, cause: RevocationCause, *,
                               caller: Caller, execute: bool = False) -> MassRevocation:
        """Revoke every issued certificate of an operator's selection (a municipality, a time window of issuance,
        a CA, a card) after an incident. A dry run unless `execute`: it only says what would be revoked.
        Certificates already revoked are left as they are (a retry revokes nothing new); a held one is revoked
        for good. Audited once, with the selection and the counts (each revocation is audited on its own too)."""
        if caller.kind != "operator":
            raise PermissionDenied("only J-LIS operators revoke in mass")
        f = selection
        if f.municipality_code is None and f.card_id is None and f.issued_from is None and f.issued_before is None:
            raise InvalidArgument("selection", "name a municipality, a card or a time window of issuance "
                                  "(revoking every certificate is not a command)")
        if f.issued_from is not None and f.issued_before is not None and f.issued_from >= f.issued_before:
            raise InvalidArgument("issued_before", "must be later than issued_from")
        if f.status == m.REVOKED:
            raise InvalidArgument("status", "revoked certificates cannot be revoked again")
        _check_cause(f.kind, cause, caller)
        if cause is RevocationCause.FACTS_CHANGED and f.kind is not CaKind.SIGN:
            raise InvalidArgument("ca", "a change of the 4 facts revokes only 署名用 certificates: select them")
        if cause is RevocationCause.SUSPENSION:
            raise InvalidArgument("cause", "a mass revocation is for good: suspend cards one by one")
        chosen: list[Listed] = []
        revoked: list[CertificateStatus] = []
        after: tuple[str, str] | None = None
        while True:
            page, after = await _page(store, f, limit=MASS_PAGE, after=after)
            live = [x for x in page if x.status.status != m.REVOKED]
            if execute:
                for x in live:
                    row = await store.certificate(x.status.kind, serial_hex(x.status.serial), for_update=True)
                    if row is None or row.status not in (m.GOOD, m.HOLD):
                        continue  # revoked meanwhile
                    revoked.append(await self._revoke_row(store, row, cause, actor=str(caller),
                                                          basis=Basis.OPERATOR))
                # What is revoked stays revoked if a later page fails (an interrupted run is run again).
                await store.checkpoint()
            chosen += live
            if after is None:
                break
        # One entry for the command, at its end (with what it found and did). An interrupted run leaves only
        # its per-certificate entries; run again, it adds this one.
        await store.audit(at=self.authorities.now(), actor=str(caller), action="certificates.mass_revocation",
                          subject_ref="-", details={**_filter_details(f), "cause": cause.value, "executed": execute,
                                                    "chosen": len(chosen), "revoked": len(revoked)})
        return MassRevocation(execute, chosen, revoked)


__all__ = ["PERSON_BASES", "MassRevocation", "Revocation"]
