"""Moves between municipalities: the former records (or withdraws) a 転出, the destination records the 転入."""

from __future__ import annotations

import datetime as dt

from mynumber_codes import validate_resident_code
from mynumber_events import numbering as events
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.identity import Caller

from numbering import tenancy
from numbering.errors import MoveOutPending, NoNumber, NoPendingMove
from numbering.ports import Registry
from numbering.rules import Assignment, Rules, acting, authorize_municipality, municipality, ref


class MoveRules(Rules):
    async def record_move_out(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str,
                              destination: str) -> dt.datetime:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        municipality(destination, "destination_municipality_code")
        if destination == municipality_code:
            raise InvalidArgument("destination_municipality_code",
                                  "must differ from municipality_code (a move within one municipality is a 転居)")
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="move.out",
                                        permits=tenancy.MOVE_OUT, refusal=NoNumber, lock=True)
        if held.moving_to is not None or not await store.record_move_out(
                code_hash, held.row.municipality_code, destination, now):
            raise MoveOutPending()
        await self._log(store, caller, held.basis, action="move.out", subject_ref=ref(code_hash),
                        purpose="転出 (住基法 第24条)", at=now,
                        details={"to": destination, **acting(caller, municipality_code)})
        return now

    async def cancel_move_out(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str
                              ) -> dt.datetime:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="move.cancel",
                                        permits=tenancy.MOVE_OUT, refusal=NoNumber, lock=True)
        if held.moving_to is None or not await store.close_move(code_hash, now, moved_in=False):
            raise NoPendingMove()
        await self._log(store, caller, held.basis, action="move.cancel", subject_ref=ref(code_hash),
                        purpose="転出の取消し", at=now,
                        details={"to": held.moving_to, **acting(caller, municipality_code)})
        return now

    async def record_move_in(self, store: Registry, caller: Caller, municipality_code: str, resident_code: str
                             ) -> Assignment:
        municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        # Only the destination the pending 転出 names has a basis (TENNYU_DESTINATION); a third municipality,
        # or the destination after a withdrawal, sees "unknown". The holder is admitted to be told "no 転入".
        held = await self.tenancy.admit(store, caller, municipality_code, code_hash, action="move.in",
                                        permits=tenancy.MOVE_IN, refusal=NoNumber, lock=True)
        former = held.row.municipality_code
        # The holder itself (or an operator acting for it) has no 転入 to record. The result of close_move
        # decides under a race (a concurrent withdrawal or 転入 committed while we waited for the row lock).
        if held.moving_to != municipality_code or not await store.close_move(code_hash, now,
                                                                                 moved_in=True):
            raise NoPendingMove()
        await store.change_holder(held.row.number_hash, municipality_code)
        number, _ = self._open(held.row)
        await store.add_event(events.NUMBER_MOVED, events.number_moved(
            self.event_sealer, now, former, municipality_code, resident_code, number))
        await self._log(store, caller, held.basis, action="move.in", subject_ref=ref(code_hash),
                        purpose="転入 (住基法 第22条)", at=now,
                        details={"from": former, **acting(caller, municipality_code)})
        return Assignment(number, False, now)
