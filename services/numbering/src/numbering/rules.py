"""What every part of 付番 shares: the keys, the numbering scheme, sealing, the access record, and the checks
made from the request alone. No SQL (repository.py) and no protobuf (grpc_api.py) in any part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mynumber_codes import MUNICIPAL_KINDS, ResidentCodeRule, individual_numbers, validate_municipality_code
from mynumber_events import numbering as events
from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer
from mynumber_runtime.errors import PermissionDenied
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from numbering.ff1 import BatchFF1
from numbering.keys import NumberingKeys
from numbering.ports import Registry
from numbering.records import AccessDetails, NumberRow
from numbering.tenancy import Tenancy

SEALED_AAD = b"numbering.numbers"


@dataclass(frozen=True)
class Assignment:
    individual_number: str
    newly_assigned: bool
    assigned_at: dt.datetime


def municipality(value: str, field: str) -> None:
    """A 団体コード that names a real municipality (JIS X 0402 list; a prefecture holds no register)."""
    validate_municipality_code(value, field, kinds=MUNICIPAL_KINDS)


def authorize_municipality(caller: Caller, municipality_code: str) -> None:
    """A municipality acts only for itself: the request's municipality_code must be its own. Decided from the
    request and the identity alone, before any person is looked at, so it tells nothing about anyone."""
    if caller.kind == "operator":
        return
    if caller.kind == "municipality" and caller.id == municipality_code:
        return
    raise PermissionDenied("municipality_code: callers may act only for their own municipality")


def acting(caller: Caller, municipality_code: str) -> AccessDetails:
    return {"acting_for": municipality_code} if caller.kind == "operator" else {}


def ref(code_hash: bytes) -> str:
    return code_hash.hex()


class Rules:
    """The collaborators and helpers of every part; the parts (assignment.py, bulk.py, ...) extend it."""

    def __init__(self, *, keys: NumberingKeys, sealer: FieldSealer, event_sealer: events.EventSealer,
                 region_digit: int, code_rule: ResidentCodeRule, clock: Clock) -> None:
        if not 1 <= region_digit <= 9:
            raise ValueError("region_digit must be 1-9 (0 is reserved for first numbers)")
        self.keys = keys
        self.sealer = sealer
        self.event_sealer = event_sealer
        self.region = region_digit
        self.code_rule = code_rule
        self.clock = clock
        self.tenancy = Tenancy(clock=clock)
        self._ff1 = BatchFF1(keys.ff1, 11)

    # --- numbers from inputs -------------------------------------------------------------------------------

    def first_numbers(self, resident_codes: Sequence[str]) -> list[str]:
        """番号法 第8条: FF1_K(0 || body) plus the check digit. The 11-digit numeral "0"+body is the body's value."""
        bodies = np.fromiter((int(c[:10]) for c in resident_codes), dtype=np.uint64, count=len(resident_codes))
        return individual_numbers(self._ff1.encrypt(bodies))

    def changed_numbers(self, counters: Sequence[int]) -> list[str]:
        """Changed numbers: FF1_K(r || counter), r the issuing region. Distinct from every first number (whose
        input starts with 0) and from every other region's changes, with no cross-region coordination."""
        if any(not 0 <= c < 10**10 for c in counters):
            raise ValueError("the region's change counter is exhausted (10 digits)")
        values = np.fromiter((self.region * 10**10 + c for c in counters), dtype=np.uint64, count=len(counters))
        return individual_numbers(self._ff1.encrypt(values))

    def _open(self, row: NumberRow) -> tuple[str, str]:
        plain = self.sealer.open(row.sealed, SEALED_AAD).decode()
        return plain[:12], plain[12:]

    def _seal(self, number: str, code: str) -> bytes:
        return self.sealer.seal((number + code).encode(), SEALED_AAD)

    async def _log(self, store: Registry, caller: Caller, basis: Basis, *, action: str, subject_ref: str,
                   purpose: str, at: dt.datetime, details: AccessDetails | None = None) -> None:
        """Every grant is recorded with its basis (and, for an operator, the municipality it acted for)."""
        await store.record_access(at=at, actor=str(caller), action=action, subject_ref=subject_ref, purpose=purpose,
                                  details={"basis": basis.value, **(details or {})})
