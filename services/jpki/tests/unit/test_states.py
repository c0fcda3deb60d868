"""The certificate's transition table, without a server: every move from every state."""

from __future__ import annotations

import itertools

import pytest
from jpki import models as m
from jpki.errors import FailedPrecondition
from jpki.states import REFUSALS, TRANSITIONS, CertificateState, Move, check_constraint, move

S = CertificateState


@pytest.mark.parametrize(("state", "what", "after"), [
    (S.PENDING, Move.SIGNED, S.GOOD), (S.PENDING, Move.SIGNING_FAILED, S.FAILED),
    (S.GOOD, Move.HOLD, S.HOLD), (S.GOOD, Move.REVOKE, S.REVOKED),
    (S.HOLD, Move.RELEASE, S.GOOD), (S.HOLD, Move.REVOKE, S.REVOKED),
])
def test_the_allowed_moves(state: CertificateState, what: Move, after: CertificateState) -> None:
    assert move(state.value, what) is after


@pytest.mark.parametrize(("state", "what", "reason"), [
    (S.REVOKED, Move.REVOKE, "ALREADY_REVOKED"), (S.REVOKED, Move.HOLD, "ALREADY_REVOKED"),
    (S.HOLD, Move.HOLD, "ALREADY_ON_HOLD"), (S.GOOD, Move.RELEASE, "NOT_ON_HOLD"),
    (S.REVOKED, Move.RELEASE, "NOT_ON_HOLD"),
])
def test_a_caller_is_told_why_a_move_is_refused(state: CertificateState, what: Move, reason: str) -> None:
    with pytest.raises(FailedPrecondition) as e:
        move(state.value, what)
    assert e.value.reason == reason and e.value.message.startswith("serial: ")


def test_every_other_pair_is_refused_and_nothing_leaves_revoked_or_failed() -> None:
    for state, what in itertools.product(S, Move):
        if (state, what) in TRANSITIONS:
            continue
        with pytest.raises(FailedPrecondition):
            move(state.value, what)
    assert not {k for k in TRANSITIONS if k[0] in (S.REVOKED, S.FAILED)}
    assert not set(TRANSITIONS) & set(REFUSALS)


def test_an_unknown_state_is_not_a_state() -> None:
    with pytest.raises(ValueError):
        move("lost", Move.REVOKE)


def test_the_check_constraint_is_generated_from_the_states() -> None:
    [check] = [c for c in m.certificates.constraints if getattr(c, "name", None) == "ck_certificates_status_known"
               or getattr(c, "name", None) == "status_known"]
    assert str(check.sqltext) == check_constraint() == "status IN ('pending', 'good', 'hold', 'revoked', 'failed')"
