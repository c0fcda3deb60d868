"""Calling the platform's services: gRPC with mTLS as `service:gateway`, a deadline on every call, on behalf of
the client whose certificate the gateway verified (runtime identity.ON_BEHALF_KEY), and their typed errors mapped
faithfully to problems. A service's message names a field and a rule and never a value (runtime errors.py), so it
is passed on as the detail; an internal failure's is not."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from mynumber_runtime.grpc_server import error_reason
from mynumber_runtime.identity import ON_BEHALF_KEY, PURPOSE_KEY, Caller

from gateway import problems as p

log = logging.getLogger(__name__)

# gRPC status -> the problem a client gets. A caller's mistake is a 4xx; the platform's own failure a 502/503/504,
# never a 500 (that is the gateway's own bug only).
_CALLER = {
    grpc.StatusCode.INVALID_ARGUMENT: p.INVALID,
    grpc.StatusCode.OUT_OF_RANGE: p.INVALID,
    grpc.StatusCode.NOT_FOUND: p.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: p.CONFLICT,
    grpc.StatusCode.FAILED_PRECONDITION: p.CONFLICT,
    grpc.StatusCode.ABORTED: p.CONFLICT,
    grpc.StatusCode.PERMISSION_DENIED: p.FORBIDDEN,
}
_PLATFORM = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: (p.RATE, "the service is overloaded; retry later"),
    grpc.StatusCode.UNAVAILABLE: (p.UNAVAILABLE, "the service is unavailable; retry later"),
    grpc.StatusCode.CANCELLED: (p.UNAVAILABLE, "the call was cancelled; retry later"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (p.TIMEOUT, "the service did not answer within the gateway's deadline"),
}


def rfc3339(message: Any, name: str) -> str | None:
    """A Timestamp field as RFC 3339 UTC (`...Z`), None when unset."""
    if not message.HasField(name):
        return None
    ts: Timestamp = getattr(message, name)
    return str(ts.ToDatetime(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z"))


def metadata(caller: Caller, purpose: str | None = None) -> tuple[tuple[str, str], ...]:
    """Who the call is for, and the 事務 it serves when the route checked one (purposes.py)."""
    return ((ON_BEHALF_KEY, str(caller)),) + (((PURPOSE_KEY, purpose),) if purpose else ())


def problem_of(err: grpc.aio.AioRpcError) -> p.Problem:
    code, reason = err.code(), error_reason(err)
    if code in _CALLER:
        detail = err.details() or code.name
        kind = _CALLER[code]
        errors: list[p.FieldError] = []
        if kind is p.INVALID:
            name, sep, rule = detail.partition(": ")
            if sep and name.isidentifier():
                errors.append(p.FieldError(name, rule))
        return p.Problem(kind, detail, reason=reason, errors=errors)
    if code in _PLATFORM:
        kind, detail = _PLATFORM[code]
        return p.Problem(kind, detail, reason=reason, headers={"Retry-After": "1"} if kind.status != 504 else {})
    # INTERNAL, UNKNOWN, UNAUTHENTICATED (the gateway's own identity was refused), UNIMPLEMENTED, DATA_LOSS.
    log.error("upstream call failed", extra={"grpc_status": code.name, "reason": reason})
    return p.Problem(p.UPSTREAM, "a platform service failed; the call may be retried", reason=reason)


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as err:
        raise problem_of(err) from None
