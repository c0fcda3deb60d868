"""Every state issuance keeps, one `StrEnum` per aggregate (the values are what the database stores), and one
transition table per aggregate that every state change goes through: a move the table does not list raises
`IllegalTransition` naming both states. models.py generates the CHECK constraints and the live-application index
from these enums, and the migrations froze the same lists."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from mynumber_runtime.errors import FailedPrecondition


class ApplicationState(enum.StrEnum):
    """An application's life: accepted -> ordered (the card centre makes the card) -> personalised -> handed over;
    withdrawn by the applicant, superseded when the person's facts change first, or refused."""

    NEW = "new"  # not stored: the state before the first one
    ACCEPTED = "accepted"
    ORDERED = "ordered"
    PERSONALISED = "personalised"
    HANDED_OVER = "handed_over"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    REFUSED = "refused"


# One live application per person (the partial unique index): these states still lead to a card.
LIVE = (ApplicationState.ACCEPTED, ApplicationState.ORDERED, ApplicationState.PERSONALISED)
STORED_APPLICATION_STATES = tuple(s for s in ApplicationState if s is not ApplicationState.NEW)


class CardState(enum.StrEnum):
    """A card's life (the personalisation and hand-over slices move it): ordered -> personalised -> at the office
    -> handed over; 一時停止 and back; lost, returned (返納/廃止), expired; voided when personalisation failed."""

    NEW = "new"  # not stored
    ORDERED = "ordered"
    PERSONALISED = "personalised"
    AT_OFFICE = "at_office"
    HANDED_OVER = "handed_over"
    SUSPENDED = "suspended"
    LOST = "lost"
    RETURNED = "returned"
    EXPIRED = "expired"
    VOIDED = "voided"


STORED_CARD_STATES = tuple(s for s in CardState if s is not CardState.NEW)


class IllegalTransition(FailedPrecondition):
    def __init__(self, aggregate: str, current: str, target: str) -> None:
        super().__init__(f"{aggregate}: no move from {current} to {target}", reason="ILLEGAL_TRANSITION")
        self.current, self.target = current, target


S = TypeVar("S", bound=enum.StrEnum)


class Transitions(Generic[S]):
    def __init__(self, aggregate: str, states: type[S], moves: Mapping[S, Iterable[S]]) -> None:
        self.aggregate = aggregate
        self.states = states
        self.moves = {s: frozenset(moves.get(s, ())) for s in states}

    def allowed(self, current: str, target: str) -> bool:
        known = {s.value for s in self.states}
        return current in known and target in known and self.states(target) in self.moves[self.states(current)]

    def move(self, current: str, target: S) -> S:
        """`target`, or IllegalTransition when the table does not list the move."""
        if not self.allowed(current, target):
            raise IllegalTransition(self.aggregate, current, target)
        return target


A, C = ApplicationState, CardState

APPLICATION = Transitions("application state", ApplicationState, {
    A.NEW: (A.ACCEPTED,),
    A.ACCEPTED: (A.ORDERED, A.WITHDRAWN, A.SUPERSEDED, A.REFUSED),
    # Once ordered, the card centre works from the facts it was given: a change of facts after that is the
    # card's (its additional-entry area, the signing certificate), not the application's.
    A.ORDERED: (A.PERSONALISED, A.REFUSED),
    A.PERSONALISED: (A.HANDED_OVER,),
})

CARD = Transitions("card state", CardState, {
    C.NEW: (C.ORDERED,),
    C.ORDERED: (C.PERSONALISED, C.VOIDED),
    C.PERSONALISED: (C.AT_OFFICE, C.VOIDED),
    C.AT_OFFICE: (C.HANDED_OVER, C.VOIDED),
    C.HANDED_OVER: (C.SUSPENDED, C.LOST, C.RETURNED, C.EXPIRED),
    # 24-hour 一時停止: resumed, or confirmed lost, or returned.
    C.SUSPENDED: (C.HANDED_OVER, C.LOST, C.RETURNED, C.EXPIRED),
    C.LOST: (C.RETURNED,),  # found again and handed in
})


def values(states: Iterable[enum.StrEnum]) -> list[str]:
    return [s.value for s in states]


def sql_in(column: str, states: Iterable[enum.StrEnum]) -> str:
    """`column IN ('a', 'b')` for a CHECK constraint or a partial index (values are our own identifiers)."""
    return f"{column} IN ({', '.join(repr(v) for v in values(states))})"
