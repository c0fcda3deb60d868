"""What the notice rules take in and answer with (no proto, no rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from notice.validation import MemberIn

__all__ = ["HouseholdIn", "ListOutcome", "MemberIn", "Outcome", "ResidenceOutcome"]


@dataclass(frozen=True)
class HouseholdIn:
    household_id: str
    address: str
    postal_code: str
    members: Sequence[MemberIn]


@dataclass
class Outcome:
    """What a flow-chart step did, in order (the answer to the municipality and the test's oracle)."""

    steps: list[str] = field(default_factory=list)
    new_mailing_id: str = ""
    kind: str = ""
    fee_yen: int = 0


@dataclass
class ListOutcome:
    residents: int
    prepared: int
    # (household index, member index, reason) of members not stored: never re-homed from another municipality.
    refused: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class ResidenceOutcome:
    """Where later mail goes, and what a 居所 registration did to the mail already on its way."""

    destination: str
    # nothing_in_transit, rerouted, recalled, already_delivered, held_at_office, recall_at_post_office
    mail_action: str
    rerouted: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)
