"""The life of a certificate: its states and the one table of the moves between them (issue 10).

Every status change goes through `move()`; the CHECK constraint of `certificates.status` is generated from the same
enum (models.py), so the database refuses a state the table does not know.

    pending --signed--> good --hold--> hold --release--> good
       |                  \\             \\
       +--failed           +--revoke-->  +--revoke--> revoked   (a hold made permanent keeps its date)

PENDING: serial and request recorded, not yet signed (Boulder's issuance cycle); FAILED: recorded, never signed.
"""

from __future__ import annotations

import enum

from jpki.errors import FailedPrecondition


class CertificateState(enum.StrEnum):
    PENDING = "pending"
    GOOD = "good"
    HOLD = "hold"
    REVOKED = "revoked"
    FAILED = "failed"


class Move(enum.StrEnum):
    SIGNED = "signed"
    SIGNING_FAILED = "signing_failed"
    HOLD = "hold"  # 一時利用停止 (certificateHold)
    RELEASE = "release"  # the hold taken off
    REVOKE = "revoke"  # for good, whatever the cause


S = CertificateState
TRANSITIONS: dict[tuple[CertificateState, Move], CertificateState] = {
    (S.PENDING, Move.SIGNED): S.GOOD,
    (S.PENDING, Move.SIGNING_FAILED): S.FAILED,
    (S.GOOD, Move.HOLD): S.HOLD,
    (S.GOOD, Move.REVOKE): S.REVOKED,
    (S.HOLD, Move.REVOKE): S.REVOKED,
    (S.HOLD, Move.RELEASE): S.GOOD,
}
# Why a move is refused from a state that has a certificate, said to the caller (field: the serial).
REFUSALS: dict[tuple[CertificateState, Move], tuple[str, str]] = {
    (S.REVOKED, Move.REVOKE): ("serial: the certificate is already revoked", "ALREADY_REVOKED"),
    (S.REVOKED, Move.HOLD): ("serial: the certificate is already revoked", "ALREADY_REVOKED"),
    (S.HOLD, Move.HOLD): ("serial: the certificate is already on hold", "ALREADY_ON_HOLD"),
    (S.GOOD, Move.RELEASE): ("serial: only a certificate on hold can be resumed", "NOT_ON_HOLD"),
    (S.REVOKED, Move.RELEASE): ("serial: only a certificate on hold can be resumed", "NOT_ON_HOLD"),
}
# The states in which a certificate exists for callers (pending and failed rows were never issued).
ISSUED = frozenset({S.GOOD, S.HOLD, S.REVOKED})


def move(state: str, what: Move) -> CertificateState:
    """The state after `what`, or the refusal the caller is told."""
    current = CertificateState(state)
    if (current, what) in TRANSITIONS:
        return TRANSITIONS[(current, what)]
    message, reason = REFUSALS.get((current, what), (f"serial: a {current} certificate cannot {what}",
                                                     "INVALID_TRANSITION"))
    raise FailedPrecondition(message, reason=reason)


def check_constraint() -> str:
    """The SQL of the `status_known` CHECK constraint, from the enum."""
    return "status IN (" + ", ".join(f"'{s.value}'" for s in CertificateState) + ")"
