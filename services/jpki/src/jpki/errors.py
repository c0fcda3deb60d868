"""Errors of the JPKI service: the runtime's typed family. Messages name the field and the rule, never a value."""

from __future__ import annotations

from mynumber_runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "CardNotFound",
    "CertificateNotFound",
    "FailedPrecondition",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "InvalidArgument",
    "LintFailed",
    "NotFound",
    "PermissionDenied",
    "Unauthenticated",
    "Unavailable",
    "UnknownVerifier",
    "WeakKey",
]


class WeakKey(InvalidArgument):
    """A card key the CA refuses to certify (Boulder goodkey: size, exponent, small factors, repeats)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(field, rule, reason="WEAK_KEY")


class LintFailed(FailedPrecondition):
    """The to-be-signed certificate or CRL broke RFC 5280; nothing was signed."""

    default_reason = "LINT_FAILED"

    def __init__(self, findings: list[str]) -> None:
        # Findings are validator codes (e.g. `pkix.subject_..`), never field values.
        super().__init__("the to-be-signed document failed linting: " + ", ".join(sorted(set(findings))[:10]))
        self.findings = findings


class CertificateNotFound(NotFound):
    """No issued certificate with this serial that the caller may act on: "not yours" reads exactly like
    "unknown" (same code, reason and message; runtime tenancy.grant)."""

    default_reason = "CERTIFICATE_NOT_FOUND"

    def __init__(self, field: str = "serial") -> None:
        super().__init__(f"{field}: no certificate with this serial number was issued by this CA")


class CardNotFound(NotFound):
    """No issued certificate of this card that the caller may act on: "not yours" reads exactly like "unknown"."""

    default_reason = "CARD_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("card_id: no certificate was issued for this card")


class UnknownVerifier(Unauthenticated):
    default_reason = "UNKNOWN_VERIFIER"

    def __init__(self) -> None:
        super().__init__("the caller is not a registered verifier (公的個人認証法 17条・36条 届出)")


class IdempotencyKeyReused(FailedPrecondition):
    """The idempotency key was used before for another request: nothing is issued, and nothing of the earlier
    certificate is told (neither its serial nor how the requests differ)."""

    default_reason = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("idempotency_key: already used for a different issuance request")


class IdempotencyKeyInFlight(Unavailable):
    """Another call is issuing under the same key at this moment: retry, and get its certificate."""

    default_reason = "IDEMPOTENCY_KEY_IN_FLIGHT"

    def __init__(self) -> None:
        super().__init__("idempotency_key: an issuance under this key is in progress; retry")
