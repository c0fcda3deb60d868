"""The personalisation plan: which certificates a card gets (dated policy, domain.md §4.4) and the idempotency
keys under which the line asks jpki for them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from issuance.personalisation import CertificateKind, certificate_kinds, idempotency_key

AUTH, SIGN = CertificateKind.AUTH, CertificateKind.SIGN
REF = "0123456789abcdef0123456789abcdef"


def test_a_holder_of_15_on_the_day_of_issue_gets_both_certificates() -> None:
    assert certificate_kinds(dt.date(2001, 3, 1), dt.date(2016, 3, 1)) == (AUTH, SIGN)


def test_a_holder_under_15_gets_no_signing_certificate() -> None:
    assert certificate_kinds(dt.date(2001, 3, 2), dt.date(2016, 3, 1)) == (AUTH,)
    assert certificate_kinds(dt.date(2015, 12, 1), dt.date(2016, 1, 4)) == (AUTH,)


def test_an_adult_ward_gets_no_signing_certificate() -> None:
    assert certificate_kinds(dt.date(1950, 1, 1), dt.date(2016, 3, 1), adult_ward=True) == (AUTH,)


def test_no_signing_certificate_before_the_policy_is_in_force() -> None:
    assert certificate_kinds(dt.date(1950, 1, 1), dt.date(2015, 10, 4)) == (AUTH,)


def test_the_key_is_the_same_for_a_retry_and_differs_by_certificate_and_application() -> None:
    assert idempotency_key(REF, AUTH) == idempotency_key(REF, AUTH)
    keys = {idempotency_key(REF, AUTH), idempotency_key(REF, SIGN), idempotency_key("f" * 32, AUTH)}
    assert len(keys) == 3
    # jpki's rule for the key (jpki.validation.validate_idempotency_key).
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", k) for k in keys)


@pytest.mark.parametrize("ref", ["", "0123", "0123456789ABCDEF0123456789ABCDEF", REF + "0", "g" * 32])
def test_the_key_needs_an_application_reference(ref: str) -> None:
    with pytest.raises(ValueError, match="application_ref"):
        idempotency_key(ref, AUTH)
