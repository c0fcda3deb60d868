"""Errors of the issuance service (the runtime's typed family; messages name the field and the rule, never a
value)."""

from __future__ import annotations

from mynumber_runtime.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied


class UnknownForm(NotFound):
    """No form this caller may use: the same error whether the 申請書ID is unknown or another municipality's."""

    default_reason = "UNKNOWN_FORM"

    def __init__(self) -> None:
        super().__init__("application_id: no 交付申請書 with this 申請書ID is known for this municipality")


class StaleForm(FailedPrecondition):
    """Only the holding municipality reaches this (after the tenancy grant)."""

    default_reason = "STALE_FORM"

    def __init__(self, field: str = "application_id") -> None:
        super().__init__(f"{field}: the form was made for the person's earlier facts (a move or a name change "
                         "since); apply with the newest 交付申請書")


class LiveApplication(AlreadyExists):
    default_reason = "LIVE_APPLICATION"

    def __init__(self) -> None:
        super().__init__("application_id: the person already has a live application; withdraw it first")


class NoApplication(NotFound):
    """The same error whether the reference is unknown or another municipality's."""

    default_reason = "NO_APPLICATION"

    def __init__(self) -> None:
        super().__init__("application_ref: no application with this reference for this municipality")


class ApplicationsNotOpen(FailedPrecondition):
    default_reason = "APPLICATIONS_NOT_OPEN"

    def __init__(self) -> None:
        super().__init__("applications for the 個人番号カード are accepted from 2015-10-05")


class ChannelNotYours(PermissionDenied):
    default_reason = "CHANNEL_NOT_ALLOWED"

    def __init__(self) -> None:
        super().__init__("channel: mailed, online and employer-bulk applications come through J-LIS's intake "
                         "(an operator identity); counters and staff visits are the municipality's")
