"""Bad input is refused clearly with nothing issued or half-written; holds, deltas, and the audit chain."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp as cocsp
from cryptography.x509.oid import NameOID
from jpki import models as m
from jpki.domain import RevocationCause
from jpki.errors import CertificateNotFound, FailedPrecondition, InvalidArgument, WeakKey
from jpki.profiles import BasicFacts, CaKind

from .conftest import ISSUANCE, OPERATOR, Ca, card_key, fetch, issue_pair, request


async def _rows(ca: Ca) -> int:
    async with ca.unit() as store:
        return int((await store.conn.execute(sa.select(sa.func.count()).select_from(m.certificates))).scalar_one())


def _ocsp_request(ca: Ca, kind: CaKind, der: bytes) -> bytes:
    cert = x509.load_der_x509_certificate(der)
    return cocsp.OCSPRequestBuilder().add_certificate(cert, ca.authority(kind).cert, hashes.SHA1()).build(
    ).public_bytes(serialization.Encoding.DER)


def _tiny_rsa(bits: int, e: int = 65537) -> bytes:
    return rsa.generate_private_key(public_exponent=e, key_size=bits).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


async def test_bad_keys_and_requests_are_refused_naming_the_field_and_nothing_is_written(isolated_ca: Ca) -> None:
    ca = isolated_ca
    before = await _rows(ca)
    auth_req = request(CaKind.AUTH, "card-bad-1", resident_code="20000000001")
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"public_key_der": b"\x30\x03garbage"}, InvalidArgument, "public_key"),
        ({"public_key_der": b"", "csr_der": b"not a csr"}, InvalidArgument, "csr"),
        ({"public_key_der": _tiny_rsa(1024)}, WeakKey, "at least 2048 bits"),
        ({"public_key_der": _tiny_rsa(2048, e=3)}, WeakKey, "exponent must be 65537"),
        ({"public_key_der": ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)}, WeakKey, "must be RSA"),
        ({"resident_code": "12345"}, InvalidArgument, "resident_code"),
        ({"card_id": ""}, InvalidArgument, "card_id"),
    ]
    for change, exc, words in cases:
        with pytest.raises(exc) as info:
            await ca.issue(dataclasses.replace(auth_req, **change), caller=ISSUANCE)  # type: ignore[arg-type]
        assert words in str(info.value)
        # Neither the bad value nor the person's resident code is echoed back.
        assert "12345" not in str(info.value) and "20000000001" not in str(info.value)
    # A CSR whose signature does not verify is no proof of possession.
    key = card_key()
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "card")])).sign(key, hashes.SHA256())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF
    with pytest.raises(InvalidArgument, match="csr"):
        await ca.issue(dataclasses.replace(auth_req, public_key_der=b"", csr_der=bytes(der)),
                               caller=ISSUANCE)
    # A person under 15 gets no 署名用 certificate; the facts never appear in the error.
    child = BasicFacts(name="山田　花子", birth_date=dt.date.today().replace(year=dt.date.today().year - 10)
                       - dt.timedelta(days=1), sex=2, address="東京都千代田区")
    await ca.issue(dataclasses.replace(auth_req, birth_date=child.birth_date), caller=ISSUANCE)
    with pytest.raises(FailedPrecondition, match="under 15") as info:
        await ca.issue(request(CaKind.SIGN, "card-bad-1", resident_code="20000000001", facts=child),
                               caller=ISSUANCE)
    assert "花子" not in str(info.value)
    # A key certified once is never certified again (repeated modulus).
    k = card_key()
    await ca.issue(request(CaKind.AUTH, "card-bad-2", key=k, resident_code="20000000002"),
                           caller=ISSUANCE)
    with pytest.raises(WeakKey, match="repeated modulus"):
        await ca.issue(request(CaKind.AUTH, "card-bad-3", key=k, resident_code="20000000003"),
                               caller=ISSUANCE)
    # A signing certificate needs the card's authentication certificate first.
    with pytest.raises(FailedPrecondition, match="利用者証明用"):
        await ca.issue(request(CaKind.SIGN, "card-without-auth", resident_code="20000000004"),
                               caller=ISSUANCE)
    assert await _rows(ca) == before + 2  # only the two good authentication certificates
    with pytest.raises(CertificateNotFound):
        await ca.status(CaKind.SIGN, 0x1234567890ABCDEF)
    with pytest.raises(CertificateNotFound):
        await ca.revoke(CaKind.AUTH, 0x1234567890ABCDEF, RevocationCause.HOLDER_REQUEST, caller=OPERATOR)


async def test_garbage_ocsp_and_unregistered_verifiers_get_clear_refusals(ca: Ca) -> None:
    auth, sign = await issue_pair(ca, "card-refuse-1", resident_code="20000000011")
    await ca.generate_crl(CaKind.SIGN, "131016", delta=False)
    await ca.refresh()
    good_req = _ocsp_request(ca, CaKind.AUTH, auth.cert_der)
    sign_req = _ocsp_request(ca, CaKind.SIGN, sign.cert_der)

    status, _, body = await fetch(ca, "/ocsp", ca.token, body=b"\x30\x82garbage")
    assert status == 200 and cocsp.load_der_ocsp_response(body).response_status is \
        cocsp.OCSPResponseStatus.MALFORMED_REQUEST
    for token in (None, "not-a-registered-token"):
        status, _, body = await fetch(ca, "/ocsp", token, body=good_req)
        assert cocsp.load_der_ocsp_response(body).response_status is cocsp.OCSPResponseStatus.UNAUTHORIZED
        status, _, body = await fetch(ca, "/crl/auth/131016.crl", token)
        assert status == 401 and b"registered verifiers" in body
    # A 署名検証者 may ask about 署名用 certificates only (公的個人認証法 17条 vs 36条).
    _, sig_token = await ca.register_verifier(kind="signature_verifier", organization="署名検証 株式会社",
                                                      filing_ref="17-1-0001", actor="operator:t")
    await ca.refresh()
    _, _, body = await fetch(ca, "/ocsp", sig_token, body=good_req)
    assert cocsp.load_der_ocsp_response(body).response_status is cocsp.OCSPResponseStatus.UNAUTHORIZED
    # The registered operator gets the answer, over POST and over GET (RFC 6960 appendix A.1).
    _, _, body = await fetch(ca, "/ocsp", ca.token, body=good_req)
    assert cocsp.load_der_ocsp_response(body).certificate_status is cocsp.OCSPCertStatus.GOOD
    path = "/ocsp/" + urllib.parse.quote(base64.b64encode(good_req).decode(), safe="")
    status, _, body = await fetch(ca, path, ca.token)
    assert status == 200 and cocsp.load_der_ocsp_response(body).certificate_status is cocsp.OCSPCertStatus.GOOD
    # Within its scope it is answered (so the refusals below are about the deregistration alone) ...
    _, _, body = await fetch(ca, "/ocsp", sig_token, body=sign_req)
    assert cocsp.load_der_ocsp_response(body).certificate_status is cocsp.OCSPCertStatus.GOOD
    status, _, _ = await fetch(ca, "/crl/sign/131016.crl", sig_token)
    assert status == 200
    # ... and deregistered, refused from the next refresh on: OCSP's own "unauthorized" (RFC 6960 §2.3 answers
    # in an HTTP 200), and HTTP 401 for the CRL.
    verifiers = await ca.list_verifiers()
    sig = next(v for v in verifiers if v.filing_ref == "17-1-0001")
    await ca.deregister_verifier(sig.id, actor="operator:t")
    await ca.refresh()
    status, _, body = await fetch(ca, "/ocsp", sig_token, body=sign_req)
    assert status == 200
    assert cocsp.load_der_ocsp_response(body).response_status is cocsp.OCSPResponseStatus.UNAUTHORIZED
    status, _, body = await fetch(ca, "/crl/sign/131016.crl", sig_token)
    assert status == 401 and b"registered verifiers" in body


async def test_card_suspension_holds_both_certificates_then_resume_releases_them_with_remove_from_crl(ca: Ca
                                                                                                        ) -> None:
    auth, sign = await issue_pair(ca, "card-hold-1", resident_code="20000000021")
    await ca.generate_crl(CaKind.AUTH, "131016", delta=False)
    held = await ca.suspend_card("card-hold-1", caller=ISSUANCE)
    assert {s.status for s in held} == {m.HOLD} and {s.reason for s in held} == {x509.ReasonFlags.certificate_hold}
    await ca.refresh()
    resp = cocsp.load_der_ocsp_response(ca.snapshot.store.get("auth", auth.serial) or b"")
    assert resp.certificate_status is cocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_reason is x509.ReasonFlags.certificate_hold
    full = x509.load_der_x509_crl(await ca.generate_crl(CaKind.AUTH, "131016", delta=False))
    assert full.get_revoked_certificate_by_serial_number(auth.serial) is not None
    resumed = await ca.resume_card("card-hold-1", caller=ISSUANCE)
    assert {s.status for s in resumed} == {m.GOOD}
    delta = x509.load_der_x509_crl(await ca.generate_crl(CaKind.AUTH, "131016", delta=True))
    entry = delta.get_revoked_certificate_by_serial_number(auth.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.remove_from_crl
    await ca.refresh()
    resp = cocsp.load_der_ocsp_response(ca.snapshot.store.get("auth", auth.serial) or b"")
    assert resp.certificate_status is cocsp.OCSPCertStatus.GOOD
    # A hold can become permanent; a revoked certificate cannot be revoked again.
    await ca.revoke(CaKind.SIGN, sign.serial, RevocationCause.SUSPENSION, caller=OPERATOR)
    final = await ca.revoke(CaKind.SIGN, sign.serial, RevocationCause.DEATH, caller=OPERATOR)
    assert final.status == m.REVOKED and final.reason is x509.ReasonFlags.cessation_of_operation
    with pytest.raises(FailedPrecondition, match="already revoked"):
        await ca.revoke(CaKind.SIGN, sign.serial, RevocationCause.HOLDER_REQUEST, caller=OPERATOR)


async def test_audit_chain_records_every_event_and_detects_an_edited_entry(isolated_ca: Ca) -> None:
    ca = isolated_ca  # the edit below is rolled back with the test, so the chain stays whole for the next one
    await issue_pair(ca, "card-audit-1", resident_code="20000000031")
    report = await ca.verify_audit()
    assert report.ok and report.entries > 10
    async with ca.unit() as store:
        conn = store.conn
        actions = set((await conn.execute(sa.select(m.audit_log.c.action))).scalars())
        assert {"key.generated", "ca.certificate.created", "ocsp.signer.issued", "issuance.recorded",
                "certificate.issued", "arl.generated", "verifier.registered"} <= actions
        # Nothing personal in the log: no facts, no 住民票コード.
        dump = str((await conn.execute(sa.select(m.audit_log.c.details, m.audit_log.c.subject_ref))).all())
        assert "山田" not in dump and "20000000031" not in dump
        first = (await conn.execute(sa.select(m.audit_log).where(m.audit_log.c.action == "certificate.issued")
                                    .limit(1))).one()
        await conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == first.seq).values(actor="operator:evil"))
    report = await ca.verify_audit()
    assert not report.ok and report.first_bad_seq == first.seq and report.problem == "entry was altered"


async def test_what_an_isolated_test_wrote_and_edited_is_gone_after_it(ca: Ca) -> None:
    """Runs after the two isolated tests above (file order): their certificates and their edit left nothing."""
    async with ca.unit() as store:
        cards = (await store.conn.execute(sa.select(sa.func.count()).select_from(m.certificates).where(
            m.certificates.c.card_id.in_(["card-bad-1", "card-bad-2", "card-audit-1"])))).scalar_one()
    assert cards == 0
    assert (await ca.verify_audit()).ok


async def test_lint_refuses_a_non_conforming_certificate_before_the_hsm_signs(ca: Ca) -> None:
    from jpki import lint, profiles

    def builder(serial: int) -> x509.CertificateBuilder:
        return profiles.end_entity_certificate(
            kind=CaKind.AUTH, ca_cert=ca.authority(CaKind.AUTH).cert, public_key=card_key().public_key(),
            serial=serial, not_before=dt.datetime.now(dt.UTC),
            not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            partition=profiles.Partition("131016", "東京都", "千代田区"), subject_id="X", facts=None)

    # The same profile with a proper serial passes, so the refusal below is about the serial alone.
    linter = ca.jpki.authorities.linter
    linter.check_certificate(linter.precertificate(builder(x509.random_serial_number())), kind=CaKind.AUTH)
    # A profile bug (a short serial) is caught on the throwaway-signed precertificate.
    with pytest.raises(lint.LintFailed, match="serial_below_64_bits"):
        linter.check_certificate(linter.precertificate(builder(7)), kind=CaKind.AUTH)
