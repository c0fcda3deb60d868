"""Our CA and end-entity certificates beside the real J-LIS CA certificates, field by field, in order, and byte for
byte where the real value is known (issue 16; domain.md §4).

The real certificates are test data: `tests/data/jlis/*.pem`, the four public J-LIS CA certificates (署名用 and
利用者証明用, 2015 and 2023) as jpki/myna keeps them in `src/ta` (commit f85dc71). No server here: the profile
builders are pure, so each certificate is built and signed with a software key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID
from jpki import profiles, validity
from jpki.profiles import CaKind
from mynumber_runtime.clock import JST

DATA = Path(__file__).resolve().parents[1] / "data" / "jlis"
REAL = {kind: [x509.load_pem_x509_certificate((DATA / f"{kind}_ca_{year}.pem").read_bytes()) for year in (2015, 2023)]
        for kind in CaKind}
CA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CARD_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FACTS = profiles.BasicFacts(name="山田　太郎", birth_date=dt.date(1980, 12, 31), sex=1,
                            address="東京都千代田区外神田１丁目２番３号")
TOKYO = profiles.Partition("131016", "東京都", "千代田区")
SKI_OID = b"\x06\x03\x55\x1d\x0e"  # 2.5.29.14, as it opens an Extension's content


def our_ca(kind: CaKind, at: dt.datetime) -> x509.Certificate:
    builder = profiles.ca_certificate(kind=kind, public_key=CA_KEY.public_key(), serial=(1 << 63) | 12345,
                                      not_before=at, not_after=validity.ca_not_after(at))
    return builder.sign(CA_KEY, hashes.SHA256())


def our_end_entity(kind: CaKind, ca: x509.Certificate, issued_at: dt.datetime) -> x509.Certificate:
    builder = profiles.end_entity_certificate(
        kind=kind, ca_cert=ca, public_key=CARD_KEY.public_key(), serial=(1 << 63) | 777,
        not_before=validity.end_entity_not_before(issued_at, ca),
        not_after=validity.certificate_not_after(issued_at=issued_at, birth_date=FACTS.birth_date,
                                                 card_expiry=issued_at.date() + dt.timedelta(days=3650)),
        partition=TOKYO, subject_id="0123456789ABCDEF0123", facts=FACTS if kind is CaKind.SIGN else None)
    return builder.sign(CA_KEY, hashes.SHA256())


def shape(cert: x509.Certificate) -> list[tuple[str, bool]]:
    return [(e.oid.dotted_string, e.critical) for e in cert.extensions]


# --- the CA certificates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CaKind))
@pytest.mark.parametrize("year", [0, 1], ids=["2015", "2023"])
def test_our_ca_certificate_has_the_real_extensions_in_the_real_order_with_the_real_bytes(kind: CaKind,
                                                                                         year: int) -> None:
    real = REAL[kind][year]
    ours = our_ca(kind, real.not_valid_before_utc)
    assert shape(ours) == shape(real)
    assert [e.oid for e in ours.extensions][-1] == ExtensionOID.SUBJECT_KEY_IDENTIFIER
    for ext in real.extensions:
        mine = ours.extensions.get_extension_for_oid(ext.oid)
        if ext.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER:
            # The method is the real one (SHA-1 of the subjectPublicKey, RFC 5280 §4.2.1.2 (1)); the key differs.
            assert ext.value == x509.SubjectKeyIdentifier.from_public_key(real.public_key())
            assert mine.value == x509.SubjectKeyIdentifier.from_public_key(ours.public_key())
        else:
            assert mine.value.public_bytes() == ext.value.public_bytes(), ext.oid
    assert ExtensionOID.AUTHORITY_KEY_IDENTIFIER not in {e.oid for e in ours.extensions}


@pytest.mark.parametrize("kind", list(CaKind))
@pytest.mark.parametrize("year", [0, 1], ids=["2015", "2023"])
def test_our_ca_names_validity_and_algorithms_are_the_real_ones(kind: CaKind, year: int) -> None:
    real = REAL[kind][year]
    ours = our_ca(kind, real.not_valid_before_utc)
    # Subject and issuer byte for byte: the same attributes, the same string types (C PrintableString, UTF8String).
    assert ours.subject.public_bytes() == real.subject.public_bytes()
    assert ours.issuer.public_bytes() == real.issuer.public_bytes()
    # Ten calendar years, ending 23:59:59 JST the day before the anniversary.
    assert ours.not_valid_after_utc == real.not_valid_after_utc
    assert ours.version == real.version == x509.Version.v3
    assert ours.signature_algorithm_oid == real.signature_algorithm_oid
    assert ours.public_key().key_size == real.public_key().key_size == 2048  # type: ignore[union-attr]


def test_ca_validity_ends_23_59_59_jst_ten_calendar_years_on() -> None:
    jst = JST
    assert validity.ca_not_after(dt.datetime(2023, 7, 16, 9, 50, tzinfo=jst)) == dt.datetime(
        2033, 7, 15, 23, 59, 59, tzinfo=jst)
    # After 15:00 UTC it is already the next day in Japan.
    assert validity.ca_not_after(dt.datetime(2023, 7, 15, 15, 30, tzinfo=dt.UTC)) == dt.datetime(
        2033, 7, 15, 23, 59, 59, tzinfo=jst)
    assert validity.ca_not_after(dt.datetime(2024, 2, 29, 12, 0, tzinfo=jst)) == dt.datetime(
        2034, 2, 28, 23, 59, 59, tzinfo=jst)


# --- the end-entity certificates ---------------------------------------------------------------------------------

AT = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("kind", list(CaKind))
def test_end_entity_certificate_ends_with_the_ski_and_names_no_ocsp_responder(kind: CaKind) -> None:
    ca = our_ca(kind, AT - dt.timedelta(days=400))
    ee = our_end_entity(kind, ca, AT)
    oids = [e.oid for e in ee.extensions]
    assert oids[-1] == ExtensionOID.SUBJECT_KEY_IDENTIFIER
    assert ExtensionOID.AUTHORITY_INFORMATION_ACCESS not in oids
    expected = [ExtensionOID.KEY_USAGE, ExtensionOID.CERTIFICATE_POLICIES]
    expected += [ExtensionOID.SUBJECT_ALTERNATIVE_NAME] if kind is CaKind.SIGN else []
    expected += [ExtensionOID.ISSUER_ALTERNATIVE_NAME, ExtensionOID.CRL_DISTRIBUTION_POINTS,
                 ExtensionOID.AUTHORITY_KEY_IDENTIFIER, ExtensionOID.SUBJECT_KEY_IDENTIFIER]
    assert oids == expected
    assert not any(e.oid == ExtensionOID.EXTENDED_KEY_USAGE for e in ee.extensions)


@pytest.mark.parametrize("kind", list(CaKind))
def test_issuer_alt_name_is_the_real_cas_four_part_name_byte_for_byte(kind: CaKind) -> None:
    ee = our_end_entity(kind, our_ca(kind, AT - dt.timedelta(days=1)), AT)
    ian = ee.extensions.get_extension_for_class(x509.IssuerAlternativeName).value
    real_san = REAL[kind][1].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ian.public_bytes() == real_san.public_bytes()
    [name] = ian.get_values_for_type(x509.DirectoryName)
    assert len(name.rdns) == 4


@pytest.mark.parametrize(("kind", "key_usage", "cps"), [
    (CaKind.SIGN, "030206c0", "http://www.jpki.go.jp/cps.html"),
    (CaKind.AUTH, "03020780", "https://www.jpki.go.jp/ca/ca_rules4.html"),
])
def test_key_usage_bytes_policy_and_cps_qualifier(kind: CaKind, key_usage: str, cps: str) -> None:
    ee = our_end_entity(kind, our_ca(kind, AT - dt.timedelta(days=1)), AT)
    ku = ee.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.public_bytes().hex() == key_usage
    cp = ee.extensions.get_extension_for_class(x509.CertificatePolicies)
    [policy] = cp.value
    assert policy.policy_identifier == profiles.POLICY[kind] and policy.policy_qualifiers == [cps]
    assert cp.critical


@pytest.mark.parametrize("kind", list(CaKind))
def test_crl_distribution_point_is_the_partitions_dirname_alone(kind: CaKind) -> None:
    ee = our_end_entity(kind, our_ca(kind, AT - dt.timedelta(days=1)), AT)
    [dp] = ee.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    unit = profiles.CA_UNIT[kind]
    assert dp.full_name == [x509.DirectoryName(x509.Name.from_rfc4514_string(
        f"CN=千代田区,OU=東京都,OU=CRL Distribution Points,OU={unit},O=JPKI,C=JP"))]
    assert dp.relative_name is None and dp.reasons is None and dp.crl_issuer is None


def test_end_entity_not_before_is_backdated_but_never_before_the_ca() -> None:
    old_ca = our_ca(CaKind.AUTH, AT - dt.timedelta(days=30))
    assert our_end_entity(CaKind.AUTH, old_ca, AT).not_valid_before_utc == AT - dt.timedelta(hours=1)
    fresh_ca = our_ca(CaKind.AUTH, AT - dt.timedelta(minutes=5))
    assert our_end_entity(CaKind.AUTH, fresh_ca, AT).not_valid_before_utc == fresh_ca.not_valid_before_utc


# --- a client that rebuilds the tail after the SKI ------------------------------------------------------------------

def _tlv(der: bytes, at: int) -> tuple[int, int]:
    """(start of content, end) of the DER TLV at `at`."""
    first = der[at + 1]
    if first < 0x80:
        return at + 2, at + 2 + first
    n = first & 0x7F
    length = int.from_bytes(der[at + 2:at + 2 + n], "big")
    return at + 2 + n, at + 2 + n + length


def _wrap(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def tail_rebuilt(tbs: bytes) -> bytes:
    """What the client signs over: the TBS up to the end of the SubjectKeyIdentifier extension, with the lengths
    of the extension list, the [3] wrapper and the TBS rebuilt around it (anything after the SKI is lost)."""
    body_start, body_end = _tlv(tbs, 0)
    at, fields = body_start, []
    while at < body_end:
        _, end = _tlv(tbs, at)
        fields.append((at, end))
        at = end
    ext_at = fields[-1][0]
    assert tbs[ext_at] == 0xA3
    seq_start, seq_end = _tlv(tbs, _tlv(tbs, ext_at)[0])
    at, kept = seq_start, b""
    while at < seq_end:
        content, end = _tlv(tbs, at)
        kept += tbs[at:end]
        at = end
        if tbs[content:content + len(SKI_OID)] == SKI_OID:
            break
    return _wrap(0x30, tbs[body_start:ext_at] + _wrap(0xA3, _wrap(0x30, kept)))


def tail_client_accepts(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(cert.signature, tail_rebuilt(cert.tbs_certificate_bytes), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize("real", [c for pair in REAL.values() for c in pair], ids=lambda c: c.subject.rfc4514_string())
def test_the_tail_rebuilding_client_accepts_the_real_ca_certificates(real: x509.Certificate) -> None:
    assert tail_client_accepts(real, real)


@pytest.mark.parametrize("kind", list(CaKind))
def test_the_tail_rebuilding_client_accepts_ours(kind: CaKind) -> None:
    ca = our_ca(kind, AT - dt.timedelta(days=1))
    assert tail_client_accepts(ca, ca)
    assert tail_client_accepts(our_end_entity(kind, ca, AT), ca)


def test_the_tail_rebuilding_client_rejects_a_certificate_with_an_extension_after_the_ski() -> None:
    """The emulation can fail: the shape we had before (SAN and AIA after the SKI) does not survive it."""
    ca = our_ca(CaKind.SIGN, AT - dt.timedelta(days=1))
    builder = (x509.CertificateBuilder().subject_name(ca.subject).issuer_name(ca.subject)
               .public_key(CARD_KEY.public_key()).serial_number(5).not_valid_before(AT)
               .not_valid_after(AT + dt.timedelta(days=1))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(CARD_KEY.public_key()), critical=False)
               .add_extension(profiles.san_for(FACTS), critical=False))
    late = builder.sign(CA_KEY, hashes.SHA256())
    assert late.public_bytes(Encoding.DER)
    assert not tail_client_accepts(late, ca)
