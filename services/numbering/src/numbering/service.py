"""The rules of 付番, one part per aggregate (assignment, bulk, changes, moves, reads), in one service object.
Every method takes the unit of work (`Registry`) the boundary opened; none opens or commits a transaction."""

from __future__ import annotations

from mynumber_runtime.identity import Caller

from numbering.assignment import AssignmentRules
from numbering.bulk import BulkRules, BulkTotals, ChunkResult, PreparedChunk
from numbering.changes import CHANGE_REASONS, ChangeRules
from numbering.moves import MoveRules
from numbering.ports import Registry
from numbering.reads import HistoryEntry, ReadRules
from numbering.records import RETIRED
from numbering.rules import Assignment
from numbering.tenancy import Refused


class NumberingService(AssignmentRules, BulkRules, ChangeRules, MoveRules, ReadRules):
    async def record_refusal(self, store: Registry, caller: Caller, refused: Refused) -> None:
        """A tenancy refusal, in a unit of its own: the refused request's unit rolled back."""
        await self.tenancy.record_refusal(store, caller, refused)


__all__ = ["CHANGE_REASONS", "RETIRED", "Assignment", "BulkTotals", "ChunkResult", "HistoryEntry",
           "NumberingService", "PreparedChunk", "Refused"]
