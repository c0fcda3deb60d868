"""The platform gRPC server: caller identity from mTLS client certificates, allow-lists, error mapping, health."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from mynumber_runtime.devca import DevCA
from mynumber_runtime.embedded import free_port
from mynumber_runtime.errors import InvalidArgument, NotFound
from mynumber_runtime.grpc_server import PlatformServer, ServiceBinding, client_channel, error_reason
from mynumber_runtime.identity import current_caller
from mynumber_runtime.settings import GrpcSettings
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings, session_ca

SERVICE = "grpc.testing.Probe"  # a tiny generic service: the server under test does not care about the contract


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key, issuer_name, issuer_key, *, ca=False, san=None):
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(hours=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mynumber dev CA")])
    ca = _cert("mynumber dev CA", ca_key, ca_name, ca_key, ca=True)
    files = {"ca": d / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(name: str, subject: str, san=None):
        key = _key()
        cert = _cert(subject, key, ca_name, ca_key, san=san)
        (d / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (d / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
        files[name] = d / f"{name}.pem"
        files[name + "_key"] = d / f"{name}.key"

    issue("server", "localhost", [x509.DNSName("localhost")])
    issue("municipality", "ignored-cn", [x509.UniformResourceIdentifier("urn:mynumber:municipality:131016")])
    issue("store", "store-terminal:7-11-000123")
    return files


def probe_binding(state):
    async def echo(request: bytes, context) -> bytes:
        caller = current_caller()
        if request == b"bad":
            raise InvalidArgument("payload", "must not be 'bad'")
        if request == b"missing":
            raise NotFound("payload: nothing here")
        if request == b"crash":
            raise RuntimeError("secret detail 123456789018")
        return f"{caller.kind}:{caller.id}".encode()

    def add(_servicer, server):
        handler = grpc.method_handlers_generic_handler(SERVICE, {
            "Echo": grpc.unary_unary_rpc_method_handler(echo),
            "Admin": grpc.unary_unary_rpc_method_handler(echo),
        })
        server.add_generic_rpc_handlers((handler,))

    return ServiceBinding(SERVICE, add, None, allow={"Echo": ("municipality", "store-terminal"),
                                                      "Admin": ("operator",)})


@pytest.fixture
async def tls_server(pki):
    state = {"healthy": True}

    async def check():
        if not state["healthy"]:
            raise ConnectionError("database unreachable")

    settings = GrpcSettings(listen=f"127.0.0.1:{free_port()}", tls_cert_file=pki["server"],
                            tls_key_file=pki["server_key"], tls_client_ca_file=pki["ca"])
    server = PlatformServer(settings, [probe_binding(state)], checks={"database": check})
    server.bindings[0].name = SERVICE
    port = await server.start()
    yield port, server, state
    await server.stop(0)


def channel(pki, port, who):
    return client_channel(f"localhost:{port}", ca_file=pki["ca"], cert_file=pki[who], key_file=pki[who + "_key"])


async def call(ch, method: str, payload: bytes) -> bytes:
    return await ch.unary_unary(f"/{SERVICE}/{method}")(payload, timeout=5)


async def test_the_caller_is_named_by_the_client_certificate(pki, tls_server):
    port, _, _ = tls_server
    async with channel(pki, port, "municipality") as ch:
        assert await call(ch, "Echo", b"hi") == b"municipality:131016"  # from the SAN URI, not the CN
    async with channel(pki, port, "store") as ch:
        assert await call(ch, "Echo", b"hi") == b"store-terminal:7-11-000123"  # from the CN


async def test_a_caller_not_on_the_allow_list_is_refused(pki, tls_server):
    port, _, _ = tls_server
    async with channel(pki, port, "municipality") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(ch, "Admin", b"hi")
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_client_without_a_certificate_cannot_connect(pki, tls_server):
    port, _, _ = tls_server
    creds = grpc.ssl_channel_credentials(pki["ca"].read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{port}", creds) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(ch, "Echo", b"hi")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_domain_errors_map_to_codes_with_reasons_and_internal_details_never_leak(pki, tls_server):
    port, _, _ = tls_server
    async with channel(pki, port, "municipality") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await call(ch, "Echo", b"bad")
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await call(ch, "Echo", b"missing")
        with pytest.raises(grpc.aio.AioRpcError) as crash:
            await call(ch, "Echo", b"crash")
    assert (bad.value.code(), bad.value.details(), error_reason(bad.value)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "payload: must not be 'bad'", "INVALID_ARGUMENT")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert crash.value.code() == grpc.StatusCode.INTERNAL and crash.value.details() == "internal error"


async def test_health_follows_the_real_checks(pki, tls_server):
    port, server, state = tls_server
    async with channel(pki, port, "municipality") as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        assert (await stub.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING
        state["healthy"] = False
        assert not await server.run_checks()
        r = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert r.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_plain_tcp_cannot_be_configured_not_even_on_loopback():
    with pytest.raises(ValueError, match="mTLS"):
        GrpcSettings(listen="127.0.0.1:50051")


@pytest.fixture
async def dev_server():
    """The probe service with a certificate from the session's dev CA, as every test server runs."""
    settings = grpc_server_settings("service:probe")
    server = PlatformServer(settings, [probe_binding({})])
    await server.start()
    yield settings.listen
    await server.stop(0)


