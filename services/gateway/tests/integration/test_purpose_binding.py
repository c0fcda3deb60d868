"""Purpose binding through the gateway (番号法 第9条): a use of the number names its 事務, the registry decides,
and the 事務 lands in numbering's access record of that very call; a 一部事務組合 reaches its members' residents
only for the 事務 it was given."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from mynumber_runtime.db import create_async_engine
from numbering.models import access_log

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY, UNION, Gateway
from .test_numbering_through_gateway import OTHER, OWN, PROBLEM, assign, new_code

pytestmark = pytest.mark.integration


def lookup_path(code: str) -> str:
    return f"/v1/numbering/residents/{code}/number"


async def purposes_recorded(url: str, action: str, n: int) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(access_log.c.details).where(access_log.c.action == action)
                                      .order_by(access_log.c.seq.desc()).limit(n))
            return [r.details.get("purpose_of_use") for r in rows]
    finally:
        await engine.dispose()


async def test_a_lookup_names_its_jimu_and_numbering_records_it(gateway: Gateway, numbering_database: str) -> None:
    code = new_code()
    await assign(gateway, code)
    r = await gateway.client().get(lookup_path(code), headers={"Purpose-Of-Use": "b1-kokuho"})
    assert r.status_code == 200, r.text
    h = await gateway.client().get(f"/v1/numbering/residents/{code}/history",
                                   headers={"Purpose-Of-Use": f"j{MUNICIPALITY}-kosodate"})
    assert h.status_code == 200, h.text
    assert await purposes_recorded(numbering_database, "number.lookup", 1) == ["b1-kokuho"]
    assert await purposes_recorded(numbering_database, "number.history", 1) == [f"j{MUNICIPALITY}-kosodate"]


async def test_a_use_without_a_purpose_is_refused_before_numbering_is_asked(gateway: Gateway) -> None:
    r = await gateway.client().get(lookup_path(new_code()))
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith(":purpose-required") and r.json()["errors"][0]["field"] == "Purpose-Of-Use"


@pytest.mark.parametrize(("identity", "headers", "rule"), [
    (OWN, {"Purpose-Of-Use": "b1-unknown"}, "not a 事務 of the purpose registry"),
    (OTHER, {"Purpose-Of-Use": f"j{MUNICIPALITY}-kosodate"}, "another municipality's 条例 事務"),
    (OWN, {"Purpose-Of-Use": "b1-kokuho", "Acting-For": OTHER_MUNICIPALITY}, "only a 一部事務組合 acts"),
    (f"municipality:{UNION}", {"Purpose-Of-Use": "b1-kokuho", "Acting-For": MUNICIPALITY}, "was given"),
    (f"municipality:{UNION}", {"Purpose-Of-Use": "b1-kouki", "Acting-For": OTHER_MUNICIPALITY}, "not a member"),
])
async def test_a_purpose_the_registry_does_not_allow_is_refused_naming_the_rule(
        gateway: Gateway, identity: str, headers: dict[str, str], rule: str) -> None:
    code = new_code()
    await assign(gateway, code)
    r = await gateway.client(identity).get(lookup_path(code), headers=headers)
    assert r.status_code == 403 and r.json()["type"].endswith(":purpose-not-permitted"), r.text
    assert rule in r.json()["errors"][0]["rule"] and code not in r.text


async def test_a_union_reaches_its_members_resident_for_its_jimu(gateway: Gateway, numbering_database: str) -> None:
    code = new_code()
    number = (await assign(gateway, code)).json()["individual_number"]
    union = gateway.client(f"municipality:{UNION}")
    r = await union.get(lookup_path(code), headers={"Purpose-Of-Use": "b1-kouki", "Acting-For": MUNICIPALITY})
    assert r.status_code == 200 and r.json()["individual_number"] == number
    assert await purposes_recorded(numbering_database, "number.lookup", 1) == ["b1-kouki"]
    # Without naming the member it acts for, the union is itself: a register that holds no one.
    alone = await union.get(lookup_path(code), headers={"Purpose-Of-Use": "b1-kouki"})
    assert alone.status_code == 403 and "not a member" in alone.text
