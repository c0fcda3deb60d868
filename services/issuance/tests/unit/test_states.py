"""One transition table per aggregate; the CHECK constraints and the live index come from the same enums, and the
first migration froze the same lists."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from issuance import models
from issuance.states import APPLICATION, CARD, LIVE, ApplicationState, CardState, IllegalTransition

A, C = ApplicationState, CardState
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0001_applications.py"


def test_an_application_is_accepted_then_ordered_or_withdrawn() -> None:
    assert APPLICATION.move(A.NEW, A.ACCEPTED) is A.ACCEPTED
    assert APPLICATION.allowed(A.ACCEPTED, A.WITHDRAWN) and APPLICATION.allowed(A.ACCEPTED, A.SUPERSEDED)
    assert APPLICATION.allowed(A.ACCEPTED, A.ORDERED)


@pytest.mark.parametrize(("current", "target"), [(A.WITHDRAWN, A.ACCEPTED), (A.ORDERED, A.WITHDRAWN),
                                                 (A.HANDED_OVER, A.WITHDRAWN), (A.NEW, A.ORDERED),
                                                 (A.SUPERSEDED, A.ACCEPTED), ("nonsense", A.ACCEPTED)])
def test_a_move_the_table_does_not_list_is_refused_naming_both_states(current: str, target: A) -> None:
    with pytest.raises(IllegalTransition) as e:
        APPLICATION.move(current, target)
    assert current in e.value.message and target.value in e.value.message


def test_a_suspended_card_resumes_and_a_voided_card_goes_nowhere() -> None:
    assert CARD.allowed(C.HANDED_OVER, C.SUSPENDED) and CARD.allowed(C.SUSPENDED, C.HANDED_OVER)
    assert not any(CARD.allowed(C.VOIDED, t) for t in CardState)


def test_live_states_are_those_that_can_still_lead_to_a_card() -> None:
    assert set(LIVE) == {A.ACCEPTED, A.ORDERED, A.PERSONALISED}


def _checks(table: object) -> dict[str, str]:
    """CHECK constraints by their short name ("state_known"), without the naming convention's table prefix."""
    out = {}
    for c in table.constraints:  # type: ignore[attr-defined]
        if c.__class__.__name__ == "CheckConstraint":
            out["_".join(str(c.name).split("_")[-2:])] = str(c.sqltext)
    return out


def test_check_constraints_list_every_stored_state() -> None:
    apps = _checks(models.applications)["state_known"]
    assert all(f"'{s.value}'" in apps for s in ApplicationState if s is not A.NEW) and "'new'" not in apps
    cards = _checks(models.cards)["state_known"]
    assert all(f"'{s.value}'" in cards for s in CardState if s is not C.NEW)


def test_the_first_migration_froze_the_lists_the_models_generate() -> None:
    spec = importlib.util.spec_from_file_location("m0001", MIGRATION)
    assert spec and spec.loader
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    # A changed enum needs a new migration (drop and re-create the constraint): this test says so.
    assert _checks(models.applications)["state_known"] == m.APPLICATION_STATES
    assert _checks(models.cards)["state_known"] == m.CARD_STATES
    live = next(i for i in models.applications.indexes if i.name == "uq_applications_live_person")
    assert str(live.dialect_options["postgresql"]["where"]) == m.LIVE_STATES
