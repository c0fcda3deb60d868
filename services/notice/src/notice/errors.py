"""The notice service's errors: the runtime's typed family, with reasons a caller can branch on."""

from __future__ import annotations

from mynumber_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

__all__ = [
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "no_residence",
    "not_in_mailing",
    "not_your_municipality",
    "notice_card_abolished",
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


def no_residence() -> NotFound:
    # One answer for "no such resident", "not this municipality's" and "no 居所": a DV victim's 居所 must not
    # even be known to exist by anyone but the staff that registered it.
    return NotFound("resident_code: no 居所 registered by this municipality", reason="NO_RESIDENCE")


def not_in_mailing() -> NotFound:
    return NotFound("resident_code: no card of this resident is held in this envelope", reason="NOT_IN_MAILING")



def notice_card_abolished(what: str) -> FailedPrecondition:
    # 2020-05-25: no 通知カード is made, re-issued or endorsed again (the 個人番号通知書 is never re-issued).
    return FailedPrecondition(f"the 通知カード is abolished since 2020-05-25: {what}", reason="NOTICE_CARD_ABOLISHED")
