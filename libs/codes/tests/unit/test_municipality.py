import collections
import dataclasses

import pytest
from mynumber_codes import (
    KINDS,
    MUNICIPAL_KINDS,
    Municipality,
    municipalities,
    municipality,
    municipality_check_digit,
    validate_municipality_code,
)
from mynumber_runtime.errors import InvalidArgument


@pytest.mark.parametrize(
    ("code", "name", "prefecture_name", "kind"),
    [
        ("131016", "千代田区", "東京都", "special_ward"),
        ("131024", "中央区", "東京都", "special_ward"),
        ("141003", "横浜市", "神奈川県", "designated_city"),
        ("141011", "横浜市鶴見区", "神奈川県", "ward"),
        ("011002", "札幌市", "北海道", "designated_city"),
        ("011011", "札幌市中央区", "北海道", "ward"),
        ("271004", "大阪市", "大阪府", "designated_city"),
        ("472018", "那覇市", "沖縄県", "city"),
        ("130001", "東京都", "東京都", "prefecture"),
        ("013030", "当別町", "北海道", "town"),  # 石狩郡当別町: the 郡 is not part of the name
        ("133817", "三宅村", "東京都", "village"),  # 三宅島三宅村 in the postal data
    ],
)
def test_known_codes_name_their_body_with_its_prefecture(code, name, prefecture_name, kind):
    expected = Municipality(code=code, name=name, prefecture_code=code[:2], prefecture_name=prefecture_name, kind=kind)
    assert validate_municipality_code(code) == expected
    assert municipality(code) == expected


def test_hamamatsu_has_the_three_wards_of_2024_not_the_seven_before():
    wards = sorted(m.name for m in municipalities().values() if m.name.startswith("浜松市") and m.kind == "ward")
    assert wards == ["浜松市中央区", "浜松市天竜区", "浜松市浜名区"]
    assert municipality("221317") is None  # the former 浜松市中区


def test_a_well_formed_code_of_no_body_is_refused_as_not_in_the_list():
    assert municipality_check_digit("13199") == "7"
    with pytest.raises(InvalidArgument) as refused:
        validate_municipality_code("131997")
    assert refused.value.field == "municipality_code"
    assert refused.value.rule == "not a municipality in the JIS X 0402 list"
    assert municipality("131997") is None


def test_a_wrong_check_digit_is_refused_naming_jis_x_0402():
    with pytest.raises(InvalidArgument) as refused:
        validate_municipality_code("131017")
    assert refused.value.rule == "check digit does not match (JIS X 0402)"


@pytest.mark.parametrize("value", ["000000", "480001", "990009"])
def test_a_prefecture_part_outside_01_to_47_is_refused(value):
    with pytest.raises(InvalidArgument, match="prefecture part must be 01-47"):
        validate_municipality_code(value)


@pytest.mark.parametrize("value", ["13101", "1310160", "", "1310１"])
def test_the_wrong_length_is_refused_naming_six_digits(value):
    with pytest.raises(InvalidArgument) as refused:
        validate_municipality_code(value)
    assert refused.value.rule.startswith("must be exactly 6 digits")


def test_full_width_digits_are_not_a_code():
    with pytest.raises(InvalidArgument, match="must contain only the digits 0-9"):
        validate_municipality_code("１３１０１６")
    assert municipality("１３１０１６") is None


def test_a_caller_may_accept_only_bodies_that_keep_a_register():
    assert validate_municipality_code("131016", kinds=MUNICIPAL_KINDS).kind == "special_ward"
    with pytest.raises(InvalidArgument, match="kind of body not accepted"):
        validate_municipality_code("130001", "caller", kinds=MUNICIPAL_KINDS)


def test_the_list_holds_every_body_once_with_a_valid_code_and_its_prefecture():
    bodies = municipalities()
    assert 1_900 <= len(bodies) <= 2_000
    for code, body in bodies.items():
        assert body.code == code
        assert len(code) == 6 and code.isascii() and code.isdigit()
        assert municipality_check_digit(code[:5]) == code[5]
        assert body.prefecture_code == code[:2]
        assert body.kind in KINDS
        assert body.name
    assert len({(b.prefecture_code, b.name) for b in bodies.values()}) == len(bodies)


def test_the_list_has_the_known_numbers_of_each_kind():
    kinds = collections.Counter(b.kind for b in municipalities().values())
    assert kinds["prefecture"] == 47
    assert kinds["special_ward"] == 23
    assert kinds["designated_city"] == 20
    # 792 市 in all (the 20 designated cities among them), 743 町, 183 村 (the six 北方領土 villages hold no register)
    assert kinds["city"] + kinds["designated_city"] == 792
    assert kinds["town"] == 743
    assert kinds["village"] == 183


def test_every_ward_belongs_to_a_designated_city_of_its_prefecture():
    bodies = municipalities().values()
    cities = {(b.prefecture_code, b.name) for b in bodies if b.kind == "designated_city"}
    for ward in (b for b in bodies if b.kind == "ward"):
        parents = [c for p, c in cities if p == ward.prefecture_code and ward.name.startswith(c)]
        assert len(parents) == 1, ward
    prefectures = {b.prefecture_code: b.name for b in bodies if b.kind == "prefecture"}
    assert all(prefectures[b.prefecture_code] == b.prefecture_name for b in bodies)


def test_the_shared_list_cannot_be_changed_by_a_caller():
    with pytest.raises(TypeError):
        municipalities()["999999"] = Municipality("999999", "x", "99", "x", "city")  # type: ignore[index]


def test_a_body_of_the_shared_list_cannot_be_changed_in_place():
    # One cached list serves every caller of the process (read-only view); its entries must be read-only too.
    body = municipality("131016")
    assert body is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        body.name = "中央区"  # type: ignore[misc]
    assert municipality("131016") == Municipality("131016", "千代田区", "13", "東京都", "special_ward")


@pytest.mark.parametrize("wrong", ["1310", "131016"])
def test_the_check_digit_is_computed_from_exactly_five_digits(wrong):
    # Not a digit of a prefix (or of the first five of a code that already has its check digit): an error.
    with pytest.raises(ValueError):
        municipality_check_digit(wrong)
