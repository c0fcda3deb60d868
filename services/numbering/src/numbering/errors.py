"""Errors of the numbering service (all of the runtime's typed family; messages never carry values)."""

from __future__ import annotations

from mynumber_runtime.errors import AlreadyExists, FailedPrecondition, NotFound


class ResidentCodeUnavailable(FailedPrecondition):
    """A 住民票コード this caller cannot number: replaced by a newer code, or held by another municipality.

    One error for both, with one message: an assignment must not tell a municipality that someone else's register
    holds a person (issue 9), and a retired code is refused the same way so the refusal carries no signal."""

    default_reason = "RESIDENT_CODE_UNAVAILABLE"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: this 住民票コード cannot be numbered by this municipality (it was replaced by a "
                         "newer code, or another register holds it)")


class NoNumber(NotFound):
    """No person this caller may reach: the same error whether the code is unknown or another municipality's."""

    default_reason = "NO_NUMBER"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: no number is assigned to this 住民票コード")


class ResidentCodeInUse(AlreadyExists):
    default_reason = "RESIDENT_CODE_IN_USE"

    def __init__(self, field: str = "new_resident_code") -> None:
        super().__init__(f"{field}: this 住民票コード is already held by a person or was retired")


class MoveOutPending(FailedPrecondition):
    """Only the holder reaches this (after the tenancy grant): it tells nothing to anyone else."""

    default_reason = "MOVE_OUT_PENDING"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: a 転出 is pending for this person; withdraw it (CancelMoveOut) or let the "
                         "destination record the 転入 first")


class NoPendingMove(FailedPrecondition):
    default_reason = "NO_PENDING_MOVE"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: this person has no pending 転出 that this request can close")


class NumberCollision(FailedPrecondition):
    """The registry's unique guard caught a number that the permutation should never produce twice."""

    default_reason = "NUMBER_COLLISION"

    def __init__(self) -> None:
        super().__init__("the generated number collides with the registry; nothing was written")
