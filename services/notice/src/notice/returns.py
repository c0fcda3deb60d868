"""Returns (chart ②, 通知カード返戻時の対応フロー): delivery or return reported by the post, the municipality's
finding on a returned card, the 3-month hold, and a resend or re-issue asked at the counter."""

from __future__ import annotations

from collections import defaultdict

from mynumber_runtime.identity import Caller

from notice import events, policy
from notice.base import AAD_ADDRESS, AAD_RESIDENCE, Context, Event, check_caller_municipality
from notice.cards import HANDED, HELD, IN_TRANSIT, Cards
from notice.entities import HeldCard, Mailing
from notice.errors import FailedPrecondition, InvalidArgument, not_in_mailing, notice_card_abolished
from notice.outcomes import Outcome
from notice.ports import NoticeStorePort
from notice.states import (
    CARD,
    MAILING,
    CardStatus,
    Finding,
    MailingStatus,
    ReissueReason,
    ReturnReason,
    return_reason_of,
    values,
)
from notice.tenancy import own_mailing, resident_for
from notice.validation import (
    AddressIn,
    validate_address_pair,
    validate_choice,
    validate_mailing_id,
    validate_resident_code,
)

RETURN_REASONS = values(ReturnReason)
FINDINGS = values(Finding)
REISSUE_REASONS = values(ReissueReason)


