"""The card centre's personalisation plan, as data the line follows (the line itself is the next slice): which JPKI
certificates a card gets, and the idempotency key under which each is asked of jpki.

The key is derived, never random: a line that dies after jpki issued a certificate and before issuance recorded
the card, run again for the same application, asks under the same key and gets the same certificate back
(jpki's IssueCertificate), so one application never gets a second pair. It names the application's reference
(an opaque 32-hex identifier, no personal data) and the CA, so the two certificates of one card never share a key.
"""

from __future__ import annotations

import datetime as dt
import enum
import re

from issuance import policy

REF = re.compile(r"[0-9a-f]{32}")
KEY_PREFIX = "issuance.card"


class CertificateKind(enum.StrEnum):
    """The two JPKI certificates, in the order they are issued (jpki caps 署名用 by the 利用者証明用 one)."""

    AUTH = "auth"  # 利用者証明用電子証明書
    SIGN = "sign"  # 署名用電子証明書


def certificate_kinds(birth: dt.date, issued_on: dt.date, *, adult_ward: bool = False) -> tuple[CertificateKind, ...]:
    """The certificates a card issued on `issued_on` carries: always 利用者証明用; 署名用 per the dated policy."""
    if policy.signing_certificate_issued(birth, issued_on, adult_ward=adult_ward):
        return (CertificateKind.AUTH, CertificateKind.SIGN)
    return (CertificateKind.AUTH,)


def idempotency_key(application_ref: str, kind: CertificateKind) -> str:
    """jpki's idempotency key for one certificate of the card made for one application (at most 128 characters of
    jpki's alphabet: the prefix, the 32-hex reference and the CA)."""
    if REF.fullmatch(application_ref) is None:
        raise ValueError("application_ref: must be 32 lower-case hex digits")
    return f"{KEY_PREFIX}:{application_ref}:{CertificateKind(kind).value}"
