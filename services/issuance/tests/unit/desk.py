"""A service on fake units and a fixed clock, and the forms notice would send (as decoded events)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from issuance.applications import SubmitIn
from issuance.channels import Channel, HandoverMethod
from issuance.events import IssuedForm
from issuance.records import Application
from issuance.service import IssuanceService, Refused
from mynumber_codes import individual_number_check_digit
from mynumber_runtime.clock import JST, FixedClock
from mynumber_runtime.identity import Caller

from .fakes import FakeUnits, jpeg, keys

A, B = "131016", "271004"  # 千代田区, 大阪市
PHOTO = jpeg(600, 800)


def number(n: int) -> str:
    base = f"{n:011d}"
    return base + individual_number_check_digit(base)


def form_id(n: int) -> str:
    return f"{n:023d}"


def muni(code: str = A) -> Caller:
    return Caller("municipality", code)


INTAKE = Caller("operator", "intake")


@dataclass
class Desk:
    units: FakeUnits = field(default_factory=FakeUnits)
    clock: FixedClock = field(default_factory=lambda: FixedClock(dt.datetime(2016, 2, 1, 10, 0, tzinfo=JST)))

    def __post_init__(self) -> None:
        sealer, lookup, digest = keys()
        self.service = IssuanceService(sealer=sealer, lookup=lookup, digest=digest, clock=self.clock)

    async def form(self, n: int, person: int, *, municipality: str = A, name: str = "山田　太郎",
                   address: str = "東京都千代田区千代田1-1", at: dt.datetime | None = None) -> IssuedForm:
        f = IssuedForm(municipality, form_id(n), number(person), name, address, "1980-06-15", 1,
                       at or self.clock.now())
        async with self.units() as store:
            await self.service.forms.on_form_issued(store, f)
        return f

    def submission(self, n: int, *, municipality: str = A, channel: Channel = Channel.COUNTER,
                   method: HandoverMethod = HandoverMethod.AT_APPLICATION, name: str = "山田　太郎",
                   address: str = "東京都千代田区千代田1-1", photo: bytes = PHOTO) -> SubmitIn:
        return SubmitIn(municipality, form_id(n), channel, method, name, address, "1980-06-15", 1, photo)

    async def submit(self, s: SubmitIn, caller: Caller | None = None) -> Application:
        caller = caller or muni(s.municipality_code)
        try:
            async with self.units() as store:
                return await self.service.applications.submit(store, caller, s)
        except Refused as r:
            async with self.units() as store:
                await self.service.record_refusal(store, caller, r)
            raise r.error from None

    async def withdraw(self, ref: str, caller: Caller | None = None, municipality: str = A) -> Application:
        async with self.units() as store:
            return await self.service.applications.withdraw(store, caller or muni(municipality), municipality, ref)


__all__ = ["INTAKE", "PHOTO", "A", "B", "Desk", "form_id", "muni", "number", "replace"]
