"""Changes of the register: a new number after a leak (番号法 第7条2項), a new 住民票コード (住基法 第30条の4)."""

from __future__ import annotations

import re

from mynumber_codes import validate_resident_code, validate_text
from mynumber_events import numbering as events
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.identity import Caller

from numbering import tenancy
from numbering.errors import MoveOutPending, NoNumber, NumberCollision, ResidentCodeInUse
from numbering.ports import Registry
from numbering.records import ACTIVE, NumberRow
from numbering.rules import Assignment, Rules, acting, authorize_municipality, municipality, ref

CHANGE_REASONS = {1: "leaked, on the person's request (請求)", 2: "leaked, ex officio (職権)"}
# Ten or more decimal digits (full-width included: １２３… is still a number), or a number grouped as it is
# printed (1234 5678 9012, 1234-5678-9012). Dates and phone numbers are grouped otherwise and pass.
_DIGIT_RUN = re.compile(r"\d{10,}|\d{4}[\s\-\u2010\u2212\uff0d]\d{4}[\s\-\u2010\u2212\uff0d]\d{4}")


class ChangeRules(Rules):
    async def change_number(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str,
                            reason: int, reason_detail: str) -> Assignment:
        """番号法 第7条2項: a leaked number is retired and the person gets a changed number of this region."""
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        if reason not in CHANGE_REASONS:
            raise InvalidArgument("reason", "required: LEAKED_ON_REQUEST or LEAKED_EX_OFFICIO (番号法 第7条2項)")
        validate_text(reason_detail, "reason_detail", max_chars=500, required=False, multiline=False)
        if _DIGIT_RUN.search(reason_detail):
            raise InvalidArgument("reason_detail",
                                  "must not contain personal data (10 or more digits, or 12 grouped 4-4-4)")
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="number.change",
                                        permits=tenancy.CHANGE, refusal=NoNumber, lock=True)
        current = held.row
        old_number, _ = self._open(current)
        counter = await store.next_change_counter(self.region)
        (number,) = self.changed_numbers([counter])
        await store.retire(current.number_hash, now, reason)
        # The holder stays the holder (a pending 転出 stays pending: it follows the 住民票コード).
        row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                        current.municipality_code, ACTIVE, self.region, now, previous_hash=current.number_hash)
        if not await store.insert_number(row):
            raise NumberCollision()
        await store.add_event(events.NUMBER_CHANGED, events.number_changed(
            self.event_sealer, now, current.municipality_code, resident_code, number, old_number, reason))
        await self._log(store, caller, held.basis, action="number.change", subject_ref=ref(code_hash),
                        purpose="個人番号の変更 (番号法 第7条2項)", at=now,
                        details={"reason": reason, "detail": reason_detail,
                                 **acting(caller, municipality_code)})
        return Assignment(number, True, now)

    async def change_resident_code(self, store: Registry, caller: Caller, municipality_code: str, old_code: str,
                                   new_code: str) -> Assignment:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(old_code, "old_resident_code", self.code_rule)
        validate_resident_code(new_code, "new_resident_code", self.code_rule)
        if old_code == new_code:
            raise InvalidArgument("new_resident_code", "must differ from old_resident_code")
        authorize_municipality(caller, municipality_code)
        old_hash, new_hash = self.keys.lookup(old_code.encode()), self.keys.lookup(new_code.encode())
        now = self.clock.now()
        held = await self.tenancy.admit(store, caller, municipality_code, old_hash, action="resident_code.change",
                                        permits=tenancy.CHANGE, refusal=lambda: NoNumber("old_resident_code"),
                                        lock=True)
        current = held.row
        if held.moving_to is not None:
            # The destination knows the person by the code on the 転出証明書: keep it until the 転入.
            raise MoveOutPending("old_resident_code")
        # Whether the new code is free is what an assignment of it would tell too (docs/numbering.md).
        target = await self.tenancy.load(store, new_hash)
        if target.row is not None or target.retired:
            raise ResidentCodeInUse()
        number, _ = self._open(current)
        await store.change_code(current, new_hash, self._seal(number, new_code), current.municipality_code, now)
        await store.add_event(events.RESIDENT_CODE_CHANGED, events.resident_code_changed(
            self.event_sealer, now, current.municipality_code, new_code, old_code, number))
        await self._log(store, caller, held.basis, action="resident_code.change", subject_ref=ref(new_hash),
                        purpose="住民票コードの変更", at=now,
                        details={"previous_ref": ref(old_hash), **acting(caller, municipality_code)})
        return Assignment(number, False, now)
