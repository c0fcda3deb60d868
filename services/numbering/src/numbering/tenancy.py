"""Numbering's one tenancy rule: every read or write of a person goes through `admit` (or, for a bulk chunk whose
facts are loaded at once, `decide`), which builds numbering's `Holding` of the person and asks the runtime's
`grant`. Nothing else in numbering decides who may reach a person.

- The holder is the registry row's municipality (the register that holds the person: 住基法 第5条-第7条); a
  pending 転出 adds its destination, which may record the 転入 (and nothing else) on `Basis.TENNYU_DESTINATION`.
- A municipality caller acts only for itself (the request's municipality_code is its own: checked at the edge).
  An operator acts under `Basis.OPERATOR` for the municipality the request names, within what that municipality
  could do itself: an operator never reaches a person through a municipality that does not hold them.
- A refusal is the caller's `refusal()` error whatever the cause (unknown code, retired code, another register's
  person): the same status, reason and message, after the same queries. It leaves the request's unit of work as
  `Refused`; the boundary rolls that unit back and records the refusal (`record_refusal`) in a unit of its own,
  with basis "none", so the person's access record shows the attempt.
- The 符号 (`admit_number`) names no municipality: only a caller with a service role may reach an active number.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from mynumber_runtime.clock import Clock
from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from numbering.ports import Registry
from numbering.records import ACTIVE, NumberRow, Person

# Methods and the bases each permits. No method permits RESIDENCE_FOR_HOME (居所 flows belong to notice and
# issuance).
ASSIGN = (Basis.OWN_REGISTER, Basis.OPERATOR)
READ = (Basis.OWN_REGISTER, Basis.OPERATOR)
# 住基法 第30条の10: a look-up (read only, never history or writes) that names this basis and a case; the person's
# own municipality asking this way is granted as OWN_REGISTER. Not for operators (they act for one municipality).
SAME_PREFECTURE_READ = (Basis.OWN_REGISTER, Basis.SAME_PREFECTURE)
CHANGE = (Basis.OWN_REGISTER, Basis.OPERATOR)
MOVE_OUT = (Basis.OWN_REGISTER, Basis.OPERATOR)  # the former municipality records and withdraws a 転出
# Only the destination the 転出 names records the 転入; the holder is admitted only to be told there is none.
MOVE_IN = (Basis.TENNYU_DESTINATION, Basis.OWN_REGISTER, Basis.OPERATOR)
SECTOR_CODE = (Basis.SERVICE_ROLE, Basis.OPERATOR)
REFUSED = "none"


def holding_of(person: Person | None) -> Holding | None:
    if person is None or person.row is None:
        return None
    return Holding(municipality_code=person.row.municipality_code, moving_to=person.moving_to)


def decide(caller: Caller, acting_municipality: str, person: Person | None, *, permits: Collection[Basis],
           refusal: Callable[[], DomainError]) -> Basis:
    """The basis on which `caller`, acting for `acting_municipality`, may act on `person`; else `refusal()`."""
    holding = holding_of(person)
    basis = grant(caller, holding, permits=permits, unknown=refusal)
    if basis is Basis.OPERATOR:
        # The operator stands in for the named municipality: it must be one that could act itself.
        grant(Caller("municipality", acting_municipality), holding,
              permits=[b for b in permits if b is not Basis.OPERATOR], unknown=refusal)
    return basis


@dataclass(frozen=True)
class Admitted:
    row: NumberRow
    moving_to: str | None
    basis: Basis


class Tenancy:
    """Every read of a person goes through here, inside the unit of work the caller was handed."""

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock

    async def load(self, store: Registry, code_hash: bytes, *, lock: bool = False) -> Person:
        return (await store.people([code_hash], lock=lock))[code_hash]

    async def load_many(self, store: Registry, code_hashes: Sequence[bytes]) -> dict[bytes, Person]:
        return await store.people(code_hashes)

    async def admit(self, store: Registry, caller: Caller, acting_municipality: str, code_hash: bytes, *,
                    action: str, permits: Collection[Basis], refusal: Callable[[], DomainError],
                    lock: bool = False) -> Admitted:
        """Load the person's holding and grant, or raise `Refused`."""
        person = await self.load(store, code_hash, lock=lock)
        basis = self.check(caller, acting_municipality, person, code_hash, action=action, permits=permits,
                           refusal=refusal)
        assert person.row is not None  # grant refuses a person with no row
        return Admitted(person.row, person.moving_to, basis)

    async def admit_number(self, store: Registry, caller: Caller, number_hash: bytes, *,
                           refusal: Callable[[], DomainError]) -> tuple[NumberRow, Basis]:
        """The active number a service role (or an operator) may reach by the number itself; else `refusal()`
        (an unknown number and a retired one look the same)."""
        row = await store.by_number_hash(number_hash)
        active = row if row is not None and row.status == ACTIVE else None
        basis = grant(caller, None if active is None else Holding(active.municipality_code), permits=SECTOR_CODE,
                      unknown=refusal)
        assert active is not None
        return active, basis

    def check(self, caller: Caller, acting_municipality: str, person: Person, code_hash: bytes, *, action: str,
              permits: Collection[Basis], refusal: Callable[[], DomainError]) -> Basis:
        try:
            return decide(caller, acting_municipality, person, permits=permits, refusal=refusal)
        except DomainError as e:
            raise Refused(e, action=action, subject_ref=code_hash.hex()) from None

    async def record_refusal(self, store: Registry, caller: Caller, refused: Refused) -> None:
        """In a unit of its own (the refused request's unit rolled back)."""
        await store.record_access(at=self.clock.now(), actor=str(caller), action=f"{refused.action}.refused",
                                  subject_ref=refused.subject_ref, purpose="refused: no basis",
                                  details={"basis": REFUSED})


class Refused(Exception):
    """A tenancy refusal on its way out of the request's transaction, to be recorded and then raised."""

    def __init__(self, error: DomainError, *, action: str, subject_ref: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.action = action
        self.subject_ref = subject_ref
