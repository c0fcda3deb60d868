"""Fuzzing every jpki RPC through the real gRPC server, and the HTTP front (OCSP, CRLs) over raw sockets.

What must hold for every case (issue 9): no INTERNAL or UNKNOWN; every INVALID_ARGUMENT names a field of the
request and a rule (`<field>: <rule>`); no status message echoes 4 or more characters of what was sent. Over HTTP:
never a 5xx nor an OCSP internalError, and every connection is answered or closed (no hang).

Refusals happen before the HSM signs, so most cases cost a gRPC round trip; the strategies that can produce a
request the CA signs (near-valid issuance, revocations of real serials, CRL generation) run fewer examples.
`FIGURES` counts the cases; the last test checks the total and prints it (docs/jpki.md records a run).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import re
import urllib.parse
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as cocsp
from cryptography.x509.oid import NameOID
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jpki import ocsp
from jpki.profiles import CaKind, Partition
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber_runtime.grpc_server import error_reason

from .conftest import Ca, card_key, channel, issue_pair, resident, spki

FIGURES: collections.Counter[str] = collections.Counter()
SERVICE = "/mynumber.jpki.v1."

# --- what a refusal may say -----------------------------------------------------------------------------------
# Every status message is a constant of the code that makes it, so each 4-character run of a message must occur
# in those sources; a run that does not, and that also occurs in what was sent, is an echo.
_SOURCES = [p for d in ("services/jpki/src/jpki", "libs/runtime/src/mynumber_runtime", "libs/codes/src")
            for p in sorted((Path(__file__).resolve().parents[4] / d).rglob("*.py"))]
CORPUS = "\n".join(p.read_text() for p in _SOURCES)
INVALID = re.compile(r"(?P<field>[a-z_]+(?:\.[a-z_]+)*): (?P<rule>\S.*)", re.S)
CA_KINDS = (pb.CA_KIND_SIGN, pb.CA_KIND_AUTH)


def _strings(msg: Message) -> list[str]:
    """Every string and bytes value of a request, nested messages included."""
    out: list[str] = []
    for _, value in msg.ListFields():
        values = list(value) if not isinstance(value, (str, bytes, Message, int, float)) else [value]
        for x in values:
            if isinstance(x, Message):
                out += _strings(x)
            elif isinstance(x, str):
                out.append(x)
            elif isinstance(x, bytes):
                out.append(x.decode("utf-8", "replace"))
    return out


def _echoes(details: str, sent: list[str]) -> list[str]:
    return [g for g in {details[i:i + 4] for i in range(len(details) - 3)}
            if g not in CORPUS and any(g in s for s in sent)]


def check_status(method: str, fields: frozenset[str], sent: list[str], err: grpc.aio.AioRpcError | None) -> None:
    FIGURES[method] += 1
    if err is None:
        return
    code, details = err.code(), err.details() or ""
    FIGURES[f"{method} {code.name}"] += 1
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, code, details)
    assert not _echoes(details, sent), (method, details)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        m = INVALID.fullmatch(details)
        assert m is not None and m["field"] in fields, (method, details)
        assert error_reason(err), (method, details)


async def call(stub_channel: grpc.aio.Channel, method: str, request: Message,
               response: type[Message]) -> grpc.aio.AioRpcError | None:
    rpc = stub_channel.unary_unary(SERVICE + method, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=response.FromString)
    try:
        await rpc(request, timeout=20)
    except grpc.aio.AioRpcError as e:
        return e
    return None


# --- strategies -----------------------------------------------------------------------------------------------
HUGE = ["x" * 70_000, "あ" * 300_000, "1" * 1_000_000]
TRICKY = ["", "\x00", "a\x00b", "\u202e", "\ufeff131016", "0x1f", " 1f", "1_f", "+1f", "-1", "00", "1" * 41,
          "１２３４５６７８９０１", "０１１００２", "２０００-01-01", "東京都", "千代田区",
          "DROP TABLE", "%s%n", "\r\n", "131016", "011002", "999999", "481001", "131017",
          "1990-02-30", "1990-4-1", "9999-12-31", "card\x7f", "card\u3000id"]
texts = st.one_of(st.text(max_size=40), st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
                  st.sampled_from(TRICKY), st.sampled_from(HUGE), st.from_regex(r"[0-9]{5,12}", fullmatch=True),
                  st.from_regex(r"[0-9a-fA-F]{1,44}", fullmatch=True), st.from_regex(r"[A-Za-z0-9._-]{1,70}",
                                                                                      fullmatch=True))
enums = st.one_of(st.integers(0, 7), st.integers(-2**31, 2**31 - 1))
blobs = st.one_of(st.binary(max_size=300), st.just(b"\x00" * 100_000), st.just(b"\x30\x82\xff\xff"))


def _mutate(der: bytes, at: int, xor: int) -> bytes:
    b = bytearray(der)
    b[at % len(b)] ^= xor or 1
    return bytes(b)


KEYS = [card_key() for _ in range(2)]
SPKIS = [spki(k) for k in KEYS]
CSRS = [x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(
    NameOID.COMMON_NAME, "card")])).sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.DER) for k in KEYS]
ders = st.one_of(blobs, st.builds(_mutate, st.sampled_from(SPKIS + CSRS), st.integers(0, 10**6), st.integers(0, 255)),
                 st.sampled_from(SPKIS + CSRS))

FACTS_FIELDS = {"facts", "facts.name", "facts.birth_date", "facts.sex", "facts.address", "facts.name_substitutes",
                "facts.address_substitutes"}
ISSUE_FIELDS = frozenset({"ca", "card_id", "resident_code", "municipality_code", "prefecture_name",
                          "municipality_name", "birth_date", "card_expiry", "public_key", "csr", "adult_ward",
                          "idempotency_key", "on_hold", *FACTS_FIELDS})
facts = st.builds(pb.BasicFacts, name=texts, birth_date=texts, sex=st.integers(-2**31, 2**31 - 1), address=texts,
                  name_substitutes=texts, address_substitutes=texts)
issue_random = st.builds(pb.IssueCertificateRequest, ca=enums, card_id=texts, resident_code=texts,
                         municipality_code=texts, prefecture_name=texts, municipality_name=texts, birth_date=texts,
                         card_expiry=texts, public_key=ders, csr=st.one_of(st.just(b""), ders),
                         facts=st.one_of(st.none(), facts), adult_ward=st.booleans(),
                         idempotency_key=st.one_of(texts, st.from_regex(r"[A-Za-z0-9._:-]{1,130}", fullmatch=True)),
                         on_hold=st.booleans())

EXPIRY = (dt.date.today() + dt.timedelta(days=3650)).isoformat()


def _valid_issue(kind: int, n: int) -> dict[str, Any]:
    out: dict[str, Any] = dict(ca=kind, card_id=f"fuzz-card-{n}", resident_code=resident(f"7{n:010d}"),
                               municipality_code="131016", prefecture_name="東京都", municipality_name="千代田区",
                               birth_date="1980-12-31", card_expiry=EXPIRY, public_key=SPKIS[n % 2])
    if kind == pb.CA_KIND_SIGN:
        out["facts"] = pb.BasicFacts(name="山田　太郎", birth_date="1980-12-31", sex=1, address="東京都千代田区１")
    return out


@st.composite
def issue_near_valid(draw: st.DrawFn) -> pb.IssueCertificateRequest:
    """A valid request with one field replaced: the refusal must come before the HSM is asked to sign."""
    values = _valid_issue(draw(st.sampled_from(CA_KINDS)), draw(st.integers(0, 10**6)))
    name = draw(st.sampled_from([f for f in pb.IssueCertificateRequest.DESCRIPTOR.fields_by_name]))
    if name in ("public_key", "csr"):
        values[name] = draw(ders)
    elif name == "facts":
        values[name] = draw(facts)
    elif name in ("ca",):
        values[name] = draw(enums)
    elif name in ("adult_ward", "on_hold"):
        values[name] = True
    else:
        values[name] = draw(texts)
    return pb.IssueCertificateRequest(**values)


serials = st.one_of(texts, st.from_regex(r"[0-9a-f]{30,40}", fullmatch=True))
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)
ISSUER, MUNICIPALITY, OPERATOR = "service:issuance", "municipality:131016", "operator:fuzz"


@pytest.fixture(scope="module")
async def real(ca: Ca) -> dict[str, Any]:
    """Real serials and certificates for the strategies to aim at (one card per municipality)."""
    tokyo_auth, tokyo_sign = await issue_pair(ca, "fuzz-real-1", resident_code="71000000001")
    sapporo = Partition("011002", "北海道", "札幌市")
    osaka_auth, _ = await issue_pair(ca, "fuzz-real-2", resident_code="71000000002", partition=sapporo)
    return {"serials": [format(c.serial, "x") for c in (tokyo_auth, tokyo_sign, osaka_auth)],
            "certs": [tokyo_auth.cert_der, tokyo_sign.cert_der, osaka_auth.cert_der],
            "cards": ["fuzz-real-1", "fuzz-real-2"]}


CALLERS = st.sampled_from([ISSUER, MUNICIPALITY, OPERATOR])


@fuzz(600)
@given(req=st.one_of(issue_random, issue_random.map(lambda r: _without_key_or_csr(r))), caller=CALLERS)
async def test_fuzz_issue_certificate_random(grpc_target: str, req: pb.IssueCertificateRequest, caller: str) -> None:
    async with channel(grpc_target, caller) as ch:
        check_status("IssueCertificate", ISSUE_FIELDS, _strings(req),
                     await call(ch, "CertificateAuthorityService/IssueCertificate", req, pb.IssueCertificateResponse))


def _without_key_or_csr(r: pb.IssueCertificateRequest) -> pb.IssueCertificateRequest:
    r.ClearField("csr")
    return r


@fuzz(200)
@given(req=issue_near_valid())
async def test_fuzz_issue_certificate_one_field_wrong(grpc_target: str, req: pb.IssueCertificateRequest) -> None:
    async with channel(grpc_target, ISSUER) as ch:
        check_status("IssueCertificate", ISSUE_FIELDS, _strings(req),
                     await call(ch, "CertificateAuthorityService/IssueCertificate", req, pb.IssueCertificateResponse))


SERIAL_FIELDS = frozenset({"ca", "serial_hex", "cause"})


@fuzz(600)
@given(data=st.data(), caller=CALLERS)
async def test_fuzz_revoke_release_and_get_by_serial(grpc_target: str, real: dict[str, Any], data: st.DataObject,
                                                     caller: str) -> None:
    serial = data.draw(st.one_of(serials, st.sampled_from(real["serials"]).map(str.upper),
                                 st.sampled_from(real["serials"])))
    kind = data.draw(enums)
    method = data.draw(st.sampled_from(["RevokeCertificate", "ReleaseHold", "GetCertificate"]))
    req: Message
    if method == "RevokeCertificate":
        req = pb.RevokeCertificateRequest(ca=kind, serial_hex=serial, cause=data.draw(enums))
        resp: type[Message] = pb.RevokeCertificateResponse
    elif method == "ReleaseHold":
        req, resp = pb.ReleaseHoldRequest(ca=kind, serial_hex=serial), pb.ReleaseHoldResponse
    else:
        req, resp = pb.GetCertificateRequest(ca=kind, serial_hex=serial), pb.GetCertificateResponse
    async with channel(grpc_target, caller) as ch:
        check_status(method, SERIAL_FIELDS, _strings(req),
                     await call(ch, f"CertificateAuthorityService/{method}", req, resp))


@fuzz(600)
@given(data=st.data(), caller=CALLERS)
async def test_fuzz_suspend_and_resume_card(grpc_target: str, real: dict[str, Any], data: st.DataObject,
                                            caller: str) -> None:
    card = data.draw(st.one_of(texts, st.sampled_from(real["cards"])))
    method = data.draw(st.sampled_from(["SuspendCard", "ResumeCard"]))
    req: Message = pb.SuspendCardRequest(card_id=card) if method == "SuspendCard" else pb.ResumeCardRequest(
        card_id=card)
    resp = pb.SuspendCardResponse if method == "SuspendCard" else pb.ResumeCardResponse
    async with channel(grpc_target, caller) as ch:
        check_status(method, frozenset({"card_id"}), _strings(req),
                     await call(ch, f"CertificateAuthorityService/{method}", req, resp))


@fuzz(30)
@given(kind=enums, audit=st.booleans())
async def test_fuzz_generate_crls_and_verify_audit_chain(grpc_target: str, kind: int, audit: bool) -> None:
    async with channel(grpc_target, OPERATOR) as ch:
        if audit:
            check_status("VerifyAuditChain", frozenset(), [], await call(
                ch, "CertificateAuthorityService/VerifyAuditChain", pb.VerifyAuditChainRequest(),
                pb.VerifyAuditChainResponse))
        else:
            check_status("GenerateCrls", frozenset({"ca"}), [], await call(
                ch, "CertificateAuthorityService/GenerateCrls", pb.GenerateCrlsRequest(ca=kind),
                pb.GenerateCrlsResponse))


timestamps = st.one_of(st.none(), st.builds(
    Timestamp, seconds=st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-62_135_596_801, 253_402_300_800)),
    nanos=st.integers(-2**31, 2**31 - 1)))
LIST_FIELDS = frozenset({"ca", "municipality_code", "card_id", "state", "issued_from", "issued_before", "page_size",
                         "page_token"})


@fuzz(300)
@given(req=st.builds(pb.ListCertificatesRequest, ca=enums, municipality_code=texts, card_id=texts, state=enums,
                     issued_from=timestamps, issued_before=timestamps, page_size=st.integers(-2**31, 2**31 - 1),
                     page_token=st.one_of(texts, st.from_regex(r"(sign|auth):[0-9a-f]{1,44}", fullmatch=True))))
async def test_fuzz_list_certificates(grpc_target: str, req: pb.ListCertificatesRequest) -> None:
    async with channel(grpc_target, OPERATOR) as ch:
        check_status("ListCertificates", LIST_FIELDS, _strings(req), await call(
            ch, "CertificateAuthorityService/ListCertificates", req, pb.ListCertificatesResponse))


MASS_FIELDS = LIST_FIELDS - {"page_size", "page_token"} | {"cause", "selection"}


# Selections the CA takes (so the operator's dry run is reached), beside anything at all.
valid_mass = st.builds(pb.RevokeMassRequest, ca=st.sampled_from(pb.CaKind.values()),
                       municipality_code=st.sampled_from(["", "131016", "011002"]),
                       card_id=st.sampled_from(["", "fuzz-real-1"]), state=st.sampled_from([0, 1, 2]),
                       cause=st.sampled_from([1, 2, 3, 4, 6]), execute=st.booleans())
any_mass = st.builds(pb.RevokeMassRequest, ca=enums, municipality_code=texts, card_id=texts, state=enums,
                     issued_from=timestamps, issued_before=timestamps, cause=enums, execute=st.booleans())


@fuzz(300)
@given(req=st.one_of(valid_mass, any_mass), caller=CALLERS)
async def test_fuzz_revoke_mass(grpc_target: str, req: pb.RevokeMassRequest, caller: str) -> None:
    """Any selection: a dry run as the operator, executed only by callers who may not (the module's certificates
    stay live for the other tests); never INTERNAL, the field named, nothing echoed."""
    if caller == OPERATOR:
        req.execute = False
    async with channel(grpc_target, caller) as ch:
        err = await call(ch, "CertificateAuthorityService/RevokeMass", req, pb.RevokeMassResponse)
    check_status("RevokeMass", MASS_FIELDS, _strings(req), err)
    if caller != OPERATOR:
        assert err is not None and err.code() is grpc.StatusCode.PERMISSION_DENIED, err


@fuzz(500)
@given(data=st.data(), caller=st.sampled_from([OPERATOR, "service:convenience-cert", "verifier:v-0000000000000000"]))
async def test_fuzz_check_certificate_status(grpc_target: str, real: dict[str, Any], data: st.DataObject,
                                             caller: str) -> None:
    cert = data.draw(st.one_of(blobs, st.sampled_from(real["certs"]),
                               st.builds(_mutate, st.sampled_from(real["certs"]), st.integers(0, 10**6),
                                         st.integers(0, 255))))
    req = pb.CheckCertificateStatusRequest(certificate=cert)
    async with channel(grpc_target, caller) as ch:
        check_status("CheckCertificateStatus", frozenset({"certificate"}), [], await call(
            ch, "CertificateStatusService/CheckCertificateStatus", req, pb.CheckCertificateStatusResponse))


@fuzz(500)
@given(data=st.data())
async def test_fuzz_verifier_registry(grpc_target: str, data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(["RegisterVerifier", "DeregisterVerifier", "ListVerifiers"]))
    req: Message
    if method == "RegisterVerifier":
        req = pb.RegisterVerifierRequest(kind=data.draw(enums), organization=data.draw(texts),
                                         filing_ref=data.draw(texts))
        resp: type[Message] = pb.RegisterVerifierResponse
    elif method == "DeregisterVerifier":
        req = pb.DeregisterVerifierRequest(verifier_id=data.draw(st.one_of(
            texts, st.from_regex(r"v-[0-9a-f]{16}", fullmatch=True))))
        resp = pb.DeregisterVerifierResponse
    else:
        req, resp = pb.ListVerifiersRequest(), pb.ListVerifiersResponse
    async with channel(grpc_target, OPERATOR) as ch:
        check_status(method, frozenset({"kind", "organization", "filing_ref", "verifier_id"}), _strings(req),
                     await call(ch, f"VerifierRegistryService/{method}", req, resp))


METHODS = [f"{s.name}/{m.name}" for s in pb.DESCRIPTOR.services_by_name.values() for m in s.methods]


@fuzz(800)
@given(method=st.sampled_from(METHODS), raw=st.one_of(
    st.binary(max_size=400), st.sampled_from([b"\xff", b"\x0a\xff\xff\xff\xff\x0f", b"\x12\x03\xff\xfe\xfd",
                                              b"\x0a\x80", b"\x08" + b"\xff" * 10, b"\x12\x02\xc3\x28"]),
    st.builds(lambda b: b"\x12" + bytes([len(b) & 0x7F]) + b, st.binary(max_size=100))))
async def test_fuzz_raw_corrupt_bytes_to_every_method(grpc_target: str, method: str, raw: bytes) -> None:
    """Bytes that are not (or not quite) the method's message: never INTERNAL/UNKNOWN, no internal text."""
    async with channel(grpc_target, OPERATOR) as ch:
        rpc = ch.unary_unary(SERVICE + method, request_serializer=None, response_deserializer=None)
        err = None
        try:
            await rpc(raw, timeout=20)
        except grpc.aio.AioRpcError as e:
            err = e
        FIGURES["raw bytes"] += 1
        if err is not None:
            FIGURES[f"raw bytes {err.code().name}"] += 1
            assert err.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, err.details())
            assert "Exception" not in (err.details() or "") and "Traceback" not in (err.details() or "")


