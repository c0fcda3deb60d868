"""What the notice rules need from storage, as a Protocol: `repository.NoticeStore` (PostgreSQL, one unit of work)
implements it, and the unit tests' in-memory store does too. The rules never see a connection or a row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mynumber_runtime.pages import Position

from notice.entities import (
    AccessEntry,
    Batch,
    HeldCard,
    Household,
    Item,
    ListedResident,
    Mailing,
    MailingRef,
    NumberedResident,
    PendingRecall,
    ReadyResident,
    Residence,
    Resident,
    Tenure,
)


class NoticeStorePort(Protocol):
    """One unit of work over the notice schema."""

    async def count_envelopes(self) -> dict[str, int]:
        """Envelopes (mailings) by status: prepared, exported, printed, posted, returned, recalled, ..."""
        ...

    async def upsert_households(self, rows: Sequence[Household]) -> None:
        ...

    async def tenures_for_update(self, hashes: Sequence[bytes]) -> dict[bytes, Tenure]:
        """The tenancy columns of the residents already held, locked for this unit."""
        ...

    async def upsert_residents_from_list(self, rows: Sequence[ListedResident]) -> set[bytes]:
        """The residents stored: new ones, and those the list's municipality already holds. The WHERE keeps a
        row another municipality holds untouched (a list never moves anyone), even one created concurrently."""
        ...

    async def upsert_residents_from_numbers(self, rows: Sequence[NumberedResident]) -> None:
        ...

    async def ready_to_mail(self, municipality_code: str) -> list[ReadyResident]:
        ...

    async def household_addresses(self, municipality_code: str, ids: Iterable[str]) -> dict[str, bytes]:
        ...

    async def get_resident(self, resident_hash: bytes, *, lock: bool = False) -> Resident | None:
        ...

    async def move_resident(self, resident_hash: bytes, *, municipality_code: str, household_id: str,
                            sealed_facts: bytes | None) -> None:
        """The resident now belongs to this municipality and household (a 転入 completes the 転出); new facts
        replace the old ones when given."""
        ...

    async def set_moving_to(self, resident_hash: bytes, destination: str) -> None:
        ...

    async def set_pending_action(self, resident_hash: bytes, action: str, sealed_address: bytes) -> None:
        ...

    async def set_card_status(self, hashes: Sequence[bytes], status: str) -> None:
        ...

    async def mark_mailed(self, pairs: Sequence[tuple[bytes, str]]) -> None:
        """One executemany for a whole preparation: (resident_hash, mailing_id) pairs."""
        ...

    async def mail_card(self, resident_hash: bytes, mailing_id: str, *, clear_pending: bool) -> None:
        ...

    async def set_current_mailing(self, resident_hash: bytes, mailing_id: str) -> None:
        ...

    async def register_return(self, hashes: Sequence[bytes]) -> None:
        ...

    async def hand_over(self, resident_hash: bytes) -> None:
        ...

    async def upsert_residence(self, residence: Residence) -> None:
        """Keyed by (resident, registering municipality): only that municipality's own registration replaces it."""
        ...

    async def get_residence(self, resident_hash: bytes, municipality_code: str) -> Residence | None:
        ...

    async def residences_of(self, municipality_code: str, hashes: Sequence[bytes]) -> dict[bytes, Residence]:
        ...

    async def facts_of(self, hashes: Sequence[bytes]) -> dict[bytes, bytes | None]:
        ...

    async def insert_mailings(self, envelopes: Sequence[Mailing], items: Sequence[Item]) -> None:
        ...

    async def get_mailing(self, mailing_id: str, *, lock: bool = False) -> Mailing | None:
        ...

    async def open_mailings_of(self, resident_hash: bytes, municipality_code: str) -> list[Mailing]:
        """The municipality's envelopes carrying this resident's card that have not arrived anywhere yet, locked."""
        ...

    async def move_item(self, from_mailing: str, resident_hash: bytes, to_mailing: str) -> None:
        ...

    async def recalls_pending(self, municipality_codes: Sequence[str]) -> list[PendingRecall]:
        """Recalled envelopes whose instruction has not gone to the vendor yet (a municipality's own post is
        recalled at the post office, never through the vendor)."""
        ...

    async def items_of(self, mailing_ids: Sequence[str]) -> list[Item]:
        ...

    async def item_of(self, mailing_id: str, resident_hash: bytes) -> Item | None:
        ...

    async def set_mailing_status(self, mailing_id: str, status: str, at: dt.datetime) -> None:
        ...

    async def set_mailings_status(self, ids: Sequence[str], status: str, at: dt.datetime) -> None:
        ...

    async def readdress_mailing(self, mailing_id: str, *, sealed_destination: bytes, at: dt.datetime,
                                destination: str | None = None) -> None:
        ...

    async def recall_mailing(self, mailing_id: str, *, recalled_from: str, at: dt.datetime) -> None:
        ...

    async def return_mailing(self, mailing_id: str, *, reason: str, at: dt.datetime, hold_until: dt.datetime) -> None:
        ...

    async def mark_exported(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        ...

    async def mark_recalls_sent(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        ...

    async def list_mailings(self, municipality_code: str, limit: int, after: Position | None = None
                            ) -> list[Mailing]:
        """Oldest first (created_at, then mailing_id), after `after` when given (keyset pagination)."""
        ...

    async def prepared_for_export(self, municipality_codes: Sequence[str]) -> list[Mailing]:
        ...

    async def set_batch_status(self, batch_id: str, from_status: str, to_status: str,
                               at: dt.datetime) -> list[MailingRef]:
        ...

    async def insert_batch(self, batch: Batch) -> None:
        ...

    async def get_batch(self, batch_id: str) -> Batch | None:
        ...

    async def update_batch(self, batch_id: str, status: str) -> None:
        ...

    async def returned_past_hold(self, now: dt.datetime) -> list[MailingRef]:
        ...

    async def residents_in(self, mailing_id: str) -> list[Resident]:
        ...

    async def cards_held_in(self, mailing_ids: Sequence[str], card_status: str) -> list[HeldCard]:
        """The residents whose current card is in one of these envelopes with this status, in envelope order."""
        ...

    async def mark_card_handed_back(self, mailing_id: str, resident_hash: bytes, at: dt.datetime) -> bool:
        """Records that the card of this envelope was handed back at the counter: True the first time, False when
        it was recorded before (nothing changes then)."""
        ...

    async def insert_endorsement(self, resident_hash: bytes, municipality_code: str, sealed_address: bytes,
                                 at: dt.datetime) -> None:
        ...

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: dict[str, object] | None = None) -> None:
        ...

    async def access_entries(self, subject_ref: str) -> list[AccessEntry]:
        ...

    async def add_events(self, events: Sequence[tuple[str, bytes]]) -> None:
        ...


# What a boundary opens a unit of work with: `async with units() as store:` (mynumber_runtime.db.Units, or the
# unit tests' in-memory store).
UnitsOf = Callable[[], AbstractAsyncContextManager[NoticeStorePort]]
