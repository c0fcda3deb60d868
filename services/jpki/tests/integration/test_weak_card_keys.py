"""IssueCertificate refuses a CSR whose key a broken card generator made: a small prime factor, close primes
(Fermat). The refusal is INVALID_ARGUMENT, reason WEAK_KEY, naming the field and the rule; nothing is recorded."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jpki import models as m
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.grpc_server import error_reason

from ..unit.weak_keys import close_primes_key, small_factor_key
from .conftest import Ca, channel, resident


def _csr(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


async def _count(ca: Ca) -> int:
    async with ca.jpki.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(m.certificates))).scalar_one())


@pytest.mark.parametrize(("make", "rule"), [
    (small_factor_key, "csr: RSA modulus has a small prime factor"),
    (close_primes_key, "csr: RSA modulus factors by Fermat's method (its primes are too close)"),
])
async def test_issue_refuses_a_csr_with_a_weak_card_key(ca: Ca, grpc_target: str, make: object, rule: str) -> None:
    key = make()  # type: ignore[operator]
    before = await _count(ca)
    req = pb.IssueCertificateRequest(
        ca=pb.CA_KIND_AUTH, card_id="card-weak-key", resident_code=resident("50000000001"),
        municipality_code="131016", prefecture_name="東京都", municipality_name="千代田区", birth_date="1980-12-31",
        card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(), csr=_csr(key))
    async with channel(grpc_target, "service:issuance") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.CertificateAuthorityServiceStub(ch).IssueCertificate(req, timeout=30)
    e = refused.value
    assert e.code() is grpc.StatusCode.INVALID_ARGUMENT and error_reason(e) == "WEAK_KEY"
    assert e.details() == rule
    assert await _count(ca) == before  # refused before anything is recorded or signed
