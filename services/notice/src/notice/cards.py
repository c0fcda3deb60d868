"""What happens to one person's card, shared by returned mail (chart ②) and moves (chart ①): 返還登録 and 廃棄,
裏書き, hand-over at the counter, and a new card (free resend or re-issue by the dated terms)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from notice import events, policy
from notice.base import AAD_ADDRESS, AAD_CARD, AAD_DEST, AAD_FACTS, Context, Event
from notice.codes import new_application_id
from notice.entities import Item, Mailing, Resident
from notice.errors import FailedPrecondition, notice_card_abolished
from notice.outcomes import Outcome
from notice.ports import NoticeStorePort
from notice.states import CARD, MAILING, CardStatus, MailingStatus

IN_TRANSIT = ("mailed",)
HELD = ("returned", "held_at_office")
HANDED = ("delivered", "handed_over")


async def card_moves(store: NoticeStorePort, resident_hash: bytes, target: CardStatus) -> CardStatus:
    """Checks the resident's card may move to `target` now (states.CARD), from the state the store holds."""
    r = await store.get_resident(resident_hash)
    return CARD.move(r.card_status if r is not None else "", target)


class Cards:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def return_register_events(self, mailing_id: str, municipality_code: str) -> list[Event]:
        return [self.ctx.change(events.card_subject(status), mailing_id, municipality_code, status, items=1)
                for status in ("return_registered", "disposed")]

    @staticmethod
    async def envelope_municipality(store: NoticeStorePort, mailing_id: str, fallback: str) -> str:
        """Whose envelope a card event is about: the municipality that mailed it. After a 転入 the resident is the
        転入先's, but the card that came back to the 転出元 is registered and disposed of there (chart ①/②
        <転出元市区町村> 1. 返還登録 2. 廃棄処理), so its events carry the 転出元's code."""
        m = await store.get_mailing(mailing_id) if mailing_id else None
        return m.municipality_code if m is not None else fallback

    async def return_register(self, store: NoticeStorePort, r: Resident, mailing_id: str, out: Outcome) -> None:
        """返還登録 then 廃棄処理: the card held at the municipality is cancelled and destroyed."""
        await card_moves(store, r.resident_hash, CardStatus.RETURN_REGISTERED)
        await store.register_return([r.resident_hash])
        where = await self.envelope_municipality(store, mailing_id, r.municipality_code)
        await store.add_events(self.return_register_events(mailing_id, where))
        out.steps += ["return_registered", "disposed"]

    async def endorse(self, store: NoticeStorePort, r: Resident, address: dict[str, str], mailing_id: str,
                      out: Outcome) -> None:
        """裏書き (番号法 第7条第5項: the 追記欄 on the back records the new address)."""
        now = self.ctx.clock.now()
        if not policy.notice_card_in_force(now):
            raise notice_card_abolished("no endorsement")
        # The endorsing municipality keeps the record; the event is about the envelope the card came in.
        await store.insert_endorsement(r.resident_hash, r.municipality_code, self.ctx.seal(address, AAD_ADDRESS),
                                       now)
        where = await self.envelope_municipality(store, mailing_id, r.municipality_code)
        await self.ctx.event(store, events.card_subject("endorsed"), mailing_id, where, "endorsed", items=1)
        out.steps.append("endorsed")

    async def hand_over(self, store: NoticeStorePort, r: Resident, mailing_id: str, out: Outcome) -> None:
        await card_moves(store, r.resident_hash, CardStatus.HANDED_OVER)
        await store.hand_over(r.resident_hash)
        where = await self.envelope_municipality(store, mailing_id, r.municipality_code)
        await self.ctx.event(store, events.card_subject("handed_over"), mailing_id, where, "handed_over", items=1)
        out.steps.append("handed_over")

    async def close_if_resolved(self, store: NoticeStorePort, mailing_id: str, municipality_code: str) -> None:
        """An envelope with no card of its own still held at the office is resolved."""
        members = await store.residents_in(mailing_id)
        if not any(r.current_mailing_id == mailing_id and r.card_status in HELD for r in members):
            m = await store.get_mailing(mailing_id)
            status = MAILING.move(m.status if m is not None else "", MailingStatus.RESOLVED)
            await store.set_mailing_status(mailing_id, status, self.ctx.clock.now())
            await self.ctx.event(store, events.mailing_subject("resolved"), mailing_id, municipality_code,
                                 "resolved")

    async def send_new(self, store: NoticeStorePort, r: Resident, address: dict[str, str], *, kind: str, fee: int,
                       with_form: bool, reissue_reason: str | None = None) -> str:
        """A new envelope for one resident, card (+ form) rebuilt from the facts and the number."""
        ctx = self.ctx
        now = ctx.clock.now()
        if not policy.notice_card_in_force(now):
            # Every new card goes through here (転居, moved-within, RequestResend, 転入, a pending new issue): after
            # 2020-05-25 none is made, whichever flow asks (RequestResend refuses before it gets here).
            raise notice_card_abolished("no new card, resend or re-issue")
        assert r.sealed_facts is not None and r.sealed_number is not None  # a mailed resident has both
        facts = ctx.open(r.sealed_facts, AAD_FACTS)
        number = ctx.open_number(r.sealed_number)
        residence = await store.get_residence(r.resident_hash, r.municipality_code)
        dest, sealed_dest = ctx.destination(r.municipality_code, address, residence, facts["name"] + " 様")
        mid = uuid.uuid4().hex
        # Chart ①: a 転居 resend without 返還登録 carries the card only (申請書のない通知カードのみ).
        application_id = new_application_id() if with_form else None
        await store.insert_mailings(
            [Mailing(mailing_id=mid, municipality_code=r.municipality_code, household_id=r.household_id or "",
                     kind=kind, status="prepared", destination=dest, sealed_destination=sealed_dest,
                     created_at=now, updated_at=now, fee_yen=fee, reissue_reason=reissue_reason)],
            [Item(mailing_id=mid, resident_hash=r.resident_hash, seq=0, document=policy.NOTICE_CARD,
                  application_id=application_id,
                  sealed_card=ctx.seal(ctx.card(facts, number, address["address"]), AAD_CARD))])
        if application_id is not None:
            await store.add_events([ctx.form_issued(r.municipality_code, application_id, number, facts,
                                                    address["address"])])
        await card_moves(store, r.resident_hash, CardStatus.MAILED)
        await store.mail_card(r.resident_hash, mid, clear_pending=True)
        await ctx.event(store, events.mailing_subject("prepared"), mid, r.municipality_code, "prepared", items=1)
        return mid

    async def resend(self, store: NoticeStorePort, r: Resident, address: dict[str, str], out: Outcome, *,
                     card_received: bool = False, with_form: bool = True, reissue_reason: str = "",
                     steps: Sequence[str] = ("resent",)) -> None:
        """A new card by the dated terms (free 再送 or 再交付, policy.resend_terms; a 再交付 at the municipality's
        ordinance fee, notice.fees), recorded in the outcome: the hold that counts is the one of the envelope the
        resident's card last came back in. The reason is kept for a 再交付 only (the fee and the subsidy)."""
        now = self.ctx.clock.now()
        last = await store.get_mailing(r.current_mailing_id) if r.current_mailing_id else None
        terms = policy.resend_terms(now, hold_until=last.hold_until if last is not None else None,
                                    card_received=card_received,
                                    reissue_fee_yen=self.ctx.fees.reissue_fee(r.municipality_code, now,
                                                                              reissue_reason))
        reason = reissue_reason or None if terms.kind == "reissue" else None
        out.new_mailing_id = await self.send_new(store, r, address, kind=terms.kind, fee=terms.fee_yen,
                                                 with_form=with_form, reissue_reason=reason)
        out.kind, out.fee_yen = terms.kind, terms.fee_yen
        out.steps += steps

    async def reissue_after_return(self, store: NoticeStorePort, r: Resident, mailing_id: str) -> None:
        """Chart ①-3 転居 【新規発行希望】: the card came back; 返還登録, 廃棄, and a re-issue to the new address."""
        assert r.sealed_pending_address is not None  # pending_action "new_issue" always carries it
        out = Outcome()
        address = self.ctx.open(r.sealed_pending_address, AAD_ADDRESS)
        await self.return_register(store, r, mailing_id, out)  # also clears the pending action
        if not policy.notice_card_in_force(self.ctx.clock.now()):
            # Back after 2020-05-25: registered and disposed of, and nothing made in its place (no 通知カード
            # any more; the return itself is the post's fact and is recorded whatever the date).
            return
        await self.resend(store, r, address, out)

    async def home_address(self, store: NoticeStorePort, r: Resident) -> dict[str, str]:
        addrs = await store.household_addresses(r.municipality_code, [r.household_id or ""])
        if r.household_id not in addrs:
            raise FailedPrecondition("household_id: the resident's household has no address on file",
                                     reason="NO_ADDRESS")
        return self.ctx.open(addrs[r.household_id], AAD_ADDRESS)  # type: ignore[no-any-return]

    async def repost(self, store: NoticeStorePort, r: Resident, item: Item | None, address: dict[str, str], *,
                     destination: str = "address", clear_pending: bool = False) -> str:
        """市町村の独自サービスとして簡易書留で再送: the same card, posted by the municipality itself."""
        ctx = self.ctx
        now = ctx.clock.now()
        assert r.sealed_facts is not None
        facts = ctx.open(r.sealed_facts, AAD_FACTS)
        mid = uuid.uuid4().hex
        await store.insert_mailings(
            [Mailing(mailing_id=mid, municipality_code=r.municipality_code, household_id=r.household_id or "",
                     kind="municipal_resend", status="posted", destination=destination,
                     sealed_destination=ctx.seal({**address, "addressee": facts["name"] + " 様"}, AAD_DEST),
                     created_at=now, updated_at=now)],
            [Item(mailing_id=mid, resident_hash=r.resident_hash, seq=0,
                  document=item.document if item else policy.NOTICE_CARD,
                  application_id=item.application_id if item else None,
                  sealed_card=item.sealed_card if item else b"")])
        await card_moves(store, r.resident_hash, CardStatus.MAILED)
        await store.mail_card(r.resident_hash, mid, clear_pending=clear_pending)
        await ctx.event(store, events.mailing_subject("posted"), mid, r.municipality_code, "posted", items=1)
        return mid
