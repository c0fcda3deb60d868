"""IssueCertificate with an idempotency key (a retry returns the same certificate, never a second one; the same key
with another request is refused) and on hold (the card centre certifies both keys before the hand-over)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.x509 import ocsp as cocsp
from jpki import models as m
from jpki.errors import IdempotencyKeyReused
from jpki.profiles import CaKind
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.testing.identities import grpc_channel

from .conftest import ISSUANCE, Ca, card_key, request, resident, spki


async def _count(ca: Ca, card_id: str) -> dict[str, int]:
    async with ca.jpki.engine.begin() as conn:
        rows = (await conn.execute(sa.select(m.certificates.c.ca_kind, sa.func.count()).where(
            m.certificates.c.card_id == card_id).group_by(m.certificates.c.ca_kind))).all()
    return {str(k): int(n) for k, n in rows}


async def _ocsp(ca: Ca, kind: CaKind, serial: int) -> cocsp.OCSPResponse:
    await ca.refresh()
    return cocsp.load_der_ocsp_response(ca.snapshot.store.get(kind.value, serial) or b"")


async def test_a_retry_under_the_same_key_returns_the_same_certificate(ca: Ca) -> None:
    key = card_key()
    req = request(CaKind.AUTH, "card-idem-1", key=key, resident_code="41000000001",
                  idempotency_key="app-0001:auth")
    first = await ca.issue(req, caller=ISSUANCE)
    again = await ca.issue(req, caller=ISSUANCE)
    assert (again.serial, again.cert_der, again.replayed) == (first.serial, first.cert_der, True)
    assert first.replayed is False
    assert await _count(ca, "card-idem-1") == {"auth": 1}
    # The same key with another request (another card key, or the same key pair for another card) is refused.
    for other in (dataclasses.replace(req, public_key_der=spki(card_key())),
                  dataclasses.replace(req, card_id="card-idem-1b"),
                  dataclasses.replace(req, on_hold=True)):
        with pytest.raises(IdempotencyKeyReused):
            await ca.issue(other, caller=ISSUANCE)
    assert await _count(ca, "card-idem-1") == {"auth": 1}
    assert await _count(ca, "card-idem-1b") == {}


async def test_a_certificate_recorded_but_never_signed_is_signed_by_the_retry(ca: Ca) -> None:
    """The CA's process died between recording the pending certificate and signing it: the retry signs that
    record (the same serial), and no second row exists."""
    req = request(CaKind.AUTH, "card-idem-2", resident_code="41000000002", idempotency_key="app-0002:auth")
    issued = await ca.issue(req, caller=ISSUANCE)
    # Put the row back as a crash would have left it: pending, unsigned.
    async with ca.jpki.engine.begin() as conn:
        await conn.execute(sa.update(m.certificates).where(m.certificates.c.card_id == "card-idem-2").values(
            status=m.PENDING, cert_der=None))
    again = await ca.issue(req, caller=ISSUANCE)
    assert again.serial == issued.serial and again.replayed is False
    assert x509.load_der_x509_certificate(again.cert_der).tbs_certificate_bytes == \
        x509.load_der_x509_certificate(issued.cert_der).tbs_certificate_bytes
    assert await _count(ca, "card-idem-2") == {"auth": 1}
    assert (await ca.status(CaKind.AUTH, issued.serial)).status == m.GOOD


async def test_a_certificate_issued_on_hold_is_held_in_ocsp_until_released(ca: Ca) -> None:
    auth = await ca.issue(request(CaKind.AUTH, "card-idem-3", resident_code="41000000003", on_hold=True,
                                  idempotency_key="app-0003:auth"), caller=ISSUANCE)
    sign = await ca.issue(request(CaKind.SIGN, "card-idem-3", resident_code="41000000003", on_hold=True,
                                  idempotency_key="app-0003:sign"), caller=ISSUANCE)
    for issued in (auth, sign):
        assert issued.status == m.HOLD
        s = await ca.status(issued.kind, issued.serial)
        assert s.status == m.HOLD and s.reason is x509.ReasonFlags.certificate_hold
        resp = await _ocsp(ca, issued.kind, issued.serial)
        assert resp.certificate_status is cocsp.OCSPCertStatus.REVOKED
        assert resp.revocation_reason is x509.ReasonFlags.certificate_hold
    # The hand-over releases the holds.
    await ca.resume_card("card-idem-3", caller=ISSUANCE)
    for issued in (auth, sign):
        assert (await ca.status(issued.kind, issued.serial)).status == m.GOOD
        assert (await _ocsp(ca, issued.kind, issued.serial)).certificate_status is cocsp.OCSPCertStatus.GOOD


def _grpc_request(key_der: bytes, idem: str, *, on_hold: bool) -> pb.IssueCertificateRequest:
    return pb.IssueCertificateRequest(
        ca=pb.CA_KIND_AUTH, card_id="card-idem-4", resident_code=resident("41000000004"), municipality_code="011002",
        prefecture_name="北海道", municipality_name="札幌市", birth_date="1990-04-01",
        card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(), public_key=key_der,
        idempotency_key=idem, on_hold=on_hold)


async def test_idempotent_issuance_over_grpc(ca: Ca, grpc_target: str) -> None:
    key_der = spki(card_key())
    async with grpc_channel("service:issuance", grpc_target) as ch:
        stub = pb_grpc.CertificateAuthorityServiceStub(ch)
        first = await stub.IssueCertificate(_grpc_request(key_der, "app-0004:auth", on_hold=True))
        again = await stub.IssueCertificate(_grpc_request(key_der, "app-0004:auth", on_hold=True))
        assert first.state == again.state == pb.CERTIFICATE_STATE_HOLD
        assert (again.serial_hex, again.certificate, again.replayed) == (first.serial_hex, first.certificate, True)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.IssueCertificate(_grpc_request(spki(card_key()), "app-0004:auth", on_hold=True))
        assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert error_reason(err.value) == "IDEMPOTENCY_KEY_REUSED"
        assert first.serial_hex not in (err.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.IssueCertificate(_grpc_request(key_der, "bad key!", on_hold=False))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert (err.value.details() or "").startswith("idempotency_key: ")
    assert await _count(ca, "card-idem-4") == {"auth": 1}


async def test_concurrent_first_calls_under_one_key_make_one_certificate(ca: Ca) -> None:
    import asyncio

    from jpki.domain import Issued
    from jpki.errors import IdempotencyKeyInFlight

    req = request(CaKind.AUTH, "card-idem-5", resident_code="41000000005", idempotency_key="app-0005:auth")
    results = await asyncio.gather(*(ca.issue(req, caller=ISSUANCE) for _ in range(3)), return_exceptions=True)
    issued = [r for r in results if isinstance(r, Issued)]
    assert issued and all(isinstance(r, Issued | IdempotencyKeyInFlight) for r in results), results
    assert len({r.serial for r in issued}) == 1
    assert await _count(ca, "card-idem-5") == {"auth": 1}
    # Whoever was told to retry gets that certificate.
    assert (await ca.issue(req, caller=ISSUANCE)).serial == issued[0].serial