async def test_a_dev_ca_identity_calls_a_dev_ca_server_on_its_loopback_address(dev_server):
    async with grpc_channel("municipality:131016", dev_server) as ch:  # 127.0.0.1:<port>: the IP SAN matches
        assert await call(ch, "Echo", b"hi") == b"municipality:131016"


async def test_a_client_without_a_certificate_or_in_plain_tcp_is_refused_before_any_method_runs(dev_server):
    for ch in (grpc_channel(None, dev_server), grpc.aio.insecure_channel(dev_server)):
        async with ch:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call(ch, "Echo", b"hi")
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE  # the TLS handshake refused it


async def test_a_certificate_from_another_ca_is_refused_even_naming_a_valid_identity(dev_server, tmp_path):
    other = DevCA(tmp_path / "elsewhere").issue("operator:sre-1")
    # It trusts our CA (so the server is fine for it) but its own certificate is signed by a stranger.
    async with client_channel(dev_server, ca_file=session_ca().ca_file, cert_file=other.cert_file,
                              key_file=other.key_file) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(ch, "Admin", b"hi")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_metadata_naming_another_identity_changes_nothing(dev_server):
    claims = (("x-mynumber-caller", "operator:sre-1"), ("x-mynumber-caller", "operator:root"))  # two: no last wins
    async with grpc_channel("municipality:131016", dev_server) as ch:
        assert await ch.unary_unary(f"/{SERVICE}/Echo")(b"hi", metadata=claims, timeout=5) == b"municipality:131016"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await ch.unary_unary(f"/{SERVICE}/Admin")(b"hi", metadata=claims, timeout=5)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_each_call_is_traced_and_its_log_lines_carry_the_trace_id(pki, tls_server):
    import io
    import json
    import logging

    from mynumber_runtime.logs import JsonFormatter, RedactingFilter
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter("test"))
    logging.getLogger("mynumber_runtime.grpc_server").addHandler(handler)
    port, _, _ = tls_server
    try:
        async with channel(pki, port, "municipality") as ch:
            with pytest.raises(grpc.aio.AioRpcError):
                await call(ch, "Echo", b"crash")
    finally:
        logging.getLogger("mynumber_runtime.grpc_server").removeHandler(handler)
    spans = [s for s in exporter.get_finished_spans()
             if s.name == f"/{SERVICE}/Echo" and s.kind == trace.SpanKind.SERVER]
    assert spans and spans[-1].attributes["mynumber.caller.kind"] == "municipality"
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["trace_id"] == f"{spans[-1].context.trace_id:032x}"
    assert "123456789018" not in stream.getvalue()  # the crash's message named a number: redacted


