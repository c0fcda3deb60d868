"""The counter (来庁時): a card brought in by the resident after a move (chart ①). Two boxes end here: the card the
former household received is endorsed with the address the move recorded and handed over (受理する可能性あり:
その者から入手の上、来庁時に裏書きの上交付), and a card superseded by a resend is handed back (通知カードを再送すると
ともにその者から入手の上返還を促す), after which it is registered and disposed of (1. 返還登録 2. 廃棄処理)."""

from __future__ import annotations

from mynumber_runtime.identity import Caller

from notice.base import AAD_ADDRESS, Context, check_caller_municipality
from notice.cards import Cards
from notice.errors import FailedPrecondition, not_in_mailing
from notice.outcomes import Outcome
from notice.ports import NoticeStorePort
from notice.tenancy import own_mailing, resident_for
from notice.validation import validate_mailing_id, validate_resident_code


class Counter:
    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    async def endorse_at_counter(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                                 resident_code: str) -> Outcome:
        """The endorsement a 転居/転入 left pending (RecordMove: former household may receive, endorse), now that
        the card is at hand: 裏書き with the recorded address, then 交付."""
        ctx = self.ctx
        check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), "card.counter")
        if r.pending_action != "endorse" or r.sealed_pending_address is None or r.card_status != "delivered":
            # A card still in the post or back at the office is endorsed through ResolveReturnedMail; none pending
            # means there is nothing recorded to write on the back.
            raise FailedPrecondition("resident_code: no endorsement is pending for a delivered card",
                                     reason="NO_PENDING_ENDORSEMENT")
        await ctx.audit(store, caller, "card.endorse_at_counter", resident_code, "来庁時に裏書き (chart ①)", basis)
        out = Outcome()
        mailing_id = r.current_mailing_id or ""
        await self.cards.endorse(store, r, ctx.open(r.sealed_pending_address, AAD_ADDRESS), mailing_id, out)
        await self.cards.hand_over(store, r, mailing_id, out)  # clears the pending action
        return out

    async def record_old_card_returned(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                                       mailing_id: str, resident_code: str) -> Outcome:
        """The card of `mailing_id`, superseded by a resend, is handed back: 返還登録 and 廃棄 of that card, once.
        The resident's current card (the resent one) is untouched."""
        ctx = self.ctx
        municipality_code = check_caller_municipality(caller, municipality_code)
        mailing_id = validate_mailing_id(mailing_id)
        validate_resident_code(resident_code)
        m = await own_mailing(store, caller, mailing_id)
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), "card.counter", unknown=not_in_mailing)
        if await store.item_of(mailing_id, r.resident_hash) is None or r.current_mailing_id == mailing_id:
            # Not a card of this envelope, or the resident's current card (that one is returned by RecordDelivery
            # or re-issued through RequestResend, not handed back as superseded).
            raise not_in_mailing()
        if m.status != "delivered":
            # A superseded card that came back by post was registered then (RecordDelivery).
            raise FailedPrecondition(f"mailing_id: the envelope is not one that was delivered ({m.status})",
                                     reason="NOT_DELIVERED")
        if not await store.mark_card_handed_back(mailing_id, r.resident_hash, ctx.clock.now()):
            raise FailedPrecondition("mailing_id: this card was handed back already", reason="ALREADY_RETURNED")
        await ctx.audit(store, caller, "card.old_card_returned", resident_code, "返還 of a superseded card (chart ①)",
                        basis)
        await store.add_events(self.cards.return_register_events(mailing_id, m.municipality_code))
        return Outcome(steps=["return_registered", "disposed"])
