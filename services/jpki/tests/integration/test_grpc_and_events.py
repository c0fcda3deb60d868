"""The gRPC contract with caller identities, and the resident-change event that revokes 署名用 certificates."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from cryptography import x509
from jpki import events, handlers
from jpki import models as m
from jpki.profiles import CaKind
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber.resident.v1 import events_pb2 as rev
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.streams import open_stream
from mynumber_runtime.testing.identities import grpc_channel, nats_connect

from .conftest import Ca, card_key, issue_pair, resident, spki


def _issue_request(kind: int, card_id: str, resident_code: str, *, with_facts: bool) -> pb.IssueCertificateRequest:
    req = pb.IssueCertificateRequest(
        ca=kind, card_id=card_id, resident_code=resident(resident_code), municipality_code="011002",
        prefecture_name="北海道", municipality_name="札幌市", birth_date="1990-04-01",
        card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(), public_key=spki(card_key()))
    if with_facts:
        req.facts.CopyFrom(pb.BasicFacts(name="佐藤　一郎", birth_date="1990-04-01", sex=1,
                                         address="北海道札幌市中央区北１条西２丁目"))
    return req


async def test_issuance_service_issues_over_grpc_and_a_verifier_checks_status(ca: Ca, grpc_target: str) -> None:
    async with grpc_channel("service:issuance", grpc_target) as ch:
        stub = pb_grpc.CertificateAuthorityServiceStub(ch)
        auth = await stub.IssueCertificate(_issue_request(pb.CA_KIND_AUTH, "card-grpc-1", "30000000001",
                                                          with_facts=False))
        sign = await stub.IssueCertificate(_issue_request(pb.CA_KIND_SIGN, "card-grpc-1", "30000000001",
                                                          with_facts=True))
        assert x509.load_der_x509_certificate(sign.certificate).serial_number == int(sign.serial_hex, 16)
        assert sign.not_after.ToDatetime() <= auth.not_after.ToDatetime()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.IssueCertificate(_issue_request(pb.CA_KIND_SIGN, "card-grpc-1", "30000000001",
                                                       with_facts=False))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "facts" in (err.value.details() or "")
        bad = _issue_request(pb.CA_KIND_AUTH, "card-grpc-2", "30000000002", with_facts=False)
        bad.public_key = b"\x01\x02"
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.IssueCertificate(bad)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "public_key" in (err.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetCertificate(pb.GetCertificateRequest(ca=pb.CA_KIND_SIGN, serial_hex="abcdef0123456789"))
        assert err.value.code() is grpc.StatusCode.NOT_FOUND
        revoked = await stub.RevokeCertificate(pb.RevokeCertificateRequest(
            ca=pb.CA_KIND_SIGN, serial_hex=sign.serial_hex, cause=pb.REVOCATION_CAUSE_HOLDER_REQUEST))
        assert revoked.status.state == pb.CERTIFICATE_STATE_REVOKED

    async with grpc_channel("operator:sre-1", grpc_target) as ch:
        reg = pb_grpc.VerifierRegistryServiceStub(ch)
        user_v = await reg.RegisterVerifier(pb.RegisterVerifierRequest(
            kind=pb.VERIFIER_KIND_USER_VERIFIER, organization="コンビニ交付センター", filing_ref="36-1-0007"))
        assert user_v.token and user_v.verifier.verifier_id.startswith("v-")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await reg.RegisterVerifier(pb.RegisterVerifierRequest(kind=pb.VERIFIER_KIND_USER_VERIFIER,
                                                                  organization="x", filing_ref=""))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "filing_ref" in (err.value.details() or "")

    async with grpc_channel(f"verifier:{user_v.verifier.verifier_id}", grpc_target) as ch:
        status = pb_grpc.CertificateStatusServiceStub(ch)
        got = await status.CheckCertificateStatus(pb.CheckCertificateStatusRequest(certificate=auth.certificate))
        assert got.status.state == pb.CERTIFICATE_STATE_GOOD
        # A 利用者証明検証者 is not entitled to 署名用 status.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await status.CheckCertificateStatus(pb.CheckCertificateStatusRequest(certificate=sign.certificate))
        assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
        # Nor may a verifier issue anything.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.CertificateAuthorityServiceStub(ch).IssueCertificate(
                _issue_request(pb.CA_KIND_AUTH, "card-grpc-3", "30000000003", with_facts=False))
        assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED

    async with grpc_channel("verifier:v-unregistered", grpc_target) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.CertificateStatusServiceStub(ch).CheckCertificateStatus(
                pb.CheckCertificateStatusRequest(certificate=auth.certificate))
        assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED and error_reason(err.value) == "UNKNOWN_VERIFIER"

    async with grpc_channel("service:notice", grpc_target) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.CertificateAuthorityServiceStub(ch).RevokeCertificate(pb.RevokeCertificateRequest(
                ca=pb.CA_KIND_AUTH, serial_hex=auth.serial_hex, cause=pb.REVOCATION_CAUSE_DEATH))
        assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_resident_facts_changed_event_revokes_the_signing_certificate_only(ca: Ca, nats_url: str) -> None:
    auth, sign = await issue_pair(ca, "card-event-1", resident_code="30000000011")
    other_auth, other_sign = await issue_pair(ca, "card-event-2", resident_code="30000000012")
    key = bytes.fromhex(ca.settings.events_key_file.read_text())
    sealer = events.ResidentEventSealer(key)
    nc = await nats_connect("jpki", nats_url)  # jpki consumes; the resident service publishes
    resident_nc = await nats_connect("resident", nats_url)
    try:
        js = nc.jetstream()
        stream = await open_stream(js, events.RESIDENT_SERVICE)
        consumer = IdempotentConsumer(js=js, engine=ca.jpki.engine, table=m.processed_events, stream=stream,
                                      durable="jpki-facts-changed-test", filter_subject=events.RESIDENT_FACTS_CHANGED,
                                      handler=handlers.facts_changed_handler(ca.jpki.revocation, sealer),
                                      service="jpki")
        event = events.resident_facts_changed(sealer, change_id="chg-1", municipality_code="131016",
                                              resident_code=resident("30000000011"), facts=[rev.FACT_ADDRESS],
                                              at=dt.datetime.now(dt.UTC))
        rjs = resident_nc.jetstream()
        await rjs.publish(events.RESIDENT_FACTS_CHANGED, event.SerializeToString(), headers={"Nats-Msg-Id": "chg-1"})
        # A garbage event is dead-lettered, never retried forever.
        await rjs.publish(events.RESIDENT_FACTS_CHANGED, b"\xff\xfe", headers={"Nats-Msg-Id": "chg-garbage"})
        handled = 0
        for _ in range(20):
            handled += await consumer.run_once(timeout=1.0)
            if handled >= 2:
                break
        assert (consumer.handled, consumer.dead_lettered) == (1, 1)
    finally:
        await nc.close()
        await resident_nc.close()
    s = await ca.status(CaKind.SIGN, sign.serial)
    assert s.status == m.REVOKED and s.cause == "facts_changed" and s.reason is x509.ReasonFlags.affiliation_changed
    assert (await ca.status(CaKind.AUTH, auth.serial)).status == m.GOOD
    assert (await ca.status(CaKind.SIGN, other_sign.serial)).status == m.GOOD
    assert (await ca.status(CaKind.AUTH, other_auth.serial)).status == m.GOOD
    await ca.refresh()
    from cryptography.x509 import ocsp as cocsp

    resp = cocsp.load_der_ocsp_response(ca.snapshot.store.get("sign", sign.serial) or b"")
    assert resp.certificate_status is cocsp.OCSPCertStatus.REVOKED
