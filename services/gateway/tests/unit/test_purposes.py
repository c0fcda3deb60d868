"""The purpose registry (番号法 第9条): 別表第一 for every municipality, a 条例 事務 only for its municipality and from
the day it takes effect, a 一部事務組合 only for its members and only within the 事務 they gave it; a bad ordinance
file fails the start naming the entry and the rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from gateway.purposes import PurposeRefused, load

ORDINANCES = """
[[jorei]]
code = "j131016-kosodate"
name = "子育て支援手当の支給"
ordinance = "千代田区子育て支援手当条例"
category = "social_security"
municipality = "131016"
effective_from = 2016-01-01

[[union]]
code = "138001"
name = "東京都後期高齢者医療広域連合"
members = ["131016", "131024"]
purposes = ["b1-kouki"]
"""
DAY = dt.date(2016, 2, 1)


@pytest.fixture
def registry(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "o.toml").write_text(ORDINANCES, encoding="utf-8")
    return load(tmp_path / "o.toml")


def refusal(registry, *args: object) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(PurposeRefused) as e:
        registry.check(*args)
    return str(e.value)


def test_a_beppyo_row_serves_every_municipality(registry) -> None:  # type: ignore[no-untyped-def]
    assert registry.check("271004", "271004", "b1-kokuho", DAY).basis == "国民健康保険法"
    assert refusal(registry, "271004", "271004", "b1-nothing", DAY).startswith("Purpose-Of-Use: not a 事務")


def test_an_ordinance_serves_its_municipality_only_and_from_its_day(registry) -> None:  # type: ignore[no-untyped-def]
    assert registry.check("131016", "131016", "j131016-kosodate", DAY).category == "social_security"
    assert "another municipality" in refusal(registry, "271004", "271004", "j131016-kosodate", DAY)
    assert "not yet in force" in refusal(registry, "131016", "131016", "j131016-kosodate", dt.date(2015, 12, 31))


def test_a_union_acts_for_its_members_within_its_given_jimu_only(registry) -> None:  # type: ignore[no-untyped-def]
    assert registry.check("138001", "131024", "b1-kouki", DAY).code == "b1-kouki"
    assert "not a member" in refusal(registry, "138001", "271004", "b1-kouki", DAY)
    assert "was given" in refusal(registry, "138001", "131016", "b1-kokuho", DAY)
    # Nobody but a union acts for another municipality.
    assert "only a 一部事務組合" in refusal(registry, "131016", "131024", "b1-kokuho", DAY)


@pytest.mark.parametrize(("entry", "message"), [
    ('[[jorei]]\ncode = "j-x"\nname = "n"\nordinance = "o"\ncategory = "education"\nmunicipality = "131016"\n'
     'effective_from = 2016-01-01\n', "jorei entry 1: category must be one of"),
    ('[[jorei]]\ncode = "j-x"\nname = "n"\nordinance = "o"\ncategory = "local_tax"\nmunicipality = "131016"\n',
     "jorei entry 1: effective_from is required"),
    ('[[jorei]]\ncode = "b1-kokuho"\nname = "n"\nordinance = "o"\ncategory = "local_tax"\nmunicipality = "131016"\n'
     'effective_from = 2016-01-01\n', "listed twice"),
    ('[[union]]\ncode = "138001"\nname = "u"\nmembers = ["131016"]\npurposes = ["b1-none"]\n', "does not have"),
    ('[[union]]\ncode = "13800"\nname = "u"\nmembers = ["131016"]\npurposes = ["b1-kouki"]\n',
     "union entry 1: code: a 6-digit 団体コード"),
])
def test_a_bad_ordinance_entry_fails_the_start_naming_it(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "o.toml").write_text(entry, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "o.toml")


def test_the_shipped_beppyo_rows_load_with_codes_of_the_wire_form() -> None:
    registry = load()
    assert len(registry.purposes) >= 10 and all(p.municipality is None for p in registry.purposes.values())
