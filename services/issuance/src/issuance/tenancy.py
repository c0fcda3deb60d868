"""Issuance's one tenancy rule: every read or write of a person's form or application goes through `admit`, which
builds the `Holding` (the municipality of the person's newest form, or the application's) and asks the runtime's
`grant`. Nothing else in issuance decides who may reach a person.

- A municipality acts only for itself (the request's municipality_code is its own: `authorize_municipality`, from
  the request and the identity alone). An operator (J-LIS's intake, its staff) acts under `Basis.OPERATOR` for the
  municipality the request names, and only within what that municipality could do itself.
- A refusal is the caller's `refusal()` error whatever the cause (unknown, or another municipality's): the same
  status, reason and message after the same queries. It leaves the request's unit of work as `Refused`; the
  boundary rolls that unit back and records the refusal in a unit of its own, so the access log shows the attempt.
"""

from __future__ import annotations

from collections.abc import Callable

from mynumber_runtime.clock import Clock
from mynumber_runtime.errors import DomainError, PermissionDenied
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from issuance.ports import IssuanceStorePort

PERMITS = (Basis.OWN_REGISTER, Basis.OPERATOR)
REFUSED = "none"


def authorize_municipality(caller: Caller, municipality_code: str) -> None:
    if caller.kind == "operator" or (caller.kind == "municipality" and caller.id == municipality_code):
        return
    raise PermissionDenied("municipality_code: callers may act only for their own municipality")


class Refused(Exception):
    """A tenancy refusal on its way out of the request's transaction, to be recorded and then raised."""

    def __init__(self, error: DomainError, *, action: str, subject_ref: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.action = action
        self.subject_ref = subject_ref


def admit(caller: Caller, acting_municipality: str, holder: str | None, *, action: str, subject_ref: str,
          refusal: Callable[[], DomainError]) -> Basis:
    """The basis on which `caller`, acting for `acting_municipality`, may reach a person held by `holder` (None:
    no such person); else `Refused` carrying `refusal()`."""
    holding = Holding(municipality_code=holder) if holder is not None else None
    try:
        basis = grant(caller, holding, permits=PERMITS, unknown=refusal)
        if basis is Basis.OPERATOR:
            # The operator stands in for the named municipality: it must be one that could act itself.
            grant(Caller("municipality", acting_municipality), holding, permits=(Basis.OWN_REGISTER,),
                  unknown=refusal)
    except DomainError as e:
        raise Refused(e, action=action, subject_ref=subject_ref) from None
    return basis


async def record_refusal(store: IssuanceStorePort, clock: Clock, caller: Caller, refused: Refused) -> None:
    await store.record_access(at=clock.now(), actor=str(caller), action=f"{refused.action}.refused",
                              subject_ref=refused.subject_ref, purpose="refused: no basis",
                              details={"basis": REFUSED})
