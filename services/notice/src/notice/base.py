"""What every notice aggregate shares: sealing, the clock, the access log, event building, and the caller's own
municipality. No proto, no SQL: the store comes in from the boundary that opened the unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash, SubjectSealer
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from notice import events
from notice.entities import Residence
from notice.errors import not_your_municipality
from notice.fees import FeeSchedule
from notice.offices import municipal_office
from notice.ports import NoticeStorePort
from notice.validation import validate_municipality

AAD_FACTS, AAD_NUMBER, AAD_ADDRESS = b"notice.residents.facts", b"notice.residents.number", b"notice.address"
AAD_RESIDENCE, AAD_DEST, AAD_CARD = b"notice.residences.address", b"notice.mailings.dest", b"notice.items.card"

Event = tuple[str, bytes]


def check_caller_municipality(caller: Caller, municipality_code: str, field: str = "municipality_code") -> str:
    """The request's 団体コード must be a real municipality and the caller's own: a municipality acts in its own
    name (which resident it may touch is then tenancy.grant's question)."""
    code = validate_municipality(municipality_code, field)
    if caller.kind != "municipality" or caller.id != code:
        raise not_your_municipality()
    return code


def check_mailing_municipality(caller: Caller, municipality_code: str) -> str:
    """As `check_caller_municipality`, for a request that can start mail: the municipality must also be one notice
    holds an office for (its head issues the notice; a card held at the office goes to its address). Refused here,
    before anything is stored, so no envelope is ever prepared that could not be printed or addressed."""
    code = check_caller_municipality(caller, municipality_code)
    municipal_office(code)
    return code


@dataclass(frozen=True)
class Context:
    sealer: FieldSealer
    hasher: KeyedHash
    clock: Clock
    print_sealer: FieldSealer
    # The platform event key: seals the form inside form.issued (the issuance service learns the 申請書ID there).
    event_sealer: SubjectSealer
    # The 再交付手数料 by ordinance (notice.fees); none given: the standard fee everywhere.
    fees: FeeSchedule = field(default_factory=FeeSchedule)

    def form_issued(self, municipality_code: str, application_id: str, number: str, facts: dict[str, Any],
                    address: str) -> Event:
        """form.issued for a 交付申請書 just made: its 申請書ID bound to the number and the 4 facts printed on it."""
        return events.FORM_ISSUED, events.form_issued(self.event_sealer, at=self.clock.now(),
                                                      municipality_code=municipality_code,
                                                      application_id=application_id, number=number,
                                                      name=facts["name"], address=address,
                                                      birth_date=facts["birth_date"], sex=int(facts["sex"]))


    def seal(self, value: Any, aad: bytes) -> bytes:
        return self.sealer.seal(json.dumps(value, ensure_ascii=False).encode(), aad)

    def open(self, sealed: bytes, aad: bytes) -> Any:
        return json.loads(self.sealer.open(bytes(sealed), aad))

    def open_number(self, sealed: bytes) -> str:
        return self.sealer.open(bytes(sealed), AAD_NUMBER).decode()

    def rh(self, resident_code: str) -> bytes:
        return self.hasher(resident_code.encode())

    async def audit(self, store: NoticeStorePort, caller: Caller, action: str, resident_code: str, purpose: str,
                    basis: Basis | None, **details: Any) -> None:
        # The legal basis the caller acted on (tenancy.grant), or "refused": the access log says why, not only who.
        await store.record_access(at=self.clock.now(), actor=str(caller), action=action,
                                  subject_ref=self.rh(resident_code).hex(), purpose=purpose,
                                  details={"basis": basis.value if basis else "refused", **details})

    def change(self, subj: str, mailing_id: str, municipality_code: str, status: str, *, items: int = 0,
               reason: str = "", batch_id: str = "") -> Event:
        return subj, events.mailing_changed(mailing_id=mailing_id, municipality_code=municipality_code,
                                            status=status, at=self.clock.now(), items=items, return_reason=reason,
                                            batch_id=batch_id)

    async def event(self, store: NoticeStorePort, subj: str, mailing_id: str, municipality_code: str, status: str,
                    *, items: int = 0, reason: str = "") -> None:
        await store.add_events([self.change(subj, mailing_id, municipality_code, status, items=items,
                                            reason=reason)])

    @staticmethod
    def card(facts: dict[str, Any], number: str, address: str) -> dict[str, Any]:
        return {"number": number, "name": facts["name"], "address": address, "birth_date": facts["birth_date"],
                "sex": facts["sex"]}

    @staticmethod
    def office_address(municipality_code: str) -> dict[str, str]:
        # 別紙 2 (2) ②: 住所地市区町村の役所・役場の所在地を入力 ※居所情報は入力しない. The office's real address and
        # postal code (notice.offices), never a placeholder.
        office = municipal_office(municipality_code)
        return {"address": office.mailing_address, "postal_code": office.postal_code}

    def destination(self, municipality_code: str, home: dict[str, str], residence: Residence | None,
                    addressee: str) -> tuple[str, bytes]:
        """Where an envelope goes and its sealed label: the home address, the office (a DV victim's card held
        there), or the 居所 (restricted for a DV victim)."""
        if residence is None:
            return "address", self.seal({**home, "addressee": addressee}, AAD_DEST)
        if residence.hold_at_office:
            return "office", self.seal({**self.office_address(municipality_code), "addressee": addressee}, AAD_DEST)
        where = self.open(residence.sealed_address, AAD_RESIDENCE)
        kind = "residence_restricted" if residence.kind == "dv_victim" else "residence"
        return kind, self.seal({**where, "addressee": addressee}, AAD_DEST)
