"""The CA against independent tools: openssl verify / ocsp / crl, and pyhanko-certvalidator."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from jpki import profiles
from jpki.domain import RevocationCause
from jpki.profiles import CaKind
from mynumber_runtime.clock import JST

from .conftest import OPERATOR, Ca, arun, fetch, issue_pair, write_pem


async def _crl_pem(ca: Ca, kind: CaKind, code: str, tmp: Path, *, delta: bool = False) -> Path:
    status, ctype, der = await fetch(ca, f"/crl/{kind}/{code}{'-delta' if delta else ''}.crl", ca.token)
    assert status == 200 and ctype == "application/pkix-crl"
    crl = x509.load_der_x509_crl(der)
    out = tmp / f"{kind}-{code}-{'d' if delta else 'f'}.crl.pem"
    out.write_bytes(crl.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                                fromlist=["Encoding"]).Encoding.PEM))
    return out


async def test_openssl_verify_accepts_issued_chain_and_rejects_revoked_with_crl(ca: Ca, tmp_path: Path) -> None:
    auth, sign = await issue_pair(ca, "card-verify-1", resident_code="10000000001")
    _, revoked = await issue_pair(ca, "card-verify-2", resident_code="10000000002")
    await ca.revoke(CaKind.SIGN, revoked.serial, RevocationCause.LOSS_OR_COMPROMISE, caller=OPERATOR)
    await ca.generate_due_crls(force=True)
    await ca.refresh()
    good_pem = write_pem(tmp_path / "good.pem", sign.cert_der)
    bad_pem = write_pem(tmp_path / "bad.pem", revoked.cert_der)
    ca_pem = str(ca.pem(CaKind.SIGN))
    crl = await _crl_pem(ca, CaKind.SIGN, "131016", tmp_path)

    plain = await arun("openssl", "verify", "-CAfile", ca_pem, str(good_pem))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    ok = await arun("openssl", "verify", "-crl_check", "-CAfile", ca_pem, "-CRLfile", str(crl), str(good_pem))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = await arun("openssl", "verify", "-crl_check", "-CAfile", ca_pem, "-CRLfile", str(crl), str(bad_pem))
    assert bad.returncode != 0 and "certificate revoked" in bad.stdout + bad.stderr
    # The authentication certificate chains to its own CA, not to the signing one.
    auth_pem = write_pem(tmp_path / "auth.pem", auth.cert_der)
    cross = await arun("openssl", "verify", "-CAfile", ca_pem, str(auth_pem))
    assert cross.returncode != 0
    # With the ARL the whole chain (the CA certificate too) is checked against revocation lists.
    status, ctype, arl_der = await fetch(ca, "/arl/sign.crl", ca.token)
    assert status == 200 and ctype == "application/pkix-crl"
    arl = tmp_path / "arl.der"
    arl.write_bytes(arl_der)
    arl_pem = tmp_path / "arl.pem"
    conv = await arun("openssl", "crl", "-inform", "DER", "-in", str(arl), "-out", str(arl_pem))
    assert conv.returncode == 0
    all_ok = await arun("openssl", "verify", "-crl_check_all", "-CAfile", ca_pem, "-CRLfile", str(crl),
                        "-CRLfile", str(arl_pem), str(good_pem))
    assert all_ok.returncode == 0, all_ok.stdout + all_ok.stderr


async def _ocsp(ca: Ca, kind: CaKind, cert_pem: Path, *, nonce: bool, token: str | None = None) -> str:
    args = ["openssl", "ocsp", "-issuer", str(ca.pem(kind)), "-cert", str(cert_pem), "-url", ca.base_url + "/ocsp",
            "-CAfile", str(ca.pem(kind)), "-header", f"Authorization=Bearer {token or ca.token}"]
    if not nonce:
        args.append("-no_nonce")
    r = await arun(*args)
    return r.stdout + r.stderr


async def test_openssl_ocsp_client_gets_good_revoked_with_reason_and_unknown(ca: Ca, tmp_path: Path) -> None:
    _, good = await issue_pair(ca, "card-ocsp-1", resident_code="10000000011")
    _, lost = await issue_pair(ca, "card-ocsp-2", resident_code="10000000012")
    await ca.revoke(CaKind.SIGN, lost.serial, RevocationCause.LOSS_OR_COMPROMISE, caller=OPERATOR)
    await ca.refresh()
    good_pem = write_pem(tmp_path / "good.pem", good.cert_der)
    lost_pem = write_pem(tmp_path / "lost.pem", lost.cert_der)

    for nonce in (False, True):  # pre-produced path, then the signed-on-the-spot nonce path
        out = await _ocsp(ca, CaKind.SIGN, good_pem, nonce=nonce)
        assert "Response verify OK" in out and f"{good_pem}: good" in out, out
        out = await _ocsp(ca, CaKind.SIGN, lost_pem, nonce=nonce)
        assert "Response verify OK" in out and f"{lost_pem}: revoked" in out, out
        assert "Reason: keyCompromise" in out and "Revocation Time:" in out, out
    # A serial this CA never issued: same issuer, forged serial.
    out = await arun("openssl", "ocsp", "-issuer", str(ca.pem(CaKind.SIGN)), "-serial", "0x1234567890abcdef1234",
                     "-url", ca.base_url + "/ocsp", "-CAfile", str(ca.pem(CaKind.SIGN)),
                     "-header", f"Authorization=Bearer {ca.token}")
    assert "Response verify OK" in out.stdout + out.stderr and ": unknown" in out.stdout, out.stdout + out.stderr


async def test_openssl_crl_parses_every_full_delta_crl_and_arl(ca: Ca, tmp_path: Path) -> None:
    osaka = profiles.Partition("271004", "大阪府", "大阪市")
    _, s1 = await issue_pair(ca, "card-crl-1", resident_code="10000000021", partition=osaka)
    await ca.generate_due_crls(force=True)
    await ca.revoke(CaKind.SIGN, s1.serial, RevocationCause.DEATH, caller=OPERATOR)
    await ca.generate_crl(CaKind.SIGN, "271004", delta=True)
    await ca.refresh()
    paths = [f"/crl/{k}/{c}{d}.crl" for k in CaKind for c in ("131016", "271004") for d in ("", "-delta")
             if (k, c, d) in {(k2, c2, d2) for (k2, c2, d2) in [(str(key[0]), key[1], "-delta" if key[2] else "")
                                                               for key in ca.snapshot.crls]}]
    paths += [f"/arl/{k}.crl" for k in CaKind]
    assert any(p.endswith("-delta.crl") for p in paths) and len(paths) >= 5
    for p in paths:
        status, ctype, der = await fetch(ca, p, ca.token)
        assert status == 200 and ctype == "application/pkix-crl", p
        f = tmp_path / "x.crl"
        f.write_bytes(der)
        r = await arun("openssl", "crl", "-inform", "DER", "-in", str(f), "-noout", "-text",
                       "-CAfile", str(ca.pem(CaKind(p.split("/")[2].split(".")[0])) ))
        assert r.returncode == 0 and "verify OK" in r.stderr + r.stdout, p + r.stderr
    status, _, der = await fetch(ca, "/crl/sign/271004-delta.crl", ca.token)
    delta = x509.load_der_x509_crl(der)
    assert delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    entry = delta.get_revoked_certificate_by_serial_number(s1.serial)
    assert entry is not None and entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is \
        x509.ReasonFlags.cessation_of_operation


async def test_signing_certificate_san_decodes_to_the_four_facts_and_auth_has_none(ca: Ca) -> None:
    auth, sign = await issue_pair(ca, "card-san-1", resident_code="10000000031")
    facts = profiles.decode_san(x509.load_der_x509_certificate(sign.cert_der))
    assert facts == {
        "1.2.392.200149.8.5.5.1": "山田　太郎",
        "1.2.392.200149.8.5.5.4": "319801231",
        "1.2.392.200149.8.5.5.3": "1",
        "1.2.392.200149.8.5.5.5": "東京都千代田区外神田１丁目２番３号",
        "1.2.392.200149.8.5.5.2": "00000",
        "1.2.392.200149.8.5.5.6": "0" * 17,
    }
    a = x509.load_der_x509_certificate(auth.cert_der)
    assert not [e for e in a.extensions if isinstance(e.value, x509.SubjectAlternativeName)]
    assert sign.not_after <= auth.not_after
    s = x509.load_der_x509_certificate(sign.cert_der)
    ku = s.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.content_commitment and ku.value.digital_signature
    assert s.serial_number.bit_length() >= 64
    # Valid to the 5th birthday after issuance (12-31), at 23:59:59 JST.
    today = dt.datetime.now(JST).date()
    assert sign.not_after.astimezone(JST).strftime("%m-%d %H:%M:%S") == "12-31 23:59:59"
    assert today.year + 4 <= sign.not_after.year <= today.year + 5


async def test_pyhanko_validates_with_crl_and_with_ocsp_and_rejects_revoked(ca: Ca, tmp_path: Path) -> None:
    from asn1crypto import crl as acrl
    from asn1crypto import x509 as ax509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError

    _, good = await issue_pair(ca, "card-pyhanko-1", resident_code="10000000041")
    _, bad = await issue_pair(ca, "card-pyhanko-2", resident_code="10000000042")
    await ca.revoke(CaKind.SIGN, bad.serial, RevocationCause.RECORD_ERROR, caller=OPERATOR)
    await ca.generate_crl(CaKind.SIGN, "131016", delta=False)
    await ca.generate_crl(CaKind.SIGN, "131016", delta=True)
    await ca.refresh()
    root = ax509.Certificate.load(ca.authority(CaKind.SIGN).cert.public_bytes(Encoding.DER))
    _, _, crl_der = await fetch(ca, "/crl/sign/131016.crl", ca.token)
    # The full CRL names its delta (FreshestCRL): a careful validator insists on having both.
    _, _, delta_der = await fetch(ca, "/crl/sign/131016-delta.crl", ca.token)
    crl_ctx = ValidationContext(trust_roots=[root], crls=[acrl.CertificateList.load(crl_der),
                                                          acrl.CertificateList.load(delta_der)],
                                allow_fetching=False, revocation_mode="hard-fail")
    await CertificateValidator(ax509.Certificate.load(good.cert_der), validation_context=crl_ctx
                               ).async_validate_usage({"digital_signature", "non_repudiation"})
    with pytest.raises(RevokedError):
        await CertificateValidator(ax509.Certificate.load(bad.cert_der), validation_context=crl_ctx
                                   ).async_validate_usage({"digital_signature"})
    # OCSP through pyhanko's own fetcher, with the verifier's token. pyhanko asks OCSP only for a certificate that
    # names a responder (AIA), which real JPKI certificates do not (verifiers get the address out of band, as
    # `openssl ocsp -url` does above): these two come from a CA with the `include_ocsp_url` option on.
    ca.jpki.authorities.tuning.include_ocsp_url = True
    try:
        _, good = await issue_pair(ca, "card-pyhanko-3", resident_code="10000000043")
        _, bad = await issue_pair(ca, "card-pyhanko-4", resident_code="10000000044")
    finally:
        ca.jpki.authorities.tuning.include_ocsp_url = False
    await ca.revoke(CaKind.SIGN, bad.serial, RevocationCause.RECORD_ERROR, caller=OPERATOR)
    await ca.refresh()
    import requests
    from pyhanko_certvalidator.fetchers.api import Fetchers
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
    from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher

    token = ca.token

    class VerifierOCSPFetcher(RequestsOCSPFetcher):  # type: ignore[misc]
        """pyhanko's OCSP fetcher, presenting the registered verifier's token."""

        def _post(self, url: str, data: bytes, *, content_type: str, acceptable_content_types: list[str]) -> object:
            def task() -> requests.Response:
                r = requests.post(url, data=data, timeout=10, headers={
                    "Content-Type": content_type, "Accept": ",".join(acceptable_content_types),
                    "Authorization": f"Bearer {token}"})
                r.raise_for_status()
                return r
            return asyncio.to_thread(task)

    base = RequestsFetcherBackend(per_request_timeout=10).get_fetchers()
    fetchers = Fetchers(ocsp_fetcher=VerifierOCSPFetcher(per_request_timeout=10),
                        crl_fetcher=base.crl_fetcher, cert_fetcher=base.cert_fetcher)
    ocsp_ctx = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail",
                                 fetchers=fetchers)
    def _validate(der: bytes) -> object:
        return asyncio.run(CertificateValidator(ax509.Certificate.load(der), validation_context=ocsp_ctx
                                                ).async_validate_usage({"digital_signature"}))
    await asyncio.to_thread(_validate, good.cert_der)
    with pytest.raises(RevokedError):
        await asyncio.to_thread(_validate, bad.cert_der)
