import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mynumber_codes import individual_number_check_digit, individual_numbers, validate_individual_number
from mynumber_runtime.errors import InvalidArgument
from stdnum.jp import in_ as stdnum_in

# A number whose check digit is worked by hand from 総務省令第85号 第5条: over the base 12345678901,
# Σ Pn·Qn = 212, 212 mod 11 = 3, check digit 11 - 3 = 8.
VALID = "123456789018"


def test_a_number_with_the_ordinances_check_digit_is_accepted():
    assert validate_individual_number(VALID) == VALID
    assert stdnum_in.is_valid(VALID)


def test_a_wrong_check_digit_is_refused_naming_the_ordinance():
    with pytest.raises(InvalidArgument) as refused:
        validate_individual_number(VALID[:11] + "7")
    assert refused.value.field == "individual_number"
    assert refused.value.rule == "check digit does not match (総務省令第85号 第5条)"


@pytest.mark.parametrize("value", ["12345678901", "1234567890160", "", "12345678901 6"])
def test_anything_but_twelve_characters_is_refused_as_the_wrong_length(value):
    with pytest.raises(InvalidArgument, match="must be exactly 12 digits"):
        validate_individual_number(value)


def test_full_width_digits_are_not_digits():
    full_width = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with pytest.raises(InvalidArgument) as refused:
        validate_individual_number(full_width)
    assert refused.value.rule == "must contain only the digits 0-9"


def test_the_refusal_names_the_callers_field_and_never_the_value():
    with pytest.raises(InvalidArgument) as refused:
        validate_individual_number(VALID[:11] + "0", "holder.individual_number")
    assert str(refused.value) == "holder.individual_number: check digit does not match (総務省令第85号 第5条)"
    assert VALID[:11] not in str(refused.value)


@settings(max_examples=2000)
@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_the_check_digit_is_stdnums(base):
    digits = f"{base:011d}"
    assert individual_number_check_digit(digits) == str(stdnum_in.calc_check_digit(digits))


def test_the_vectorised_numbers_match_stdnum_for_a_hundred_thousand_bases():
    rng = np.random.default_rng(9)
    bases = rng.integers(0, 10**11, size=100_000, dtype=np.uint64)
    bases[:3] = [0, 10**11 - 1, 12345678901]
    numbers = individual_numbers(bases)
    assert numbers[2] == VALID
    assert all(n == f"{b:011d}" + str(stdnum_in.calc_check_digit(f"{b:011d}")) for n, b in zip(numbers, bases.tolist(),
                                                                                            strict=True))
    assert all(stdnum_in.is_valid(n) for n in numbers[:1000])


def test_the_bulk_pre_check_marks_only_ascii_digit_strings_of_the_length():
    from mynumber_codes import split_valid

    mask = split_valid(["123456789018", "１２３４５６７８９０１８", "12345678901", "12345678901a", "123456789012"], 12)
    assert mask.tolist() == [True, False, False, False, True]
