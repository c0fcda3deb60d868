import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mynumber_codes import DEFAULT_RESIDENT_CODE_RULE, ResidentCodeRule, validate_resident_code
from mynumber_runtime.errors import InvalidArgument


def test_a_code_made_by_the_rule_is_accepted_by_it():
    code = DEFAULT_RESIDENT_CODE_RULE.make("1234567890")
    assert len(code) == 11
    assert validate_resident_code(code) == code


def test_the_readme_example_code_is_valid():
    # Body 1234567890 with weights 2,3,4,5,6,7,2,3,4,5 from the right: Σ = 195, 195 mod 11 = 8, check 11 - 8 = 3.
    assert validate_resident_code("12345678903") == "12345678903"


def test_every_other_check_digit_is_refused():
    code = DEFAULT_RESIDENT_CODE_RULE.make("9876543210")
    for wrong in set("0123456789") - {code[-1]}:
        with pytest.raises(InvalidArgument) as refused:
            validate_resident_code(code[:10] + wrong)
        assert refused.value.rule == "check digit does not match the 住民票コード rule"


@pytest.mark.parametrize("value", ["1234567890", "123456789030", ""])
def test_the_wrong_length_is_refused(value):
    with pytest.raises(InvalidArgument, match="must be exactly 11 digits"):
        validate_resident_code(value)


def test_full_width_digits_are_refused():
    with pytest.raises(InvalidArgument, match="must contain only the digits 0-9"):
        validate_resident_code("１２３４５６７８９０３")


def test_a_configured_rule_is_used_by_validate_resident_code():
    other = ResidentCodeRule(weights_from_right=(1,) * 10)
    code = other.make("1111111111")
    assert code == "11111111111"  # Σ = 10, (-10) mod 11 = 1
    assert validate_resident_code(code, rule=other) == code
    with pytest.raises(InvalidArgument):
        validate_resident_code(code)


@settings(max_examples=500)
@given(st.lists(st.integers(min_value=0, max_value=10**10 - 1), min_size=1, max_size=50))
def test_the_vectorised_check_digits_match_the_scalar_rule(bodies):
    vector = DEFAULT_RESIDENT_CODE_RULE.check_digits(np.array(bodies, dtype=np.int64))
    assert [str(d) for d in vector.tolist()] == [DEFAULT_RESIDENT_CODE_RULE.check_digit(f"{b:010d}") for b in bodies]


@pytest.mark.parametrize(("position", "weight"), list(enumerate((2, 3, 4, 5, 6, 7, 2, 3, 4, 5))))
def test_each_body_digit_carries_its_weight_from_the_right(position, weight):
    # A body that is 0 but for a 1 at `position` (counted from the right) sums to that position's weight alone, so
    # its check digit is 11 - weight: every weight of domain.md §2.1 is pinned, not only those the example uses.
    body = "".join("1" if i == position else "0" for i in reversed(range(10)))
    assert DEFAULT_RESIDENT_CODE_RULE.check_digit(body) == str(11 - weight)
    assert DEFAULT_RESIDENT_CODE_RULE.check_digits(np.array([int(body)], dtype=np.int64)).tolist() == [11 - weight]


def test_the_default_rule_cannot_be_changed_in_place():
    # It is every caller's default argument: a change would silently move every check digit of the process.
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_RESIDENT_CODE_RULE.weights_from_right = (1,) * 10  # type: ignore[misc]
