"""Lint before signing (Boulder's `linter.Check`, anchors.md §2.1).

The to-be-signed certificate is signed with a throwaway key of the same type and size under the real issuer
name, and the result goes through pkilint's RFC 5280 validators plus the JPKI profile checks below (pkilint's
PKIX linter does not look at a missing keyUsage or at the JPKI otherName OIDs). Any ERROR or FATAL finding
refuses the issuance: the HSM never signs a certificate that failed. CRLs are linted the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID
from pkilint import loader, pkix
from pkilint.pkix import certificate, crl, extension, name
from pkilint.validation import ValidationFindingSeverity

from jpki import profiles
from jpki.errors import LintFailed

_BLOCKING = (ValidationFindingSeverity.FATAL, ValidationFindingSeverity.ERROR)


class Linter:
    def __init__(self) -> None:
        # One throwaway key per process (RSA-2048, like the CA keys); it signs nothing that leaves this module.
        self._throwaway = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._cert_validator = certificate.create_pkix_certificate_validator_container(
            certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
            [
                certificate.create_issuer_validator_container([]),
                certificate.create_validity_validator_container(),
                certificate.create_subject_validator_container([]),
                certificate.create_extensions_validator_container([]),
                certificate.create_spki_validator_container([]),
            ],
        )
        self._crl_validators = {
            kind: crl.create_pkix_crl_validator_container(
                [pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
                 pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS)],
                [crl.create_issuer_validator_container([]), crl.create_validity_validator_container([]),
                 crl.create_extensions_validator_container([])],
            )
            for kind in crl.CertificateRevocationListType
        }
        self._cert_loader = loader.RFC5280CertificateDocumentLoader()
        self._crl_loader = loader.RFC5280CertificateListDocumentLoader()
        # pkilint's validators keep per-run state; serialise their use.
        self._lock = threading.Lock()

    def precertificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """The linting certificate: the TBS content signed with the throwaway key (recorded before signing)."""
        return builder.sign(self._throwaway, hashes.SHA256())

    def self_signed_precertificate(self, build: Callable[[rsa.RSAPublicKey], x509.CertificateBuilder]
                                   ) -> x509.Certificate:
        """The linting certificate of a self-signed CA: the same profile around the throwaway key, so that it is
        self-signed as the real one will be (a CA certificate under someone else's signature would need an
        AuthorityKeyIdentifier, which the real J-LIS CA certificates, like ours, do not carry: RFC 5280 §4.2.1.1
        lets a self-signed certificate omit it)."""
        return build(self._throwaway.public_key()).sign(self._throwaway, hashes.SHA256())

    def check_certificate(self, cert: x509.Certificate, *, kind: profiles.CaKind | None = None) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding

        der = cert.public_bytes(Encoding.DER)
        with self._lock:
            doc = self._cert_loader.load_der_document(der, "tbs")
            results = self._cert_validator.validate(doc.root)
        findings = [str(fd.finding.code) for r in results for fd in r.finding_descriptions
                    if fd.finding.severity in _BLOCKING]
        if kind is not None:
            findings += jpki_profile_findings(cert, kind)
        if findings:
            raise LintFailed(findings)

    def check_crl(self, der: bytes, *, authority: bool) -> None:
        kind = crl.CertificateRevocationListType.ARL if authority else crl.CertificateRevocationListType.CRL
        with self._lock:
            doc = self._crl_loader.load_der_document(der, "crl")
            results = self._crl_validators[kind].validate(doc.root)
        findings = [str(fd.finding.code) for r in results for fd in r.finding_descriptions
                    if fd.finding.severity in _BLOCKING]
        if findings:
            raise LintFailed(findings)


def jpki_profile_findings(cert: x509.Certificate, kind: profiles.CaKind) -> list[str]:
    """The JPKI end-entity profile (domain.md §4.2) as lint codes."""
    out: list[str] = []
    exts = {e.oid: e for e in cert.extensions}
    ku = exts.get(ExtensionOID.KEY_USAGE)
    if ku is None or not ku.critical:
        out.append("jpki.key_usage_missing_or_not_critical")
    else:
        v = ku.value
        assert isinstance(v, x509.KeyUsage)
        want_nr = kind is profiles.CaKind.SIGN
        if not v.digital_signature or v.content_commitment != want_nr or v.key_cert_sign or v.crl_sign:
            out.append("jpki.key_usage_bits_wrong")
    if cert.serial_number.bit_length() < 64:
        out.append("jpki.serial_below_64_bits")
    cp = exts.get(ExtensionOID.CERTIFICATE_POLICIES)
    if cp is None or not any(p.policy_identifier == profiles.POLICY[kind] for p in cp.value):  # type: ignore[attr-defined]
        out.append("jpki.certificate_policy_missing")
    if ExtensionOID.CRL_DISTRIBUTION_POINTS not in exts:
        out.append("jpki.crl_distribution_point_missing")
    if ExtensionOID.ISSUER_ALTERNATIVE_NAME not in exts:
        out.append("jpki.issuer_alt_name_missing")
    san = exts.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if kind is profiles.CaKind.SIGN:
        oids = [o.type_id for o in san.value if isinstance(o, x509.OtherName)] if san else []  # type: ignore[attr-defined]
        if sorted(o.dotted_string for o in oids) != sorted(o.dotted_string for o in profiles.SAN_ORDER):
            out.append("jpki.sign_san_must_hold_the_4_facts")
    elif san is not None:
        out.append("jpki.auth_must_not_carry_san")
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    if lifetime > dt.timedelta(days=366 * 5 + 2):
        out.append("jpki.validity_beyond_5_years")
    return out
