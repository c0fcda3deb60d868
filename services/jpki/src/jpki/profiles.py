"""Certificate profiles of the two JPKI CAs (domain.md §4), and the rules that size a certificate's life.

Everything here is pure: builders and checks, no HSM, no database. Values are checked with errors naming the
field and the rule, never the value (the 4 basic facts are personal data).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from mynumber_codes import era_of
from mynumber_codes.eras import FIRST_DAY

from jpki import validation
from jpki.errors import InvalidArgument


class CaKind(enum.StrEnum):
    SIGN = "sign"  # 署名用電子証明書 (digital signature)
    AUTH = "auth"  # 利用者証明用電子証明書 (user authentication)


# The CA names of the real J-LIS CAs (domain.md §4.1).
CA_UNIT = {CaKind.SIGN: "JPKI for digital signature", CaKind.AUTH: "JPKI for user authentication"}
JLIS_UNIT = "Japan Agency for Local Authority Information Systems"

# Certificate policies (domain.md §4.2; kjur/jsrsasign-oid-jpki).
POLICY = {
    CaKind.SIGN: ObjectIdentifier("1.2.392.200149.8.5.1.1.20"),  # jpki-cp-sign-class20
    CaKind.AUTH: ObjectIdentifier("1.2.392.200149.8.5.1.3.30"),  # jpki-cp-auth-class30
}

# SAN otherName type-ids for the 4 basic facts (jpki-personalData arc 1.2.392.200149.8.5.5).
OID_NAME = ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_NAME_SUBSTITUTES = ObjectIdentifier("1.2.392.200149.8.5.5.2")
OID_SEX = ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_BIRTH_DATE = ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_ADDRESS = ObjectIdentifier("1.2.392.200149.8.5.5.5")
OID_ADDRESS_SUBSTITUTES = ObjectIdentifier("1.2.392.200149.8.5.5.6")
# The order seen on a real card (domain.md §4.3): name, birth, sex, address, name-subst, address-subst.
SAN_ORDER = (OID_NAME, OID_BIRTH_DATE, OID_SEX, OID_ADDRESS, OID_NAME_SUBSTITUTES, OID_ADDRESS_SUBSTITUTES)

ADDRESS_MAX_CHARS = 200
NAME_MAX_CHARS = 100



def ca_name(kind: CaKind) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_UNIT[kind]),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, JLIS_UNIT),
    ])


# The Japanese name of each CA, as the 3rd part of its SubjectAltName (domain.md §4.1, read from the DER).
CA_UNIT_JA = {CaKind.SIGN: "公的個人認証サービス署名用", CaKind.AUTH: "公的個人認証サービス利用者証明用"}


def jpki_service_name(kind: CaKind) -> x509.Name:
    """`C=JP, O=公的個人認証サービス, OU=公的個人認証サービス署名用 (利用者証明用), OU=地方公共団体情報システム機構`:
    the CA's SubjectAltName and every certificate's IssuerAltName, the four parts of the real DER (OpenSSL's text
    output shows only two)."""
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_UNIT_JA[kind]),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "地方公共団体情報システム機構")])


def crl_dp_name(kind: CaKind, prefecture: str, municipality: str) -> x509.Name:
    """The real CRL distribution point of an end-entity certificate: partitioned by municipality (domain.md §4.2)."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_UNIT[kind]),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, prefecture),
        x509.NameAttribute(NameOID.COMMON_NAME, municipality),
    ])


# The CPS qualifier of each end-entity policy. 署名用: what real certificates carry (a strict public parser that
# works with physical cards rejects other forms, domain.md §4.2). 利用者証明用: its own CA's page (domain.md §4.1),
# not the signing CPS; the real value is not public (UNCONFIRMED, docs/jpki.md).
CPS = {CaKind.SIGN: "http://www.jpki.go.jp/cps.html", CaKind.AUTH: "https://www.jpki.go.jp/ca/ca_rules4.html"}