# --- the HTTP front ---------------------------------------------------------------------------------------------

async def http_exchange(ca: Ca, raw: bytes) -> bytes:
    """Send raw bytes, half-close, and read until the server closes: the answer (maybe empty), never a hang."""
    port = int(ca.base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(10):
            return await reader.read(-1)
    finally:
        writer.close()


def check_http(out: bytes) -> None:
    FIGURES["http"] += 1
    for line in out.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 "):
            code = int(line.split(b" ", 2)[1])
            FIGURES[f"http {code}"] += 1
            assert code < 500 or line.startswith(b"HTTP/1.1 503"), line
    assert ocsp.INTERNAL_ERROR not in out


def _ocsp_request(cert_der: bytes, issuer: x509.Certificate, nonce: bytes | None) -> bytes:
    b = cocsp.OCSPRequestBuilder().add_certificate(x509.load_der_x509_certificate(cert_der), issuer, hashes.SHA1())
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    return b.build().public_bytes(serialization.Encoding.DER)


paths = st.one_of(st.text(max_size=60).map(lambda t: "/" + urllib.parse.quote(t, safe="/")),
                  st.builds(lambda a, b: f"/crl/{a}/{b}.crl", st.sampled_from(["auth", "sign", "x", ""]),
                            st.sampled_from(["131016", "131016-delta", "arl", "", "..", "%00"])),
                  st.sampled_from(["/ocsp", "/ocsp/", "/ocsp/%%%", "/healthz", "/ca/auth.cer", "/arl/sign.crl",
                                   "/ca/../etc/passwd.cer", "/" + "a" * 9000]),
                  st.binary(max_size=40).map(lambda b: "/ocsp/" + urllib.parse.quote(base64.b64encode(b))))


@fuzz(250)
@given(data=st.data())
async def test_fuzz_http_front_requests(ca: Ca, real: dict[str, Any], data: st.DataObject) -> None:
    """Well-framed requests with hostile paths, headers and OCSP bodies (random, mutated, huge serials)."""
    method = data.draw(st.sampled_from([b"GET", b"POST", b"PUT", b"", b"G\x00T"]))
    path = data.draw(paths).encode("utf-8", "replace")
    token = data.draw(st.sampled_from([ca.token, "", "wrong", "x" * 5000]))
    issuer = ca.authority(CaKind.AUTH).cert
    body = data.draw(st.one_of(
        st.binary(max_size=300),
        st.builds(_ocsp_request, st.sampled_from(real["certs"][:1] + real["certs"][2:]), st.just(issuer),
                  st.one_of(st.none(), st.binary(min_size=1, max_size=64))),
        st.builds(_mutate, st.builds(_ocsp_request, st.sampled_from(real["certs"][:1]), st.just(issuer),
                                     st.none()), st.integers(0, 1000), st.integers(0, 255))))
    length = data.draw(st.one_of(st.just(str(len(body))), st.sampled_from(["-1", "1e3", "99999999", "", "0x10"])))
    head = method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + \
        b"\r\nContent-Length: " + length.encode() + b"\r\nConnection: close\r\n\r\n"
    check_http(await http_exchange(ca, head + body))


@fuzz(250)
@given(raw=st.one_of(st.binary(max_size=2000), st.sampled_from([
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 2000, b"\r\n\r\n", b"GET\r\n\r\n", b"POST /ocsp HTTP/1.1\r\n\r\n",
    b"GET /ocsp/" + b"A" * 20000 + b" HTTP/1.1\r\n\r\n", b"\x00" * 9000 + b"\r\n\r\n"])))
async def test_fuzz_http_front_raw_bytes(ca: Ca, raw: bytes) -> None:
    check_http(await http_exchange(ca, raw))


@pytest.mark.parametrize("serial", [-5, 0, 2**200])
async def test_an_ocsp_request_for_an_impossible_serial_is_malformed_not_an_internal_error(ca: Ca, serial: int
                                                                                          ) -> None:
    """Found by the fuzz: a negative serial reached the live signer, which cannot sign it (internalError)."""
    from asn1crypto import ocsp as aocsp

    issuer = ca.authority(CaKind.AUTH).cert
    der = aocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": "sha1"}, "issuer_name_hash": ocsp.name_hash(issuer),
        "issuer_key_hash": ocsp.key_hash(issuer), "serial_number": serial}}]}}).dump()
    out = await http_exchange(ca, b"POST /ocsp HTTP/1.1\r\nAuthorization: Bearer " + ca.token.encode() +
                              b"\r\nContent-Length: " + str(len(der)).encode() + b"\r\nConnection: close\r\n\r\n" + der)
    assert out.split(b"\r\n\r\n", 1)[1] == ocsp.MALFORMED


