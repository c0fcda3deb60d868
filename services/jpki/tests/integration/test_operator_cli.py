"""The CA operator's commands (`mynumber jpki ...`) run as an operator would: the console script, mTLS with an
operator's certificate, against the CA's gRPC server; and ListCertificates, the selection they stand on."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from jpki import models
from jpki.domain import RevocationCause
from jpki.profiles import CaKind, Partition
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.anchor import Anchor, chain_head
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.testing.identities import credentials

from .conftest import OPERATOR, Ca, channel, issue_pair

MYNUMBER = Path(sys.executable).parent / "mynumber"
OSAKA = Partition("271004", "大阪府", "大阪市")
SAPPORO = Partition("011002", "北海道", "札幌市")


async def mynumber(target: str, *args: str, identity: str = "operator:cli-test") -> subprocess.CompletedProcess[str]:
    c = credentials(identity)
    env = dict(os.environ, MYNUMBER_JPKI_TARGET=target)
    return await asyncio.to_thread(
        subprocess.run, [str(MYNUMBER), "--tls-ca", str(c.ca_file), "--tls-cert", str(c.cert_file), "--tls-key",
                         str(c.key_file), *args], capture_output=True, text=True, timeout=120, env=env)


def ok(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    errors = [x for x in done.stderr.splitlines() if x.startswith("error ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


async def test_list_shows_a_municipalitys_certificates_and_pages_through_them_once(ca: Ca, grpc_target: str) -> None:
    issued = [await issue_pair(ca, f"cli-list-{i}", resident_code=f"5100000{i:03d}1", partition=SAPPORO)
              for i in range(3)]
    await issue_pair(ca, "cli-list-tokyo", resident_code="51000009991")  # another municipality's: not listed
    serials = {format(x.serial, "x") for pair in issued for x in pair}
    lines = ok(await mynumber(grpc_target, "jpki", "list", "--municipality", "011002"))
    assert {x.split("\t")[1] for x in lines} == serials
    assert all(x.split("\t")[3] == "011002" and "\tgood\t" in x for x in lines)
    # One at a time: every certificate exactly once, then no token.
    seen, token = [], ""
    async with channel(grpc_target, "operator:cli-test") as ch:
        stub = pb_grpc.CertificateAuthorityServiceStub(ch)
        while True:
            page = await stub.ListCertificates(pb.ListCertificatesRequest(
                municipality_code="011002", page_size=1, page_token=token))
            seen += [c.status.serial_hex for c in page.certificates]
            token = page.next_page_token
            if not token:
                break
    assert sorted(seen) == sorted(serials)
    only_sign = ok(await mynumber(grpc_target, "jpki", "list", "--municipality", "011002", "--ca", "sign"))
    assert {x.split("\t")[1] for x in only_sign} == {format(sign.serial, "x") for _, sign in issued}


async def test_mass_revocation_is_a_dry_run_until_executed_and_touches_only_the_selection(
        ca: Ca, grpc_target: str) -> None:
    chosen = [await issue_pair(ca, f"cli-mass-{i}", resident_code=f"5200000{i:03d}1", partition=OSAKA)
              for i in range(4)]
    bystander = await issue_pair(ca, "cli-mass-other", resident_code="52000009991")
    dry = ok(await mynumber(grpc_target, "jpki", "revoke-mass", "--municipality", "271004", "--cause", "loss"))
    assert dry[-1] == "dry run: 8 certificate(s) would be revoked for loss; add --execute"
    assert len(dry) == 9 and all(x.startswith("would revoke\t") and "\tgood\t271004\t" in x for x in dry[:-1])
    for pair in chosen:
        for x in pair:
            assert (await ca.status(x.kind, x.serial)).status == "good"
    # One is revoked meanwhile (the holder's own request): left as it is, not revoked twice.
    first_auth = chosen[0][0]
    await ca.revoke(CaKind.AUTH, first_auth.serial, RevocationCause.HOLDER_REQUEST, caller=OPERATOR)
    done = ok(await mynumber(grpc_target, "jpki", "revoke-mass", "--municipality", "271004", "--cause", "loss",
                             "--execute"))
    assert done[-1] == "executed: 7 certificate(s) revoked for loss of 7 selected"
    assert len(done) == 8 and all(x.startswith("revoked\t") and "\trevoked\tloss " in x for x in done[:-1])
    for pair in chosen:
        for x in pair:
            assert (await ca.status(x.kind, x.serial)).status == "revoked"
    assert (await ca.status(CaKind.AUTH, first_auth.serial)).cause == "holder_request"
    for x in bystander:
        assert (await ca.status(x.kind, x.serial)).status == "good"
    again = ok(await mynumber(grpc_target, "jpki", "revoke-mass", "--municipality", "271004", "--cause", "loss"))
    assert again == ["dry run: 0 certificate(s) would be revoked for loss; add --execute"]
    retry = ok(await mynumber(grpc_target, "jpki", "revoke-mass", "--municipality", "271004", "--cause", "loss",
                              "--execute"))
    assert retry == ["executed: 0 certificate(s) revoked for loss of 0 selected"]
    refused = await mynumber(grpc_target, "jpki", "revoke-mass", "--municipality", "271004", "--cause", "loss",
                             "--execute", identity="municipality:271004")
    assert one_line_error(refused).startswith("error PERMISSION_DENIED")


async def test_hold_resume_get_and_card_commands(ca: Ca, grpc_target: str, tmp_path: Path) -> None:
    auth, sign = await issue_pair(ca, "cli-card-1", resident_code="53000000011")
    serial = format(sign.serial, "x")
    assert ok(await mynumber(grpc_target, "jpki", "hold", "sign", serial))[0].startswith(f"sign\t{serial}\thold\t")
    assert ok(await mynumber(grpc_target, "jpki", "resume", "sign", serial))[0] == f"sign\t{serial}\tgood"
    out = tmp_path / "sign.der"
    assert ok(await mynumber(grpc_target, "jpki", "get", "sign", serial, "--out", str(out)))[0].startswith(
        f"sign\t{serial}\tgood\tuntil ")
    assert out.read_bytes() == sign.cert_der
    held = ok(await mynumber(grpc_target, "jpki", "suspend-card", "cli-card-1"))
    assert sorted(x.split("\t")[2] for x in held) == ["hold", "hold"]
    assert len(ok(await mynumber(grpc_target, "jpki", "resume-card", "cli-card-1"))) == 2
    revoked = ok(await mynumber(grpc_target, "jpki", "revoke", "auth", format(auth.serial, "x"), "--cause", "death"))
    assert revoked[0].startswith(f"auth\t{format(auth.serial, 'x')}\trevoked\tdeath ")


async def test_listing_is_for_operators_and_refusals_are_one_line(ca: Ca, grpc_target: str) -> None:
    refused = await mynumber(grpc_target, "jpki", "list", identity="municipality:131016")
    assert one_line_error(refused).startswith("error PERMISSION_DENIED")
    async with channel(grpc_target, "municipality:131016") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await pb_grpc.CertificateAuthorityServiceStub(ch).ListCertificates(pb.ListCertificatesRequest())
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with channel(grpc_target, "operator:cli-test") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await pb_grpc.CertificateAuthorityServiceStub(ch).ListCertificates(pb.ListCertificatesRequest(
                page_token="sign:zz"))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details().startswith("page_token: ")
    assert error_reason(e.value)
    everything = await mynumber(grpc_target, "jpki", "revoke-mass", "--cause", "loss", "--execute")
    assert everything.returncode == 2 and "name the selection" in everything.stderr
    unknown = await mynumber(grpc_target, "jpki", "hold", "sign", "abcdef")
    assert one_line_error(unknown).startswith("error CERTIFICATE_NOT_FOUND") or "NOT_FOUND" in unknown.stderr



async def test_verify_audit_says_against_which_anchor_it_checked_or_that_it_could_not(ca: Ca, grpc_target: str
                                                                                     ) -> None:
    saved = ca.jpki.audit_anchors
    try:
        ca.jpki.audit_anchors = None  # no NATS: the newest entries cannot be checked against an anchor
        lines = ok(await mynumber(grpc_target, "jpki", "verify-audit"))
        assert lines[0].startswith("audit chain OK, ") and "anchored" not in lines[0]
        assert lines[1] == ("warning: not checked against an anchor: none configured; removal of the newest "
                            "entries cannot be ruled out")
        async with ca.unit() as store:
            head = await chain_head(store.conn, models.audit_log)
        assert head is not None
        seq, digest = head

        async def latest() -> Anchor:
            return Anchor(table=models.audit_log.name, seq=seq, head_hash=digest, at=dt.datetime.now(dt.UTC))

        ca.jpki.audit_anchors = latest
        assert ok(await mynumber(grpc_target, "jpki", "verify-audit")) == [
            f"audit chain OK, {seq} entries, anchored at seq {seq}"]  # seq counts from 1
    finally:
        ca.jpki.audit_anchors = saved


async def test_issue_from_a_csr_then_crls_and_the_verifier_registry(ca: Ca, grpc_target: str, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from .conftest import card_key

    expiry = (dt.date.today() + dt.timedelta(days=3650)).isoformat()
    card = ["--card-id", "cli-csr-1", "--resident-code", "53000000023", "--municipality", "131016",
            "--prefecture-name", "東京都", "--municipality-name", "千代田区", "--birth-date", "1980-12-31",
            "--card-expiry", expiry]
    facts = ["--name", "山田\u3000花子", "--address", "東京都千代田区外神田１丁目２番３号", "--sex", "female"]

    def csr_of(key: rsa.RSAPrivateKey, name: str) -> Path:
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")])).sign(key, hashes.SHA256())
        path = tmp_path / name
        path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        return path

    auth_key, sign_key = card_key(), card_key()
    # The signing key's CSR with its signature broken (no proof of possession): refused.
    forged = bytearray(x509.load_pem_x509_csr(csr_of(sign_key, "sign.csr").read_bytes()).public_bytes(
        serialization.Encoding.DER))
    forged[-1] ^= 1
    (tmp_path / "forged.csr").write_bytes(bytes(forged))
    ok(await mynumber(grpc_target, "jpki", "issue", "auth", "--csr", str(csr_of(auth_key, "auth.csr")), *card))
    refused = await mynumber(grpc_target, "jpki", "issue", "sign", "--csr", str(tmp_path / "forged.csr"), *card,
                             *facts)
    assert one_line_error(refused).startswith("error INVALID_ARGUMENT")
    out = tmp_path / "sign.der"
    issued = ok(await mynumber(grpc_target, "jpki", "issue", "sign", "--csr", str(tmp_path / "sign.csr"), *card,
                               *facts, "--out", str(out)))
    serial = issued[0].split("\t")[1]
    assert issued[0].startswith(f"sign\t{serial}\tgood\tuntil ")
    cert = x509.load_der_x509_certificate(out.read_bytes())
    assert format(cert.serial_number, "x") == serial and cert.public_key() == sign_key.public_key()
    # Under an idempotency key and on hold: the retry answers the same certificate, marked as replayed.
    keyed = ["--csr", str(csr_of(card_key(), "keyed.csr")), *card, "--idempotency-key", "cli-test:auth", "--on-hold"]
    first = ok(await mynumber(grpc_target, "jpki", "issue", "auth", *keyed))[0].split("\t")
    again = ok(await mynumber(grpc_target, "jpki", "issue", "auth", *keyed))[0].split("\t")
    assert first[2] == "hold" and len(first) == 4 and again == [*first, "replayed"]
    assert ok(await mynumber(grpc_target, "jpki", "crls", "--ca", "sign"))[0].startswith("generated ")
    assert int(ok(await mynumber(grpc_target, "jpki", "crls"))[0].split()[1]) > 0
    vid, token = ok(await mynumber(grpc_target, "jpki", "verifiers", "register", "--kind", "signature",
                                   "--organization", "試験銀行", "--filing-ref", "届出-CLI-1"))[0].split("\t")
    listed = ok(await mynumber(grpc_target, "jpki", "verifiers", "list"))
    assert token not in "".join(listed) and any(x.startswith(f"{vid}\tsignature\t試験銀行\t届出-CLI-1") for x in listed)
    assert ok(await mynumber(grpc_target, "jpki", "verifiers", "deregister", vid)) == [f"{vid}\tderegistered"]
    clerk = await mynumber(grpc_target, "jpki", "crls", identity="municipality:131016")
    assert one_line_error(clerk).startswith("error PERMISSION_DENIED")
