"""The rules of 通知カード mailing (no proto, no SQL), one object per aggregate. Seed pages cited as "chart ①"
(転居・転入時の扱い) and "chart ②" (通知カード返戻時の対応フロー), and 別紙 1/2 (居所 of evacuees and DV victims).

Every method takes the store of the unit of work its boundary opened (grpc_api, the event handler) and never
commits: the boundary does."""

from __future__ import annotations

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash, SubjectSealer

from notice.base import Context
from notice.cards import Cards
from notice.counter import Counter
from notice.fees import FeeSchedule
from notice.mailing import Mailings
from notice.moves import Moves
from notice.offices import load_offices
from notice.outcomes import HouseholdIn, ListOutcome, MemberIn, Outcome, ResidenceOutcome
from notice.printing import PendingBatch, Printing
from notice.residence import Residences
from notice.returns import Returns

__all__ = ["HouseholdIn", "ListOutcome", "MemberIn", "NoticeService", "Outcome", "PendingBatch",
           "ResidenceOutcome"]


class NoticeService:
    def __init__(self, *, sealer: FieldSealer, hasher: KeyedHash, clock: Clock, print_sealer: FieldSealer,
                 event_sealer: SubjectSealer, fees: FeeSchedule | None = None) -> None:
        self.ctx = Context(sealer=sealer, hasher=hasher, clock=clock, print_sealer=print_sealer,
                           event_sealer=event_sealer, fees=fees or FeeSchedule())
        load_offices()  # a malformed office table fails the start, not the first export
        cards = Cards(self.ctx)
        self.mailing = Mailings(self.ctx)
        self.printing = Printing(self.ctx)
        self.returns = Returns(self.ctx, cards)
        self.residence = Residences(self.ctx)
        self.moves = Moves(self.ctx, cards)
        self.counter = Counter(self.ctx, cards)