@dataclass(frozen=True)
class Urls:
    """Where relying parties fetch revocation data (`/crl/<ca>/<code>.crl`, `/arl/<ca>.crl`, `/ocsp`, served by
    http_api): given to registered verifiers out of band, as J-LIS does, so no certificate names them. Only the
    delta CRL's address (a full CRL's FreshestCRL) and, with `include_ocsp_url`, the responder's are written."""

    base: str  # e.g. http://jpki.example:8080

    def delta_crl(self, kind: CaKind, partition: str) -> str:
        return f"{self.base}/crl/{kind}/{partition}-delta.crl"

    def ocsp(self) -> str:
        return f"{self.base}/ocsp"


@dataclass(frozen=True)
class Partition:
    """A CRL partition: one municipality (全国地方公共団体コード) with the names the real CRL DP carries."""

    municipality_code: str
    prefecture: str
    municipality: str

    def validate(self) -> None:
        validation.validate_partition_names(self.municipality_code, self.prefecture, self.municipality)


@dataclass(frozen=True)
class BasicFacts:
    """基本4情報 as the signing certificate carries them (domain.md §4.3)."""

    name: str  # surname U+3000 given name; characters outside JIS 第1/第2水準 already replaced by 代替文字
    birth_date: dt.date
    sex: int  # 1 男, 2 女, 3 不明 (JPKI coding, not ISO 5218)
    address: str  # from 都道府県, no postal code
    name_substitutes: str = ""  # one '0'/'1' per character of `name`; empty means no substitutes
    address_substitutes: str = ""

    def validate(self, today: dt.date) -> None:
        # The platform's name and address rules (mynumber_codes), then the certificate's own limits
        # (domain.md §4.3: at most 200 characters of address).
        validation.validate_name(self.name, "facts.name")
        validation.validate_address(self.address, "facts.address")
        if len(self.name) > NAME_MAX_CHARS:
            raise InvalidArgument("facts.name", f"must be at most {NAME_MAX_CHARS} characters")
        if len(self.address) > ADDRESS_MAX_CHARS:
            raise InvalidArgument("facts.address", f"must be at most {ADDRESS_MAX_CHARS} characters")
        if self.sex not in (1, 2, 3):
            raise InvalidArgument("facts.sex", "must be 1 (男), 2 (女) or 3 (不明)")
        if not FIRST_DAY <= self.birth_date <= today:
            raise InvalidArgument("facts.birth_date", "must lie between 1868-10-23 (明治) and today")
        for field, text, marks in (("facts.name_substitutes", self.name, self.name_substitutes),
                                   ("facts.address_substitutes", self.address, self.address_substitutes)):
            if marks and (len(marks) != len(text) or set(marks) - {"0", "1"}):
                raise InvalidArgument(field, "must hold one '0' or '1' per character of the value it marks")

    def positions(self, text: str, marks: str) -> str:
        return marks or "0" * len(text)


def birth_date_value(d: dt.date) -> str:
    """`EYYYYMMDD`: 元号 code, then the Gregorian date (e.g. 昭和 1980-12-31 -> `319801231`)."""
    era = era_of(d)
    code = era.code if era is not None else "0"
    return f"{code}{d:%Y%m%d}"


