"""Reads: a person's current number, its history, and the 符号 of a number for one agency."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from mynumber_codes import validate_individual_number, validate_resident_code
from mynumber_runtime.errors import InvalidArgument, PermissionDenied
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from numbering import tenancy
from numbering.errors import NoNumber
from numbering.ports import Registry
from numbering.rules import Assignment, Rules, acting, authorize_municipality, municipality, ref

_CASE_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass(frozen=True)
class HistoryEntry:
    individual_number: str
    status: int
    issued_at: dt.datetime
    retired_at: dt.datetime | None
    retired_reason: int | None
    region: int


class ReadRules(Rules):
    async def lookup(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str, *,
                     basis: Basis = Basis.OWN_REGISTER, case_reference: str = "") -> Assignment:
        """The person's current number. `basis` SAME_PREFECTURE is 住基法 第30条の10: a municipality caller asks
        for a person of another municipality of its prefecture, naming its case (`case_reference`)."""
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        permits, purpose, details = tenancy.READ, "個人番号の確認", acting(caller, municipality_code)
        if basis is Basis.SAME_PREFECTURE:
            if caller.kind != "municipality":
                raise PermissionDenied("only a municipality asks for provision under 住基法 第30条の10")
            if not _CASE_REFERENCE.fullmatch(case_reference):
                raise InvalidArgument("case_reference", "1-32 characters of A-Z, a-z, 0-9 and '-', required with "
                                                        "the same-prefecture basis")
            permits, purpose = tenancy.SAME_PREFECTURE_READ, "住基法第30条の10 本人確認情報の提供"
            details = {"case_reference": case_reference}
        elif basis is not Basis.OWN_REGISTER:
            raise InvalidArgument("basis", "own register or same prefecture")
        elif case_reference:
            raise InvalidArgument("case_reference", "only with the same-prefecture basis")
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="number.lookup",
                                        permits=permits, refusal=NoNumber)
        await self._log(store, caller, held.basis, action="number.lookup", subject_ref=ref(code_hash),
                        purpose=purpose, at=self.clock.now(), details=details)
        return Assignment(self._open(held.row)[0], False, held.row.issued_at)

    async def history(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str
                      ) -> list[HistoryEntry]:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="number.history",
                                        permits=tenancy.READ, refusal=NoNumber)
        chain = await store.history(held.row)
        await self._log(store, caller, held.basis, action="number.history", subject_ref=ref(code_hash),
                        purpose="個人番号の履歴", at=self.clock.now(),
                        details=acting(caller, municipality_code))
        return [HistoryEntry(self._open(r)[0], r.status, r.issued_at, r.retired_at, r.retired_reason, r.region)
                for r in chain]

    async def sector_code(self, store: Registry, caller: Caller, agency_code: str, individual_number: str) -> str:
        if not (1 <= len(agency_code) <= 32 and agency_code.isascii() and agency_code.replace("-", "").isalnum()):
            raise InvalidArgument("agency_code", "1-32 characters of A-Z, a-z, 0-9 and '-'")
        validate_individual_number(individual_number, "individual_number")
        number_hash = self.keys.lookup(individual_number.encode())
        # The linkage network's role (SERVICE_ROLE, allow-listed as `service:linkage`) or an operator: the
        # 符号 names no municipality, so no register's tenancy applies beyond "the number is active".
        active, basis = await self.tenancy.admit_number(store, caller, number_hash,
                                                        refusal=lambda: NoNumber("individual_number"))
        await self._log(store, caller, basis, action="sector_code.issue",
                        subject_ref=ref(active.resident_code_hash), purpose="符号の生成", at=self.clock.now(),
                        details={"agency": agency_code})
        return self.keys.sector_code(agency_code, individual_number)