async def test_a_plaintext_health_port_answers_probes_and_nothing_else(pki):
    settings = GrpcSettings(listen=f"127.0.0.1:{free_port()}", health_listen=f"127.0.0.1:{free_port()}",
                            tls_cert_file=pki["server"], tls_key_file=pki["server_key"],
                            tls_client_ca_file=pki["ca"])
    server = PlatformServer(settings, [probe_binding({})])
    await server.start()
    try:
        async with grpc.aio.insecure_channel(settings.health_listen) as ch:
            r = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert r.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call(ch, "Echo", b"hi")
            assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)


async def test_health_is_not_serving_while_postgres_or_nats_is_killed_and_serving_once_each_is_back(pki):
    """The real checks a service wires (`Units.ping`, `nats_check`) against servers of this test's own, killed
    with SIGKILL and started again where they were: the periodic check, not a test calling it, moves the status."""
    from mynumber_runtime.db import Store, Units, create_async_engine
    from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres
    from mynumber_runtime.host import nats_check
    from mynumber_runtime.testing import identities
    from mynumber_runtime.testing.servers import scratch_dir

    roots = [scratch_dir("mynumber-health-pg-"), scratch_dir("mynumber-health-nats-")]
    pg = EmbeddedPostgres(roots[0], port=free_port())
    nats = EmbeddedNats(roots[1], secrets=identities.session_nats_secrets(), users=identities.session_nats_users())
    pg.start()
    nats.start()
    engine = create_async_engine(pg.url)
    nc = await identities.nats_connect(identities.RUNTIME_TEST_USER, nats.url, max_reconnect_attempts=-1,
                                       reconnect_time_wait=0.2)
    settings = GrpcSettings(listen=f"127.0.0.1:{free_port()}", tls_cert_file=pki["server"],
                            tls_key_file=pki["server_key"], tls_client_ca_file=pki["ca"])
    server = PlatformServer(settings, [probe_binding({})], checks={"database": Units(engine, Store).ping,
                                                                 "nats": nats_check(nc)}, check_interval_s=0.2)
    server.bindings[0].name = SERVICE
    port = await server.start()
    Serving = health_pb2.HealthCheckResponse

    async def becomes(stub, status, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + 60
        while (await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))).status != status:
            assert asyncio.get_running_loop().time() < deadline, f"health never became {what}"
            await asyncio.sleep(0.1)

    def start_again(server_) -> None:  # a killed postmaster's backends take a moment to let go of its memory
        deadline = time.monotonic() + 60
        while True:
            try:
                server_.start()
                return
            except RuntimeError:
                assert time.monotonic() < deadline
                time.sleep(0.3)

    try:
        async with channel(pki, port, "municipality") as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            await becomes(stub, Serving.SERVING, "SERVING at the start")
            for down in (pg, nats):
                down.kill()
                await becomes(stub, Serving.NOT_SERVING, f"NOT_SERVING with {type(down).__name__} killed")
                start_again(down)
                await becomes(stub, Serving.SERVING, f"SERVING with {type(down).__name__} back")
    finally:
        await server.stop(0)
        await nc.close()
        await engine.dispose()
        for s in (nats, pg):
            s.stop()
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)


async def test_the_trace_context_crosses_the_call_and_probes_are_not_traced(pki, tls_server):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    port, _, _ = tls_server
    with trace.get_tracer("test").start_as_current_span("caller") as outer:
        async with channel(pki, port, "municipality") as ch:
            assert await call(ch, "Echo", b"hi") == b"municipality:131016"
            await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.name == f"/{SERVICE}/Echo" and s.kind == trace.SpanKind.SERVER]
    client = [s for s in spans if s.name == f"/{SERVICE}/Echo" and s.kind == trace.SpanKind.CLIENT]
    assert len(server) == 1 and len(client) == 1
    # One trace: caller -> client call -> server span, across the wire (W3C traceparent in the metadata).
    assert server[0].context.trace_id == outer.get_span_context().trace_id
    assert server[0].parent is not None and server[0].parent.span_id == client[0].context.span_id
    assert server[0].attributes["mynumber.caller.kind"] == "municipality"
    assert not [s for s in spans if s.kind == trace.SpanKind.SERVER and "Health" in s.name]
