"""Bad input at the edge of every service: corrupt protobuf and control characters are INVALID_ARGUMENT with a
fixed message naming the field and the rule, never UNKNOWN/INTERNAL and never the value; a database error's
values never reach the log.

Issue 9: NUL bytes and megabyte strings gave INTERNAL, a corrupt protobuf gave UNKNOWN with the parser's text,
and database errors were logged with the caller's parameter values.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import grpc
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import struct_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.embedded import free_port
from mynumber_runtime.grpc_server import PlatformServer, ServiceBinding, client_channel, error_reason
from mynumber_runtime.requests import RequestLimits
from mynumber_runtime.settings import GrpcSettings

SERVICE = "grpc.testing.Edge"
FAKE_NUMBER = "738401926655"  # a made-up 12-digit number
FAKE_NAME = "検証花子"
RULES = {"must not contain NUL or control characters", "must be valid Unicode (no lone surrogates)",
         "must be at most 64 characters", "must have at most 50 entries", "not a valid protobuf message"}


def _issue(subject, key, issuer, issuer_key, *, ca=False, san=None):
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(hours=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
async def edge(tmp_path_factory, new_database):
    d = tmp_path_factory.mktemp("edge-pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edge test CA")])
    ca = _issue("edge test CA", ca_key, ca_name, ca_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue("localhost", server_key, ca_name, ca_key, san=[x509.DNSName("localhost")])
    client_cert = _issue("x", client_key, ca_name, ca_key,
                         san=[x509.UniformResourceIdentifier("urn:mynumber:municipality:131016")])
    for name, data in {"ca.pem": _pem(ca), "server.pem": _pem(server_cert), "server.key": _key_pem(server_key),
                       "client.pem": _pem(client_cert), "client.key": _key_pem(client_key)}.items():
        (d / name).write_bytes(data)
    db_url = new_database()
    state = {}

    async def echo(request, context):
        return request

    async def collect(requests, context):
        n = 0
        async for _ in requests:
            n += 1
        return struct_pb2.Struct(fields={"n": struct_pb2.Value(number_value=n)})

    async def db(request, context):
        # A database error whose parameters are personal data: the log must not show them.
        async with state["engine"].begin() as conn:
            await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS people (code text PRIMARY KEY)"))
            await conn.execute(sa.text("INSERT INTO people VALUES (:c) ON CONFLICT DO NOTHING"), {"c": FAKE_NUMBER})
            await conn.execute(sa.text("INSERT INTO people VALUES (:c)"), {"c": FAKE_NUMBER})  # unique violation
        return request

    async def cast(request, context):
        async with state["engine"].connect() as conn:
            await conn.execute(sa.text("SELECT CAST(:p AS integer)"), {"p": f"{FAKE_NAME} {FAKE_NUMBER}"})
        return request

    def add(_servicer, server):
        de, ser = struct_pb2.Struct.FromString, struct_pb2.Struct.SerializeToString
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            "Echo": grpc.unary_unary_rpc_method_handler(echo, request_deserializer=de, response_serializer=ser),
            "Collect": grpc.stream_unary_rpc_method_handler(collect, request_deserializer=de,
                                                            response_serializer=ser),
            "Db": grpc.unary_unary_rpc_method_handler(db, request_deserializer=de, response_serializer=ser),
            "Cast": grpc.unary_unary_rpc_method_handler(cast, request_deserializer=de, response_serializer=ser),
        }),))

    binding = ServiceBinding(SERVICE, add, None, allow={m: ("municipality",) for m in ("Echo", "Collect", "Db",
                                                                                      "Cast")},
                             limits=RequestLimits(max_string=64, max_repeated=50))
    settings_ = GrpcSettings(listen=f"127.0.0.1:{free_port()}", tls_cert_file=d / "server.pem",
                             tls_key_file=d / "server.key", tls_client_ca_file=d / "ca.pem")
    server = PlatformServer(settings_, [binding])

    state["engine"] = create_async_engine(db_url)
    port = await server.start()
    channel = client_channel(f"localhost:{port}", ca_file=d / "ca.pem", cert_file=d / "client.pem",
                             key_file=d / "client.key")
    yield channel
    await channel.close()
    await server.stop(0)
    await state["engine"].dispose()


async def unary(channel, method, payload: bytes) -> bytes:
    return await channel.unary_unary(f"/{SERVICE}/{method}")(payload, timeout=10)


def refusal(e: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, str | None]:
    return e.code(), e.details(), error_reason(e)


def examples(strategy, n: int) -> list:
    """n inputs drawn by hypothesis (the server runs on the test's event loop, which a hypothesis-driven sync
    test would block, so the inputs are drawn first and sent after)."""
    drawn: list = []

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(x):
        drawn.append(x)

    draw()
    return drawn


async def test_a_corrupt_protobuf_is_invalid_argument_with_a_fixed_message(edge):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await unary(edge, "Echo", b"\x0a\xff\xff\xff\xff")
    assert refusal(e.value) == (grpc.StatusCode.INVALID_ARGUMENT, "request: not a valid protobuf message",
                                "MALFORMED_REQUEST")


async def test_a_corrupt_message_in_a_request_stream_is_invalid_argument_too(edge):
    good = struct_pb2.Struct(fields={"a": struct_pb2.Value(string_value="ok")}).SerializeToString()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await edge.stream_unary(f"/{SERVICE}/Collect")(iter([good, b"\x0a\xff\xff"]), timeout=10)
    assert refusal(e.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "request: not a valid protobuf message")
    response = await edge.stream_unary(f"/{SERVICE}/Collect")(iter([good, good]), timeout=10)
    assert struct_pb2.Struct.FromString(response).fields["n"].number_value == 2


@pytest.mark.parametrize(("value", "rule"), [
    ("山田\x00太郎", "must not contain NUL or control characters"),
    ("a\x1bb", "must not contain NUL or control characters"),
    ("a\x85b", "must not contain NUL or control characters"),
    ("x" * 65, "must be at most 64 characters"),
])
async def test_nul_control_characters_and_long_strings_are_refused_naming_the_field(edge, value, rule):
    msg = struct_pb2.Struct()
    msg.update({"person": {"names": ["ok", value]}})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await unary(edge, "Echo", msg.SerializeToString())
    code, details, _ = refusal(e.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == f"fields.value.struct_value.fields.value.list_value.values[1].string_value: {rule}"


async def test_tabs_and_newlines_are_allowed(edge):
    msg = struct_pb2.Struct()
    msg.update({"note": "line 1\r\nline\t2"})
    response = await unary(edge, "Echo", msg.SerializeToString())
    assert struct_pb2.Struct.FromString(response) == msg


async def test_too_many_entries_are_refused(edge):
    msg = struct_pb2.Struct()
    msg.update({"list": list(range(51))})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await unary(edge, "Echo", msg.SerializeToString())
    assert refusal(e.value)[1] == "fields.value.list_value.values: must have at most 50 entries"


@pytest.mark.parametrize("method", ["Db", "Cast"])
async def test_a_database_error_reaches_neither_the_caller_nor_the_log_with_its_values(edge, method):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # no redacting filter: the server itself must not log the values
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("mynumber_runtime.grpc_server")
    logger.addHandler(handler)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await unary(edge, method, struct_pb2.Struct().SerializeToString())
    finally:
        logger.removeHandler(handler)
    assert refusal(e.value)[:2] == (grpc.StatusCode.INTERNAL, "internal error")
    logged = stream.getvalue()
    assert "unhandled error" in logged and "SQLSTATE" in logged
    assert FAKE_NUMBER not in logged and FAKE_NAME not in logged


FUZZ_CASES = 500


async def test_fuzz_random_bytes_are_answered_ok_or_invalid_argument_never_internal(edge):
    refused = 0
    for payload in examples(st.binary(max_size=256), FUZZ_CASES):
        try:
            await unary(edge, "Echo", payload)
        except grpc.aio.AioRpcError as e:
            code, details, _ = refusal(e)
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
            assert details.split(": ", 1)[1] in RULES
            refused += 1
    assert refused  # the strategy did reach the refusals


_values = st.recursive(st.none() | st.booleans() | st.text(max_size=80) | st.floats(allow_nan=False),
                       lambda children: st.lists(children, max_size=60) | st.dictionaries(st.text(max_size=70),
                                                                                         children, max_size=5),
                       max_leaves=80)


async def test_fuzz_structured_requests_are_refused_by_field_and_rule_never_echoing_a_value(edge):
    refused = 0
    for data in examples(st.dictionaries(st.text(max_size=70), _values, max_size=5), FUZZ_CASES):
        msg = struct_pb2.Struct()
        msg.update(data)
        try:
            await unary(edge, "Echo", msg.SerializeToString())
        except grpc.aio.AioRpcError as e:
            code, details, _ = refusal(e)
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
            path, rule = details.rsplit(": ", 1)
            assert rule in RULES
            # The path is built from field names and indexes only: never a key or a value.
            assert set(path) <= set("abcdefghijklmnopqrstuvwxyz_.[]0123456789"), path
            refused += 1
    assert refused
