"""An in-memory notice store (implements notice.ports.NoticeStorePort) and units of work over it: a unit works on
a copy of the tables and keeps it only on a clean exit, as a rolled-back transaction would. No server, no I/O."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
from notice.ports import NoticeStorePort

OPEN = ("prepared", "exported", "printed", "posted", "recalled")


@dataclass
class Tables:
    residents: dict[bytes, Resident] = field(default_factory=dict)
    households: dict[tuple[str, str], bytes] = field(default_factory=dict)
    residences: dict[tuple[bytes, str], Residence] = field(default_factory=dict)
    mailings: dict[str, Mailing] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    batches: dict[str, Batch] = field(default_factory=dict)
    endorsements: list[tuple[bytes, str, bytes, dt.datetime]] = field(default_factory=list)
    handed_back: dict[tuple[str, bytes], dt.datetime] = field(default_factory=dict)
    access: list[tuple[str, AccessEntry]] = field(default_factory=list)
    events: list[tuple[str, bytes]] = field(default_factory=list)


class FakeStore:
    def __init__(self, t: Tables) -> None:
        self.t = t

    async def count_envelopes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.t.mailings.values():
            out[m.status] = out.get(m.status, 0) + 1
        return out

    async def upsert_households(self, rows: Sequence[Household]) -> None:
        for h in rows:
            self.t.households[(h.municipality_code, h.household_id)] = h.sealed_address

    async def tenures_for_update(self, hashes: Sequence[bytes]) -> dict[bytes, Tenure]:
        return {h: Tenure(h, r.municipality_code, r.moving_to, r.sealed_number)
                for h in hashes if (r := self.t.residents.get(h)) is not None}

    async def upsert_residents_from_list(self, rows: Sequence[ListedResident]) -> set[bytes]:
        stored = set()
        for x in rows:
            r = self.t.residents.get(x.resident_hash)
            if r is None:
                self.t.residents[x.resident_hash] = Resident(
                    x.resident_hash, x.municipality_code, x.household_id, x.sealed_facts, None, None, "none", None,
                    None, None, None)
            elif r.municipality_code == x.municipality_code:
                self.t.residents[x.resident_hash] = replace(r, household_id=x.household_id,
                                                            sealed_facts=x.sealed_facts)
            else:
                continue
            stored.add(x.resident_hash)
        return stored

    async def upsert_residents_from_numbers(self, rows: Sequence[NumberedResident]) -> None:
        for x in rows:
            r = self.t.residents.get(x.resident_hash)
            if r is None:
                self.t.residents[x.resident_hash] = Resident(
                    x.resident_hash, x.municipality_code, None, None, x.sealed_number, x.number_assigned_at, "none",
                    None, None, None, None)
            elif r.sealed_number is None:
                unclaimed = r.municipality_code != x.municipality_code
                self.t.residents[x.resident_hash] = replace(
                    r, sealed_number=x.sealed_number, number_assigned_at=x.number_assigned_at,
                    municipality_code=x.municipality_code,
                    household_id=None if unclaimed else r.household_id,
                    sealed_facts=None if unclaimed else r.sealed_facts)

    async def ready_to_mail(self, municipality_code: str) -> list[ReadyResident]:
        ready = [ReadyResident(r.resident_hash, r.household_id, r.sealed_facts, r.sealed_number,
                               r.number_assigned_at)
                 for r in self.t.residents.values()
                 if r.municipality_code == municipality_code and r.card_status == "none"
                 and r.sealed_number is not None and r.sealed_facts is not None and r.household_id is not None]
        return sorted(ready, key=lambda x: (x.household_id, x.resident_hash))

    async def household_addresses(self, municipality_code: str, ids: Iterable[str]) -> dict[str, bytes]:
        return {i: a for i in ids if (a := self.t.households.get((municipality_code, i))) is not None}

    async def get_resident(self, resident_hash: bytes, *, lock: bool = False) -> Resident | None:
        return self.t.residents.get(resident_hash)

    def _update(self, hashes: Iterable[bytes], **values: Any) -> None:
        for h in hashes:
            if h in self.t.residents:
                self.t.residents[h] = replace(self.t.residents[h], **values)

    async def move_resident(self, resident_hash: bytes, *, municipality_code: str, household_id: str,
                            sealed_facts: bytes | None) -> None:
        self._update([resident_hash], municipality_code=municipality_code, household_id=household_id,
                     moving_to=None)
        if sealed_facts is not None:
            self._update([resident_hash], sealed_facts=sealed_facts)

    async def set_moving_to(self, resident_hash: bytes, destination: str) -> None:
        self._update([resident_hash], moving_to=destination)

    async def set_pending_action(self, resident_hash: bytes, action: str, sealed_address: bytes) -> None:
        self._update([resident_hash], pending_action=action, sealed_pending_address=sealed_address)

    async def set_card_status(self, hashes: Sequence[bytes], status: str) -> None:
        self._update(hashes, card_status=status)

    async def mark_mailed(self, pairs: Sequence[tuple[bytes, str]]) -> None:
        for rh, mid in pairs:
            self._update([rh], card_status="mailed", current_mailing_id=mid)

    async def mail_card(self, resident_hash: bytes, mailing_id: str, *, clear_pending: bool) -> None:
        self._update([resident_hash], card_status="mailed", current_mailing_id=mailing_id)
        if clear_pending:
            self._update([resident_hash], pending_action=None, sealed_pending_address=None)

    async def set_current_mailing(self, resident_hash: bytes, mailing_id: str) -> None:
        self._update([resident_hash], current_mailing_id=mailing_id)

    async def register_return(self, hashes: Sequence[bytes]) -> None:
        self._update(hashes, card_status="return_registered", pending_action=None, sealed_pending_address=None)

    async def hand_over(self, resident_hash: bytes) -> None:
        self._update([resident_hash], card_status="handed_over", pending_action=None, sealed_pending_address=None)

    async def upsert_residence(self, residence: Residence) -> None:
        self.t.residences[(residence.resident_hash, residence.municipality_code)] = residence

    async def get_residence(self, resident_hash: bytes, municipality_code: str) -> Residence | None:
        return self.t.residences.get((resident_hash, municipality_code))

    async def residences_of(self, municipality_code: str, hashes: Sequence[bytes]) -> dict[bytes, Residence]:
        return {h: r for h in hashes if (r := self.t.residences.get((h, municipality_code))) is not None}

    async def facts_of(self, hashes: Sequence[bytes]) -> dict[bytes, bytes | None]:
        return {h: self.t.residents[h].sealed_facts for h in hashes if h in self.t.residents}

    async def insert_mailings(self, envelopes: Sequence[Mailing], items: Sequence[Item]) -> None:
        for m in envelopes:
            assert m.mailing_id not in self.t.mailings
            self.t.mailings[m.mailing_id] = m
        self.t.items += items

    async def get_mailing(self, mailing_id: str, *, lock: bool = False) -> Mailing | None:
        return self.t.mailings.get(mailing_id)

    async def open_mailings_of(self, resident_hash: bytes, municipality_code: str) -> list[Mailing]:
        ids = {i.mailing_id for i in self.t.items if i.resident_hash == resident_hash}
        found = [m for m in self.t.mailings.values()
                 if m.mailing_id in ids and m.municipality_code == municipality_code and m.status in OPEN]
        return sorted(found, key=lambda m: (m.created_at, m.mailing_id))

    async def move_item(self, from_mailing: str, resident_hash: bytes, to_mailing: str) -> None:
        self.t.items = [replace(i, mailing_id=to_mailing, seq=0)
                        if i.mailing_id == from_mailing and i.resident_hash == resident_hash else i
                        for i in self.t.items]

    async def recalls_pending(self, municipality_codes: Sequence[str]) -> list[PendingRecall]:
        return [PendingRecall(m.mailing_id, m.municipality_code, m.recalled_from, m.batch_id)
                for m in sorted(self.t.mailings.values(), key=lambda m: (m.municipality_code, m.mailing_id))
                if m.status == "recalled" and m.recall_batch_id is None and m.kind != "municipal_resend"
                and (not municipality_codes or m.municipality_code in municipality_codes)]

    async def items_of(self, mailing_ids: Sequence[str]) -> list[Item]:
        return sorted([i for i in self.t.items if i.mailing_id in mailing_ids], key=lambda i: (i.mailing_id, i.seq))

    async def item_of(self, mailing_id: str, resident_hash: bytes) -> Item | None:
        return next((i for i in self.t.items if i.mailing_id == mailing_id and i.resident_hash == resident_hash),
                    None)

    def _set(self, ids: Iterable[str], **values: Any) -> None:
        for mid in ids:
            self.t.mailings[mid] = replace(self.t.mailings[mid], **values)

    async def set_mailing_status(self, mailing_id: str, status: str, at: dt.datetime) -> None:
        self._set([mailing_id], status=status, updated_at=at)

    async def set_mailings_status(self, ids: Sequence[str], status: str, at: dt.datetime) -> None:
        self._set(ids, status=status, updated_at=at)

    async def readdress_mailing(self, mailing_id: str, *, sealed_destination: bytes, at: dt.datetime,
                                destination: str | None = None) -> None:
        self._set([mailing_id], sealed_destination=sealed_destination, updated_at=at)
        if destination is not None:
            self._set([mailing_id], destination=destination)

    async def recall_mailing(self, mailing_id: str, *, recalled_from: str, at: dt.datetime) -> None:
        self._set([mailing_id], status="recalled", recalled_from=recalled_from, recall_requested_at=at, updated_at=at)

    async def return_mailing(self, mailing_id: str, *, reason: str, at: dt.datetime, hold_until: dt.datetime) -> None:
        self._set([mailing_id], status="returned", return_reason=reason, returned_at=at, hold_until=hold_until,
                  updated_at=at)

    async def mark_exported(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        self._set(ids, status="exported", batch_id=batch_id, updated_at=at)

    async def mark_recalls_sent(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        self._set(ids, recall_batch_id=batch_id, updated_at=at)

    async def list_mailings(self, municipality_code: str, limit: int, after: Position | None = None
                            ) -> list[Mailing]:
        return [replace(m, items=sum(i.mailing_id == m.mailing_id for i in self.t.items))
                for m in sorted(self.t.mailings.values(), key=lambda m: (m.created_at, m.mailing_id))
                if m.municipality_code == municipality_code
                and (after is None or (m.created_at, m.mailing_id) > (after.at, after.key))][:limit]

    async def prepared_for_export(self, municipality_codes: Sequence[str]) -> list[Mailing]:
        return [m for m in sorted(self.t.mailings.values(), key=lambda m: (m.municipality_code, m.mailing_id))
                if m.status == "prepared" and (not municipality_codes or m.municipality_code in municipality_codes)]

    async def set_batch_status(self, batch_id: str, from_status: str, to_status: str,
                               at: dt.datetime) -> list[MailingRef]:
        hit = [m for m in self.t.mailings.values() if m.batch_id == batch_id and m.status == from_status]
        self._set([m.mailing_id for m in hit], status=to_status, updated_at=at)
        return [MailingRef(m.mailing_id, m.municipality_code) for m in hit]

    async def insert_batch(self, batch: Batch) -> None:
        self.t.batches[batch.batch_id] = batch

    async def get_batch(self, batch_id: str) -> Batch | None:
        return self.t.batches.get(batch_id)

    async def update_batch(self, batch_id: str, status: str) -> None:
        self.t.batches[batch_id] = replace(self.t.batches[batch_id], status=status)

    async def returned_past_hold(self, now: dt.datetime) -> list[MailingRef]:
        return [MailingRef(m.mailing_id, m.municipality_code) for m in self.t.mailings.values()
                if m.status == "returned" and m.hold_until is not None and m.hold_until <= now]

    async def residents_in(self, mailing_id: str) -> list[Resident]:
        return [self.t.residents[i.resident_hash] for i in sorted(self.t.items, key=lambda i: i.seq)
                if i.mailing_id == mailing_id]

    async def cards_held_in(self, mailing_ids: Sequence[str], card_status: str) -> list[HeldCard]:
        out = []
        for i in sorted(self.t.items, key=lambda i: (i.mailing_id, i.seq)):
            r = self.t.residents[i.resident_hash]
            if i.mailing_id in mailing_ids and r.current_mailing_id == i.mailing_id and r.card_status == card_status:
                out.append(HeldCard(i.mailing_id, r.resident_hash, r.municipality_code))
        return out

    async def mark_card_handed_back(self, mailing_id: str, resident_hash: bytes, at: dt.datetime) -> bool:
        if (mailing_id, resident_hash) in self.t.handed_back:
            return False
        self.t.handed_back[(mailing_id, resident_hash)] = at
        return True

    async def insert_endorsement(self, resident_hash: bytes, municipality_code: str, sealed_address: bytes,
                                 at: dt.datetime) -> None:
        self.t.endorsements.append((resident_hash, municipality_code, sealed_address, at))

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: dict[str, object] | None = None) -> None:
        self.t.access.append((subject_ref, AccessEntry(len(self.t.access) + 1, at, actor, action, purpose)))

    async def access_entries(self, subject_ref: str) -> list[AccessEntry]:
        return [e for ref, e in self.t.access if ref == subject_ref]

    async def add_events(self, events: Sequence[tuple[str, bytes]]) -> None:
        self.t.events += events


class FakeUnits:
    """`async with units() as store:` over one set of tables; an exception leaves them as they were."""

    def __init__(self) -> None:
        self.tables = Tables()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[NoticeStorePort]:
        work = copy.deepcopy(self.tables)
        yield FakeStore(work)
        self.tables = work


def _conforms(store: FakeStore) -> NoticeStorePort:
    return store  # mypy checks here that the fake implements the whole Protocol
