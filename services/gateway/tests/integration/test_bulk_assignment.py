"""Bulk assignment through the gateway as an asynchronous job, with the real numbering stream behind it: progress
while it runs, a paged result file in the order sent, item refusals that name the rule and not the value, and a
job that is its client's alone."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from .conftest import Gateway
from .test_numbering_through_gateway import OTHER, OWN, assign, new_code

pytestmark = pytest.mark.integration
BULK = "/v1/numbering/bulk-assignments"


async def finished(gateway: Gateway, url: str, identity: str = OWN) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = (await gateway.client(identity).get(url)).json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_a_register_is_numbered_as_a_job_with_progress_and_a_paged_result_file(gateway: Gateway) -> None:
    codes = [new_code() for _ in range(2500)]
    bad = codes[7][:10] + str((int(codes[7][10]) + 1) % 10)
    codes[7] = bad
    theirs = codes[1500]
    await assign(gateway, theirs, OTHER)  # another register holds this one
    mine = codes[2000]
    before = (await assign(gateway, mine)).json()["individual_number"]
    accepted = await gateway.client().post(BULK, headers={"Idempotency-Key": str(uuid.uuid4())},
                                           json={"resident_codes": codes})
    assert accepted.status_code == 202, accepted.text
    job = await finished(gateway, accepted.json()["status_url"])
    assert job["status"] == "completed" and job["total"] == 2500
    assert job["progress"] == {"received": 2500, "assigned": 2497, "already_assigned": 1, "failed": 2}
    items, cursor = [], 0
    while cursor is not None:
        page = (await gateway.client().get(job["results_url"], params={"cursor": cursor, "limit": 1000})).json()
        items += page["items"]
        cursor = page["next_cursor"]
    assert [i["index"] for i in items] == list(range(2500))
    assert items[2000]["individual_number"] == before and items[2000]["newly_assigned"] is False
    assert items[7]["error"]["field"] == "resident_code" and items[7]["individual_number"] is None
    assert items[1500]["error"]["reason"] == "RESIDENT_CODE_UNAVAILABLE"  # not "theirs": the same as a retired code
    looked = await gateway.client().get(f"/v1/numbering/residents/{codes[0]}/number",
                                        headers={"Purpose-Of-Use": "b1-juuki"})
    assert looked.json()["individual_number"] == items[0]["individual_number"]
    page_text = (await gateway.client().get(job["results_url"], params={"cursor": 0, "limit": 5000})).text
    assert bad not in page_text and theirs not in page_text


async def test_a_job_is_its_clients_alone_and_a_retry_gets_the_same_job(gateway: Gateway) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"resident_codes": [new_code() for _ in range(3)]}
    first = await gateway.client().post(BULK, headers=headers, json=body)
    again = await gateway.client().post(BULK, headers=headers, json=body)
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    url = first.json()["status_url"]
    await finished(gateway, url)
    theirs = await gateway.client(OTHER).get(url)
    unknown = await gateway.client(OTHER).get(f"{BULK}/{uuid.uuid4()}")
    assert theirs.status_code == unknown.status_code == 404 and theirs.json() == unknown.json()
    assert (await gateway.client(OTHER).get(f"{url}/results")).status_code == 404


async def test_a_register_over_the_limit_is_refused_before_it_is_read(gateway: Gateway) -> None:
    r = await gateway.client().post(BULK, headers={"Idempotency-Key": str(uuid.uuid4())},
                                    json={"resident_codes": ["12345678903"] * 50_001})
    assert r.status_code in (413, 422) and r.headers["content-type"] == "application/problem+json"
