"""The notice resources through the gateway, with the real numbering and notice services behind it: a municipal
system sends its mailing list and numbers its residents (either order), finds the envelopes, registers a DV victim's
居所 (the prepared envelope is re-routed), records a move; another municipality's resident or envelope is unknown
exactly like one that does not exist."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from .conftest import Gateway
from .test_numbering_through_gateway import OTHER, PROBLEM, assign, new_code

pytestmark = pytest.mark.integration
NAME, ADDRESS, SHELTER = "通知　花子", "東京都千代田区千代田1-1", "東京都八王子市元本郷町3-24-1"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def household(codes: list[str]) -> dict[str, object]:
    return {"household_id": f"H{codes[0]}", "address": ADDRESS, "postal_code": "1000001", "members": [
        {"resident_code": c, "name": NAME, "birth_date": "1990-04-01", "sex": "female"} for c in codes]}


async def envelopes_of(gateway: Gateway, household_id: str, items: int = 1) -> list[dict[str, object]]:
    """The household's envelopes once they carry `items` cards in all (bounded: it waits for the event consumer)."""
    for _ in range(300):
        cursor, found = "", []
        while True:
            page = (await gateway.client().get("/v1/notice/mailings", params={"limit": 1000, "cursor": cursor})).json()
            found += [m for m in page["mailings"] if m["household_id"] == household_id]
            cursor = page["next_cursor"] or ""
            if not cursor:
                break
        if sum(int(m["items"]) for m in found) >= items:  # type: ignore[call-overload]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the envelopes were not prepared")


async def mailing_of(gateway: Gateway, household_id: str) -> dict[str, object]:
    return (await envelopes_of(gateway, household_id))[0]


async def mailing_list(gateway: Gateway, codes: list[str], identity: str | None = None) -> httpx.Response:
    client = gateway.client(identity) if identity else gateway.client()
    return await client.post("/v1/notice/mailing-lists", json={"households": [household(codes)]}, headers=key())


@pytest.mark.parametrize("order", ["list_first", "numbers_first"])
async def test_a_mailing_list_and_the_numbers_put_each_member_in_one_envelope_in_either_order(
        gateway: Gateway, order: str) -> None:
    codes = [new_code(), new_code()]
    if order == "numbers_first":
        for c in codes:
            assert (await assign(gateway, c)).status_code == 201
    listed = await mailing_list(gateway, codes)
    assert listed.status_code == 200, listed.text
    assert listed.json()["residents"] == 2 and listed.json()["refused"] == []
    if order == "list_first":
        for c in codes:
            assert (await assign(gateway, c)).status_code == 201
    # Each member in exactly one envelope (numbers that come one by one may be mailed one by one).
    envelopes = await envelopes_of(gateway, f"H{codes[0]}", items=2)
    assert sum(int(e["items"]) for e in envelopes) == 2  # type: ignore[call-overload]
    assert {e["status"] for e in envelopes} == {"prepared"}
    m = envelopes[0]
    # Another municipality sees no such envelope, and its delivery report finds none.
    theirs = (await gateway.client(OTHER).get("/v1/notice/mailings")).json()["mailings"]
    assert m["mailing_id"] not in [x["mailing_id"] for x in theirs]
    foreign = await gateway.client(OTHER).post(f"/v1/notice/mailings/{m['mailing_id']}/delivery",
                                               json={"delivered": True}, headers=key())
    unknown = await gateway.client(OTHER).post(f"/v1/notice/mailings/{uuid.uuid4().hex}/delivery",
                                               json={"delivered": True}, headers=key())
    assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()


async def test_a_dv_residence_reroutes_the_prepared_envelope_and_stays_the_registrars(gateway: Gateway) -> None:
    code = new_code()
    await mailing_list(gateway, [code])
    await assign(gateway, code)
    m = await mailing_of(gateway, f"H{code}")
    r = await gateway.client().post("/v1/notice/residences", headers=key(), json={
        "resident_code": code, "kind": "dv_victim", "address": SHELTER, "postal_code": "1920051",
        "documents": ["application", "identity_copy", "address_proof", "dv_proof"], "source": "application"})
    assert r.status_code == 200, r.text
    assert r.json()["destination"] == "residence" and r.json()["mail_action"] == "rerouted"
    assert r.json()["rerouted_mailing_ids"] == [m["mailing_id"]]
    own = await gateway.client().get(f"/v1/notice/residences/{code}")
    assert own.status_code == 200 and own.json()["kind"] == "dv_victim"
    other = await gateway.client(OTHER).get(f"/v1/notice/residences/{code}")
    nobody = await gateway.client(OTHER).get(f"/v1/notice/residences/{new_code()}")
    assert other.status_code == nobody.status_code == 404 and other.json() == nobody.json()
    assert SHELTER not in other.text


async def test_a_move_within_the_municipality_is_recorded_and_a_bad_delivery_report_named(gateway: Gateway) -> None:
    code = new_code()
    await mailing_list(gateway, [code])
    await assign(gateway, code)
    m = await mailing_of(gateway, f"H{code}")
    moved = await gateway.client().post("/v1/notice/moves", headers=key(), json={
        "resident_code": code, "kind": "tenkyo", "new_address": "東京都千代田区丸の内1-1", "new_postal_code": "1000005",
        "new_household_id": f"N{code}"})
    assert moved.status_code == 200 and moved.json()["steps"], moved.text
    bad = await gateway.client().post(f"/v1/notice/mailings/{m['mailing_id']}/delivery", headers=key(),
                                      json={"delivered": False})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"] == [{"field": "return_reason", "rule": "required for a return, and only for a return"}]


async def test_the_envelopes_page_by_cursor_each_once(gateway: Gateway) -> None:
    for _ in range(3):
        code = new_code()
        await mailing_list(gateway, [code])
        await assign(gateway, code)
        await mailing_of(gateway, f"H{code}")
    seen: list[str] = []
    cursor = ""
    while True:
        page = (await gateway.client().get("/v1/notice/mailings", params={"limit": 2, "cursor": cursor})).json()
        seen += [m["mailing_id"] for m in page["mailings"]]
        cursor = page["next_cursor"] or ""
        if not cursor:
            break
    everything = (await gateway.client().get("/v1/notice/mailings", params={"limit": 1000})).json()["mailings"]
    assert seen == [m["mailing_id"] for m in everything] and len(seen) >= 3