def _utf8(value: str) -> bytes:
    raw = value.encode("utf-8")
    n = len(raw)
    length = bytes([n]) if n < 0x80 else (b"\x81" + bytes([n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big"))
    return b"\x0c" + length + raw


def san_for(facts: BasicFacts) -> x509.SubjectAlternativeName:
    """Six otherName entries `{type-id, [0] EXPLICIT UTF8String}`; cryptography adds the [0] wrapper itself."""
    values = {
        OID_NAME: facts.name,
        OID_BIRTH_DATE: birth_date_value(facts.birth_date),
        OID_SEX: str(facts.sex),
        OID_ADDRESS: facts.address,
        OID_NAME_SUBSTITUTES: facts.positions(facts.name, facts.name_substitutes),
        OID_ADDRESS_SUBSTITUTES: facts.positions(facts.address, facts.address_substitutes),
    }
    return x509.SubjectAlternativeName([x509.OtherName(oid, _utf8(values[oid])) for oid in SAN_ORDER])


def decode_san(cert: x509.Certificate) -> dict[str, str]:
    """The 4 facts (and substitute maps) from a signing certificate, keyed by OID dotted string."""
    from asn1crypto.core import UTF8String

    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {o.type_id.dotted_string: str(UTF8String.load(o.value).native)
            for o in san if isinstance(o, x509.OtherName)}


# --- builders ------------------------------------------------------------------------------------------------
# Extension order is part of the profile: the real certificates end with the SubjectKeyIdentifier, and a public
# JPKI client hashes the body up to the SKI and rebuilds the tail, so nothing may follow it (domain.md §4.1).

def _aki(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def ca_certificate(*, kind: CaKind, public_key: rsa.RSAPublicKey, serial: int, not_before: dt.datetime,
                   not_after: dt.datetime) -> x509.CertificateBuilder:
    """A self-signed JPKI CA certificate in the shape of the real ones (domain.md §4.1), extension for extension
    and in their order: KeyUsage, SubjectAltName, BasicConstraints, CRLDistributionPoints (the CA's own DN: the
    ARL), SubjectKeyIdentifier last; no AuthorityKeyIdentifier, no AIA."""
    name = ca_name(kind)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public_key).serial_number(serial)
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(jpki_service_name(kind))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=arl_distribution_point(kind), relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def arl_distribution_point(kind: CaKind) -> list[x509.GeneralName]:
    """The ARL's distribution point: the CA's own DN, in the CA certificate and in the ARL's IDP."""
    return [x509.DirectoryName(ca_name(kind))]


def crl_distribution_point(kind: CaKind, partition: Partition) -> list[x509.GeneralName]:
    """The full name of a partition's distribution point: the DirName alone, as the real certificates carry it
    (where it is served is given to verifiers out of band), identical in the certificate and in the CRL's IDP."""
    return [x509.DirectoryName(crl_dp_name(kind, partition.prefecture, partition.municipality))]


def end_entity_certificate(*, kind: CaKind, ca_cert: x509.Certificate, public_key: rsa.RSAPublicKey, serial: int,
                           not_before: dt.datetime, not_after: dt.datetime, partition: Partition, subject_id: str,
                           facts: BasicFacts | None, policy_critical: bool = True,
                           ocsp_url: str | None = None) -> x509.CertificateBuilder:
    """署名用 / 利用者証明用 end-entity certificate (domain.md §4.2): KeyUsage, certificatePolicies, the 4 facts
    (署名用), IssuerAltName, CRLDistributionPoints (DirName), AuthorityKeyIdentifier, SubjectKeyIdentifier last.
    No AIA unless `ocsp_url` is given (real certificates have none: OCSP is for registered verifiers, given out of
    band; a generic client that finds a URL queries it without a token and may hard-fail on `unauthorized`)."""
    if (kind is CaKind.SIGN) != (facts is not None):
        raise ValueError("the signing certificate carries the 4 facts; the authentication certificate none")
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, partition.prefecture),
        x509.NameAttribute(NameOID.LOCALITY_NAME, partition.municipality),
        # An opaque issuance identifier, not personal data (domain.md §4.2).
        x509.NameAttribute(NameOID.COMMON_NAME, subject_id),
    ])
    sign = kind is CaKind.SIGN
    b = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject).public_key(public_key).serial_number(serial)
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=sign, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(POLICY[kind], [CPS[kind]])]),
                       critical=policy_critical)
    )
    if facts is not None:
        b = b.add_extension(san_for(facts), critical=False)
    b = (
        b.add_extension(x509.IssuerAlternativeName([x509.DirectoryName(jpki_service_name(kind))]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=crl_distribution_point(kind, partition), relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
        .add_extension(_aki(ca_cert), critical=False)
    )
    if ocsp_url is not None:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    return b.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)


def ocsp_signer_certificate(*, kind: CaKind, ca_cert: x509.Certificate, public_key: rsa.RSAPublicKey,
                            serial: int, not_before: dt.datetime, not_after: dt.datetime) -> x509.CertificateBuilder:
    """A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): id-kp-OCSPSigning and ocsp-nocheck."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_UNIT[kind]),
        x509.NameAttribute(NameOID.COMMON_NAME, f"OCSP Responder {not_before:%Y%m%d%H%M%S}"),
    ])
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject).public_key(public_key).serial_number(serial)
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(jpki_service_name(kind))]), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
