"""The issuance resources through the gateway, with the real issuance service behind it (and notice's form.issued
events as notice publishes them): a municipal system files, reads, pages through and withdraws applications;
another municipality's application is unknown exactly like one that does not exist; retries change nothing."""

from __future__ import annotations

import base64
import io
import os
import uuid

import httpx
import pytest
from PIL import Image

from .conftest import OTHER_MUNICIPALITY, Forms, Gateway

pytestmark = pytest.mark.integration
PATH = "/v1/issuance/applications"
OTHER = f"municipality:{OTHER_MUNICIPALITY}"
PROBLEM = "application/problem+json"
NAME, ADDRESS, BIRTH = "山田　花子", "東京都千代田区千代田1-1", "1985-03-02"


def jpeg(width: int = 600, height: int = 800) -> str:
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, format="JPEG", quality=85)
    return base64.b64encode(out.getvalue()).decode()


PHOTO = jpeg()


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def body(form_id: str, **change: object) -> dict[str, object]:
    return {"application_id": form_id, "channel": "counter", "handover_method": "at_application",
            "applicant": {"name": NAME, "address": ADDRESS, "birth_date": BIRTH, "sex": "female"}, "photo": PHOTO,
            **change}


async def new_form(forms: Forms, **kw: object) -> str:
    return await forms.issue(name=NAME, address=ADDRESS, birth_date=BIRTH, sex=2, **kw)  # type: ignore[arg-type]


async def submit(gateway: Gateway, form_id: str, identity: str | None = None, **change: object) -> httpx.Response:
    client = gateway.client(identity) if identity else gateway.client()
    return await client.post(PATH, json=body(form_id, **change), headers=key())


async def test_a_municipality_files_reads_and_withdraws_an_application(gateway: Gateway, forms: Forms) -> None:
    form_id = await new_form(forms)
    filed = await submit(gateway, form_id)
    assert filed.status_code == 201, filed.text
    app = filed.json()
    assert (app["state"], app["channel"], app["handover_method"]) == ("accepted", "counter", "at_application")
    assert (app["photo_width"], app["photo_height"]) == (600, 800)
    ref = app["application_ref"]
    read = await gateway.client().get(f"{PATH}/{ref}")
    assert read.status_code == 200 and [h["state"] for h in read.json()["history"]] == ["accepted"]
    # One live application per person: a second on the same form is a conflict, named.
    again = await submit(gateway, form_id)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    gone = await gateway.client().post(f"{PATH}/{ref}/withdrawal", headers=key())
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert (await submit(gateway, form_id)).status_code == 201  # the person may apply again


async def test_another_municipalitys_application_is_unknown_like_one_that_does_not_exist(
        gateway: Gateway, forms: Forms) -> None:
    ref = (await submit(gateway, await new_form(forms))).json()["application_ref"]
    foreign = await gateway.client(OTHER).get(f"{PATH}/{ref}")
    unknown = await gateway.client(OTHER).get(f"{PATH}/{'0' * 32}")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    withdraw = await gateway.client(OTHER).post(f"{PATH}/{ref}/withdrawal", headers=key())
    assert withdraw.status_code == 404 and withdraw.json() == unknown.json()
    listed = await gateway.client(OTHER).get(PATH)
    assert ref not in [a["application_ref"] for a in listed.json()["applications"]]
    # A form of this municipality filed by another: refused exactly as an unknown form.
    form_id = await new_form(forms)
    theirs = await submit(gateway, form_id, OTHER)
    nobody = await submit(gateway, "0" * 23, OTHER)
    assert theirs.status_code == nobody.status_code and theirs.json() == nobody.json()


async def test_the_list_pages_by_cursor_through_every_application_once(gateway: Gateway, forms: Forms) -> None:
    refs = {(await submit(gateway, await new_form(forms))).json()["application_ref"] for _ in range(5)}
    seen: list[str] = []
    cursor = ""
    for _ in range(20):
        page = await gateway.client().get(PATH, params={"limit": 2, "cursor": cursor, "state": "accepted"})
        assert page.status_code == 200, page.text
        seen += [a["application_ref"] for a in page.json()["applications"]]
        cursor = page.json()["next_cursor"] or ""
        if not cursor:
            break
    assert refs <= set(seen) and len(seen) == len(set(seen))
    bad = await gateway.client().get(PATH, params={"cursor": "bm90LWEtdG9rZW4"})
    assert bad.status_code == 422 and bad.json()["errors"] == [
        {"field": "page_token", "rule": "not a token this service issued"}]


async def test_a_retried_application_with_the_same_key_files_one(gateway: Gateway, forms: Forms) -> None:
    form_id = await new_form(forms)
    headers = key()
    first = await gateway.client().post(PATH, json=body(form_id), headers=headers)
    retry = await gateway.client().post(PATH, json=body(form_id), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true" and retry.json() == first.json()


@pytest.mark.parametrize(("change", "field"), [
    ({"photo": "not base64!"}, "photo"),
    ({"photo": base64.b64encode(b"GIF89a" + bytes(40_000)).decode()}, "photo"),
    ({"application_id": "12"}, "application_id"),
    ({"channel": "fax"}, "channel"),
])
async def test_a_bad_application_names_the_field_and_echoes_nothing(gateway: Gateway, forms: Forms,
                                                                    change: dict[str, str], field: str) -> None:
    form_id = await new_form(forms)
    r = await submit(gateway, form_id, **change)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    assert field in r.text and NAME not in r.text and change[next(iter(change))][:20] not in r.json()["detail"]


async def test_a_store_terminal_may_not_file_applications(gateway: Gateway, forms: Forms) -> None:
    r = await submit(gateway, await new_form(forms), "store-terminal:7-11-000123")
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
