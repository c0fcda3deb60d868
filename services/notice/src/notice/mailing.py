"""Mailing: the municipality's mailing list and the numbers from number.assigned become envelopes (one per
household, 転送不要の簡易書留; a member with a registered 居所 gets their own)."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence

from mynumber_runtime import pages
from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from notice import events, policy
from notice.base import (
    AAD_ADDRESS,
    AAD_CARD,
    AAD_FACTS,
    AAD_NUMBER,
    Context,
    check_caller_municipality,
    check_mailing_municipality,
)
from notice.codes import new_application_id
from notice.entities import Household, Item, ListedResident, Mailing, NumberedResident, ReadyResident
from notice.errors import InvalidArgument, unknown_resident
from notice.outcomes import HouseholdIn, ListOutcome
from notice.ports import NoticeStorePort
from notice.states import CARD, CardStatus
from notice.tenancy import PERMITS, holding_of
from notice.validation import AddressIn, MemberIn, validate_address_pair, validate_household_id, validate_member

log = logging.getLogger("notice")

# A page of a municipality's envelopes (ListMailings).
MAX_PAGE = 1000


def _check_list(households: Sequence[HouseholdIn]) -> tuple[list[tuple[str, AddressIn, Sequence[MemberIn]]], set[str]]:
    """The whole list is checked before anything is stored: a malformed item refuses the request."""
    if not households:
        raise InvalidArgument("households", "at least one household is required")
    checked: list[tuple[str, AddressIn, Sequence[MemberIn]]] = []
    seen: set[str] = set()
    for i, h in enumerate(households):
        hid = validate_household_id(h.household_id, f"households[{i}].household_id")
        home = validate_address_pair(h.address, h.postal_code, f"households[{i}].address",
                                     f"households[{i}].postal_code")
        if not h.members:
            raise InvalidArgument(f"households[{i}].members", "a household has at least one member")
        for j, m in enumerate(h.members):
            validate_member(m, f"households[{i}].members[{j}]")
            if m.resident_code in seen:
                raise InvalidArgument(f"households[{i}].members[{j}].resident_code",
                                      "appears twice in the list (one person, one household)")
            seen.add(m.resident_code)
        checked.append((hid, home, h.members))
    return checked, seen


class Mailings:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def submit_mailing_list(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                                  households: Sequence[HouseholdIn]) -> ListOutcome:
        ctx = self.ctx
        municipality_code = check_mailing_municipality(caller, municipality_code)
        checked, seen = _check_list(households)
        hashes = ctx.hasher.many([c.encode() for c in seen])
        by_code = dict(zip(seen, hashes, strict=True))
        out = ListOutcome(residents=0, prepared=0)
        held = await store.tenures_for_update(hashes)
        hh_rows, res_rows, where = [], [], {}
        for i, (hid, home, members) in enumerate(checked):
            hh_rows.append(Household(municipality_code, hid, ctx.seal(
                {"address": home.address, "postal_code": home.postal_code}, AAD_ADDRESS)))
            for j, m in enumerate(members):
                rh = by_code[m.resident_code]
                # A list never moves a resident: one held for another municipality is refused as unknown; one
                # nobody holds yet is created for the list's municipality (number.assigned confirms it).
                holding = holding_of(held.get(rh), numbered=False) or Holding(municipality_code)
                try:
                    grant(caller, holding, permits=PERMITS["mailing_list"], unknown=unknown_resident)
                except DomainError as e:
                    out.refused.append((i, j, e.reason))
                    continue
                where[rh] = (i, j)
                res_rows.append(ListedResident(rh, municipality_code, hid, ctx.seal(
                    {"resident_code": m.resident_code, "name": m.name, "birth_date": m.birth_date, "sex": m.sex},
                    AAD_FACTS)))
        await store.upsert_households(hh_rows)
        stored = await store.upsert_residents_from_list(res_rows)
        # A row another municipality's list created in the same instant: refused like any other's.
        out.refused += [(*where[rh], "UNKNOWN_RESIDENT") for rh in where if rh not in stored]
        out.refused.sort()
        out.residents = len(stored)
        await store.record_access(
            at=ctx.clock.now(), actor=str(caller), action="mailing_list.submit",
            subject_ref=f"municipality:{municipality_code}", purpose="送付先情報 (通知カード mailing)",
            details={"basis": Basis.OWN_REGISTER.value, "residents": out.residents, "refused": len(out.refused)})
        out.prepared = await self.prepare_mailings(store, municipality_code)
        log.info("mailing list stored", extra={"municipality": municipality_code, "residents": out.residents,
                                               "refused": len(out.refused), "envelopes": out.prepared})
        return out

    async def on_number_assigned(self, store: NoticeStorePort, assigned: events.Assigned) -> int:
        """number.assigned: keep the number (sealed) beside the resident; mail those whose facts are known. The
        numbering service decides which municipality holds a resident (its own tenancy checks the register)."""
        ctx = self.ctx
        sealed = ctx.sealer.seal_many([n.encode() for n in assigned.numbers], AAD_NUMBER)
        hashes = ctx.hasher.many([c.encode() for c in assigned.resident_codes])
        await store.upsert_residents_from_numbers([
            NumberedResident(h, mc, s, assigned.assigned_at)
            for h, mc, s in zip(hashes, assigned.municipality_codes, sealed, strict=True)])
        total = 0
        for mc in sorted(set(assigned.municipality_codes)):
            total += await self.prepare_mailings(store, mc)
        return total

    async def prepare_mailings(self, store: NoticeStorePort, municipality_code: str) -> int:
        """One envelope per household (転送不要の簡易書留); a member with a registered 居所 gets their own envelope
        to it (別紙 1/2: the 居所 is a person's, not the household's)."""
        ctx = self.ctx
        rows = await store.ready_to_mail(municipality_code)
        if not rows:
            return 0
        now = ctx.clock.now()
        addrs = await store.household_addresses(municipality_code, {r.household_id for r in rows})
        # Only the 居所 this municipality registered routes its mail (another's, e.g. before a 転入, never does).
        res = await store.residences_of(municipality_code, [r.resident_hash for r in rows])
        groups: dict[tuple[str, bytes], list[ReadyResident]] = defaultdict(list)
        for r in rows:
            groups[(r.household_id, r.resident_hash if r.resident_hash in res else b"")].append(r)
        envelopes, items, evs = [], [], []
        for (household_id, own), members in groups.items():
            home = ctx.open(addrs[household_id], AAD_ADDRESS)
            facts = [ctx.open(m.sealed_facts, AAD_FACTS) for m in members]
            dest, sealed_dest = ctx.destination(municipality_code, home, res.get(own) if own else None,
                                                facts[0]["name"] + (" 様" if len(facts) == 1 else " 様 ほか"))
            mid = uuid.uuid4().hex
            # The day the notice is made decides, not the day of numbering (policy.document_for_notice says why).
            docs = [policy.document_for_notice(now) for _ in members]
            kind = "notification_letter" if all(d == policy.NOTIFICATION_LETTER for d in docs) else "initial"
            envelopes.append(Mailing(mailing_id=mid, municipality_code=municipality_code, household_id=household_id,
                                     kind=kind, status="prepared", destination=dest, sealed_destination=sealed_dest,
                                     created_at=now, updated_at=now))
            for seq, (m, f, doc) in enumerate(zip(members, facts, docs, strict=True)):
                number = ctx.open_number(m.sealed_number)
                application_id = new_application_id()
                items.append(Item(mailing_id=mid, resident_hash=m.resident_hash, seq=seq, document=doc,
                                  application_id=application_id,
                                  sealed_card=ctx.seal(ctx.card(f, number, home["address"]), AAD_CARD)))
                evs.append(ctx.form_issued(municipality_code, application_id, number, f, home["address"]))
            evs.append((events.mailing_subject("prepared"),
                        events.mailing_changed(mailing_id=mid, municipality_code=municipality_code,
                                               status="prepared", at=now, items=len(members))))
        await store.insert_mailings(envelopes, items)
        CARD.move(CardStatus.NONE, CardStatus.MAILED)  # ready_to_mail selects cards in state none
        await store.mark_mailed([(it.resident_hash, it.mailing_id) for it in items])
        await store.add_events(evs)
        return len(envelopes)

    async def list_mailings(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                            page_size: int = 0, page_token: str = "") -> tuple[list[Mailing], str]:
        """One page of the municipality's envelopes, oldest first, and the next page's token ("" after the last)."""
        municipality_code = check_caller_municipality(caller, municipality_code)
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be 1-{MAX_PAGE} (0: {MAX_PAGE})")
        after = pages.position(page_token, key_length=32) if page_token else None
        size = page_size or MAX_PAGE
        page = await store.list_mailings(municipality_code, size + 1, after)
        if len(page) <= size:
            return page, ""
        last = page[size - 1]
        return page[:size], pages.Position(last.created_at, last.mailing_id).token()
