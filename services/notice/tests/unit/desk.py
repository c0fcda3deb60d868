"""A municipality's desk over the notice rules and an in-memory store: the flows of the seed's charts driven step
by step, each step in its own unit of work, on a fixed clock. No server, no database, no files."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from mynumber.notice.v1 import events_pb2 as ev
from mynumber_codes import ResidentCodeRule, individual_number_check_digit
from mynumber_events.notice import open_form_issued
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.crypto import FieldSealer, KeyedHash, SubjectSealer
from mynumber_runtime.identity import Caller
from notice import policy
from notice.base import AAD_ADDRESS, AAD_DEST
from notice.entities import Mailing, Resident
from notice.events import FORM_ISSUED, Assigned
from notice.fees import FeeSchedule
from notice.outcomes import HouseholdIn, MemberIn
from notice.ports import NoticeStorePort
from notice.service import NoticeService

from .fake_store import FakeUnits

HERE = "131016"  # 千代田区
OTHER = "271004"  # 大阪市
START = dt.datetime(2015, 10, 20, 1, 0, tzinfo=dt.UTC)
HOME = "東京都千代田区千代田1-1"
NEW = {"new_address": "東京都千代田区永田町2-2", "new_postal_code": "1000014"}
T = TypeVar("T")


def new_code() -> str:
    return ResidentCodeRule().make(f"{secrets.randbelow(10**10):010d}")


def new_number() -> str:
    base = f"{secrets.randbelow(10**11):011d}"
    return base + individual_number_check_digit(base)


class Desk:
    def __init__(self, fees: FeeSchedule | None = None) -> None:
        self.clock = FixedClock(START)
        self.units = FakeUnits()
        self.event_sealer = SubjectSealer(os.urandom(32))
        self.service = NoticeService(sealer=FieldSealer({1: os.urandom(32)}, current=1),
                                     hasher=KeyedHash(os.urandom(32)), clock=self.clock,
                                     print_sealer=FieldSealer({1: os.urandom(32)}, current=1),
                                     event_sealer=self.event_sealer, fees=fees)

    async def unit(self, step: Callable[[NoticeStorePort], Awaitable[T]]) -> T:
        async with self.units() as store:
            return await step(store)

    def caller(self, municipality: str = HERE) -> Caller:
        return Caller("municipality", municipality)

    # --- setting the scene ------------------------------------------------------------------------------------
    async def mailed(self, n: int = 1, municipality: str = HERE) -> tuple[str, list[str]]:
        """A household on the list, numbered: its envelope prepared. Returns the envelope and the codes."""
        codes = [new_code() for _ in range(n)]
        hid = "H" + secrets.token_hex(4)
        household = HouseholdIn(hid, HOME, "1000001", [MemberIn(c, f"試験 太郎{i}", "1980-04-01", 1)
                                                       for i, c in enumerate(codes)])
        mailing = self.service.mailing
        await self.unit(lambda s: mailing.submit_mailing_list(s, self.caller(municipality), municipality, [household]))
        await self.unit(lambda s: mailing.on_number_assigned(s, Assigned(
            [municipality] * n, codes, [new_number() for _ in codes], self.clock.now())))
        (m,) = [m for m in self.units.tables.mailings.values() if m.household_id == hid]
        return m.mailing_id, codes

    def post(self, mailing_id: str) -> None:
        """The vendor printed and posted it (the printing aggregate's own tests cover how)."""
        t = self.units.tables
        t.mailings[mailing_id] = replace(t.mailings[mailing_id], status="posted", batch_id="B1")

    async def posted(self, n: int = 1) -> tuple[str, list[str]]:
        mid, codes = await self.mailed(n)
        self.post(mid)
        return mid, codes

    async def deliver(self, mailing_id: str, reason: str = "") -> Mailing:
        returns = self.service.returns
        return await self.unit(lambda s: returns.record_delivery(s, self.caller(), HERE, mailing_id, not reason,
                                                                 reason))

    async def returned(self, reason: str = "あて所なし", n: int = 1) -> tuple[str, list[str]]:
        mid, codes = await self.posted(n)
        await self.deliver(mid, reason)
        return mid, codes

    async def resolve(self, mailing_id: str, code: str, finding: str, preference: str = "",
                      **moved: str) -> Any:
        returns = self.service.returns
        return await self.unit(lambda s: returns.resolve_returned(
            s, self.caller(), HERE, mailing_id, code, finding, preference, moved.get("new_address", ""),
            moved.get("new_postal_code", "")))

    async def move(self, code: str, kind: str, *, municipality: str = HERE, may_receive: bool = False,
                   preference: str = "", household: str = "HNEW", destination: str = "",
                   member: MemberIn | None = None) -> Any:
        moves = self.service.moves
        new = NEW if kind != "tenshutsu" else {"new_address": "", "new_postal_code": ""}
        return await self.unit(lambda s: moves.record_move(
            s, self.caller(municipality), municipality, code, kind, new["new_address"], new["new_postal_code"],
            household, may_receive, preference, member, destination_municipality_code=destination))

    async def expire(self) -> int:
        return await self.unit(self.service.returns.expire_returned)

    # --- reading the end state ----------------------------------------------------------------------------------
    def resident(self, code: str) -> Resident:
        return self.units.tables.residents[self.service.ctx.rh(code)]

    def mailing(self, mailing_id: str) -> Mailing:
        return self.units.tables.mailings[mailing_id]

    def destination(self, mailing_id: str) -> dict[str, str]:
        return self.service.ctx.open(self.mailing(mailing_id).sealed_destination, AAD_DEST)  # type: ignore[no-any-return]

    def pending_address(self, code: str) -> dict[str, str] | None:
        sealed = self.resident(code).sealed_pending_address
        return self.service.ctx.open(sealed, AAD_ADDRESS) if sealed is not None else None

    def event_reasons(self, mailing_id: str) -> list[tuple[str, str]]:
        """(`mailing.<status>` / `card.<status>`, return reason) of the events that carry a reason."""
        out = []
        for subject, e in self.mailing_events():
            if e.mailing_id == mailing_id and e.return_reason:
                out.append((subject.rsplit(".", 2)[-2] + "." + e.status, e.return_reason))
        return out

    def event_municipalities(self, mailing_id: str) -> dict[str, set[str]]:
        """The municipality codes each event kind of one envelope carried."""
        out: dict[str, set[str]] = {}
        for subject, e in self.mailing_events():
            if e.mailing_id == mailing_id:
                out.setdefault(subject.rsplit(".", 2)[-2] + "." + e.status, set()).add(e.municipality_code)
        return out

    def subsidy_count(self) -> int:
        """通知カード re-issued (再交付): the count the 交付事務費補助金 is reduced by (seed ~28429)."""
        return sum(policy.counts_against_subsidy(m.kind, m.reissue_reason)
                   for m in self.units.tables.mailings.values())

    def events(self, mailing_id: str) -> list[str]:
        """`mailing.<status>` / `card.<status>` of the events left for one envelope, in order."""
        return [subject.rsplit(".", 2)[-2] + "." + e.status for subject, e in self.mailing_events()
                if e.mailing_id == mailing_id]

    def mailing_events(self) -> list[tuple[str, ev.MailingChanged]]:
        """(subject, payload) of every mailing.* / card.* event left, in order; form.issued is the sealed form, not a
        MailingChanged (forms_issued() reads those)."""
        return [(subject, ev.MailingChanged.FromString(payload)) for subject, payload in self.units.tables.events
                if subject != FORM_ISSUED]

    def forms_issued(self) -> list[tuple[str, ev.IssuedForm]]:
        """(municipality, form) of every form.issued event left, opened as the issuance service opens them."""
        out = []
        for subject, payload in self.units.tables.events:
            if subject == FORM_ISSUED:
                event = ev.ApplicationFormIssued.FromString(payload)
                out.append((event.municipality_code, open_form_issued(self.event_sealer, event)))
        return out
