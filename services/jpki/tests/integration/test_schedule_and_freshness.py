"""Time-driven behaviour: a status change reaches the HTTP responder within the configured delay, and CRLs are
regenerated on their schedule (full every full interval, deltas in between) and on demand."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as cocsp
from jpki.app import Background
from jpki.domain import RevocationCause
from jpki.http_api import HttpFront, Snapshot
from jpki.profiles import CaKind
from mynumber_runtime.clock import FixedClock

from .conftest import OPERATOR, Ca, fetch, issue_pair


def _ocsp_request(ca: Ca, der: bytes) -> bytes:
    cert = x509.load_der_x509_certificate(der)
    return cocsp.OCSPRequestBuilder().add_certificate(
        cert, ca.authority(CaKind.AUTH).cert, hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)


async def _status(ca: Ca, req: bytes) -> cocsp.OCSPCertStatus:
    status, ctype, body = await fetch(ca, "/ocsp", ca.token, body=req)
    assert status == 200 and ctype == "application/ocsp-response"
    return cocsp.load_der_ocsp_response(body).certificate_status


async def test_a_revocation_reaches_the_responder_within_the_configured_delay(ca: Ca) -> None:
    auth, _ = await issue_pair(ca, "card-fresh-1", resident_code="30000000001")
    req = _ocsp_request(ca, auth.cert_der)
    # The responder's own poller (not a test-driven refresh) must bring every change in.
    deadline = time.monotonic() + ca.settings.ocsp_status_delay_s
    while await _status(ca, req) is not cocsp.OCSPCertStatus.GOOD:
        assert time.monotonic() < deadline, "a new certificate did not reach the responder in time"
        await asyncio.sleep(0.05)

    await ca.revoke(CaKind.AUTH, auth.serial, RevocationCause.HOLDER_REQUEST, caller=OPERATOR)
    revoked_at = time.monotonic()
    while (st := await _status(ca, req)) is cocsp.OCSPCertStatus.GOOD:
        assert time.monotonic() - revoked_at < ca.settings.ocsp_status_delay_s, \
            f"the revocation was not visible within {ca.settings.ocsp_status_delay_s} s"
        await asyncio.sleep(0.05)
    assert st is cocsp.OCSPCertStatus.REVOKED


async def _crl_number(ca: Ca, path: str) -> int:
    status, ctype, der = await fetch(ca, path, ca.token)
    assert status == 200 and ctype == "application/pkix-crl", (path, status)
    return x509.load_der_x509_crl(der).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


async def test_crls_follow_their_schedule_and_can_be_forced(ca: Ca) -> None:
    await issue_pair(ca, "card-sched-1", resident_code="30000000002")
    tuning = ca.jpki.authorities.tuning
    clock = FixedClock(dt.datetime.now(dt.UTC))
    saved = ca.jpki.authorities.clock
    ca.jpki.authorities.clock = clock
    try:
        assert await ca.generate_due_crls(force=True) > 0  # on demand: every full CRL and the ARLs
        await ca.refresh()
        full = await _crl_number(ca, "/crl/auth/131016.crl")
        arl = await _crl_number(ca, "/arl/auth.crl")

        # Right after the full CRLs the first deltas are due, then nothing until the delta interval passes.
        first_deltas = await ca.generate_due_crls()
        assert first_deltas > 0
        assert await ca.generate_due_crls() == 0
        clock.advance(tuning.delta_crl_interval - dt.timedelta(seconds=1))
        assert await ca.generate_due_crls() == 0
        await ca.refresh()
        delta = await _crl_number(ca, "/crl/auth/131016-delta.crl")

        clock.advance(dt.timedelta(seconds=1))
        assert await ca.generate_due_crls() == first_deltas  # deltas again, no full CRL yet
        await ca.refresh()
        assert await _crl_number(ca, "/crl/auth/131016-delta.crl") > delta
        assert await _crl_number(ca, "/crl/auth/131016.crl") == full

        # The background loop does the same on its own once the full interval has passed.
        clock.advance(tuning.full_crl_interval)
        background_stop = asyncio.Event()
        task = asyncio.create_task(Background(ca.jpki, tick_s=0.1).run(background_stop))
        try:
            deadline = time.monotonic() + 30
            while True:
                await ca.refresh()
                if await _crl_number(ca, "/crl/auth/131016.crl") > full:
                    break
                assert time.monotonic() < deadline, "the background schedule made no new full CRL"
                await asyncio.sleep(0.1)
        finally:
            background_stop.set()
            await task
        assert await _crl_number(ca, "/arl/auth.crl") > arl
    finally:
        ca.jpki.authorities.clock = saved


async def test_a_responder_whose_statuses_go_stale_reports_unready(ca: Ca) -> None:
    status, ctype, body = await fetch(ca, "/healthz")
    assert (status, ctype, body) == (200, "text/plain; charset=utf-8", b"ok\n")

    snapshot = Snapshot(ca.jpki.units)
    front = HttpFront(snapshot, stale_after_s=5)
    assert front.health() == (False, "not loaded")
    await snapshot.refresh()
    assert front.health() == (True, "ok")
    assert snapshot.refreshed_at is not None
    snapshot.refreshed_at -= 60  # as if the database had been unreachable for a minute
    ok, why = front.health()
    assert not ok and why.startswith("statuses are 60 s old")
    await snapshot.refresh()
    assert front.health() == (True, "ok")
