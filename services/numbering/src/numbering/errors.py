"""Errors of the numbering service (all of the runtime's typed family; messages never carry values)."""

from __future__ import annotations

from mynumber_runtime.errors import AlreadyExists, FailedPrecondition, NotFound


class ResidentCodeRetired(FailedPrecondition):
    default_reason = "RESIDENT_CODE_RETIRED"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: this 住民票コード was replaced by a newer one and cannot be numbered")


class NoNumber(NotFound):
    default_reason = "NO_NUMBER"

    def __init__(self, field: str = "resident_code") -> None:
        super().__init__(f"{field}: no number is assigned to this 住民票コード")


class ResidentCodeInUse(AlreadyExists):
    default_reason = "RESIDENT_CODE_IN_USE"

    def __init__(self, field: str = "new_resident_code") -> None:
        super().__init__(f"{field}: this 住民票コード is already held by a person or was retired")


class NumberCollision(FailedPrecondition):
    """The registry's unique guard caught a number that the permutation should never produce twice."""

    default_reason = "NUMBER_COLLISION"

    def __init__(self) -> None:
        super().__init__("the generated number collides with the registry; nothing was written")
