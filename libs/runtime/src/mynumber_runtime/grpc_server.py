"""The gRPC (grpc.aio) server builder every service uses.

It adds: the standard health service fed by real checks, reflection, the OpenTelemetry gRPC instrumentation (one
server span per RPC, the W3C trace context taken from the call and, on `client_channel`, sent with it), and one
interceptor that identifies the caller (by its mTLS client certificate, and by nothing else), enforces the
per-method allow-list, applies a default deadline, and maps typed domain errors to status codes with a
machine-readable reason (`x-error-reason` trailer). Internal details never reach a caller. Every RPC it sees is
counted and timed by method, status code and caller kind (`rpc.server.calls`, `rpc.server.duration`) and leaves one
log line (logger `mynumber_runtime.rpc`) with those, its duration and its trace id: docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor, filters
from opentelemetry.trace import Status, StatusCode

from mynumber_runtime.errors import DomainError, PermissionDenied, Unauthenticated
from mynumber_runtime.faults import loggable, summary
from mynumber_runtime.identity import (
    ON_BEHALF_KEY,
    PURPOSE_KEY,
    Caller,
    caller_from_certificate,
    reset_current_caller,
    set_current_caller,
)
from mynumber_runtime.metrics import DURATION_BUCKETS_S
from mynumber_runtime.requests import RequestLimits, check_request, lenient
from mynumber_runtime.settings import GrpcSettings, read_secret
from mynumber_runtime.telemetry import meter

log = logging.getLogger(__name__)
# One line per RPC (method, caller kind, outcome, duration, trace id): never a request field (logs.py redacts too).
rpc_log = logging.getLogger("mynumber_runtime.rpc")
_meter = meter(__name__)
# Labels: the method (a fixed set: only registered methods reach here), the status code and the caller's KIND
# (municipality, service, operator ...), never its id: bounded cardinality and nothing about a person.
_rpc_counter = _meter.create_counter("rpc.server.calls", description="RPCs by method, status code and caller kind")
_rpc_duration = _meter.create_histogram("rpc.server.duration", unit="s", description="RPC duration",
                                        explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S)

REASON_KEY = "x-error-reason"
OPEN_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")
HealthCheck = Callable[[], Awaitable[None]]
# Probes and reflection are not traced (a span every few seconds per pod says nothing).
# A purpose-registry code as the gateway sends it (ASCII; e.g. `beppyo1-16`, `jorei-131016-3`).
_PURPOSE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TRACED = filters.negate(filters.any_of(*(filters.service_name(name) for name in OPEN_SERVICES)))


@dataclass
class ServiceBinding:
    """One generated service: its full name, its `add_XServicer_to_server`, the servicer, and who may call what."""

    name: str
    add: Callable[[Any, grpc.aio.Server], None]
    servicer: Any
    # Short method name -> callers allowed: a kind (`operator`) or one identity (`service:issuance`), so a platform
    # service reaches only the methods its role needs. A method not listed is refused (default deny).
    allow: Mapping[str, Collection[str]] = field(default_factory=dict)
    # The generic request guard's limits for this service's requests (requests.py).
    limits: RequestLimits = field(default_factory=RequestLimits)
    # Delegates: a platform identity (`service:gateway`) -> the caller kinds it may act for on this service, by
    # naming its own verified client in the `x-mynumber-on-behalf-of` metadata (identity.py). Anyone else's such
    # metadata is ignored, as is a delegate's for a kind not listed here (refused). Empty: no delegation.
    delegates: Mapping[str, Collection[str]] = field(default_factory=dict)


class _PlatformInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, *, allow: Mapping[str, Collection[str]], default_deadline_s: float,
                 limits: Mapping[str, RequestLimits] | None = None,
                 delegates: Mapping[str, Mapping[str, Collection[str]]] | None = None) -> None:
        self.allow = allow
        self.limits = dict(limits or {})
        self.delegates = dict(delegates or {})
        self.default_deadline_s = default_deadline_s

    def _identify(self, context: grpc.aio.ServicerContext, service: str) -> Caller:
        # The TLS handshake already refused a client without a certificate from our CA; metadata naming a caller
        # is ignored: who calls is what the verified certificate says, unless that certificate is a delegate's
        # this service names (the gateway, acting for the client whose certificate it verified itself).
        auth = context.auth_context()
        pem = auth.get("x509_pem_cert")
        if not pem:
            raise Unauthenticated("a client certificate is required")
        caller = caller_from_certificate(pem[0])
        kinds = self.delegates.get(service, {}).get(str(caller))
        if kinds is None:
            return caller
        named = [str(v) for k, v in (context.invocation_metadata() or ()) if k == ON_BEHALF_KEY]
        if not named:
            return caller
        if len(named) > 1:
            raise PermissionDenied(f"{ON_BEHALF_KEY}: one identity per call")
        acting = Caller.parse(named[0])
        if acting.kind not in kinds:
            raise PermissionDenied(f"{ON_BEHALF_KEY}: {caller} may not act for callers of kind {acting.kind}")
        purposes = [str(v) for k, v in (context.invocation_metadata() or ()) if k == PURPOSE_KEY]
        if len(purposes) > 1 or not all(_PURPOSE_CODE.fullmatch(code) for code in purposes):
            raise PermissionDenied(f"{PURPOSE_KEY}: at most one purpose code per call, of the registry's form")
        return Caller(acting.kind, acting.id, via=str(caller), purpose=purposes[0] if purposes else None)

    def _authorize(self, method: str, caller: Caller) -> None:
        allowed = self.allow.get(method)
        if allowed is None or (caller.kind not in allowed and str(caller) not in allowed):
            raise PermissionDenied(f"callers of kind {caller.kind} may not call {method.rsplit('/', 1)[-1]}")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method.lstrip("/").startswith(OPEN_SERVICES):
            return handler
        interceptor = self
        service = method.lstrip("/").split("/", 1)[0]
        limits = self.limits.get(service, RequestLimits())

        async def _enter(context: grpc.aio.ServicerContext, call: _Call) -> Any:
            caller = interceptor._identify(context, service)
            call.caller_kind = caller.kind
            call.via = caller.via
            interceptor._authorize(method, caller)
            return set_current_caller(caller)

        async def _fail(context: grpc.aio.ServicerContext, exc: BaseException, span: trace.Span,
                        call: _Call) -> None:
            if isinstance(exc, DomainError):
                code, message, reason = exc.code, exc.message, exc.reason
            elif isinstance(exc, TimeoutError):
                code, message, reason = grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded", "DEADLINE_EXCEEDED"
            else:
                # Types only for a database error: its text quotes the caller's values (faults.py).
                log.error("unhandled error in %s: %s", method, summary(exc), exc_info=loggable(exc))
                code, message, reason = grpc.StatusCode.INTERNAL, "internal error", "INTERNAL"
            span.set_status(Status(StatusCode.ERROR, reason))
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            call.code, call.reason = code, reason
            await context.abort(code, message, trailing_metadata=((REASON_KEY, reason),))

        def _deadline(context: grpc.aio.ServicerContext) -> float | None:
            remaining = context.time_remaining()
            return remaining if remaining is not None else interceptor.default_deadline_s

        if not handler.response_streaming:
            behavior = handler.unary_unary or handler.stream_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                span = trace.get_current_span()  # the instrumentation's server span (the outer interceptor)
                call = _Call(method)
                token = None
                try:
                    token = await _enter(context, call)
                    span.set_attribute("mynumber.caller.kind", call.caller_kind)
                    request = _guarded(request, limits, handler.request_streaming)
                    async with asyncio.timeout(_deadline(context)):
                        return await behavior(request, context)
                except asyncio.CancelledError:
                    call.code = grpc.StatusCode.CANCELLED
                    raise
                except Exception as exc:
                    await _fail(context, exc, span, call)
                    raise  # unreachable: abort raises
                finally:
                    if token is not None:
                        reset_current_caller(token)
                    call.done()

            make = grpc.stream_unary_rpc_method_handler if handler.request_streaming else \
                grpc.unary_unary_rpc_method_handler
            return make(unary, request_deserializer=lenient(handler.request_deserializer),
                        response_serializer=handler.response_serializer)

        stream_behavior = handler.unary_stream or handler.stream_stream

        async def streaming(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            # Long bulk streams are bounded by the client's deadline, not by the unary default.
            span = trace.get_current_span()
            call = _Call(method)
            token = None
            try:
                token = await _enter(context, call)
                span.set_attribute("mynumber.caller.kind", call.caller_kind)
                request = _guarded(request, limits, handler.request_streaming)
                async for item in stream_behavior(request, context):
                    yield item
            except (asyncio.CancelledError, GeneratorExit):
                call.code = grpc.StatusCode.CANCELLED
                raise
            except Exception as exc:
                await _fail(context, exc, span, call)
            finally:
                if token is not None:
                    reset_current_caller(token)
                call.done()

        make_s = grpc.stream_stream_rpc_method_handler if handler.request_streaming else \
            grpc.unary_stream_rpc_method_handler
        return make_s(streaming, request_deserializer=lenient(handler.request_deserializer),
                      response_serializer=handler.response_serializer)


class _Call:
    """What one RPC's metrics and log line say: method, caller kind, outcome and duration, nothing from the
    request. Recorded once, inside the RPC's span (so the log line carries its trace id)."""

    __slots__ = ("caller_kind", "code", "method", "reason", "started", "via")

    def __init__(self, method: str) -> None:
        self.method = method
        self.caller_kind = "unidentified"  # until the certificate names it (a refused caller stays so)
        self.code = grpc.StatusCode.OK
        self.reason = ""
        self.via: str | None = None  # the delegate (a platform service: no person) that carried the call
        self.started = time.perf_counter()

    def done(self) -> None:
        elapsed = time.perf_counter() - self.started
        labels = {"rpc.method": self.method, "rpc.grpc.status": self.code.name,
                  "mynumber.caller.kind": self.caller_kind}
        _rpc_counter.add(1, labels)
        _rpc_duration.record(elapsed, labels)
        rpc_log.info("rpc %s %s", self.method, self.code.name,
                     extra={"rpc_method": self.method, "caller_kind": self.caller_kind, "outcome": self.code.name,
                            "reason": self.reason or None, "via": self.via,
                            "duration_ms": round(elapsed * 1000, 3)})


