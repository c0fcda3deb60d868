"""The transition tables of notice.states: every listed move is allowed, every other pair is refused with an error
naming both states; and models.py's CHECK constraints list exactly the enums' values."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from notice import models
from notice.states import (
    BATCH,
    CARD,
    MAILING,
    BatchStatus,
    CardStatus,
    IllegalTransition,
    MailingStatus,
    ReturnReason,
)

# Written out again, not derived from the tables: a change to a table must change this list too.
MAILING_MOVES = {
    ("prepared", "exported"),
    ("exported", "printed"), ("exported", "recalled"),
    ("printed", "posted"), ("printed", "recalled"),
    ("posted", "delivered"), ("posted", "held_at_office"), ("posted", "returned"), ("posted", "recalled"),
    ("recalled", "held_at_office"), ("recalled", "returned"),
    ("returned", "resolved"), ("returned", "disposed"),
    ("held_at_office", "resolved"),
}
CARD_MOVES = {
    ("none", "mailed"),
    ("mailed", "mailed"), ("mailed", "delivered"), ("mailed", "held_at_office"), ("mailed", "returned"),
    ("returned", "handed_over"), ("returned", "return_registered"), ("returned", "mailed"),
    ("held_at_office", "handed_over"), ("held_at_office", "return_registered"), ("held_at_office", "mailed"),
    ("delivered", "mailed"), ("delivered", "handed_over"), ("handed_over", "mailed"), ("return_registered", "mailed"),
}
BATCH_MOVES = {("exported", "printed"), ("printed", "posted")}

TABLES = [(MAILING, MailingStatus, MAILING_MOVES), (CARD, CardStatus, CARD_MOVES), (BATCH, BatchStatus, BATCH_MOVES)]


@pytest.mark.parametrize(("table", "states", "moves"), TABLES, ids=["mailing", "card", "batch"])
def test_every_listed_move_is_allowed_and_every_other_refused(table, states, moves):
    for current, target in itertools.product([s.value for s in states], repeat=2):
        if (current, target) in moves:
            assert table.move(current, states(target)) == target
        else:
            with pytest.raises(IllegalTransition) as e:
                table.move(current, states(target))
            assert f"from {current} to {target}" in e.value.message and e.value.reason == "ILLEGAL_TRANSITION"


def test_an_unknown_state_moves_nowhere():
    for table, states, _ in TABLES:
        with pytest.raises(IllegalTransition):
            table.move("lost", next(iter(states)))
        assert not table.allowed(next(iter(states)).value, "lost")


def test_end_states_move_nowhere():
    for s in (MailingStatus.DELIVERED, MailingStatus.RESOLVED, MailingStatus.DISPOSED):
        assert not any(MAILING.allowed(s, t) for t in MailingStatus)
    assert not any(BATCH.allowed(BatchStatus.POSTED, t) for t in BatchStatus)


def checks() -> dict[str, str]:
    return {c.name: str(c.sqltext) for t in models.metadata.tables.values() for c in t.constraints
            if isinstance(c, sa.CheckConstraint)}


def test_the_check_constraints_are_the_enums():
    found = checks()
    assert found["ck_mailings_status_known"] == "status IN (" + ", ".join(f"'{s}'" for s in MailingStatus) + ")"
    assert found["ck_residents_card_status_known"].count("'") == 2 * len(CardStatus)
    assert found["ck_batches_status_known"] == "status IN ('exported', 'printed', 'posted')"
    assert all(r.value in found["ck_mailings_return_reason_known"] for r in ReturnReason)
