import pytest
from mynumber_codes import validate_postal_code
from mynumber_runtime.errors import InvalidArgument


@pytest.mark.parametrize("value", ["100-0001", "1000001"])
def test_both_written_forms_give_the_hyphenated_form(value):
    assert validate_postal_code(value) == "100-0001"


@pytest.mark.parametrize("value", ["100-001", "10000011", "100 0001", "1000-001", "100ー0001", "", "-1000001"])
def test_other_shapes_are_refused_naming_the_format(value):
    with pytest.raises(InvalidArgument) as refused:
        validate_postal_code(value)
    assert refused.value.rule in {"must be NNN-NNNN or NNNNNNN (ASCII digits)", "must contain only the digits 0-9"}


@pytest.mark.parametrize("value", ["１００-０００１", "１０００００１", "10a-0001", "+100001"])
def test_full_width_or_other_characters_are_not_digits(value):
    with pytest.raises(InvalidArgument, match="must contain only the digits 0-9"):
        validate_postal_code(value, "delivery.postal_code")


@pytest.mark.parametrize("value", ["000-0000", "0000000"])
def test_all_zeros_is_refused(value):
    with pytest.raises(InvalidArgument, match="000-0000 is not a postal code"):
        validate_postal_code(value)
