"""CRLs: full and delta CRLs per CA and partition (municipality), and the ARL of the CA certificates.

The partition's distribution point (the same GeneralNames the certificates carry in CRLDistributionPoints) goes
into the CRL's IssuingDistributionPoint, so a validator can tell that this CRL covers that certificate
(RFC 5280 §5.2.5, §6.3.3 b). A delta CRL names its base by BaseCRLNumber (DeltaCRLIndicator, §5.2.4), lists what
changed since the base was issued, and marks released holds with removeFromCRL (§5.3.1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

CONTENT_TYPE = "application/pkix-crl"


@dataclass(frozen=True)
class Entry:
    serial: int
    revoked_at: dt.datetime
    # None: unspecified (RFC 5280 §5.3.1: the reasonCode extension SHOULD then be absent).
    reason: x509.ReasonFlags | None


def _ski(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def build(*, ca_cert: x509.Certificate, key: rsa.RSAPrivateKey, number: int, this_update: dt.datetime,
          next_update: dt.datetime, entries: list[Entry], scope: list[x509.GeneralName],
          authority: bool = False, base_number: int | None = None,
          freshest: list[x509.GeneralName] | None = None) -> bytes:
    """Sign one CRL (or ARL when `authority`) with the CA key; returns DER."""
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_ski(ca_cert), critical=False)
        .add_extension(x509.IssuingDistributionPoint(
            full_name=scope, relative_name=None, only_contains_user_certs=not authority,
            only_contains_ca_certs=authority, only_some_reasons=None, indirect_crl=False,
            only_contains_attribute_certs=False), critical=True)
    )
    if base_number is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(base_number), critical=True)
    elif freshest:
        b = b.add_extension(x509.FreshestCRL([x509.DistributionPoint(
            full_name=freshest, relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
    for e in sorted(entries, key=lambda e: e.serial):
        rb = x509.RevokedCertificateBuilder().serial_number(e.serial).revocation_date(e.revoked_at)
        if e.reason is not None and e.reason is not x509.ReasonFlags.unspecified:
            rb = rb.add_extension(x509.CRLReason(e.reason), critical=False)
        b = b.add_revoked_certificate(rb.build())
    return b.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)