class Returns:
    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    async def record_delivery(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                              mailing_id: str, delivered: bool, return_reason: str) -> Mailing:
        ctx = self.ctx
        municipality_code = check_caller_municipality(caller, municipality_code)
        mailing_id = validate_mailing_id(mailing_id)
        if not delivered:
            return_reason = return_reason_of(return_reason)
            validate_choice(return_reason, "return_reason", RETURN_REASONS,
                            "must be あて所なし, 受取拒否 (受取り拒否) or 保管期間経過 (日本郵便の返戻理由)")
        now = ctx.clock.now()
        m = await own_mailing(store, caller, mailing_id)
        if m.status not in ("posted", "recalled"):
            # Only an envelope the post office holds (or one recalled, on its way back) can arrive anywhere.
            raise FailedPrecondition(f"mailing_id: the envelope was never posted (it is {m.status})",
                                     reason="NOT_POSTED")
        members = await store.residents_in(mailing_id)
        ours = [r.resident_hash for r in members if r.current_mailing_id == mailing_id]
        if delivered:
            # 別紙 2 (2): a card delivered to the office waits there until the DV victim collects it or the
            # municipality itself sends it on (ResolveReturnedMail collected_at_counter / municipal_resend).
            # A recalled envelope "delivered" is one back at the office: its card is held there likewise.
            held = m.destination == "office" or m.status == MailingStatus.RECALLED
            status = MAILING.move(m.status, MailingStatus.HELD_AT_OFFICE if held else MailingStatus.DELIVERED)
            card = CardStatus(status.value)
            for r in members:
                if r.current_mailing_id == mailing_id:
                    CARD.move(r.card_status, card)
            await store.set_mailing_status(mailing_id, status, now)
            await store.set_card_status(ours, card)
            await ctx.event(store, events.mailing_subject(status), mailing_id, municipality_code, status,
                            items=len(members))
        else:
            MAILING.move(m.status, MailingStatus.RETURNED)
            for r in members:
                if r.current_mailing_id == mailing_id:
                    CARD.move(r.card_status, CardStatus.RETURNED)
            await store.return_mailing(mailing_id, reason=return_reason, at=now, hold_until=policy.hold_until(now))
            await store.set_card_status(ours, CardStatus.RETURNED)
            await ctx.event(store, events.mailing_subject("returned"), mailing_id, municipality_code, "returned",
                            items=len(members), reason=return_reason)
            # Cards superseded by a resend after a move (chart ① 転入, 受理する可能性なし: <転出元市区町村> 1. 返戻後
            # 返還登録 2. 廃棄処理) are registered and disposed of as soon as they come back, by the municipality
            # that mailed them (the caller: its own envelope).
            stale = sum(r.current_mailing_id != mailing_id for r in members)
            await store.add_events(self.cards.return_register_events(mailing_id, m.municipality_code) * stale)
            # A move decided while the card travelled (chart ①-3 転居): act on the return now.
            for r in members:
                if r.current_mailing_id == mailing_id and r.pending_action == "new_issue":
                    await self.cards.reissue_after_return(store, r, mailing_id)
            await self.cards.close_if_resolved(store, mailing_id, municipality_code)
        after = await store.get_mailing(mailing_id)
        assert after is not None  # locked above, never deleted
        return after

    async def resolve_returned(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                               mailing_id: str, resident_code: str, finding: str, preference: str,
                               new_address: str, new_postal_code: str) -> Outcome:
        """Chart ②: after 住民票記載事項の確認・調査."""
        ctx, cards = self.ctx, self.cards
        municipality_code = check_caller_municipality(caller, municipality_code)
        mailing_id = validate_mailing_id(mailing_id)
        validate_resident_code(resident_code)
        validate_choice(finding, "finding", FINDINGS, "must be one of " + ", ".join(FINDINGS))
        moved_to: AddressIn | None = None
        if finding == "moved_within":
            validate_choice(preference, "preference", ("endorse", "new_issue"),
                            "moved_within needs endorse or new_issue (chart ①-1)")
            moved_to = validate_address_pair(new_address, new_postal_code, "new_address", "new_postal_code")
        elif finding == "municipal_resend" and (new_address or new_postal_code):
            # ①-3 【裏書交付希望】 返戻後裏書の上市町村の独自サービスとして簡易書留で再送: to the new address.
            moved_to = validate_address_pair(new_address, new_postal_code, "new_address", "new_postal_code")
        out = Outcome()
        m = await own_mailing(store, caller, mailing_id)
        held_at_office = m.status == "held_at_office"
        if m.status != "returned" and not held_at_office:
            raise FailedPrecondition(f"mailing_id: the envelope is not held as returned mail ({m.status})",
                                     reason="NOT_RETURNED")
        if held_at_office and (finding not in ("collected_at_counter", "municipal_resend") or moved_to is not None):
            raise InvalidArgument("finding", "a card held at the office is collected or sent on by the "
                                  "municipality to the registered 居所 (別紙 2 (2))")
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), "returned_mail", unknown=not_in_mailing)
        if r.current_mailing_id != mailing_id or r.card_status not in HELD:
            raise not_in_mailing()
        await ctx.audit(store, caller, f"returned_mail.{finding}", resident_code, "returned mail (chart ②)", basis)
        # A 転居 recorded while the card travelled, with 裏書き asked for (①-3 【裏書交付希望】): the address to
        # endorse.
        pending = (ctx.open(r.sealed_pending_address, AAD_ADDRESS)
                   if r.pending_action == "endorse" and r.sealed_pending_address is not None else None)
        if finding == "collected_at_counter":
            # 転居等がない場合: 市区町村窓口に出頭し本人確認の上交付; after a 転居, 返戻後裏書きのための再来庁: 裏書き
            # first.
            if pending is not None and not held_at_office and policy.notice_card_in_force(ctx.clock.now()):
                await cards.endorse(store, r, pending, mailing_id, out)
            await cards.hand_over(store, r, mailing_id, out)
        elif finding == "municipal_resend":
            # ... or 市町村の独自サービスとして簡易書留で再送: the same card, posted by the municipality.
            item = await store.item_of(mailing_id, r.resident_hash)
            residence = (await store.get_residence(r.resident_hash, r.municipality_code)
                         if held_at_office else None)
            if residence is not None:
                # 住所地市区町村が送付: the municipality posts it to the 居所 itself; it never goes to J-LIS or the
                # print vendor, so the 居所 stays inside the municipality.
                where = ctx.open(residence.sealed_address, AAD_RESIDENCE)
                out.new_mailing_id = await cards.repost(store, r, item, where, destination="residence_restricted")
            elif moved_to is not None or pending is not None:
                # 返戻後裏書の上市町村の独自サービスとして簡易書留で再送: endorsed first, then posted to the new
                # address.
                to = ({"address": moved_to.address, "postal_code": moved_to.postal_code} if moved_to is not None
                      else pending)
                assert to is not None
                await cards.endorse(store, r, to, mailing_id, out)
                out.new_mailing_id = await cards.repost(store, r, item, to, clear_pending=True)
            else:
                out.new_mailing_id = await cards.repost(store, r, item, await cards.home_address(store, r))
            out.steps.append("municipal_resend")
        elif moved_to is not None:  # moved_within
            address = {"address": moved_to.address, "postal_code": moved_to.postal_code}
            if preference == "endorse":  # ①-1: 転居手続後 裏書きの上交付
                await cards.endorse(store, r, address, mailing_id, out)
                await cards.hand_over(store, r, mailing_id, out)
            else:  # ... 又は 1. 返還登録 2. 廃棄処理 3. 新送付先情報をJ-LISに送信、通知カードを再送
                await cards.return_register(store, r, mailing_id, out)
                await cards.resend(store, r, address, out)
        else:
            # moved_out (転出元: 1. 返還登録 2. 廃棄処理; the 転入先 resends on its RecordMove) and deleted
            # (③ 消除: 死亡、居住の事実無 -> 廃棄処理).
            await cards.return_register(store, r, mailing_id, out)
        await cards.close_if_resolved(store, mailing_id, municipality_code)
        return out

    async def expire_returned(self, store: NoticeStorePort) -> int:
        """Chart ② ※2: after the 3-month hold, 返還登録 and 廃棄処理; later cards are re-issues."""
        now = self.ctx.clock.now()
        # In bulk: a day's expiry may cover many envelopes, each a few statements if done one by one.
        ms = await store.returned_past_hold(now)
        ids = [m.mailing_id for m in ms]
        # Selected as returned: each moves by the tables' returned -> disposed / return_registered.
        disposed = MAILING.move(MailingStatus.RETURNED, MailingStatus.DISPOSED)
        CARD.move(CardStatus.RETURNED, CardStatus.RETURN_REGISTERED)
        held = await store.cards_held_in(ids, CardStatus.RETURNED)
        by: dict[str, list[HeldCard]] = defaultdict(list)
        for r in held:
            by[r.mailing_id].append(r)
        evs: list[Event] = []
        for m in ms:
            # Each card held in the envelope, registered by the municipality that mailed it.
            evs += self.cards.return_register_events(m.mailing_id, m.municipality_code) * len(by[m.mailing_id])
            evs.append(self.ctx.change(events.mailing_subject("disposed"), m.mailing_id, m.municipality_code,
                                       "disposed"))
        await store.register_return([r.resident_hash for r in held])
        await store.set_mailings_status(ids, disposed, now)
        await store.add_events(evs)
        return len(ms)

    async def request_resend(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                             resident_code: str, reason: str = "") -> Outcome:
        ctx, cards = self.ctx, self.cards
        check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        validate_choice(reason, "reason", ("", *REISSUE_REASONS), "must be one of " + ", ".join(REISSUE_REASONS))
        if not policy.notice_card_in_force(ctx.clock.now()):
            raise notice_card_abolished("no resend or re-issue (the 個人番号通知書 is never re-issued)")
        out = Outcome()
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), "card.resend")
        await ctx.audit(store, caller, "card.resend", resident_code, "通知カード resend / re-issue", basis)
        if r.card_status in ("none", *IN_TRANSIT):
            raise FailedPrecondition(f"resident_code: the card is not available for a resend ({r.card_status})",
                                     reason="CARD_NOT_RESENDABLE")
        # One rule (policy.resend_terms): a card the person had is a 再交付; one held here or registered during its
        # hold is a free 再送 through 2015 and until the hold ends.
        received = r.card_status in HANDED
        if r.card_status in HELD:
            # 転居 rule: a card with the form is resent only after 返還登録 of the held one.
            await cards.return_register(store, r, r.current_mailing_id or "", out)
        await cards.resend(store, r, await cards.home_address(store, r), out, steps=(), card_received=received,
                           reissue_reason=reason)
        out.steps.append(out.kind)
        return out