async def test_a_stalled_http_request_is_answered_408_and_closed(ca: Ca) -> None:
    """A client that starts a request and never finishes it (slow loris) does not hold the connection."""
    assert ca.front is not None
    saved, ca.front.request_timeout_s = ca.front.request_timeout_s, 0.3
    port = int(ca.base_url.rsplit(":", 1)[1])
    try:
        for partial in (b"POST /ocsp HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
                        b"GET /crl/auth/131016.crl HTTP/1.1\r\n"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(partial)
                await writer.drain()
                async with asyncio.timeout(10):  # generous: the server must close long before
                    out = await reader.read(-1)
            finally:
                writer.close()
            assert out.startswith(b"HTTP/1.1 408 "), out[:40]
    finally:
        ca.front.request_timeout_s = saved


def test_fuzz_figures_add_up_to_thousands_of_cases() -> None:
    """Runs last in this module: the counts of the run (recorded in docs/jpki.md)."""
    grpc_cases = sum(v for k, v in FIGURES.items() if " " not in k and k != "http")
    print(f"\njpki fuzz figures: {grpc_cases} well-formed gRPC cases, {FIGURES['raw bytes']} raw-byte cases,",
          f"{FIGURES['http']} HTTP cases:", dict(sorted(FIGURES.items())))
    assert grpc_cases >= 3000 and FIGURES["http"] >= 400, FIGURES



async def test_a_certificate_with_an_impossible_version_is_invalid_argument_not_internal(
        grpc_target: str, real: dict[str, Any]) -> None:
    """Found by this module's fuzzing: cryptography raises InvalidVersion (not a ValueError) for a version other
    than v1/v3; it must be refused as the field, like any other malformed certificate."""
    der = bytearray(real["certs"][0])
    at = der.index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT INTEGER 2 (v3)
    der[at + 4] = 0x07
    async with channel(grpc_target, OPERATOR) as ch:
        err = await call(ch, "CertificateStatusService/CheckCertificateStatus",
                         pb.CheckCertificateStatusRequest(certificate=bytes(der)), pb.CheckCertificateStatusResponse)
    assert err is not None and err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert err.details() == "certificate: must be a DER X.509 certificate"
