"""Every validator, fed anything: it returns or raises InvalidArgument naming the field and a fixed rule.

Thousands of cases per validator: random Unicode (surrogates and controls included), NUL, full-width digits,
near-valid codes with one character changed, and megabyte strings. A refusal's message is `field: rule` where
the rule is one of the validator's fixed texts, so it can never carry the input.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber_codes import (
    DEFAULT_RESIDENT_CODE_RULE,
    _strings,
    dates,
    individual_number,
    jisx0402,
    municipalities,
    postal_code,
    resident_code,
    text,
    validate_address,
    validate_date,
    validate_individual_number,
    validate_municipality_code,
    validate_name,
    validate_postal_code,
    validate_resident_code,
    validate_text,
)
from mynumber_runtime.errors import InvalidArgument
from stdnum.jp import in_ as stdnum_in

FIELD = "probe.field"


def _rules(*modules: Any) -> frozenset[str]:
    return frozenset(v for m in modules for k, v in vars(m).items() if k.startswith("RULE_") and isinstance(v, str))


COMMON = _rules(_strings)
TEXT_RULES = _rules(text) | COMMON | {text.rule_text_too_long(n) for n in (text.NAME_MAX_CHARS, text.ADDRESS_MAX_CHARS,
                                                                          300)}

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, lone surrogates and controls included
nasty = st.sampled_from(["\x00", "\n", "\r", "\u2028", "\u202e", "\ud800", "\ufffe", "\uffff", "\x85", "\u3000",
                         "１", "٣", "-", "ー"])


def _mutate(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value with one character replaced, inserted or deleted, or written in full-width digits."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        value = draw(valid)
        how = draw(st.sampled_from(["replace", "insert", "delete", "full_width", "same"]))
        i = draw(st.integers(min_value=0, max_value=max(len(value) - 1, 0)))
        char = draw(st.one_of(nasty, st.sampled_from("0123456789"), ANY_CHAR))
        if how == "replace":
            return value[:i] + char + value[i + 1:]
        if how == "insert":
            return value[:i] + char + value[i:]
        if how == "delete":
            return value[:i] + value[i + 1:]
        if how == "full_width":
            return value.translate(FULL_WIDTH)
        return value

    return build()


def _inputs(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(ANY_CHAR, max_size=40),
        st.text(st.one_of(nasty, st.sampled_from("0123456789-")), max_size=20),
        _mutate(valid),
        valid,
        st.builds(lambda c, n: c * n, st.one_of(nasty, st.sampled_from("0a山")),
                  st.sampled_from([4, 1_000, 1_000_000])),
    )


individual_numbers_ = st.integers(0, 10**11 - 1).map(lambda b: f"{b:011d}{stdnum_in.calc_check_digit(f'{b:011d}')}")
resident_codes = st.integers(0, 10**10 - 1).map(lambda b: DEFAULT_RESIDENT_CODE_RULE.make(f"{b:010d}"))
municipality_codes = st.sampled_from(sorted(municipalities()))
postal_codes = st.integers(1, 9_999_999).map(lambda n: f"{n:07d}") | st.integers(1, 9_999_999).map(
    lambda n: f"{n:07d}"[:3] + "-" + f"{n:07d}"[3:])
iso_dates = st.dates(dt.date(1800, 1, 1), dt.date(2300, 12, 31)).map(dt.date.isoformat)
names = st.text(st.characters(categories=["L", "N", "Zs", "P", "S"]), min_size=1, max_size=120)


def _text_100(value: str, field: str) -> str:
    return validate_text(value, field, max_chars=300, multiline=True)


CASES: list[tuple[str, Callable[[str, str], object], st.SearchStrategy[str], frozenset[str]]] = [
    ("individual_number", validate_individual_number, individual_numbers_, _rules(individual_number) | COMMON),
    ("resident_code", validate_resident_code, resident_codes, _rules(resident_code) | COMMON),
    ("municipality_code", validate_municipality_code, municipality_codes, _rules(jisx0402) | COMMON),
    ("postal_code", validate_postal_code, postal_codes, _rules(postal_code) | COMMON),
    ("date", validate_date, iso_dates, _rules(dates) | COMMON),
    ("name", validate_name, names, TEXT_RULES),
    ("address", validate_address, names, TEXT_RULES),
    ("text_multiline", _text_100, names, TEXT_RULES),
]

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _clean(value: str, *, multiline: bool = False) -> bool:
    """The text rules restated from Unicode's categories, not from the validator's regular expression."""
    for char in value:
        point = ord(char)
        if char == "\n" and multiline:
            continue
        if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or char in BIDI_CONTROLS:
            return False
        if 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
            return False
    return True


# What a value that passes must look like, independently of the code under test.
ACCEPTED: dict[str, Callable[[str, object], bool]] = {
    "individual_number": lambda v, r: r == v and re.fullmatch(r"[0-9]{12}", v) is not None and stdnum_in.is_valid(v),
    "resident_code": lambda v, r: r == v and re.fullmatch(r"[0-9]{11}", v) is not None,
    "municipality_code": lambda v, r: getattr(r, "code", None) == v and v in municipalities(),
    "postal_code": lambda v, r: r == (v if "-" in v else f"{v[:3]}-{v[3:]}") and re.fullmatch(
        r"[0-9]{3}-[0-9]{4}", str(r)) is not None,
    "date": lambda v, r: isinstance(r, dt.date) and r.isoformat() == v and 1868 <= r.year <= 2200,
    "name": lambda v, r: r == v and 0 < len(v) <= 100 and v.strip() != "" and _clean(v),
    "address": lambda v, r: r == v and 0 < len(v) <= 200 and v.strip() != "" and _clean(v),
    "text_multiline": lambda v, r: r == v and len(v) <= 300 and v.strip() != "" and _clean(v, multiline=True),
}


@pytest.mark.parametrize(("kind", "validate", "valid", "rules"), CASES, ids=[c[0] for c in CASES])
def test_any_input_is_returned_valid_or_refused_with_a_fixed_rule_and_never_echoed(kind, validate, valid, rules):
    vocabulary = " ".join(rules) + " " + FIELD

    @settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_inputs(valid))
    def check(value: str) -> None:
        try:
            result = validate(value, FIELD)
        except InvalidArgument as refused:
            assert refused.field == FIELD
            assert refused.rule in rules, refused.rule
            assert str(refused) == f"{FIELD}: {refused.rule}"
            if len(value) >= 4 and value not in vocabulary:
                assert value not in str(refused)
        else:
            assert ACCEPTED[kind](value, result), (kind, result)
            if kind not in {"name", "address", "text_multiline"}:
                assert value.isascii()

    check()


def test_the_valid_examples_of_each_validator_are_accepted():
    # The property above would pass on validators that refuse everything; these pin the accepting side.
    assert validate_individual_number("123456789018")
    assert validate_resident_code("12345678903")
    assert validate_municipality_code("131016").name == "千代田区"
    assert validate_postal_code("1000001") == "100-0001"
    assert validate_date("2000-02-29", FIELD) == dt.date(2000, 2, 29)
    assert validate_name("山田\u3000太郎")
    assert validate_address("東京都千代田区千代田１－１")
