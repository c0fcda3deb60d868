"""Typed records of the notice schema: what the store returns and what it is given to write. Frozen: a record is
what the row held when it was read, never a handle on it. Sealed fields stay sealed bytes (notice.sealing opens
them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Resident:
    resident_hash: bytes
    municipality_code: str
    household_id: str | None
    sealed_facts: bytes | None
    sealed_number: bytes | None
    number_assigned_at: dt.datetime | None
    card_status: str
    current_mailing_id: str | None
    pending_action: str | None
    sealed_pending_address: bytes | None
    moving_to: str | None


@dataclass(frozen=True)
class Tenure:
    """The tenancy columns of one resident (notice.tenancy reads them)."""

    resident_hash: bytes
    municipality_code: str
    moving_to: str | None
    sealed_number: bytes | None


@dataclass(frozen=True)
class ReadyResident:
    """A numbered resident with facts and household, not mailed yet."""

    resident_hash: bytes
    household_id: str
    sealed_facts: bytes
    sealed_number: bytes
    number_assigned_at: dt.datetime | None


@dataclass(frozen=True)
class ListedResident:
    """A resident as a mailing list states them."""

    resident_hash: bytes
    municipality_code: str
    household_id: str
    sealed_facts: bytes


@dataclass(frozen=True)
class NumberedResident:
    """A resident as number.assigned states them."""

    resident_hash: bytes
    municipality_code: str
    sealed_number: bytes
    number_assigned_at: dt.datetime


@dataclass(frozen=True)
class Household:
    municipality_code: str
    household_id: str
    sealed_address: bytes


@dataclass(frozen=True)
class Residence:
    resident_hash: bytes
    municipality_code: str
    kind: str
    sealed_address: bytes
    documents: tuple[str, ...]
    hold_at_office: bool
    registered_at: dt.datetime
    source: str = "application"
    sharing_consent: bool = False


@dataclass(frozen=True)
class Mailing:
    mailing_id: str
    municipality_code: str
    household_id: str
    kind: str
    status: str
    destination: str
    sealed_destination: bytes
    created_at: dt.datetime
    updated_at: dt.datetime
    fee_yen: int = 0
    # A re-issue of a card the person had: why (states.ReissueReason), for the subsidy and the fee.
    reissue_reason: str | None = None
    return_reason: str | None = None
    returned_at: dt.datetime | None = None
    hold_until: dt.datetime | None = None
    batch_id: str | None = None
    recall_requested_at: dt.datetime | None = None
    recalled_from: str | None = None
    recall_batch_id: str | None = None
    # Only in a listing: how many cards the envelope carries.
    items: int = 0


@dataclass(frozen=True)
class Item:
    """One card (or 個人番号通知書) in an envelope."""

    mailing_id: str
    resident_hash: bytes
    seq: int
    document: str
    application_id: str | None
    sealed_card: bytes


@dataclass(frozen=True)
class MailingRef:
    mailing_id: str
    municipality_code: str


@dataclass(frozen=True)
class PendingRecall:
    mailing_id: str
    municipality_code: str
    recalled_from: str | None
    batch_id: str | None


@dataclass(frozen=True)
class HeldCard:
    """A resident whose current card is in the given envelope."""

    mailing_id: str
    resident_hash: bytes
    municipality_code: str


@dataclass(frozen=True)
class Batch:
    batch_id: str
    created_at: dt.datetime
    envelopes: int
    records: int
    sha256: str
    status: str
    recalls: int = 0


@dataclass(frozen=True)
class AccessEntry:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    purpose: str
