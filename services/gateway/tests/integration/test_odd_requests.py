"""Requests a careless or hostile client sends: every one gets a documented problem, none a server error, none an
echo of what was sent."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Gateway
from .test_numbering_through_gateway import new_code

pytestmark = pytest.mark.integration
PATH = "/v1/numbering/assignments"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.mark.parametrize(("content", "content_type", "status"), [
    (b'{"resident_code": "12345678903"}', "text/plain", (400, 415, 422)),
    (b"[1, 2, 3]", "application/json", (422,)),
    (b'"9876543210987"', "application/json", (422,)),
    (b"\xff\xfe\x00garbage", "application/json", (400,)),
    (b"", "application/json", (400, 422)),
    (b'{"resident_code": 12345678903}', "application/json", (422,)),
])
async def test_a_body_that_is_not_the_documented_object_is_a_problem(gateway: Gateway, content: bytes,
                                                                    content_type: str, status: tuple[int, ...]
                                                                    ) -> None:
    r = await gateway.client().post(PATH, headers={**key(), "content-type": content_type}, content=content)
    assert r.status_code in status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "9876543210987" not in r.text and "12345678903" not in r.text


@pytest.mark.parametrize("value", ["has space", "x" * 129, "a\"b", ""])
async def test_a_malformed_idempotency_key_is_refused_without_echo(gateway: Gateway, value: str) -> None:
    r = await gateway.client().post(PATH, headers={"Idempotency-Key": value}, json={"resident_code": new_code()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not value or value not in r.text


async def test_a_refusal_is_the_first_result_of_its_key_too(gateway: Gateway) -> None:
    headers = key()
    body = {"resident_code": new_code(), "reason": "leaked_on_request"}
    first = await gateway.client().post("/v1/numbering/number-changes", headers=headers, json=body)
    retry = await gateway.client().post("/v1/numbering/number-changes", headers=headers, json=body)
    assert first.status_code == retry.status_code == 404 and first.json() == retry.json()
