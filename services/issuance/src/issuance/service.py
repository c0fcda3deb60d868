"""The rules of issuance in one service object: applications (applications.py) and the forms learnt from notice
(forms.py). No SQL and no protobuf here or in any part."""

from __future__ import annotations

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.identity import Caller

from issuance.applications import ApplicationRules, SubmitIn
from issuance.forms import FormRules
from issuance.ports import IssuanceStorePort
from issuance.tenancy import Refused, record_refusal


class IssuanceService:
    def __init__(self, *, sealer: FieldSealer, lookup: KeyedHash, digest: KeyedHash, clock: Clock) -> None:
        self.clock = clock
        self.applications = ApplicationRules(sealer=sealer, lookup=lookup, digest=digest, clock=clock)
        self.forms = FormRules(sealer=sealer, lookup=lookup, digest=digest, clock=clock)

    async def record_refusal(self, store: IssuanceStorePort, caller: Caller, refused: Refused) -> None:
        """A tenancy refusal, in a unit of its own: the refused request's unit rolled back."""
        await record_refusal(store, self.clock, caller, refused)


__all__ = ["IssuanceService", "Refused", "SubmitIn"]
