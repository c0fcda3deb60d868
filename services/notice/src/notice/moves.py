"""Moves after numbering (chart ①, 転居・転入時の扱い): 転居 within a municipality, 転出 naming the 転入先, and the
転入 there; what happens to the card depends on where it is (not mailed, in transit, returned, delivered)."""

from __future__ import annotations

import datetime as dt

from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from notice import policy
from notice.base import AAD_ADDRESS, AAD_FACTS, Context, check_caller_municipality
from notice.cards import HANDED, HELD, Cards
from notice.entities import Household, Resident
from notice.errors import FailedPrecondition, InvalidArgument
from notice.offices import municipal_office
from notice.outcomes import Outcome
from notice.ports import NoticeStorePort
from notice.tenancy import resident_for
from notice.validation import (
    MemberIn,
    validate_address_pair,
    validate_choice,
    validate_household_id,
    validate_member,
    validate_municipality,
    validate_resident_code,
)


class Moves:
    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    async def record_move(self, store: NoticeStorePort, caller: Caller, municipality_code: str, resident_code: str,
                          kind: str, new_address: str, new_postal_code: str, new_household_id: str,
                          former_household_may_receive: bool, preference: str, member: MemberIn | None = None, *,
                          destination_municipality_code: str = "") -> Outcome:
        ctx = self.ctx
        municipality_code = check_caller_municipality(caller, municipality_code)
        validate_choice(kind, "kind", ("tenkyo", "tenshutsu", "tennyu"),
                        "must be tenkyo (転居), tenshutsu (転出) or tennyu (転入)")
        validate_resident_code(resident_code)
        if kind == "tenshutsu":
            return await self._record_tenshutsu(store, caller, municipality_code, resident_code,
                                                destination_municipality_code)
        # A 転居 or 転入 may resend the card from here (a 転出 mails nothing: it is recorded whatever the 転入先).
        municipal_office(municipality_code)
        new_household_id = validate_household_id(new_household_id, "new_household_id")
        moved_to = (validate_address_pair(new_address, new_postal_code, "new_address", "new_postal_code")
                    if new_address or new_postal_code else None)
        validate_choice(preference, "preference", ("", "endorse", "new_issue"), "must be endorse or new_issue")
        if member is not None:
            validate_member(member, "member")
        now = ctx.clock.now()
        out = Outcome()
        # Chart ①: 転居 by the municipality that holds the resident; 転入 only by the 転入先 that the former
        # municipality's 転出 named (tenancy.Basis.TENNYU_DESTINATION), never by anyone else.
        r, basis = await resident_for(store, caller, ctx.rh(resident_code), f"move.{kind}")
        if kind == "tennyu" and basis == Basis.OWN_REGISTER:
            raise InvalidArgument("kind", "転入 is a move from another municipality; use tenkyo within one")
        if moved_to is not None:
            address = {"address": moved_to.address, "postal_code": moved_to.postal_code}
        else:
            # Moving into a household the municipality already sent: its address is on file.
            addrs = await store.household_addresses(municipality_code, [new_household_id])
            if new_household_id not in addrs:
                raise InvalidArgument("new_household_id", "unknown household: send it in a mailing list first "
                                      "or give new_address", reason="UNKNOWN_HOUSEHOLD")
            address = ctx.open(addrs[new_household_id], AAD_ADDRESS)
        old_municipality, old_mailing = r.municipality_code, r.current_mailing_id or ""
        await ctx.audit(store, caller, f"move.{kind}", resident_code, "通知カード after a move (chart ①)", basis)
        # The resident now belongs to the municipality and household of the move (a 転入 completes the 転出).
        await store.upsert_households([Household(municipality_code, new_household_id,
                                                 ctx.seal(address, AAD_ADDRESS))])
        facts = (ctx.seal({"resident_code": resident_code, "name": member.name, "birth_date": member.birth_date,
                           "sex": member.sex}, AAD_FACTS) if member is not None else None)
        await store.move_resident(r.resident_hash, municipality_code=municipality_code,
                                  household_id=new_household_id, sealed_facts=facts)
        fresh = await store.get_resident(r.resident_hash)
        if fresh is None:  # rows are never deleted; a vanished row is a bug, not bad input
            raise RuntimeError("resident row vanished inside its unit of work")
        r = fresh
        if r.sealed_facts is None:
            raise FailedPrecondition("member: the new municipality must send the resident's facts",
                                     reason="FACTS_MISSING")
        # 2020-05-25: no endorsement, no re-issue; the 個人番号通知書 is never updated. (Whoever was sent one was
        # numbered on or after that day, so the date alone decides.)
        if not policy.notice_card_in_force(now):
            out.steps.append("no_card_action_notice_card_abolished")
            return out
        status = r.card_status
        if status == "none":
            out.steps.append("address_updated")  # not mailed yet: it will go to the new address
        elif status == "return_registered" and kind == "tennyu" and await self._registered_in_hold(store, r, now):
            # Chart ② ②他の市区町村への転出: <転出元> 1. 返還登録 2. 廃棄処理 (ResolveReturnedMail moved_out);
            # <転入先> 転入手続後 新送付先情報をJ-LISに送信、通知カードを再送 (「再交付に準じて」, seed ~22247; the
            # label by policy.resend_terms).
            await self.cards.resend(store, r, address, out)
        elif status == "return_registered":
            # Registered after the hold (or 消除): any later card is a 再発行 the resident asks for (chart ② ※2).
            out.steps.append("no_card_request_reissue")
        elif status in HANDED:
            # 通知カードが既達の場合: 裏書き対応.
            await self.cards.endorse(store, r, address, old_mailing, out)
        elif status in HELD:
            await self._card_returned(store, r, kind, preference, address, old_municipality, old_mailing, out)
        else:
            await self._card_in_transit(store, r, kind, preference, former_household_may_receive, address, out)
        return out

    async def _record_tenshutsu(self, store: NoticeStorePort, caller: Caller, municipality_code: str,
                                resident_code: str, destination: str) -> Outcome:
        """転出: the former municipality names the 転入先; only that municipality may then record the 転入 (chart ①
        acts there: the card is endorsed or resent by the 転入先). Recorded again, the latest destination counts."""
        destination = validate_municipality(destination, "destination_municipality_code")
        if destination == municipality_code:
            raise InvalidArgument("destination_municipality_code", "a 転出 goes to another municipality; use tenkyo")
        r, basis = await resident_for(store, caller, self.ctx.rh(resident_code), "move.tenshutsu")
        await store.set_moving_to(r.resident_hash, destination)
        await self.ctx.audit(store, caller, "move.tenshutsu", resident_code, "転出 (chart ①)", basis,
                             destination=destination)
        return Outcome(steps=["tenshutsu_recorded"])

    @staticmethod
    async def _registered_in_hold(store: NoticeStorePort, r: Resident, now: dt.datetime) -> bool:
        """The card was registered by the 転出元 while its envelope was held (chart ②), not by the hold's end."""
        m = await store.get_mailing(r.current_mailing_id) if r.current_mailing_id else None
        return m is not None and m.hold_until is not None and now < m.hold_until

    async def _card_returned(self, store: NoticeStorePort, r: Resident, kind: str, preference: str,
                             address: dict[str, str], old_municipality: str, old_mailing: str, out: Outcome) -> None:
        """Chart ①, 通知カードが返戻されている場合."""
        cards = self.cards
        if kind == "tennyu" or preference == "new_issue":
            # 転入: 転出元 1. 返戻後返還登録 2. 廃棄処理; 転入先 新送付先情報をJ-LISに送信、通知カードを再送.
            # 転居 ①-1: 1. 返還登録 2. 廃棄処理 3. 新送付先情報をJ-LISに送信、通知カードを再送 (a re-issue).
            await cards.return_register(store, r, old_mailing, out)
            await cards.close_if_resolved(store, old_mailing, old_municipality)
            await cards.resend(store, r, address, out)
        else:
            # 転居 ①-1: 転居手続後 裏書きの上交付.
            await cards.endorse(store, r, address, old_mailing, out)
            await cards.hand_over(store, r, old_mailing, out)
            await cards.close_if_resolved(store, old_mailing, r.municipality_code)

    async def _card_in_transit(self, store: NoticeStorePort, r: Resident, kind: str, preference: str,
                               may_receive: bool, address: dict[str, str], out: Outcome) -> None:
        """Chart ①, 通知カードが返戻されていない場合: 前住所地で受理する可能性について確認
        (元世帯者が受理する場合等)."""
        if may_receive and preference != "new_issue":
            # ①-2/①-3 受理する可能性あり: その者から入手の上、来庁時に裏書きの上交付.
            await store.set_pending_action(r.resident_hash, "endorse", self.ctx.seal(address, AAD_ADDRESS))
            out.steps.append("await_card_from_former_household_then_endorse")
            return
        if may_receive:
            # 又は 新送付先情報をJ-LISに送信、通知カードを再送するとともにその者から入手の上返還を促す. 転居: the
            # card without the form (返還登録をしないと申請書付きの再送は不可); 転入: with the form.
            await self.cards.resend(store, r, address, out, with_form=kind == "tennyu",
                                    steps=("resent" if kind == "tennyu" else "resent_without_form",
                                           "urge_return_of_old_card"))
            return
        if kind == "tennyu":
            # 受理する可能性なし, 転入: 転入先 resends now; 転出元 registers and disposes of the old card on return.
            await self.cards.resend(store, r, address, out, steps=("resent", "old_card_return_registered_on_return"))
            return
        # 受理する可能性なし, 転居 ①-3: wait for the return. 【新規発行希望】 返戻後返還登録・廃棄・再送 (labelled by
        # policy.resend_terms on the day it comes back);
        # 【裏書交付希望】 返戻後裏書のための再来庁を促す (or endorse and resend by 簡易書留 as a municipal service).
        action = "new_issue" if preference == "new_issue" else "endorse"
        await store.set_pending_action(r.resident_hash, action, self.ctx.seal(address, AAD_ADDRESS))
        out.steps.append("await_return_then_resend" if action == "new_issue" else "await_return_then_endorse")
