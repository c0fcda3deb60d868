"""The operator's commands as an SRE runs them: `python -m jpki register-verifier`, `responder --workers 2` (separate
SO_REUSEPORT processes reading the same database and token), and `verify-audit` with its exit codes."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as cocsp
from jpki import hsm as hsmmod
from jpki import models as m
from jpki.app import build
from jpki.ceremony import MIGRATIONS, run_ceremony
from jpki.domain import RevocationCause
from jpki.profiles import CaKind
from jpki.settings import HsmSettings, HttpSettings, JpkiSettings
from mynumber_runtime.anchor import AnchorPublisher, anchor_key
from mynumber_runtime.db import migrate
from mynumber_runtime.settings import DatabaseSettings, read_hex_secret
from mynumber_runtime.streams import ensure_stream
from mynumber_runtime.testing.identities import grpc_server_settings, nats_connect, nats_settings

from .conftest import OPERATOR, PIN, TOKEN, Ca, fetch, free_port, issue_pair


def _env(ca: Ca) -> dict[str, str]:
    s = ca.settings
    return dict(os.environ, JPKI_DATABASE__URL=s.database.resolved_url(),
                JPKI_HSM__TOKEN_LABEL=s.hsm.token_label, JPKI_HSM__USER_PIN_FILE=str(s.hsm.user_pin_file),
                JPKI_HSM__SOFTHSM_DATA_DIR=str(s.hsm.softhsm_data_dir),
                JPKI_KEYS_FILE=str(s.keys_file), JPKI_EVENTS_KEY_FILE=str(s.events_key_file),
                JPKI_HTTP__PUBLIC_BASE_URL=s.http.public_base_url, JPKI_LOG_LEVEL="WARNING")


async def _jpki(ca: Ca, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "jpki", *args], env=_env(ca),
                                   capture_output=True, text=True, timeout=120)


def _ocsp(port: int, cert_der: bytes, issuer: x509.Certificate, token: str) -> cocsp.OCSPCertStatus | None:
    req = cocsp.OCSPRequestBuilder().add_certificate(x509.load_der_x509_certificate(cert_der), issuer,
                                                     hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)
    http = urllib.request.Request(f"http://127.0.0.1:{port}/ocsp", data=req, method="POST",
                                  headers={"Content-Type": "application/ocsp-request",
                                           "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(http, timeout=5) as r:
            return cocsp.load_der_ocsp_response(r.read()).certificate_status
    except (urllib.error.URLError, ConnectionError):
        return None  # not listening yet


async def test_register_verifier_prints_a_token_that_works_within_its_scope(ca: Ca) -> None:
    out = await _jpki(ca, "register-verifier", "--kind", "user_verifier", "--organization", "テスト銀行",
                      "--filing-ref", "FSA-2026-001")
    assert out.returncode == 0, out.stderr
    _vid, kind, token = out.stdout.strip().split("\t")
    assert kind == "user_verifier" and len(token) >= 32
    await issue_pair(ca, "card-cmd-crl", resident_code="40000000009")
    await ca.generate_crl(CaKind.AUTH, "131016", delta=False)
    await ca.refresh()
    status, ctype, der = await fetch(ca, "/crl/auth/131016.crl", token)
    assert status == 200 and ctype == "application/pkix-crl"
    crl = x509.load_der_x509_crl(der)
    assert crl.issuer == ca.authority(CaKind.AUTH).cert.subject
    status, _, _ = await fetch(ca, "/crl/sign/131016.crl", token)
    assert status == 401  # a 利用者証明検証者 gets nothing of the 署名用 CA

    bad = await _jpki(ca, "register-verifier", "--kind", "anyone", "--organization", "x", "--filing-ref", "y")
    assert bad.returncode == 2 and bad.stderr.startswith("jpki register-verifier: kind: must be one of"), bad.stderr
    missing = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "jpki", "verify-audit"],
                                      env={**_env(ca), "JPKI_DATABASE__URL_FILE": "/nonexistent/db-url"},
                                      capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "/nonexistent/db-url" in missing.stderr and "Traceback" not in missing.stderr


async def test_responder_workers_answer_and_follow_revocations(ca: Ca) -> None:
    auth, _ = await issue_pair(ca, "card-cmd-1", resident_code="40000000001")
    issuer = ca.authority(CaKind.AUTH).cert
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "jpki", "responder", "--workers", "2", "--port", str(port)],
                            env=_env(ca), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (st := await asyncio.to_thread(_ocsp, port, auth.cert_der, issuer, ca.token)) is None:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the responder did not come up"
            await asyncio.sleep(0.2)
        assert st is cocsp.OCSPCertStatus.GOOD
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200 and r.read() == b"ok\n"
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        # Both must listen (and so have said so) before the revocation and the SIGTERM below.
        while not all(any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in w.net_connections("tcp"))
                      for w in workers):
            assert time.monotonic() < deadline, "a responder worker did not come up"
            await asyncio.sleep(0.1)

        await ca.revoke(CaKind.AUTH, auth.serial, RevocationCause.LOSS_OR_COMPROMISE, caller=OPERATOR)
        # Every worker must see it: ask often enough that the kernel hands requests to both.
        deadline = time.monotonic() + ca.settings.ocsp_status_delay_s + 1
        while True:
            answers = {await asyncio.to_thread(_ocsp, port, auth.cert_der, issuer, ca.token) for _ in range(20)}
            if answers == {cocsp.OCSPCertStatus.REVOKED}:
                break
            assert time.monotonic() < deadline, answers
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert out.count("responder ") == 2  # each worker said where it listens
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


async def test_dead_letters_run_beside_the_serving_jpki(ca: Ca, nats_url: str) -> None:
    # The `ca` fixture's HTTP front holds the configured port, as the serving jpki would: the operator's command
    # must not try to listen there (nor anywhere).
    nats, grpc = nats_settings("jpki", nats_url), grpc_server_settings("service:jpki")
    env = dict(_env(ca), JPKI_HTTP__LISTEN_PORT=str(ca.settings.http.listen_port),
               JPKI_NATS__URL=nats.url, JPKI_NATS__USER=str(nats.user),
               JPKI_NATS__PASSWORD_FILE=str(nats.password_file), JPKI_GRPC__LISTEN=grpc.listen,
               JPKI_GRPC__TLS_CERT_FILE=str(grpc.tls_cert_file), JPKI_GRPC__TLS_KEY_FILE=str(grpc.tls_key_file),
               JPKI_GRPC__TLS_CLIENT_CA_FILE=str(grpc.tls_client_ca_file))
    out = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "jpki", "dead-letters", "list"], env=env,
                                  capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr


async def test_verify_audit_exits_nonzero_on_a_broken_chain(ca: Ca) -> None:
    ok = await _jpki(ca, "verify-audit")
    assert ok.returncode == 0 and ok.stdout.startswith("audit chain OK"), ok.stdout + ok.stderr
    async with ca.jpki.engine.begin() as conn:
        first = (await conn.execute(sa.select(m.audit_log).order_by(m.audit_log.c.seq).limit(1))).one()
        await conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == first.seq).values(actor="operator:evil"))
    try:
        broken = await _jpki(ca, "verify-audit")
        assert broken.returncode == 1
        assert f"BROKEN at seq {first.seq}" in broken.stdout
    finally:
        async with ca.jpki.engine.begin() as conn:
            await conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == first.seq)
                               .values(actor=first.actor))
    assert (await _jpki(ca, "verify-audit")).returncode == 0


async def test_verify_audit_finds_the_newest_entries_removed_against_the_latest_anchor(ca: Ca, nats_url: str
                                                                                        ) -> None:
    unanchored = await _jpki(ca, "verify-audit")  # no NATS user configured: said, not passed over
    assert unanchored.returncode == 0 and "warning: not checked against an anchor" in unanchored.stdout
    nats = nats_settings("jpki", nats_url)
    env = dict(_env(ca), JPKI_NATS__URL=nats.url, JPKI_NATS__USER=str(nats.user),
               JPKI_NATS__PASSWORD_FILE=str(nats.password_file))

    async def verify_audit() -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "jpki", "verify-audit"], env=env,
                                       capture_output=True, text=True, timeout=120)

    await issue_pair(ca, "card-cmd-anchor", resident_code="40000000017")  # a head no other test anchored
    nc = await nats_connect("jpki", nats_url)
    try:
        js = nc.jetstream(timeout=5)
        await ensure_stream(js, "jpki")
        # As `serve` runs it, under the key the command derives from the same master.
        anchor = await AnchorPublisher(engine=ca.jpki.engine, table=m.audit_log, js=js, service="jpki",
                                       key=anchor_key(read_hex_secret(ca.settings.keys_file), "jpki")).run_once()
    finally:
        await nc.close()
    assert anchor is not None and anchor.seq >= 3
    ok = await verify_audit()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"anchored at seq {anchor.seq}" in ok.stdout and "warning" not in ok.stdout
    async with ca.jpki.engine.begin() as conn:
        newest = (await conn.execute(sa.select(m.audit_log).where(m.audit_log.c.seq > anchor.seq - 2))).all()
        await conn.execute(sa.delete(m.audit_log).where(m.audit_log.c.seq > anchor.seq - 2))
    try:
        broken = await verify_audit()
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"BROKEN at seq {anchor.seq - 1}: entries after seq {anchor.seq - 2} were removed" in broken.stdout
    finally:
        async with ca.jpki.engine.begin() as conn:
            await conn.execute(sa.insert(m.audit_log), [r._asdict() for r in newest])
    assert (await verify_audit()).returncode == 0


async def test_a_ceremony_interrupted_after_key_generation_is_completed_by_the_next_run(
        hsm_session: tuple[hsmmod.Hsm, Path], new_database: Callable[[], str], tmp_path: Path) -> None:
    h, data = hsm_session
    (tmp_path / "pin").write_text(PIN)
    (tmp_path / "keys").write_text("33" * 32)
    (tmp_path / "events").write_text("22" * 32)
    settings = JpkiSettings(database=DatabaseSettings(url=new_database()),
                            hsm=HsmSettings(token_label=TOKEN, user_pin_file=tmp_path / "pin", softhsm_data_dir=data),
                            http=HttpSettings(public_base_url="http://127.0.0.1:9"), keys_file=tmp_path / "keys",
                            events_key_file=tmp_path / "events")
    migrate(settings.database.resolved_url(), MIGRATIONS)
    jpki = await build(settings, hsm=h)
    prefix = jpki.authorities.label_prefix = f"i{os.getpid()}-{secrets.token_hex(3)}-"
    try:
        # The first attempt died between generating the 署名用 CA key and committing its certificate.
        orphan = await asyncio.to_thread(h.generate_rsa, f"{prefix}jpki-sign-ca-1")
        result = await run_ceremony(settings, so_pin="12345678", actor="operator:test", out_dir=tmp_path,
                                    jpki=jpki)
        assert set(result.created) == {CaKind.SIGN, CaKind.AUTH}
        assert jpki.authorities.authority(CaKind.SIGN).cert.public_key() == orphan.public_key
        async with jpki.engine.begin() as conn:
            actions = list((await conn.execute(sa.select(m.audit_log.c.action, m.audit_log.c.subject_ref)
                                               .order_by(m.audit_log.c.seq))).all())
        assert ("key.adopted", f"{prefix}jpki-sign-ca-1") in actions
        assert ("key.generated", f"{prefix}jpki-auth-ca-1") in actions
        # Run again: nothing new, not even an ARL.
        again = await run_ceremony(settings, so_pin="12345678", actor="operator:test", out_dir=tmp_path,
                                   jpki=jpki)
        assert again.created == []
        async with jpki.engine.begin() as conn:
            after = (await conn.execute(sa.select(sa.func.count()).select_from(m.audit_log))).scalar_one()
        assert after == len(actions)
    finally:
        await jpki.close()
