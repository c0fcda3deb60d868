"""付番 of one resident: a first number from the 住民票コード, or the number the person already has."""

from __future__ import annotations

from mynumber_codes import validate_resident_code
from mynumber_events import numbering as events
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from numbering import tenancy
from numbering.errors import NumberCollision, ResidentCodeUnavailable
from numbering.ports import Registry
from numbering.records import ACTIVE, NumberRow
from numbering.rules import Assignment, Rules, acting, authorize_municipality, municipality, ref


class AssignmentRules(Rules):
    async def assign(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str
                     ) -> Assignment:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        person = await self.tenancy.load(store, code_hash)
        if person.row is None and not person.retired:
            # A code no register holds: the caller's register takes the person. That a new code gets a
            # number (and a held one does not) is inherent to assignment; see docs/numbering.md.
            number = self.first_numbers([resident_code])[0]
            row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                            municipality_code, ACTIVE, 0, now)
            if await store.insert_number(row):
                await store.add_event(events.NUMBER_ASSIGNED, events.number_assigned(
                    self.event_sealer, now, [municipality_code], [resident_code], [number]))
                basis = Basis.OPERATOR if caller.kind == "operator" else Basis.OWN_REGISTER
                await self._log(store, caller, basis, action="number.assign", subject_ref=ref(code_hash),
                                purpose="付番", at=now, details=acting(caller, municipality_code))
                return Assignment(number, True, now)
            # A concurrent request for the same resident committed first: READ COMMITTED shows it now.
            person = await self.tenancy.load(store, code_hash)
            if person.row is None:
                raise NumberCollision()
        basis = self.tenancy.check(caller, municipality_code, person, code_hash, action="number.assign",
                                   permits=tenancy.ASSIGN, refusal=ResidentCodeUnavailable)
        assert person.row is not None
        await self._log(store, caller, basis, action="number.assign.repeat", subject_ref=ref(code_hash),
                        purpose="付番", at=now, details=acting(caller, municipality_code))
        return Assignment(self._open(person.row)[0], False, person.row.issued_at)
