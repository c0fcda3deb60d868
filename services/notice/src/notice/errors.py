"""The notice service's errors: the runtime's typed family, with reasons a caller can branch on."""

from __future__ import annotations

from mynumber_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

__all__ = [
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "not_your_municipality",
    "unknown_mailing",
    "unknown_resident",
]


def unknown_resident() -> NotFound:
    return NotFound("resident_code: no numbered resident with this 住民票コード in this municipality",
                    reason="UNKNOWN_RESIDENT")


def unknown_mailing() -> NotFound:
    return NotFound("mailing_id: no envelope with this id for this municipality", reason="UNKNOWN_MAILING")


def not_your_municipality() -> PermissionDenied:
    return PermissionDenied("municipality_code: a municipality may act only for its own residents",
                            reason="OTHER_MUNICIPALITY")