def _guarded(request: Any, limits: RequestLimits, streaming: bool) -> Any:
    """The request guard (requests.py): a unary request is checked now, a request stream message by message."""
    if not streaming:
        check_request(request, limits)
        return request

    async def each() -> AsyncIterator[Any]:
        async for item in request:
            check_request(item, limits)
            yield item

    return each()


class PlatformServer:
    """A grpc.aio server with health, reflection and the platform interceptor. `start()` returns the port."""

    def __init__(self, settings: GrpcSettings, bindings: list[ServiceBinding], *,
                 checks: Mapping[str, HealthCheck] | None = None, check_interval_s: float = 5.0) -> None:
        self.settings = settings
        self.bindings = bindings
        self.checks = dict(checks or {})
        self.check_interval_s = check_interval_s
        allow = {f"/{b.name}/{m}": kinds for b in bindings for m, kinds in b.allow.items()}
        self.server = grpc.aio.server(
            # The instrumentation first: its span is current while the platform interceptor and the method run.
            interceptors=[aio_server_interceptor(filter_=_TRACED),  # type: ignore[no-untyped-call]
                          _PlatformInterceptor(allow=allow, default_deadline_s=settings.default_deadline_s,
                                               limits={b.name: b.limits for b in bindings},
                                               delegates={b.name: b.delegates for b in bindings})],
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.max_send_message_length", settings.max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        self.health = health.aio.HealthServicer()
        self._checker: asyncio.Task[None] | None = None
        self._health_server: grpc.aio.Server | None = None
        self.port = 0
        self.health_port = 0

    async def run_checks(self) -> bool:
        """Run every check; the overall and per-service health follow the result."""
        ok = True
        for name, check in self.checks.items():
            try:
                async with asyncio.timeout(self.check_interval_s):
                    await check()
            except Exception as exc:
                ok = False
                log.warning("health check %s failing: %s", name, type(exc).__name__)
        status = health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in ["", *(b.name for b in self.bindings)]:
            await self.health.set(service, status)
        return ok

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            await self.run_checks()

    async def start(self) -> int:
        for b in self.bindings:
            b.add(b.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [b.name for b in self.bindings] + [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                                                reflection.SERVICE_NAME],
            self.server,
        )
        s = self.settings
        if not s.listen or not (s.tls_cert_file and s.tls_key_file and s.tls_client_ca_file):
            raise ValueError("grpc.listen is empty: this process was configured to serve no gRPC "
                             "(give GRPC__LISTEN and the mTLS files to serve)")
        creds = grpc.ssl_server_credentials(
            [(read_secret(s.tls_key_file), read_secret(s.tls_cert_file))],
            root_certificates=read_secret(s.tls_client_ca_file),
            require_client_auth=True,
        )
        self.port = self.server.add_secure_port(s.listen, creds)
        if s.health_listen:
            # Health only, no other service: nothing behind this port needs a caller identity.
            self._health_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self._health_server)
            self.health_port = self._health_server.add_insecure_port(s.health_listen)
            await self._health_server.start()
        await self.run_checks()
        await self.server.start()
        self._checker = asyncio.create_task(self._check_forever())
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        if self._checker:
            self._checker.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self._health_server is not None:
            await self._health_server.stop(0)

    async def wait(self) -> None:
        await self.server.wait_for_termination()


def client_channel(target: str, *, ca_file: Path, cert_file: Path, key_file: Path,
                   options: list[tuple[str, Any]] | None = None) -> grpc.aio.Channel:
    """A channel to a platform service: always mTLS, the caller being who `cert_file` names (a production
    certificate, or one from the local dev CA). The trace context travels with every call."""
    opts = [("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024), *(options or [])]
    creds = grpc.ssl_channel_credentials(read_secret(ca_file), read_secret(key_file), read_secret(cert_file))
    return grpc.aio.secure_channel(target, creds, options=opts, interceptors=aio_client_interceptors())  # type: ignore[no-untyped-call]


def error_reason(err: grpc.aio.AioRpcError) -> str | None:
    """The machine-readable reason of a failed call."""
    for key, value in err.trailing_metadata() or ():
        if key == REASON_KEY:
            return str(value)
    return None
