"""gRPC status codes mapped faithfully: a caller's mistake is a 4xx naming the field and rule, the platform's own
failure a 502/503/504, never a 500."""

from __future__ import annotations

import grpc
import pytest
from gateway import problems as p
from gateway.upstream import problem_of


class FakeError(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode, details: str, reason: str | None = None) -> None:
        trailing = grpc.aio.Metadata(("x-error-reason", reason)) if reason else grpc.aio.Metadata()
        super().__init__(code, grpc.aio.Metadata(), trailing, details=details)


@pytest.mark.parametrize(("code", "status"), [
    (grpc.StatusCode.INVALID_ARGUMENT, 422), (grpc.StatusCode.OUT_OF_RANGE, 422), (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.ALREADY_EXISTS, 409), (grpc.StatusCode.FAILED_PRECONDITION, 409),
    (grpc.StatusCode.PERMISSION_DENIED, 403), (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    (grpc.StatusCode.UNAVAILABLE, 503), (grpc.StatusCode.DEADLINE_EXCEEDED, 504), (grpc.StatusCode.INTERNAL, 502),
    (grpc.StatusCode.UNKNOWN, 502), (grpc.StatusCode.UNAUTHENTICATED, 502), (grpc.StatusCode.UNIMPLEMENTED, 502),
])
def test_status_codes_map_to_problem_statuses(code: grpc.StatusCode, status: int) -> None:
    assert problem_of(FakeError(code, "resident_code: 11 digits")).status == status


def test_an_invalid_argument_names_its_field_rule_and_reason() -> None:
    problem = problem_of(FakeError(grpc.StatusCode.INVALID_ARGUMENT, "resident_code: the check digit does not match",
                                   "INVALID_ARGUMENT"))
    assert problem.body() == {
        "type": "urn:mynumber:gateway:problem:invalid-request", "title": p.INVALID.title, "status": 422,
        "detail": "resident_code: the check digit does not match", "reason": "INVALID_ARGUMENT",
        "errors": [{"field": "resident_code", "rule": "the check digit does not match"}]}


def test_an_internal_failure_tells_nothing_of_it() -> None:
    problem = problem_of(FakeError(grpc.StatusCode.INTERNAL, "psycopg error: Key (x)=(123456789012) exists"))
    assert "123456789012" not in str(problem.body())
    assert problem.type is p.UPSTREAM
