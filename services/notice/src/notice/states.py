"""Every state notice keeps, one `StrEnum` per field (the values are what the database and the events hold), and
one transition table per aggregate that every status change goes through: a move the table does not list raises
`IllegalTransition` naming both states. models.py generates its CHECK constraints from these enums."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from mynumber_runtime.errors import FailedPrecondition


class MailingStatus(enum.StrEnum):
    """An envelope's life: prepared -> exported (in a batch) -> printed -> posted -> delivered / returned /
    held at the office; a recall (a 居所 registered later) brings it back; returned mail ends resolved or
    disposed after the hold."""

    PREPARED = "prepared"
    EXPORTED = "exported"
    PRINTED = "printed"
    POSTED = "posted"
    DELIVERED = "delivered"
    HELD_AT_OFFICE = "held_at_office"
    RETURNED = "returned"
    RECALLED = "recalled"
    RESOLVED = "resolved"
    DISPOSED = "disposed"


class CardStatus(enum.StrEnum):
    """Where a resident's current card is."""

    NONE = "none"
    MAILED = "mailed"
    DELIVERED = "delivered"
    RETURNED = "returned"
    HELD_AT_OFFICE = "held_at_office"
    HANDED_OVER = "handed_over"
    RETURN_REGISTERED = "return_registered"


class BatchStatus(enum.StrEnum):
    EXPORTED = "exported"
    PRINTED = "printed"
    POSTED = "posted"


class ReturnReason(enum.StrEnum):
    """日本郵便's reasons for returning registered mail."""

    NO_SUCH_ADDRESS = "あて所なし"
    REFUSED = "受取拒否"
    HOLD_EXPIRED = "保管期間経過"


# The seed's chart ② writes 受取り拒否 (okurigana), the post office's label 受取拒否: one reason, stored as the
# enum's value (the schema's CHECK and the events hold that one spelling). Every other word is left as given,
# for the caller's own check to refuse.
RETURN_REASON_SPELLINGS = {"受取り拒否": ReturnReason.REFUSED.value}


def return_reason_of(text: str) -> str:
    """The stored spelling of a return reason as a clerk or the post office may write it."""
    return RETURN_REASON_SPELLINGS.get(text, text)


class MailingKind(enum.StrEnum):
    INITIAL = "initial"
    RESEND = "resend"
    REISSUE = "reissue"
    MUNICIPAL_RESEND = "municipal_resend"
    NOTIFICATION_LETTER = "notification_letter"


class ReissueReason(enum.StrEnum):
    """Why a card the person had is re-issued (省令§11Ⅰ; seed 別紙 ~30870)."""

    LOSS = "loss"  # 紛失し、焼失し、又は著しく損傷した場合 (①)
    ENDORSEMENT_SPACE_FULL = "endorsement_space_full"  # 追記欄の余白がなくなった場合 (②)
    ISSUER_FAULT = "issuer_fault"  # 市区町村・J-LISのミスによる場合


class Destination(enum.StrEnum):
    ADDRESS = "address"
    RESIDENCE = "residence"
    RESIDENCE_RESTRICTED = "residence_restricted"  # a DV victim's 居所
    OFFICE = "office"


class Document(enum.StrEnum):
    NOTICE_CARD = "notice_card"
    NOTIFICATION_LETTER = "notification_letter"


class ResidenceKind(enum.StrEnum):
    EVACUEE = "evacuee"
    DV_VICTIM = "dv_victim"


class ResidenceSource(enum.StrEnum):
    """Where a 居所 registration comes from (別紙 1/2)."""

    APPLICATION = "application"  # the person's 申請書 with documents
    MUNICIPAL_RECORDS = "municipal_records"  # evacuee 1(2): 保有する避難先情報を活用
    CONFIRMED_WITH_PERSON = "confirmed_with_person"  # DV 2(2): 連絡し、居所情報を確認


class MoveKind(enum.StrEnum):
    TENKYO = "tenkyo"  # 転居
    TENSHUTSU = "tenshutsu"  # 転出
    TENNYU = "tennyu"  # 転入


class Preference(enum.StrEnum):
    """What the resident asks for after a move: 裏書き or a new card."""

    ENDORSE = "endorse"
    NEW_ISSUE = "new_issue"


class PendingAction(enum.StrEnum):
    """A move decided while the card travelled: what to do when it comes back."""

    ENDORSE = "endorse"
    NEW_ISSUE = "new_issue"


class Finding(enum.StrEnum):
    """The municipality's finding on returned mail (chart ②)."""

    COLLECTED_AT_COUNTER = "collected_at_counter"
    MUNICIPAL_RESEND = "municipal_resend"
    MOVED_WITHIN = "moved_within"
    MOVED_OUT = "moved_out"
    DELETED = "deleted"


class MailAction(enum.StrEnum):
    """What a 居所 registration did to mail already on its way."""

    NOTHING_IN_TRANSIT = "nothing_in_transit"
    REROUTED = "rerouted"
    RECALLED = "recalled"
    ALREADY_DELIVERED = "already_delivered"
    HELD_AT_OFFICE = "held_at_office"
    RECALL_AT_POST_OFFICE = "recall_at_post_office"


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


M, C, B = MailingStatus, CardStatus, BatchStatus

MAILING = Transitions("mailing status", MailingStatus, {
    M.PREPARED: (M.EXPORTED,),
    M.EXPORTED: (M.PRINTED, M.RECALLED),
    M.PRINTED: (M.POSTED, M.RECALLED),
    M.POSTED: (M.DELIVERED, M.HELD_AT_OFFICE, M.RETURNED, M.RECALLED),
    # A recalled envelope comes back to the office (delivered there) or is returned by the post.
    M.RECALLED: (M.HELD_AT_OFFICE, M.RETURNED),
    M.RETURNED: (M.RESOLVED, M.DISPOSED),
    M.HELD_AT_OFFICE: (M.RESOLVED,),
})

CARD = Transitions("card status", CardStatus, {
    C.NONE: (C.MAILED,),
    # A card resent while the old one travels replaces it (chart ①, 受理する可能性あり / 転入).
    C.MAILED: (C.MAILED, C.DELIVERED, C.HELD_AT_OFFICE, C.RETURNED),
    C.RETURNED: (C.HANDED_OVER, C.RETURN_REGISTERED, C.MAILED),
    C.HELD_AT_OFFICE: (C.HANDED_OVER, C.RETURN_REGISTERED, C.MAILED),
    # A resend or re-issue asked for after delivery; a card the former household received, brought to the counter
    # and endorsed there (chart ① 来庁時に裏書きの上交付).
    C.DELIVERED: (C.MAILED, C.HANDED_OVER),
    C.HANDED_OVER: (C.MAILED,),
    C.RETURN_REGISTERED: (C.MAILED,),
})

BATCH = Transitions("batch status", BatchStatus, {
    B.EXPORTED: (B.PRINTED,),
    B.PRINTED: (B.POSTED,),
})


def values(states: type[enum.StrEnum]) -> list[str]:
    return [s.value for s in states]
