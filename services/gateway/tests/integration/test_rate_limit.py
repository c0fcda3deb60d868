"""The per-client rate limit through the HTTPS door, with the real numbering behind it: a municipality's burst over
its limit gets 429 `rate-limited` with Retry-After, counted and audited; another municipality is unaffected; a bulk
register is one call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway.app import build
from gateway.settings import Limit, RateLimitSettings
from mynumber_runtime.metrics import exposition

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY, client_context, gateway_settings, serve_app
from .test_numbering_through_gateway import USE, new_code

pytestmark = pytest.mark.integration
BURST = 5
RATE_LIMITED = "urn:mynumber:gateway:problem:rate-limited"


@pytest.fixture(scope="module")
async def base_url(tmp_path_factory: pytest.TempPathFactory, gateway_database: str, numbering_target: str
                   ) -> AsyncIterator[str]:
    settings = gateway_settings(tmp_path_factory.mktemp("gateway-limited"), gateway_database, numbering_target,
                                "127.0.0.1:1", "127.0.0.1:1")  # issuance and notice are never called here
    # A refill of one call per 1,000 s: within the test the bucket holds what the burst leaves, nothing more.
    settings.rate_limit = RateLimitSettings(kinds={"municipality": Limit(rate_per_s=0.001, burst=BURST)})
    app = await build(settings)
    stop, task = await serve_app(app)
    yield f"https://127.0.0.1:{app.https.port}"
    stop.set()
    await asyncio.wait_for(task, 30)


def client(base_url: str, code: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, verify=client_context(f"municipality:{code}"), timeout=30)


def refused_count(code: str) -> float:
    total = 0.0
    for line in exposition().decode().splitlines():
        if line.startswith("mynumber_gateway_rate_limited_total{") and f'municipality="{code}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_a_burst_over_the_limit_gets_429_with_retry_after_and_another_municipality_is_unaffected(
        base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="gateway.audit")
    before = refused_count(MUNICIPALITY)
    async with client(base_url, MUNICIPALITY) as own, client(base_url, OTHER_MUNICIPALITY) as other:
        code = new_code()
        assigned = await own.post("/v1/numbering/assignments", headers={"Idempotency-Key": str(uuid.uuid4())},
                                  json={"resident_code": code})
        assert assigned.status_code == 201
        burst = await asyncio.gather(*(own.get(f"/v1/numbering/residents/{code}/number", headers=USE)
                                       for _ in range(BURST + 3)))
        statuses = sorted(r.status_code for r in burst)
        assert statuses == [200] * (BURST - 1) + [429] * 4
        for r in (r for r in burst if r.status_code == 429):
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["type"] == RATE_LIMITED and r.json()["status"] == 429
            assert 1 <= int(r.headers["Retry-After"]) <= 1000
            assert code not in r.text
        # A write is refused before its body is read, and its key stays unused.
        refused = await own.post("/v1/numbering/assignments", headers={"Idempotency-Key": str(uuid.uuid4())},
                                 json={"resident_code": new_code()})
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        others = [await other.get(f"/v1/numbering/residents/{new_code()}/number", headers=USE) for _ in range(BURST)]
        assert [r.status_code for r in others] == [404] * BURST  # its own bucket: not refused, just unknown
    assert refused_count(MUNICIPALITY) - before == 5
    assert refused_count(OTHER_MUNICIPALITY) == 0
    lines = [r for r in caplog.records if r.name == "gateway.audit" and getattr(r, "problem", None) == "rate-limited"]
    assert len(lines) == 5
    assert {r.client for r in lines} == {f"municipality:{MUNICIPALITY}"}  # type: ignore[attr-defined]
    assert {r.status for r in lines} == {429}  # type: ignore[attr-defined]


async def test_a_bulk_register_is_one_call_however_many_residents_it_holds(base_url: str) -> None:
    code = "392006"  # another municipality: a fresh bucket of its own
    async with httpx.AsyncClient(base_url=base_url, verify=client_context(f"municipality:{code}"),
                                 timeout=30) as c:
        r = await c.post("/v1/numbering/bulk-assignments", headers={"Idempotency-Key": str(uuid.uuid4())},
                         json={"resident_codes": [new_code() for _ in range(50)]})
        assert r.status_code == 202, r.text
        polls = [await c.get(r.json()["status_url"]) for _ in range(BURST - 1)]
        assert [p.status_code for p in polls] == [200] * (BURST - 1)  # the 50 residents took one token, not 50
        assert (await c.get(r.json()["status_url"])).status_code == 429
