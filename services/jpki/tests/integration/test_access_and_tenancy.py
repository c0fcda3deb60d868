"""Who may call what (allow-lists by identity), whose certificates a caller may act on (tenancy through the
runtime's `grant`, "not yours" answered exactly like "unknown"), validation at the edge, and poison events."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from jpki import events, handlers
from jpki import models as m
from jpki.profiles import CaKind, Partition
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.resident.v1 import events_pb2 as rev
from mynumber_runtime import deadletters
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.streams import ensure_stream
from mynumber_runtime.testing.identities import nats_connect

from .conftest import Ca, card_key, channel, issue_pair, resident, spki

SAPPORO = Partition("011002", "北海道", "札幌市")
UNKNOWN_SERIAL = "abcdef0123456789abcdef01"
SERVICE = "/mynumber.jpki.v1."
RESPONSES = {r.DESCRIPTOR.name: r for r in (
    pb.IssueCertificateResponse, pb.RevokeCertificateResponse, pb.ReleaseHoldResponse, pb.SuspendCardResponse,
    pb.ResumeCardResponse, pb.GetCertificateResponse, pb.GenerateCrlsResponse, pb.VerifyAuditChainResponse,
    pb.CheckCertificateStatusResponse, pb.RegisterVerifierResponse, pb.DeregisterVerifierResponse,
    pb.ListVerifiersResponse)}


async def _call(target: str, caller: str, method: str, request: object) -> grpc.aio.AioRpcError | None:
    """One call by full method name; the error, or None on success."""
    name = method.split("/")[1]
    response = RESPONSES[f"{name}Response"]
    async with channel(target, caller) as ch:
        rpc = ch.unary_unary(f"{SERVICE}{method}", request_serializer=lambda r: r.SerializeToString(),
                             response_deserializer=response.FromString)
        try:
            await rpc(request, timeout=30)
        except grpc.aio.AioRpcError as e:
            return e
    return None


def _same_refusal(a: grpc.aio.AioRpcError | None, b: grpc.aio.AioRpcError | None) -> None:
    assert a is not None and b is not None
    assert (a.code(), a.details(), error_reason(a)) == (b.code(), b.details(), error_reason(b))


# Who may reach each method (grpc_api.bindings). Everything else is refused by the interceptor.
ALLOWED = {
    "CertificateAuthorityService/IssueCertificate": {"service:issuance", "operator:x"},
    "CertificateAuthorityService/RevokeCertificate": {"service:issuance", "municipality:131016", "operator:x"},
    "CertificateAuthorityService/ReleaseHold": {"service:issuance", "municipality:131016", "operator:x"},
    "CertificateAuthorityService/SuspendCard": {"service:issuance", "municipality:131016", "operator:x"},
    "CertificateAuthorityService/ResumeCard": {"service:issuance", "municipality:131016", "operator:x"},
    "CertificateAuthorityService/GetCertificate": {"service:issuance", "municipality:131016", "operator:x"},
    "CertificateAuthorityService/GenerateCrls": {"operator:x"},
    "CertificateAuthorityService/VerifyAuditChain": {"operator:x"},
    "CertificateStatusService/CheckCertificateStatus": {"verifier:v-0000000000000000", "service:convenience-cert",
                                                        "service:gateway", "operator:x"},
    "VerifierRegistryService/RegisterVerifier": {"operator:x"},
    "VerifierRegistryService/DeregisterVerifier": {"operator:x"},
    "VerifierRegistryService/ListVerifiers": {"operator:x"},
}
CALLERS = ["service:issuance", "service:notice", "service:numbering", "service:convenience-cert", "service:gateway",
           "municipality:131016", "operator:x", "verifier:v-0000000000000000", "store-terminal:7-11-000123",
           "agency:000001"]
# Requests that fail validation (or do nothing) once past the allow-list, so that nothing is signed here.
PROBES = {
    "IssueCertificate": pb.IssueCertificateRequest(), "RevokeCertificate": pb.RevokeCertificateRequest(),
    "ReleaseHold": pb.ReleaseHoldRequest(), "SuspendCard": pb.SuspendCardRequest(),
    "ResumeCard": pb.ResumeCardRequest(), "GetCertificate": pb.GetCertificateRequest(),
    "GenerateCrls": pb.GenerateCrlsRequest(ca=99), "VerifyAuditChain": pb.VerifyAuditChainRequest(),
    "CheckCertificateStatus": pb.CheckCertificateStatusRequest(), "RegisterVerifier": pb.RegisterVerifierRequest(),
    "DeregisterVerifier": pb.DeregisterVerifierRequest(), "ListVerifiers": pb.ListVerifiersRequest(),
}


async def test_each_method_admits_only_the_callers_its_role_names(grpc_target: str) -> None:
    for method, allowed in ALLOWED.items():
        for caller in CALLERS:
            err = await _call(grpc_target, caller, method, PROBES[method.split("/")[1]])
            refused_at_door = err is not None and err.code() is grpc.StatusCode.PERMISSION_DENIED and \
                "may not call" in (err.details() or "")
            assert refused_at_door is (caller not in allowed), (method, caller, err and err.details())


async def _issue_grpc(target: str, card_id: str, code: str, where: Partition, caller: str = "service:issuance"
                      ) -> tuple[str, str]:
    """Both certificates of a card over gRPC: (auth serial, sign serial)."""
    serials = []
    for kind in (pb.CA_KIND_AUTH, pb.CA_KIND_SIGN):
        req = pb.IssueCertificateRequest(
            ca=kind, card_id=card_id, resident_code=resident(code), municipality_code=where.municipality_code,
            prefecture_name=where.prefecture, municipality_name=where.municipality, birth_date="1980-12-31",
            card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(), public_key=spki(card_key()))
        if kind == pb.CA_KIND_SIGN:
            req.facts.CopyFrom(pb.BasicFacts(name="山田　太郎", birth_date="1980-12-31", sex=1,
                                             address=where.prefecture + where.municipality + "１"))
        async with channel(target, caller) as ch:
            rpc = ch.unary_unary(f"{SERVICE}CertificateAuthorityService/IssueCertificate",
                                 request_serializer=lambda r: r.SerializeToString(),
                                 response_deserializer=pb.IssueCertificateResponse.FromString)
            serials.append((await rpc(req, timeout=30)).serial_hex)
    return serials[0], serials[1]


async def test_a_municipality_acts_on_its_own_residents_certificates_and_others_look_unknown(
        ca: Ca, grpc_target: str) -> None:
    tokyo = "municipality:131016"
    own_auth, own_sign = await _issue_grpc(grpc_target, "card-ten-own", "40000000001", Partition(
        "131016", "東京都", "千代田区"))
    other_auth, other_sign = await _issue_grpc(grpc_target, "card-ten-other", "40000000002", SAPPORO)
    ca_auth = "CertificateAuthorityService/"

    # Another municipality's certificate answers exactly like a serial that was never issued: same code,
    # reason and message, for reading, revoking and releasing.
    for method, make in (
            ("GetCertificate", lambda s: pb.GetCertificateRequest(ca=pb.CA_KIND_SIGN, serial_hex=s)),
            ("RevokeCertificate", lambda s: pb.RevokeCertificateRequest(
                ca=pb.CA_KIND_SIGN, serial_hex=s, cause=pb.REVOCATION_CAUSE_HOLDER_REQUEST)),
            ("ReleaseHold", lambda s: pb.ReleaseHoldRequest(ca=pb.CA_KIND_SIGN, serial_hex=s))):
        foreign = await _call(grpc_target, tokyo, ca_auth + method, make(other_sign))
        unknown = await _call(grpc_target, tokyo, ca_auth + method, make(UNKNOWN_SERIAL))
        _same_refusal(foreign, unknown)
        assert foreign is not None and foreign.code() is grpc.StatusCode.NOT_FOUND
    for method, req_type in (("SuspendCard", pb.SuspendCardRequest), ("ResumeCard", pb.ResumeCardRequest)):
        foreign = await _call(grpc_target, tokyo, ca_auth + method, req_type(card_id="card-ten-other"))
        unknown = await _call(grpc_target, tokyo, ca_auth + method, req_type(card_id="card-never-issued"))
        _same_refusal(foreign, unknown)
    # ...and nothing happened to the other municipality's resident.
    assert (await ca.status(CaKind.SIGN, int(other_sign, 16))).status == m.GOOD
    assert (await ca.status(CaKind.AUTH, int(other_auth, 16))).status == m.GOOD

    # Its own resident's certificates it reads, suspends, resumes and revokes (the 住所地市町村長's counter).
    assert await _call(grpc_target, tokyo, ca_auth + "GetCertificate",
                       pb.GetCertificateRequest(ca=pb.CA_KIND_SIGN, serial_hex=own_sign)) is None
    assert await _call(grpc_target, tokyo, ca_auth + "SuspendCard", pb.SuspendCardRequest(card_id="card-ten-own")) \
        is None
    assert await _call(grpc_target, tokyo, ca_auth + "ResumeCard", pb.ResumeCardRequest(card_id="card-ten-own")) \
        is None
    assert await _call(grpc_target, tokyo, ca_auth + "RevokeCertificate", pb.RevokeCertificateRequest(
        ca=pb.CA_KIND_AUTH, serial_hex=own_auth, cause=pb.REVOCATION_CAUSE_HOLDER_REQUEST)) is None
    # The basis each act rested on is in the audit chain.
    async with ca.jpki.engine.begin() as conn:
        details = [r.details for r in (await conn.execute(
            sa.select(m.audit_log.c.details).where(m.audit_log.c.actor == tokyo))).all()]
    assert details and all(d["basis"] == "own_register" for d in details)


async def test_the_issuing_service_and_operators_act_for_every_municipality(ca: Ca, grpc_target: str) -> None:
    _, sign = await _issue_grpc(grpc_target, "card-ten-any", "40000000011", SAPPORO)
    for caller in ("service:issuance", "operator:x"):
        assert await _call(grpc_target, caller, "CertificateAuthorityService/GetCertificate",
                           pb.GetCertificateRequest(ca=pb.CA_KIND_SIGN, serial_hex=sign)) is None


async def test_refusals_about_the_cause_do_not_tell_whether_a_serial_exists(ca: Ca, grpc_target: str) -> None:
    auth, _ = await _issue_grpc(grpc_target, "card-ten-cause", "40000000021", SAPPORO)
    method = "CertificateAuthorityService/RevokeCertificate"
    # A 署名用-only cause on a 利用者証明用 serial: the same answer for a real and an unknown serial.
    real = await _call(grpc_target, "operator:x", method, pb.RevokeCertificateRequest(
        ca=pb.CA_KIND_AUTH, serial_hex=auth, cause=pb.REVOCATION_CAUSE_FACTS_CHANGED))
    unknown = await _call(grpc_target, "operator:x", method, pb.RevokeCertificateRequest(
        ca=pb.CA_KIND_AUTH, serial_hex=UNKNOWN_SERIAL, cause=pb.REVOCATION_CAUSE_FACTS_CHANGED))
    _same_refusal(real, unknown)
    assert real is not None and real.code() is grpc.StatusCode.INVALID_ARGUMENT
    # Ex officio causes are J-LIS's: the issuing service is refused before any look-up, the same either way.
    real = await _call(grpc_target, "service:issuance", method, pb.RevokeCertificateRequest(
        ca=pb.CA_KIND_AUTH, serial_hex=auth, cause=pb.REVOCATION_CAUSE_RECORD_ERROR))
    unknown = await _call(grpc_target, "service:issuance", method, pb.RevokeCertificateRequest(
        ca=pb.CA_KIND_AUTH, serial_hex=UNKNOWN_SERIAL, cause=pb.REVOCATION_CAUSE_RECORD_ERROR))
    _same_refusal(real, unknown)
    assert real is not None and real.code() is grpc.StatusCode.PERMISSION_DENIED
    assert (await ca.status(CaKind.AUTH, int(auth, 16))).status == m.GOOD


def _issue(**change: object) -> pb.IssueCertificateRequest:
    req = pb.IssueCertificateRequest(
        ca=pb.CA_KIND_AUTH, card_id="card-edge-1", resident_code=resident("40000000031"), municipality_code="131016",
        prefecture_name="東京都", municipality_name="千代田区", birth_date="1980-12-31",
        card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(), public_key=spki(card_key()))
    for k, v in change.items():
        setattr(req, k, v)
    return req


@pytest.mark.parametrize(("change", "field"), [
    ({"resident_code": "１２３４５６７８９０１"}, "resident_code"),  # full-width digits are no 住民票コード
    ({"resident_code": resident("40000000031")[:10] + str((int(resident("40000000031")[10]) + 1) % 10)},
     "resident_code"),  # wrong check digit
    ({"municipality_code": "131017"}, "municipality_code"),  # wrong JIS X 0402 check digit
    ({"municipality_code": "481008"}, "municipality_code"),  # no prefecture 48
    ({"municipality_name": "大阪市"}, "municipality_name"),  # not the name of 131016
    ({"prefecture_name": "大阪府"}, "prefecture_name"),
    ({"municipality_name": "千代田区\x00"}, "municipality_name"),
    ({"card_id": "qx\x00qx"}, "card_id"), ({"card_id": "カード"}, "card_id"),
    ({"card_id": "c" * 1_000_000}, "card_id"),
    ({"birth_date": "1980-12-31\x00"}, "birth_date"), ({"card_expiry": "2001-01-01"}, "card_expiry"),
    ({"public_key": b"\x30" * 1_000_000}, "public_key"),
])
async def test_issuance_requests_are_refused_at_the_edge_naming_field_and_rule(
        grpc_target: str, change: dict[str, object], field: str) -> None:
    err = await _call(grpc_target, "service:issuance", "CertificateAuthorityService/IssueCertificate",
                      _issue(**change))
    assert err is not None and err.code() is grpc.StatusCode.INVALID_ARGUMENT, err and err.details()
    details = err.details() or ""
    assert details.startswith(f"{field}: ") and len(details) > len(field) + 4
    for value in change.values():
        text = value if isinstance(value, str) else ""
        assert not (len(text) >= 4 and text[:4] in details)


@pytest.mark.parametrize("serial", ["0x1f", " 1f", "1_f", "+1f", "-1", "0", "1" * 41, "ｆｆ", "1f\x00"])
async def test_serials_that_are_not_plain_hex_are_invalid_not_looked_up(grpc_target: str, serial: str) -> None:
    err = await _call(grpc_target, "operator:x", "CertificateAuthorityService/GetCertificate",
                      pb.GetCertificateRequest(ca=pb.CA_KIND_AUTH, serial_hex=serial))
    assert err is not None and err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith("serial_hex: ")


@pytest.mark.parametrize(("method", "message"), [
    ("CertificateAuthorityService/SuspendCard", pb.SuspendCardRequest(card_id="card\x00x")),
    ("VerifierRegistryService/DeregisterVerifier", pb.DeregisterVerifierRequest(verifier_id="v-\x00")),
    ("VerifierRegistryService/RegisterVerifier", pb.RegisterVerifierRequest(
        kind=pb.VERIFIER_KIND_USER_VERIFIER, organization="組織\x00", filing_ref="36-1-0001")),
    ("VerifierRegistryService/RegisterVerifier", pb.RegisterVerifierRequest(
        kind=pb.VERIFIER_KIND_USER_VERIFIER, organization="組織", filing_ref="f" * 1_000_000)),
])
async def test_nul_bytes_and_huge_strings_never_reach_the_database(grpc_target: str, method: str,
                                                                   message: object) -> None:
    err = await _call(grpc_target, "operator:x", method, message)
    assert err is not None and err.code() is grpc.StatusCode.INVALID_ARGUMENT, err and err.details()


async def test_a_mutated_certificate_is_invalid_argument_not_internal(ca: Ca, grpc_target: str) -> None:
    auth, _ = await issue_pair(ca, "card-edge-2", resident_code="40000000041")
    seen = set()
    # Flips across the TBS (serial, issuer name): cryptography parses lazily, so some fail only when read.
    for at in range(20, 200, 7):
        bad = bytearray(auth.cert_der)
        bad[at] ^= 0x3F
        err = await _call(grpc_target, "operator:x", "CertificateStatusService/CheckCertificateStatus",
                          pb.CheckCertificateStatusRequest(certificate=bytes(bad)))
        if err is not None:
            seen.add(err.code())
            assert err.code() is not grpc.StatusCode.INTERNAL, at
    assert grpc.StatusCode.INVALID_ARGUMENT in seen


async def _consume(ca: Ca, nats_url: str, durable: str, payloads: list[tuple[str, bytes]]
                   ) -> tuple[IdempotentConsumer, dict[str, str]]:
    """Publish `payloads` (message id, data), run a consumer over them; the consumer and the dead letters it
    parked (message id -> reason)."""
    # As in production: jpki consumes, the resident service publishes, the operator purges and reads dead letters.
    nc, resident_nc, operator_nc = [await nats_connect(u, nats_url) for u in ("jpki", "resident", "operator")]
    try:
        js, operator_js = nc.jetstream(), operator_nc.jetstream()
        stream = await ensure_stream(js, events.RESIDENT_SERVICE)
        consumer = IdempotentConsumer(js=js, engine=ca.jpki.engine, table=m.processed_events, stream=stream,
                                      durable=durable, filter_subject=events.RESIDENT_FACTS_CHANGED,
                                      handler=handlers.facts_changed_handler(
                                          ca.jpki.revocation, events.ResidentEventSealer(
                                              bytes.fromhex(ca.settings.events_key_file.read_text()))),
                                      service="jpki")
        # Only this test's events: the stream is shared by this run's tests, whose consumers start from the
        # beginning, so it is emptied before and after.
        await operator_js.purge_stream(stream)
        for msg_id, data in payloads:
            await resident_nc.jetstream().publish(events.RESIDENT_FACTS_CHANGED, data,
                                                  headers={"Nats-Msg-Id": msg_id})
        for _ in range(20):
            await consumer.run_once(timeout=0.5)
            if consumer.handled + consumer.duplicates + consumer.dead_lettered >= len(payloads):
                break
        await operator_js.purge_stream(stream)
        ids = {p[0] for p in payloads}
        # str(): nats-py hands back a header value with non-ASCII text (a rule naming 住民票コード) as an
        # email.header.Header, not a str (runtime deadletters.letters passes it through).
        letters = {str(x.original_msg_id): str(x.reason) async for x in deadletters.letters(operator_js, "jpki")
                   if x.original_msg_id in ids}
    finally:
        for c in (nc, resident_nc, operator_nc):
            await c.close()
    return consumer, letters


async def test_facts_changed_events_failing_validation_are_poison_and_revoke_nothing(ca: Ca, nats_url: str) -> None:
    _, sign = await issue_pair(ca, "card-poison-1", resident_code="40000000051")
    sealer = events.ResidentEventSealer(bytes.fromhex(ca.settings.events_key_file.read_text()))
    now = dt.datetime.now(dt.UTC)
    code = resident("40000000051")
    good = events.resident_facts_changed(sealer, change_id="p-0", municipality_code="131016", resident_code=code,
                                         facts=[rev.FACT_NAME], at=now)
    unknown_body = rev.ResidentFactsChanged()
    unknown_body.CopyFrom(good)
    unknown_body.municipality_code = "131017"  # no such body (check digit)
    bad_check = events.resident_facts_changed(sealer, change_id="p-2", municipality_code="131016",
                                              resident_code=code[:10] + str((int(code[10]) + 1) % 10),
                                              facts=[rev.FACT_NAME], at=now)
    nul_id = rev.ResidentFactsChanged()
    nul_id.CopyFrom(good)
    nul_id.change_id = "p\x003"
    consumer, letters = await _consume(ca, nats_url, "jpki-poison-test", [
        ("p-1", unknown_body.SerializeToString()), ("p-2", bad_check.SerializeToString()),
        ("p-3", nul_id.SerializeToString()), ("p-4", b"\x0a\xff\xff")])
    # Each was parked in the dead-letter stream with the rule it broke, none left to be redelivered forever...
    assert (consumer.handled, consumer.dead_lettered) == (0, 4)
    assert letters["p-1"].startswith("municipality_code: ") and letters["p-2"].startswith(
        "sealed_resident.resident_code: ") and letters["p-3"].startswith("change_id: ")
    assert letters["p-4"].startswith("payload: ")
    assert not any("131017" in r or code[:6] in r for r in letters.values())
    # ...and the resident's 署名用 certificate stands.
    assert (await ca.status(CaKind.SIGN, sign.serial)).status == m.GOOD
