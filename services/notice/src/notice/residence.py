"""Residence (居所, 別紙 1 and 2): an evacuee's or DV victim's 居所 registered at the 住所地, read back only by
that municipality's staff, and the routing of mail already on its way when one arrives."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from notice import events
from notice.base import AAD_DEST, AAD_FACTS, AAD_RESIDENCE, Context, check_caller_municipality
from notice.cards import HANDED, HELD
from notice.entities import Mailing, Residence, Resident
from notice.errors import InvalidArgument, no_residence
from notice.outcomes import ResidenceOutcome
from notice.ports import NoticeStorePort
from notice.states import MAILING, MailingStatus
from notice.tenancy import resident_for
from notice.validation import validate_address_pair, validate_choice, validate_documents, validate_resident_code

# 別紙 1/2 ①: 居所情報登録申請書, 本人確認書類の写し, 送付場所の確認のための資料 (a 被災者 may be asked for proof of
# being one, a DV victim for 「ＤＶ等被害者であることを証する書類」 (~20887): optional, the municipality decides).
REQUIRED_DOCUMENTS = ("application", "identity_copy", "address_proof")
KNOWN_DOCUMENTS = (*REQUIRED_DOCUMENTS, "disaster_proof", "dv_proof")
# The exceptions where the municipality registers what it holds or has confirmed, so no document is required:
# 別紙 1 (2) 住所地市区町村が保有する避難先情報を活用 (evacuees); 別紙 2 (2) 住所地市区町村がＤＶ等支援対象者に連絡
# し、居所情報を確認する (DV victims). Each belongs to one kind.
SOURCE_KIND = {"municipal_records": "evacuee", "confirmed_with_person": "dv_victim"}
SOURCES = ("application", *SOURCE_KIND)
# Envelope states before the vendor has it (re-routed in place) and after (recalled): a 居所 registered later
# must keep the card from the address it no longer may go to.
NOT_YET_EXPORTED = ("prepared",)
LEFT_FOR_VENDOR = ("exported", "printed", "posted")


class Residences:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def register_residence(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                                 resident_code: str, kind: str, address: str, postal_code: str,
                                 documents: Sequence[str], hold_at_office: bool, *, source: str = "",
                                 sharing_consent: bool = False) -> ResidenceOutcome:
        ctx = self.ctx
        check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        validate_choice(kind, "kind", ("evacuee", "dv_victim"), "must be EVACUEE or DV_VICTIM")
        source = source or "application"
        validate_choice(source, "source", SOURCES, "must be APPLICATION, MUNICIPAL_RECORDS or CONFIRMED_WITH_PERSON")
        if SOURCE_KIND.get(source, kind) != kind:
            raise InvalidArgument("source", "MUNICIPAL_RECORDS is for an evacuee (別紙 1 (2)), CONFIRMED_WITH_PERSON "
                                  "for a DV victim (別紙 2 (2))")
        where = validate_address_pair(address, postal_code, "address", "postal_code")
        docs = validate_documents(documents, KNOWN_DOCUMENTS,
                                  REQUIRED_DOCUMENTS if source == "application" else ())
        if "dv_proof" in docs and kind != "dv_victim":
            raise InvalidArgument("documents", "dv_proof is a DV victim's (ＤＶ等被害者であることを証する書類)")
        if hold_at_office and kind != "dv_victim":
            raise InvalidArgument("hold_at_office", "only for a DV victim (別紙 2 (2))")
        if sharing_consent and kind != "evacuee":
            # The 同意欄 is on the evacuee's form (別紙 1); a DV victim's 居所 never leaves the staff that registered
            # it.
            raise InvalidArgument("sharing_consent", "only for an evacuee (別紙 1 同意欄)")
        # The 住所地 registers (別紙 1/2 ①); the lock serialises a retry or a second registration of the person.
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), "residence.register", numbered=False)
        # Keyed by (resident, municipality): no other municipality's registration ever overwrites this one; this
        # municipality's own re-registration replaces its earlier one (D13: the latest wins).
        residence = Residence(
            resident_hash=r.resident_hash, municipality_code=r.municipality_code, kind=kind,
            sealed_address=ctx.seal({"address": where.address, "postal_code": where.postal_code}, AAD_RESIDENCE),
            documents=tuple(docs), hold_at_office=hold_at_office, registered_at=ctx.clock.now(), source=source,
            sharing_consent=sharing_consent)
        await store.upsert_residence(residence)
        out = await self._route_to_residence(store, r, residence)
        await ctx.audit(store, caller, "residence.register", resident_code, "居所 delivery (別紙 1/2)", basis,
                        mail_action=out.mail_action, source=source)
        await store.add_events([(events.RESIDENCE_REGISTERED, events.mailing_changed(
            mailing_id="", municipality_code=r.municipality_code, status="residence_registered",
            at=ctx.clock.now()))])
        return out

    async def _route_to_residence(self, store: NoticeStorePort, r: Resident,
                                  residence: Residence) -> ResidenceOutcome:
        """Mail already on its way when a 居所 arrives: an envelope not yet exported is re-addressed (the person's
        card in an envelope of its own); one that left for the vendor is recalled (an RCL record in the next
        batch; it comes back to the office and the card is held there); the clerk is told which."""
        ctx = self.ctx
        out = ResidenceOutcome(destination="office" if residence.hold_at_office else "residence",
                               mail_action="nothing_in_transit")
        at_post_office = False
        for m in await store.open_mailings_of(r.resident_hash, r.municipality_code):
            if m.status in NOT_YET_EXPORTED:
                out.rerouted.append(await self._reroute(store, r, m, residence))
                continue
            if m.status in LEFT_FOR_VENDOR:
                MAILING.move(m.status, MailingStatus.RECALLED)
                await store.recall_mailing(m.mailing_id, recalled_from=m.status, at=ctx.clock.now())
                await ctx.event(store, events.mailing_subject("recalled"), m.mailing_id, m.municipality_code,
                                "recalled")
            # else already recalled: a retry of the same registration asks nothing twice
            out.recalled.append(m.mailing_id)
            # An envelope the municipality posted itself never went through the vendor: it asks the post.
            at_post_office |= m.kind == "municipal_resend"
        if at_post_office:
            out.mail_action = "recall_at_post_office"
        elif out.recalled:
            out.mail_action = "recalled"
        elif out.rerouted:
            out.mail_action = "rerouted"
        elif r.card_status in HANDED:
            out.mail_action = "already_delivered"
        elif r.card_status in HELD:
            out.mail_action = "held_at_office"
        return out

    async def _reroute(self, store: NoticeStorePort, r: Resident, m: Mailing, residence: Residence) -> str:
        """A prepared envelope re-addressed to the 居所 (or the office); the id of the envelope now carrying the
        resident's card."""
        ctx = self.ctx
        now = ctx.clock.now()
        items = await store.items_of([m.mailing_id])
        others = [it for it in items if it.resident_hash != r.resident_hash]
        name = ctx.open(r.sealed_facts, AAD_FACTS)["name"] if r.sealed_facts is not None else ""
        dest, sealed_dest = ctx.destination(m.municipality_code, {}, residence, name + " 様")
        if not others:
            await store.readdress_mailing(m.mailing_id, sealed_destination=sealed_dest, at=now, destination=dest)
            await ctx.event(store, events.mailing_subject("rerouted"), m.mailing_id, m.municipality_code,
                            "prepared", items=1)
            return m.mailing_id
        # 別紙 1/2: the 居所 is the person's, not the household's: their card leaves the household envelope, whose
        # addressee then names a remaining member (never the person who asked to be found elsewhere).
        mid = uuid.uuid4().hex
        await store.insert_mailings([Mailing(
            mailing_id=mid, municipality_code=m.municipality_code, household_id=m.household_id, kind=m.kind,
            status="prepared", destination=dest, sealed_destination=sealed_dest, created_at=now, updated_at=now,
            fee_yen=m.fee_yen)], [])
        await store.move_item(m.mailing_id, r.resident_hash, mid)
        facts = await store.facts_of([others[0].resident_hash])
        first_facts = facts[others[0].resident_hash]
        first = ctx.open(first_facts, AAD_FACTS)["name"] if first_facts is not None else ""
        home = ctx.open(m.sealed_destination, AAD_DEST)
        home["addressee"] = first + (" 様" if len(others) == 1 else " 様 ほか")
        await store.readdress_mailing(m.mailing_id, sealed_destination=ctx.seal(home, AAD_DEST), at=now)
        if r.current_mailing_id == m.mailing_id:
            await store.set_current_mailing(r.resident_hash, mid)
        await ctx.event(store, events.mailing_subject("rerouted"), m.mailing_id, m.municipality_code, "prepared",
                        items=len(others))
        await ctx.event(store, events.mailing_subject("prepared"), mid, m.municipality_code, "prepared", items=1)
        return mid

    async def get_residence(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                            resident_code: str) -> tuple[Residence, dict[str, str]] | None:
        """The 居所 (its record and the opened address), or None for every kind of refusal. None rather than an
        error: the refusal is written to the access log, which the boundary must commit; it answers
        `errors.no_residence()` after the unit closed."""
        ctx = self.ctx
        check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        residence: Residence | None = None
        basis: Basis | None
        # Design: a DV victim's 居所 is visible only to the staff of the home municipality that registered it;
        # any other caller learns nothing, not even that one exists (unknown, not yours, none: one answer).
        try:
            r, basis = await resident_for(store, caller, ctx.rh(resident_code), "residence.read", numbered=False,
                                          unknown=no_residence, lock=False)
            residence = await store.get_residence(r.resident_hash, r.municipality_code)
        except DomainError:
            basis = None
        if residence is None:
            basis = None
        await ctx.audit(store, caller, "residence.read" if basis else "residence.read.refused", resident_code,
                        "居所 look-up", basis)
        if residence is None:
            return None
        return residence, ctx.open(residence.sealed_address, AAD_RESIDENCE)
