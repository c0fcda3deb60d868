"""The numbering resources through the gateway, with the real numbering service behind it: what a municipal
system does, the tenancy rule seen from outside, problems for every refusal, idempotent writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
from gateway.app import build
from gateway.idempotency import Idempotency
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.embedded import free_port
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.testing.identities import grpc_server_settings

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY, Gateway, client_context, serve_app

pytestmark = pytest.mark.integration
RULE = ResidentCodeRule()
_bodies = itertools.count(int.from_bytes(os.urandom(3), "big") * 1000)
OWN = f"municipality:{MUNICIPALITY}"
OTHER = f"municipality:{OTHER_MUNICIPALITY}"
PROBLEM = "application/problem+json"
USE = {"Purpose-Of-Use": "b1-juuki"}  # a 別表第一 事務 every municipality has


def new_code() -> str:
    return RULE.make(f"{next(_bodies) % 10**10:010d}")


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def assign(gateway: Gateway, code: str, identity: str = OWN) -> httpx.Response:
    return await gateway.client(identity).post("/v1/numbering/assignments", json={"resident_code": code},
                                               headers=key())


async def test_a_municipality_numbers_looks_up_and_lists_its_resident(gateway: Gateway) -> None:
    code = new_code()
    first = await assign(gateway, code)
    assert first.status_code == 201, first.text
    number = first.json()["individual_number"]
    assert first.json()["newly_assigned"] is True and len(number) == 12
    again = await assign(gateway, code)  # another key: a new request, answered as "already had it"
    assert (again.status_code, again.json()["individual_number"], again.json()["newly_assigned"]) == \
        (200, number, False)
    looked = await gateway.client().get(f"/v1/numbering/residents/{code}/number", headers=USE)
    assert looked.status_code == 200 and looked.json()["individual_number"] == number
    history = await gateway.client().get(f"/v1/numbering/residents/{code}/history", headers=USE)
    assert [(r["individual_number"], r["status"]) for r in history.json()["records"]] == [(number, "active")]


async def test_a_leaked_number_is_changed_and_the_history_keeps_the_old_one(gateway: Gateway) -> None:
    code = new_code()
    old = (await assign(gateway, code)).json()["individual_number"]
    changed = await gateway.client().post("/v1/numbering/number-changes", headers=key(), json={
        "resident_code": code, "reason": "leaked_on_request", "reason_detail": "case-2026-001"})
    assert changed.status_code == 200, changed.text
    new = changed.json()["individual_number"]
    assert new != old
    records = (await gateway.client().get(f"/v1/numbering/residents/{code}/history", headers=USE)).json()["records"]
    assert [(r["individual_number"], r["status"], r["retired_reason"]) for r in records] == \
        [(new, "active", None), (old, "retired", "leaked_on_request")]


async def test_a_new_resident_code_keeps_the_number(gateway: Gateway) -> None:
    code, new_code_ = new_code(), new_code()
    number = (await assign(gateway, code)).json()["individual_number"]
    moved = await gateway.client().post("/v1/numbering/resident-code-changes", headers=key(), json={
        "old_resident_code": code, "new_resident_code": new_code_})
    assert moved.status_code == 200 and moved.json()["individual_number"] == number
    assert (await gateway.client().get(f"/v1/numbering/residents/{new_code_}/number", headers=USE)).json()[
        "individual_number"] == number


async def test_another_municipalitys_resident_looks_exactly_like_an_unknown_one(gateway: Gateway) -> None:
    theirs, unknown = new_code(), new_code()
    assert (await assign(gateway, theirs, OTHER)).status_code == 201
    for path in ("number", "history"):
        refused = await gateway.client(OWN).get(f"/v1/numbering/residents/{theirs}/{path}", headers=USE)
        nobody = await gateway.client(OWN).get(f"/v1/numbering/residents/{unknown}/{path}", headers=USE)
        assert refused.status_code == nobody.status_code == 404
        assert refused.headers["content-type"] == nobody.headers["content-type"] == PROBLEM
        assert refused.json() == nobody.json()
        assert refused.json()["type"] == "urn:mynumber:gateway:problem:not-found"
    change = {"reason": "leaked_ex_officio"}
    refused = await gateway.client(OWN).post("/v1/numbering/number-changes", headers=key(),
                                             json={"resident_code": theirs, **change})
    nobody = await gateway.client(OWN).post("/v1/numbering/number-changes", headers=key(),
                                            json={"resident_code": unknown, **change})
    assert (refused.status_code, refused.json()) == (nobody.status_code, nobody.json())
    assert refused.status_code == 404
    # Still theirs, unchanged.
    mine = await gateway.client(OTHER).get(f"/v1/numbering/residents/{theirs}/history", headers=USE)
    assert len(mine.json()["records"]) == 1


async def test_a_retried_write_with_the_same_key_makes_one_change(gateway: Gateway) -> None:
    code = new_code()
    old = (await assign(gateway, code)).json()["individual_number"]
    headers = key()
    body = {"resident_code": code, "reason": "leaked_on_request"}
    first = await gateway.client().post("/v1/numbering/number-changes", headers=headers, json=body)
    retry = await gateway.client().post("/v1/numbering/number-changes", headers=headers, json=body)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    records = (await gateway.client().get(f"/v1/numbering/residents/{code}/history", headers=USE)).json()["records"]
    assert [r["individual_number"] for r in records] == [first.json()["individual_number"], old]  # one change


async def test_the_same_key_with_another_body_is_refused(gateway: Gateway) -> None:
    headers = key()
    a, b = new_code(), new_code()
    first = await gateway.client().post("/v1/numbering/assignments", headers=headers, json={"resident_code": a})
    other = await gateway.client().post("/v1/numbering/assignments", headers=headers, json={"resident_code": b})
    assert first.status_code == 201
    assert other.status_code == 422 and other.headers["content-type"] == PROBLEM
    assert other.json()["type"] == "urn:mynumber:gateway:problem:idempotency-key-reused"
    assert b not in other.text and a not in other.text
    # b was never numbered.
    assert (await gateway.client().get(f"/v1/numbering/residents/{b}/number", headers=USE)).status_code == 404


async def test_a_key_is_the_clients_own(gateway: Gateway) -> None:
    """Two municipalities may pick the same key: each gets its own result."""
    headers = key()
    mine = await gateway.client(OWN).post("/v1/numbering/assignments", headers=headers,
                                          json={"resident_code": new_code()})
    theirs = await gateway.client(OTHER).post("/v1/numbering/assignments", headers=headers,
                                              json={"resident_code": new_code()})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["individual_number"] != theirs.json()["individual_number"]


async def test_a_write_without_a_key_is_refused(gateway: Gateway) -> None:
    r = await gateway.client().post("/v1/numbering/assignments", json={"resident_code": new_code()})
    assert r.status_code == 400 and r.json()["type"] == "urn:mynumber:gateway:problem:idempotency-key-required"
    assert r.json()["errors"] == [{"field": "Idempotency-Key", "rule": "required on every write"}]


async def test_a_bad_check_digit_names_the_field_and_rule_and_echoes_nothing(gateway: Gateway) -> None:
    code = new_code()
    wrong = code[:10] + str((int(code[10]) + 1) % 10)
    r = await assign(gateway, wrong)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"] == "urn:mynumber:gateway:problem:invalid-request"
    assert problem["errors"][0]["field"] == "resident_code" and problem["reason"] == "INVALID_ARGUMENT"
    assert wrong not in r.text
    shape = await gateway.client().post("/v1/numbering/assignments", headers=key(),
                                        json={"resident_code": "12345", "extra": "0123456789"})
    assert shape.status_code == 422
    assert {e["field"] for e in shape.json()["errors"]} == {"resident_code", "extra"}
    assert "12345" not in shape.text and "0123456789" not in shape.text


async def test_malformed_json_and_unknown_routes_are_problems(gateway: Gateway) -> None:
    bad = await gateway.client().post("/v1/numbering/assignments", headers={**key(), "content-type":
                                      "application/json"}, content=b"{not json")
    assert bad.status_code == 400 and bad.json()["type"].endswith(":malformed-request")
    missing = await gateway.client().get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    method = await gateway.client().delete("/v1/numbering/assignments")
    assert method.status_code == 405 and method.json()["type"].endswith(":method-not-allowed")


async def test_a_body_over_the_limit_is_refused_with_413(gateway: Gateway) -> None:
    big = {"resident_code": new_code(), "pad": "x" * 5000}
    r = await gateway.client().post("/v1/numbering/assignments", headers=key(), json=big)
    assert r.status_code == 413 and r.json()["type"].endswith(":payload-too-large")

    async def chunks():  # no Content-Length: counted as it arrives
        yield b'{"resident_code": "' + b"1" * 3000
        yield b"2" * 3000 + b'"}'

    chunked = await gateway.client().post("/v1/numbering/assignments", headers={**key(), "content-type":
                                          "application/json"}, content=chunks())
    assert chunked.status_code == 413 and chunked.json()["type"].endswith(":payload-too-large")


@pytest.mark.parametrize("identity", ["store-terminal:7-11-000123", "operator:sre-tanaka", "service:notice"])
async def test_callers_other_than_a_municipality_are_refused(gateway: Gateway, identity: str) -> None:
    r = await gateway.client(identity).get(f"/v1/numbering/residents/{new_code()}/number", headers=USE)
    assert r.status_code == 403 and r.json()["type"] == "urn:mynumber:gateway:problem:forbidden"
    assert "reason" not in r.json()  # refused at the door: numbering was never asked
    w = await gateway.client(identity).post("/v1/numbering/assignments", headers=key(),
                                            json={"resident_code": new_code()})
    assert w.status_code == 403


async def test_a_header_naming_another_municipality_changes_nothing(gateway: Gateway) -> None:
    """Only the certificate says who calls: neither the platform's delegation metadata nor any header sent to the
    gateway makes a municipality another one."""
    theirs = new_code()
    await assign(gateway, theirs, OTHER)
    r = await gateway.client(OWN).get(f"/v1/numbering/residents/{theirs}/number", headers={**USE,
        "x-mynumber-on-behalf-of": OTHER, "x-municipality-code": OTHER_MUNICIPALITY})
    assert r.status_code == 404


async def test_no_client_certificate_is_refused_at_the_tls_layer(gateway: Gateway) -> None:
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError)):
        r = await gateway.client(None).get("/v1/openapi.json")
        r.raise_for_status()


async def test_the_openapi_document_is_served_at_a_versioned_path(gateway: Gateway) -> None:
    r = await gateway.client().get("/v1/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1")


async def test_every_call_leaves_one_audit_line_without_personal_data(gateway: Gateway,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    code = new_code()
    caplog.set_level("INFO", logger="gateway.audit")
    number = (await assign(gateway, code)).json()["individual_number"]
    await gateway.client(OTHER).get(f"/v1/numbering/residents/{code}/number", headers=USE)
    await gateway.client("operator:sre-tanaka").get("/v1/openapi.json")
    await gateway.client(OWN).get(f"/v1/nothing/{code}")
    lines = [r for r in caplog.records if r.name == "gateway.audit"]
    assert [(r.client, r.http_method, r.route, r.status, r.problem) for r in lines] == [  # type: ignore[attr-defined]
        (OWN, "POST", "/v1/numbering/assignments", 201, None),
        (OTHER, "GET", "/v1/numbering/residents/{resident_code}/number", 404, "not-found"),
        ("operator:sre-tanaka", "GET", "/v1/openapi.json", 200, None),
        (OWN, "GET", "unmatched", 404, "not-found")]
    # Which person, by keyed hash: the same for both calls about them, none where no person was named.
    refs = [getattr(r, "person_ref", None) for r in lines]
    assert refs[0] is not None and refs[0] == refs[1] and refs[2:] == [None, None] and len(refs[0]) == 32
    assert [getattr(r, "purpose", None) for r in lines] == [None, "b1-juuki", None, None]
    other = new_code()
    await assign(gateway, other)
    assert [r for r in caplog.records if r.name == "gateway.audit"][-1].person_ref not in (refs[0], None)  # type: ignore[attr-defined]
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert code not in text and number not in text and other not in text


async def test_a_first_result_outlives_the_gateway_that_gave_it(gateway: Gateway, tmp_path: Path) -> None:
    """Kept in the database, not in memory: another gateway (a restart, the other replica) replays it."""
    headers = key()
    body = {"resident_code": new_code()}
    first = await gateway.client().post("/v1/numbering/assignments", headers=headers, json=body)
    settings = gateway.app.settings.model_copy(
        update={"https": gateway.app.settings.https.model_copy(update={"listen_port": free_port()})})
    settings.grpc = grpc_server_settings("service:gateway")
    other = await build(settings)
    stop, task = await serve_app(other)
    try:
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{other.https.port}",
                                     verify=client_context(OWN)) as client:
            again = await client.post("/v1/numbering/assignments", headers=headers, json=body)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (201, first.json())
    assert again.headers.get("idempotent-replayed") == "true"


async def test_keys_older_than_the_ttl_are_forgotten(gateway: Gateway) -> None:
    headers = key()
    body = {"resident_code": new_code()}
    first = await gateway.client().post("/v1/numbering/assignments", headers=headers, json=body)
    assert first.status_code == 201
    idem = gateway.app.idempotency
    later = Idempotency(units=idem.units, master=read_hex_secret(gateway.app.settings.keys_file),
                        clock=FixedClock(dt.datetime.now(dt.UTC) + idem.ttl + dt.timedelta(minutes=1)),
                        ttl_s=int(idem.ttl.total_seconds()))
    assert await later.purge() >= 1
    again = await gateway.client().post("/v1/numbering/assignments", headers=headers, json=body)
    # Run afresh: numbering answers "already had it", nothing replayed.
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
