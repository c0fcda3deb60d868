import random

import numpy as np
import pytest
from mynumber_runtime.errors import InvalidArgument
from numbering.codes import (
    ResidentCodeRule,
    individual_numbers,
    municipality_check_digit,
    validate_individual_number,
    validate_municipality_code,
)
from stdnum.jp import in_

# domain.md §1.3: worked examples, including the r=0 and r=1 edge cases.
VALID = ["123456789018", "023456789013", "621498320257", "983205673214", "123456789050", "123456789000",
         "111111111118"]
INVALID = ["123456789010", "123456789011", "123456789017", "123456789019", "621498320258", "983205673210"]


@pytest.mark.parametrize("number", VALID)
def test_worked_examples_of_the_ordinance_are_valid(number):
    assert validate_individual_number(number) == number
    assert individual_numbers(np.array([int(number[:11])], dtype=np.uint64)) == [number]


@pytest.mark.parametrize("number", INVALID)
def test_wrong_check_digit_is_refused_naming_the_field_and_rule(number):
    with pytest.raises(InvalidArgument) as e:
        validate_individual_number(number)
    assert e.value.field == "individual_number" and "check digit" in e.value.rule


@pytest.mark.parametrize(("value", "rule"), [("12345678901", "12 digits"), ("1234567890123", "12 digits"),
                                             ("12345678901a", "digits"), ("１２３４５６７８９０１８", "digits")])
def test_malformed_numbers_are_refused_with_the_rule(value, rule):
    with pytest.raises(InvalidArgument, match=rule):
        validate_individual_number(value)


def test_bulk_check_digits_agree_with_python_stdnum_on_random_bases():
    rng = random.Random(7)
    bases = [rng.randrange(10**11) for _ in range(200_000)]
    ours = individual_numbers(np.array(bases, dtype=np.uint64))
    assert all(n[:11] == f"{b:011d}" for n, b in zip(ours[:1000], bases, strict=False))
    assert ours == [f"{b:011d}" + str(in_.calc_check_digit(f"{b:011d}")) for b in bases]


@pytest.mark.parametrize(("five", "check"), [("01100", "2"), ("13101", "6"), ("13104", "1"), ("13113", "0"),
                                             ("14100", "3"), ("27100", "4"), ("47201", "8")])
def test_municipality_check_digit_matches_jis_x_0402_examples(five, check):
    assert municipality_check_digit(five) == check
    assert validate_municipality_code(five + check) == five + check


@pytest.mark.parametrize(("code", "rule"), [("13101", "6 digits"), ("1310160", "6 digits"), ("13101a", "digits"),
                                            ("481012", "prefecture"), ("001018", "prefecture"),
                                            ("131017", "check digit")])
def test_bad_municipality_codes_are_refused_with_the_rule(code, rule):
    with pytest.raises(InvalidArgument, match=rule) as e:
        validate_municipality_code(code)
    assert e.value.field == "municipality_code"


def test_resident_code_rule_default_is_modulus_11_with_weights_2_to_7():
    rule = ResidentCodeRule()
    # body 1234567890 from the right: 0*2+9*3+8*4+7*5+6*6+5*7+4*2+3*3+2*4+1*5 = 195; 195 % 11 = 8; 11-8 = 3
    assert rule.make("1234567890") == "12345678903"
    assert rule.validate("12345678903") == "12345678903"
    with pytest.raises(InvalidArgument, match="check digit") as e:
        rule.validate("12345678904")
    assert e.value.field == "resident_code"


def test_resident_code_rule_is_configurable():
    other = ResidentCodeRule(weights_from_right=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    code = other.make("1234567890")
    assert other.validate(code) == code
    bodies = np.array([int("1234567890")], dtype=np.int64)
    assert other.check_digits(bodies).tolist() == [int(code[-1])]


def test_vectorised_resident_check_digits_match_the_scalar_rule():
    rule = ResidentCodeRule()
    rng = random.Random(3)
    bodies = [rng.randrange(10**10) for _ in range(20_000)]
    vec = rule.check_digits(np.array(bodies, dtype=np.int64)).tolist()
    assert vec == [int(rule.check_digit(f"{b:010d}")) for b in bodies]
